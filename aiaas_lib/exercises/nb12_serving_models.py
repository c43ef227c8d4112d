"""Exercise checks of notebook 12 (serving models): used by notebooks/12_serving_models.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _churn_rows(n: int = 2) -> list[dict]:
    """The first ``n`` raw churn rows as JSON-ready dicts (exercise 12.1's rows)."""
    import json

    from aiaas_lib import data

    X, _ = data.churn_xy(data.load_churn())
    return json.loads(X.iloc[:n].to_json(orient="records"))


@exercise
def check_tfserving_body(body) -> tuple[bool, str]:
    """Exercise 12.1: the TF Serving REST body (row format) that asks for predictions of the first two raw
    churn rows, ``X.iloc[:2]``: ``{"instances": [row0, row1]}`` with each row a dict of its 19 raw columns.
    The check also makes sure it is JSON (no NumPy or pandas objects left) and valid for the model's schema.

    Examples
    --------
    >>> from aiaas_lib import data
    >>> X, _ = data.churn_xy(data.load_churn())
    >>> check_tfserving_body({"instances": X.iloc[:2].to_dict("records")})
    ✓ a valid TF Serving row-format body: {"instances": [2 rows of 19 raw columns]}
    True
    """
    import json

    import pandas as pd

    from aiaas_lib import data
    from aiaas_lib.schema import SchemaError, input_schema, validate_rows

    if isinstance(body, (pd.DataFrame, pd.Series)):
        return False, "that is a pandas object, not a request body: build a dict, e.g. X.iloc[:2].to_dict('records')"
    if isinstance(body, list):
        return False, 'a bare list of rows: TF Serving wants them wrapped in an object, {"instances": [...]}'
    if not isinstance(body, dict):
        return False, f'the body must be a dict like {{"instances": [...]}}, got {type(body).__name__}'
    if "features" in body:
        return False, ('"features" is the source design\'s own format (encoded numbers); TF Serving\'s row format '
                       'is {"instances": [raw rows as dicts]}')
    if "inputs" in body and "instances" not in body:
        return False, ('"inputs" is TF Serving\'s columnar format; this exercise asks for the row format: '
                       '{"instances": [row0, row1]}')
    if set(body) != {"instances"}:
        return False, f'the body must have exactly one key, "instances"; got {sorted(body)}'
    rows = body["instances"]
    if not isinstance(rows, list) or any(not isinstance(r, dict) for r in rows):
        return False, '"instances" must be a list of rows, each a dict of column -> value (to_dict("records"))'
    if len(rows) != 2:
        return False, f"send the first two rows (X.iloc[:2]); got {len(rows)} rows"
    try:
        json.dumps(body)
    except TypeError as err:
        return False, f"the body is not JSON-serialisable ({err}): convert NumPy values, e.g. via X.iloc[:2].to_json"
    X, _ = data.churn_xy(data.load_churn())
    schema = input_schema(X, data.CHURN_NUMERIC, data.CHURN_CATEGORICAL)
    try:
        validate_rows(rows, schema)
    except SchemaError as err:
        return False, f"the service would answer 400: {err}"
    if rows != _churn_rows(2):
        return False, "valid rows, but not the first two: use X.iloc[:2] (raw values, unchanged)"
    return True, 'a valid TF Serving row-format body: {"instances": [2 rows of 19 raw columns]}'


#: Exercise 12.2's latencies in seconds (seeded log-normal, like real request latencies: a long right tail).
LATENCIES = np.round(np.random.default_rng(12).lognormal(np.log(0.004), 0.6, size=500), 6).tolist()


@exercise
def check_latency_percentiles(answer) -> tuple[bool, str]:
    """Exercise 12.2: ``(p50_ms, p99_ms)`` of ``LATENCIES`` (seconds), in milliseconds, as
    ``np.percentile`` computes them (to 0.01 ms).

    Examples
    --------
    >>> lat = np.array(LATENCIES)
    >>> check_latency_percentiles((np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000))
    ✓ p50 = 4.06 ms, p99 = 14.45 ms: half the requests take longer than the median, one in a hundred longer than p99
    True
    """
    lat = np.asarray(LATENCIES)
    p50, p99 = np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000
    got = np.asarray(answer, dtype=np.float64).ravel()
    if got.shape != (2,):
        return False, f"give two numbers (p50_ms, p99_ms), got {got.size}"
    a, b = got

    def close(x, y):
        return abs(x - y) <= 0.01  # 0.01 ms: any interpolation detail stays far below the hints' differences

    if close(a, p50) and close(b, p99):
        return True, (f"p50 = {p50:.2f} ms, p99 = {p99:.2f} ms: half the requests take longer than the median, "
                      "one in a hundred longer than p99")
    if close(a * 1000, p50) or close(b * 1000, p99):
        return False, "those are seconds: the latencies are in seconds, multiply by 1000 for milliseconds"
    if close(a, p99) and close(b, p50):
        return False, "swapped: give (p50, p99) in that order"
    if close(a, lat.mean() * 1000):
        return False, "that is the mean; p50 is the median (np.percentile(lat, 50)), which a long tail moves less"
    if close(b, lat.max() * 1000):
        return False, "that is the maximum; p99 is np.percentile(lat, 99), the value 99 % of requests stay below"
    if close(a, p50) and not close(b, p99):
        return False, f"p50 is right; p99 = np.percentile(lat, 99) * 1000, got {b:.2f}"
    return False, f"expected about ({p50:.2f}, {p99:.2f}) ms, got ({a:.2f}, {b:.2f})"


#: Exercise 12.3's failures: key -> what happened.
FAILURES = {
    "no_key": "the request has no Authorization header, and the service has API keys",
    "bad_json": 'the body is {"instances": [  (cut off: not valid JSON)',
    "unknown_model": "POST /v1/models/churn2:predict, but only 'churn' is served",
    "too_many": "2,000 rows in one request; the service allows max_instances=1024",
    "queue_full": "micro-batching is on and its queue already holds batch_queue_size requests",
    "rate_limited": "the client used up its token bucket (rate_limit_per_minute)",
}
_STATUS = {"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413, "queue_full": 503,
              "rate_limited": 429}
_STATUS_HINTS = {
    "no_key": "401 Unauthorized: no (or a wrong) credential; 403 would mean 'known, but not allowed'",
    "bad_json": "400 Bad Request: the client sent something the service cannot read",
    "unknown_model": "404 Not Found: the path names a model the service does not have",
    "too_many": "413 Content Too Large: the request is bigger than the service's limit (split it)",
    "queue_full": "503 Service Unavailable (with Retry-After): the service is overloaded right now, retry later",
    "rate_limited": "429 Too Many Requests (with Retry-After): this client sends too fast",
}


@exercise
def check_status_codes(answer) -> tuple[bool, str]:
    """Exercise 12.3: the HTTP status the service answers for each failure of ``FAILURES``, as a dict
    key -> int.

    Examples
    --------
    >>> check_status_codes({"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413,
    ...                     "queue_full": 503, "rate_limited": 429})
    ✓ all 6 status codes right: 4xx = the client must change the request, 503 = retry later
    True
    """
    if not isinstance(answer, dict):
        return False, f"give a dict failure -> status code, e.g. {{'no_key': ...}}; got {type(answer).__name__}"
    missing = sorted(set(_STATUS) - set(answer))
    if missing:
        return False, f"no status for {missing}; the failures are {sorted(_STATUS)}"
    wrong = [k for k in _STATUS if answer[k] != _STATUS[k]]
    if not wrong:
        return True, "all 6 status codes right: 4xx = the client must change the request, 503 = retry later"
    if any(isinstance(answer[k], str) for k in wrong):
        return False, "give the status codes as integers, e.g. 404, not strings"
    k = wrong[0]
    more = f" ({len(wrong) - 1} more wrong)" if len(wrong) > 1 else ""
    return False, f"{k!r}: {answer[k]!r} is not it — {_STATUS_HINTS[k]}{more}"
