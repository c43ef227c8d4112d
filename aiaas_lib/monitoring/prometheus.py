"""Used by notebook 14 (through :mod:`aiaas_lib.monitoring`).

Read the service's Prometheus metrics (the text of ``GET /metrics``) as a tidy table.

A Prometheus scrape is text: one line per *sample*, ``name{label="value",...} number``. Counters end in
``_total`` (and have a ``_created`` timestamp), histograms are cumulative ``_bucket`` counts per upper
bound ``le`` plus ``_sum`` and ``_count``. :func:`parse_metrics` turns a scrape into one row per sample
with ``prometheus_client.parser``; the helpers answer the usual monitoring questions from it: requests by
status code, latency quantiles (estimated from the buckets the way PromQL's ``histogram_quantile`` does)
and predictions per model version (the canary split).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

EXAMPLE = """\
# HELP aiaas_requests_total HTTP requests
# TYPE aiaas_requests_total counter
aiaas_requests_total{method="POST",route="/v1/models/{name}:predict",status="200"} 9.0
aiaas_requests_total{method="POST",route="/v1/models/{name}:predict",status="400"} 1.0
# HELP aiaas_request_duration_seconds HTTP request latency
# TYPE aiaas_request_duration_seconds histogram
aiaas_request_duration_seconds_bucket{le="0.01",method="POST",route="/v1/models/{name}:predict"} 2.0
aiaas_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/models/{name}:predict"} 10.0
aiaas_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/models/{name}:predict"} 10.0
aiaas_request_duration_seconds_count{method="POST",route="/v1/models/{name}:predict"} 10.0
aiaas_request_duration_seconds_sum{method="POST",route="/v1/models/{name}:predict"} 0.3
"""


def parse_metrics(text: str | bytes) -> pd.DataFrame:
    """One row per sample of a Prometheus text scrape.

    Returns
    -------
    DataFrame
        Columns ``family`` (metric name), ``type`` (counter, histogram, gauge, ...), ``name`` (sample
        name, e.g. ``aiaas_requests_total`` or ``..._bucket``), ``labels`` (a dict) and ``value``.

    Examples
    --------
    >>> frame = parse_metrics(EXAMPLE)
    >>> frame.shape, frame.loc[0, "name"], frame.loc[0, "labels"]["status"], float(frame.loc[0, "value"])
    ((7, 5), 'aiaas_requests_total', '200', 9.0)
    >>> parse_metrics("not a metric line")
    Traceback (most recent call last):
    ...
    ValueError: text is not in the Prometheus text format (could not convert string to float: 'a')
    """
    from prometheus_client.parser import text_string_to_metric_families

    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not isinstance(text, str):
        raise TypeError(f"text must be the str (or bytes) of a /metrics reply, got {type(text).__name__}")
    try:
        rows = [(family.name, family.type, s.name, dict(s.labels), float(s.value))
                for family in text_string_to_metric_families(text) for s in family.samples]
    except ValueError as err:
        raise ValueError(f"text is not in the Prometheus text format ({err})") from None
    return pd.DataFrame(rows, columns=["family", "type", "name", "labels", "value"])


def _check_frame(frame) -> None:
    if not isinstance(frame, pd.DataFrame) or not {"name", "labels", "value"} <= set(frame.columns):
        raise TypeError("frame must be the DataFrame of parse_metrics(text)")


def metric_values(frame: pd.DataFrame, name: str, **labels: str) -> pd.DataFrame:
    """The samples named ``name`` whose labels include ``labels``; one column per label plus ``value``.

    Examples
    --------
    >>> metric_values(parse_metrics(EXAMPLE), "aiaas_requests_total", status="400")[["status", "value"]]
      status  value
    0    400    1.0
    """
    _check_frame(frame)
    chosen = frame[(frame["name"] == name) & frame["labels"].map(lambda d: all(d.get(k) == v for k, v in labels.items()))]
    table = pd.DataFrame(list(chosen["labels"]), index=range(len(chosen)))
    table["value"] = chosen["value"].to_numpy()
    return table


def request_counts(frame: pd.DataFrame, route: str | None = None, method: str | None = None) -> pd.Series:
    """Requests by status code (``aiaas_requests_total``), summed over routes unless ``route`` is given.

    Examples
    --------
    >>> request_counts(parse_metrics(EXAMPLE)).to_dict()
    {'200': 9.0, '400': 1.0}
    """
    labels = {k: v for k, v in {"route": route, "method": method}.items() if v is not None}
    table = metric_values(frame, "aiaas_requests_total", **labels)
    if table.empty:
        return pd.Series(dtype=float, name="requests")
    return table.groupby("status")["value"].sum().rename("requests")


def histogram_quantile(frame: pd.DataFrame, name: str, q: float, **labels: str) -> float:
    """The ``q`` quantile of histogram ``name`` (summed over series matching ``labels``), estimated like
    PromQL's ``histogram_quantile``: find the bucket holding rank ``q · count`` and interpolate linearly
    inside it (from 0 for the first bucket); a rank in the ``+Inf`` bucket gives the highest finite bound.
    NaN when the histogram has no observations.

    Examples
    --------
    >>> f = parse_metrics(EXAMPLE)
    >>> print(f'{histogram_quantile(f, "aiaas_request_duration_seconds", 0.5):.4f}')  # rank 5 of 10: in (0.01, 0.1]
    0.0438
    >>> histogram_quantile(f, "aiaas_request_duration_seconds", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: q=1.5; expected a quantile between 0 and 1
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q={q!r}; expected a quantile between 0 and 1")
    table = metric_values(frame, f"{name}_bucket", **labels)
    if table.empty:
        known = sorted({n[:-7] for n in frame["name"] if n.endswith("_bucket")})
        raise ValueError(f"no histogram {name!r} with labels {labels} in the scrape; histograms: {known}")
    buckets = table.groupby(table["le"].astype(float))["value"].sum().sort_index()
    bounds, cumulative = buckets.index.to_numpy(), buckets.to_numpy()
    total = cumulative[-1]
    if total <= 0:
        return math.nan
    rank = q * total
    i = int(np.searchsorted(cumulative, rank, side="left"))
    i = min(i, len(bounds) - 1)
    if math.isinf(bounds[i]):
        return float(bounds[i - 1]) if i > 0 else math.nan
    lower = 0.0 if i == 0 else float(bounds[i - 1])
    below = 0.0 if i == 0 else float(cumulative[i - 1])
    inside = float(cumulative[i]) - below
    return float(lower + (float(bounds[i]) - lower) * ((rank - below) / inside if inside > 0 else 1.0))


def predictions_by_version(frame: pd.DataFrame, model: str, counter: str = "aiaas_predictions_total") -> pd.DataFrame:
    """Rows predicted per version and role (``stable``, ``canary``, ``pinned``) of ``model``, from the
    service's ``aiaas_predictions_total`` counter (or the shadow one, ``aiaas_shadow_predictions_total``,
    whose rows get the role ``shadow``).

    Examples
    --------
    >>> text = 'aiaas_predictions_total{model="churn",role="stable",version="1"} 80.0\\n' \\
    ...        'aiaas_predictions_total{model="churn",role="canary",version="2"} 20.0\\n'
    >>> predictions_by_version(parse_metrics(text), "churn")
       version    role  rows
    0        1  stable  80.0
    1        2  canary  20.0
    """
    table = metric_values(frame, counter, model=model)
    if table.empty:
        return pd.DataFrame({"version": pd.Series(dtype=int), "role": pd.Series(dtype=str),
                             "rows": pd.Series(dtype=float)})
    if "role" not in table.columns:  # the shadow counter has no role
        table["role"] = "shadow"
    out = table.assign(version=table["version"].astype(int)).groupby(["version", "role"], as_index=False)["value"].sum()
    return out.rename(columns={"value": "rows"})
