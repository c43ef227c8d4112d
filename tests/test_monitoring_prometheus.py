"""Parsing the service's Prometheus text and the helpers over it."""
import math

import pandas as pd
import pytest

from aiaas_lib.monitoring import prometheus as prom

SCRAPE = prom.EXAMPLE + """\
# HELP aiaas_predictions_total rows
# TYPE aiaas_predictions_total counter
aiaas_predictions_total{model="churn",role="stable",version="1"} 70.0
aiaas_predictions_total{model="churn",role="canary",version="2"} 30.0
aiaas_predictions_total{model="other",role="stable",version="1"} 5.0
"""


def test_parse_metrics_gives_one_row_per_sample():
    frame = prom.parse_metrics(SCRAPE.encode())
    assert len(frame) == 10 and set(frame["type"]) == {"counter", "histogram"}
    assert frame.loc[frame["name"] == "aiaas_request_duration_seconds_sum", "value"].item() == 0.3


def test_parse_metrics_refuses_non_text():
    with pytest.raises(TypeError, match="must be the str"):
        prom.parse_metrics(42)


def test_parse_metrics_refuses_malformed_text():
    with pytest.raises(ValueError, match="not in the Prometheus text format"):
        prom.parse_metrics("aiaas_x{ 1")


def test_metric_values_filters_by_labels():
    table = prom.metric_values(prom.parse_metrics(SCRAPE), "aiaas_predictions_total", model="churn")
    assert table["value"].tolist() == [70.0, 30.0] and set(table["version"]) == {"1", "2"}


def test_metric_values_refuses_a_frame_not_from_parse_metrics():
    with pytest.raises(TypeError, match="parse_metrics"):
        prom.metric_values(pd.DataFrame({"a": [1]}), "x")


def test_request_counts_by_status():
    counts = prom.request_counts(prom.parse_metrics(SCRAPE), route="/v1/models/{name}:predict")
    assert counts.to_dict() == {"200": 9.0, "400": 1.0}
    assert prom.request_counts(prom.parse_metrics(SCRAPE), route="/nope").empty


@pytest.mark.parametrize("q, expected", [
    (0.1, 0.005),      # rank 1 of 2 in the first bucket (0, 0.01]: halfway
    (0.2, 0.01),       # rank 2: the top of the first bucket
    (0.6, 0.01 + 0.09 * 4 / 8),  # rank 6: 4 of the 8 observations in (0.01, 0.1]
    (1.0, 0.1),
])
def test_histogram_quantile_interpolates_like_promql(q, expected):
    value = prom.histogram_quantile(prom.parse_metrics(SCRAPE), "aiaas_request_duration_seconds", q)
    assert value == pytest.approx(expected, rel=1e-12)


def test_histogram_quantile_in_the_inf_bucket_is_the_highest_finite_bound():
    text = """# TYPE h histogram
h_bucket{le="1.0"} 1.0
h_bucket{le="+Inf"} 4.0
h_count 4.0
h_sum 10.0
"""
    assert prom.histogram_quantile(prom.parse_metrics(text), "h", 0.9) == 1.0


def test_histogram_quantile_without_observations_is_nan():
    text = '# TYPE h histogram\nh_bucket{le="1.0"} 0.0\nh_bucket{le="+Inf"} 0.0\nh_count 0.0\nh_sum 0.0\n'
    assert math.isnan(prom.histogram_quantile(prom.parse_metrics(text), "h", 0.5))


def test_histogram_quantile_refuses_an_unknown_histogram():
    with pytest.raises(ValueError, match="no histogram 'nope'"):
        prom.histogram_quantile(prom.parse_metrics(SCRAPE), "nope", 0.5)


def test_predictions_by_version_sums_per_version_and_role():
    table = prom.predictions_by_version(prom.parse_metrics(SCRAPE), "churn")
    assert table.to_dict("records") == [{"version": 1, "role": "stable", "rows": 70.0},
                                        {"version": 2, "role": "canary", "rows": 30.0}]


def test_predictions_by_version_of_an_unseen_model_is_empty():
    assert prom.predictions_by_version(prom.parse_metrics(SCRAPE), "nope").empty


def test_parse_metrics_reads_a_real_service_scrape():
    from aiaas_lib.serving.metrics import ServiceMetrics

    m = ServiceMetrics()
    m.predictions.labels(model="churn", version="3", role="canary").inc(4)
    m.latency.labels(route="/r", method="POST").observe(0.003)
    frame = prom.parse_metrics(m.render()[0])
    assert prom.predictions_by_version(frame, "churn")["rows"].tolist() == [4.0]
    # the one observation (3 ms) lies in the (2 ms, 5 ms] bucket; the median interpolates inside it
    assert 0.002 <= prom.histogram_quantile(frame, "aiaas_request_duration_seconds", 0.5, route="/r") <= 0.005
