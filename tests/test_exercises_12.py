"""Exercise checks of notebook 12: a TF Serving request body, latency percentiles, status codes."""
import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.exercises import nb12_serving_models as ex
from _feedback import run_check as _run


@pytest.fixture(scope="module")
def X():
    return data.churn_xy(data.load_churn())[0]


# ------------------------------------------------------------------------------- TF Serving body
def test_tfserving_body_right(capsys, X):
    assert _run(capsys, ex.check_tfserving_body, {"instances": X.iloc[:2].to_dict("records")})[0]


def test_tfserving_body_right_from_json(capsys, X):
    import json

    body = {"instances": json.loads(X.iloc[:2].to_json(orient="records"))}
    assert _run(capsys, ex.check_tfserving_body, body)[0]


@pytest.mark.parametrize("make, hint", [
    (lambda X: X.iloc[:2], "pandas object"),
    (lambda X: X.iloc[:2].to_dict("records"), "bare list"),
    (lambda X: {"features": [[1.0, 2.0]]}, "source design"),
    (lambda X: {"inputs": X.iloc[:2].to_dict("list")}, "columnar format"),
    (lambda X: {"instances": X.iloc[:2].to_dict("records"), "model": "churn"}, 'exactly one key'),
    (lambda X: {"instances": X.iloc[:3].to_dict("records")}, "got 3 rows"),
    (lambda X: {"instances": X.iloc[:2].to_numpy().tolist()}, "each a dict"),
    (lambda X: {"instances": [{**r, "tenure": np.int64(3)} for r in X.iloc[:2].to_dict("records")]},
     "not JSON-serialisable"),
    (lambda X: {"instances": [{k: v for k, v in r.items() if k != "tenure"}
                              for r in X.iloc[:2].to_dict("records")]},
     "would answer 400"),
    (lambda X: {"instances": X.iloc[2:4].to_dict("records")}, "not the first two"),
    (lambda X: "instances", "got str"),
])
def test_tfserving_body_wrong(capsys, X, make, hint):
    ok, out = _run(capsys, ex.check_tfserving_body, make(X))
    assert not ok and hint in out


def test_tfserving_body_no_answer(capsys):
    ok, out = _run(capsys, ex.check_tfserving_body, None)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------------ percentiles
LAT = np.array(ex.LATENCIES)
P50, P99 = np.percentile(LAT, 50) * 1000, np.percentile(LAT, 99) * 1000


def test_percentiles_right(capsys):
    assert _run(capsys, ex.check_latency_percentiles, (P50, P99))[0]


@pytest.mark.parametrize("answer, hint", [
    ((P50 / 1000, P99 / 1000), "those are seconds"),
    ((P99, P50), "swapped"),
    ((LAT.mean() * 1000, P99), "that is the mean"),
    ((P50 + 1, LAT.max() * 1000), "that is the maximum"),
    ((P50, P99 + 1), "p50 is right"),
    ((1.0, 2.0), "expected about"),
    ((P50,), "give two numbers"),
])
def test_percentiles_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_latency_percentiles, answer)
    assert not ok and hint in out


def test_percentiles_no_answer(capsys):
    ok, out = _run(capsys, ex.check_latency_percentiles, None)
    assert not ok and "no answer yet" in out


# ----------------------------------------------------------------------------------- status codes
RIGHT = {"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413, "queue_full": 503,
         "rate_limited": 429}


def test_status_codes_right(capsys):
    assert _run(capsys, ex.check_status_codes, dict(RIGHT))[0]


@pytest.mark.parametrize("change, hint", [
    ({"no_key": 403}, "401 Unauthorized"),
    ({"too_many": 400}, "413 Content Too Large"),
    ({"queue_full": 500}, "503 Service Unavailable"),
    ({"rate_limited": 503}, "429 Too Many Requests"),
    ({"unknown_model": 400, "bad_json": 422}, "more wrong"),
    ({"no_key": "401"}, "as integers"),
])
def test_status_codes_wrong(capsys, change, hint):
    ok, out = _run(capsys, ex.check_status_codes, {**RIGHT, **change})
    assert not ok and hint in out


def test_status_codes_missing_key(capsys):
    ok, out = _run(capsys, ex.check_status_codes, {"no_key": 401})
    assert not ok and "no status for" in out


def test_status_codes_not_a_dict(capsys):
    ok, out = _run(capsys, ex.check_status_codes, [401, 400])
    assert not ok and "give a dict" in out


def test_status_codes_no_answer(capsys):
    ok, out = _run(capsys, ex.check_status_codes, None)
    assert not ok and "no answer yet" in out
