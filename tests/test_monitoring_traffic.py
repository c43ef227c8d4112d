"""The simulated churn traffic with injected drift."""
import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.monitoring import drift, traffic

X, y = data.churn_xy(data.load_churn())


def test_drift_strength_zero_changes_nothing():
    assert traffic.drift_churn(X, 0.0).equals(X)


def test_drift_shifts_the_documented_columns_only():
    D = traffic.drift_churn(X, 1.0, seed=0)
    changed = [c for c in X.columns if not D[c].equals(X[c])]
    assert changed == ["tenure", "monthly_charges", "total_charges", "contract"]
    assert np.allclose(D["monthly_charges"] - X["monthly_charges"], 25.0)
    assert (D["contract"] == "Month-to-month").mean() > (X["contract"] == "Month-to-month").mean() + 0.15


def test_drift_is_seeded():
    assert traffic.drift_churn(X, 0.7, seed=3).equals(traffic.drift_churn(X, 0.7, seed=3))


def test_drift_is_large_enough_to_alert():
    D = traffic.drift_churn(X.iloc[:1000], 1.0, seed=0)
    report = drift.drift_report(X.iloc[1000:3000], D, ["tenure", "monthly_charges"], ["contract"])
    assert set(report["level"]) == {"alert"}


@pytest.mark.parametrize("strength", [-0.1, 2.0, "big", True])
def test_drift_refuses_a_bad_strength(strength):
    with pytest.raises(ValueError, match="strength="):
        traffic.drift_churn(X, strength)


def test_drift_refuses_frames_without_the_columns():
    with pytest.raises(ValueError, match=r"lacks the columns \['contract'\]"):
        traffic.drift_churn(X.drop(columns="contract"))


def test_stream_windows_ramp_the_drift():
    stream = traffic.churn_stream(X, y, n_windows=5, window_size=50, drift_from=2, ramp=2, seed=0)
    assert [w.strength for w in stream] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert all(len(w.X) == 50 == len(w.y) for w in stream)
    assert all(len(set(w.X.index)) == 50 for w in stream)


def test_stream_is_seeded():
    a = traffic.churn_stream(X, y, n_windows=3, window_size=20, seed=1)
    b = traffic.churn_stream(X, y, n_windows=3, window_size=20, seed=1)
    assert all(u.X.equals(v.X) and (u.y == v.y).all() for u, v in zip(a, b))


def test_stream_labels_belong_to_their_rows():
    w = traffic.churn_stream(X, y, n_windows=1, window_size=30, seed=2)[0]
    rows = X.reset_index(drop=True)
    idx = [rows.index[(rows == r).all(axis=1)][0] for r in w.X.to_dict("records")[:5]]
    assert (y[idx] == w.y[:5]).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"window_size": 0}, "window_size=0"),
    ({"n_windows": 0}, "n_windows=0"),
    ({"ramp": 0}, "ramp=0"),
    ({"drift_from": -1}, "drift_from=-1"),
])
def test_stream_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        traffic.churn_stream(X, y, **kwargs)


def test_stream_refuses_mismatched_labels():
    with pytest.raises(ValueError, match="one label per row"):
        traffic.churn_stream(X, y[:10])


def test_stack_joins_windows_and_refuses_none():
    stream = traffic.churn_stream(X, y, n_windows=2, window_size=10, seed=0)
    frame, labels = traffic.stack(stream)
    assert frame.shape == (20, X.shape[1]) and labels.shape == (20,)
    with pytest.raises(ValueError, match="windows is empty"):
        traffic.stack([])
