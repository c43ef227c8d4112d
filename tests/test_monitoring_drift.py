"""Drift statistics: PSI (numeric, categorical), KS and chi-square tests, alert levels, the drift report."""
import math

import numpy as np
import pandas as pd
import pytest

from aiaas_lib.monitoring import drift


def test_psi_is_zero_for_identical_samples():
    x = np.random.default_rng(0).normal(size=1000)
    assert drift.psi(x, x) == 0.0


def test_psi_matches_a_hand_computed_value_for_a_known_shift():
    # reference 0..99 in 4 quantile bins (edges 24.75, 49.5, 74.25): shares .25 each;
    # actual = reference + 25: shares 0 (raised to eps), .25, .25, .5
    eps = drift.EPS
    expected = (eps - 0.25) * math.log(eps / 0.25) + 0.25 * math.log(0.5 / 0.25)
    assert drift.psi(np.arange(100), np.arange(100) + 25, bins=4) == pytest.approx(expected, rel=1e-12)


def test_psi_grows_with_the_shift():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=2000)
    values = [drift.psi(ref, rng.normal(shift, 1, 2000)) for shift in (0.0, 0.3, 1.0)]
    assert values[0] < 0.02 < values[1] < values[2]  # sampling noise alone stays below 0.02 at n = 2000


def test_psi_values_outside_the_reference_range_fall_in_the_outer_bins():
    assert drift.psi([0, 1, 2, 3], [-100, -100, -100, -100], bins=2) > 1  # all in the open lower bin


def test_psi_handles_tied_reference_values():
    assert drift.psi([1] * 50 + [2] * 50, [1] * 50 + [2] * 50, bins=10) == 0.0


@pytest.mark.parametrize("bins", [1, 0, 2.5, True])
def test_psi_refuses_fewer_than_two_bins(bins):
    with pytest.raises(ValueError, match="must be an integer >= 2"):
        drift.psi([1, 2, 3], [1, 2, 3], bins=bins)


@pytest.mark.parametrize("expected, actual, match", [
    ([], [1.0], "expected is empty"),
    ([1.0], [], "actual is empty"),
    ([1.0, np.nan], [1.0], "NaN or inf"),
])
def test_psi_refuses_empty_or_missing_values(expected, actual, match):
    with pytest.raises(ValueError, match=match):
        drift.psi(expected, actual)


def test_categorical_psi_matches_the_shares_formula():
    value = drift.categorical_psi(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert value == pytest.approx((0.25 - 0.5) * math.log(0.5) + (0.75 - 0.5) * math.log(1.5), rel=1e-12)


def test_categorical_psi_counts_a_category_unseen_in_the_reference():
    value = drift.categorical_psi(["a", "b"], ["a", "b", "c", "c"])
    expected = 2 * (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.5 - drift.EPS) * math.log(0.5 / drift.EPS)
    assert value == pytest.approx(expected, rel=1e-12)


def test_categorical_psi_refuses_an_empty_sample():
    with pytest.raises(ValueError, match="actual is empty"):
        drift.categorical_psi(["a"], [])


def test_ks_flags_a_shifted_feature_and_not_an_unshifted_one():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=500)
    assert drift.ks_test(ref, rng.normal(size=500)).p_value > 0.05
    assert drift.ks_test(ref, rng.normal(0.5, 1, 500)).p_value < 1e-6


def test_chi2_flags_a_changed_category_share():
    rng = np.random.default_rng(0)
    ref = rng.choice(["a", "b", "c"], 600, p=[0.5, 0.3, 0.2])
    assert drift.chi2_test(ref, rng.choice(["a", "b", "c"], 600, p=[0.5, 0.3, 0.2])).p_value > 0.05
    assert drift.chi2_test(ref, rng.choice(["a", "b", "c"], 600, p=[0.3, 0.3, 0.4])).p_value < 1e-6


def test_chi2_handles_a_category_unseen_in_the_reference():
    result = drift.chi2_test(["a"] * 100, ["a"] * 90 + ["new"] * 10)
    assert result.statistic > 0 and result.p_value < 0.01


def test_chi2_of_a_single_category_is_no_evidence():
    assert drift.chi2_test(["a"] * 5, ["a"] * 7) == (0.0, 1.0)


def test_prediction_drift_is_psi_of_the_predictions():
    p = np.linspace(0.01, 0.99, 300)
    assert drift.prediction_drift(p[:, None], (p ** 2)[:, None]) == drift.psi(p, p ** 2)


@pytest.mark.parametrize("psi_value, p_value, level", [
    (0.0, None, "ok"), (0.0999, 0.5, "ok"), (0.1, None, "warn"), (0.2499, None, "warn"), (0.25, None, "alert"),
    (0.01, 1e-9, "warn"),
])
def test_alert_level_thresholds(psi_value, p_value, level):
    assert drift.alert_level(psi_value, p_value) == level


@pytest.mark.parametrize("kwargs, match", [
    ({"thresholds": (0.25, 0.1)}, "expected 0 < warn < alert"),
    ({"thresholds": "high"}, "expected two numbers"),
    ({"alpha": 0.0}, "alpha=0.0"),
])
def test_alert_level_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        drift.alert_level(0.2, **kwargs)


def _frames(shift: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(size=600), "z": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)})
    cur = pd.DataFrame({"x": rng.normal(shift, 1, 600), "z": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)})
    return ref, cur


def test_drift_report_has_one_row_per_feature_and_the_prediction():
    ref, cur = _frames(1.0)
    report = drift.drift_report(ref, cur, ["x", "z"], ["c"], predictions=(ref["x"], cur["x"]))
    assert list(report.columns) == ["feature", "kind", "test", "statistic", "p_value", "psi", "level"]
    assert list(report["feature"]) == ["x", "z", "c", "prediction"]
    assert list(report["level"]) == ["alert", "ok", "ok", "alert"]


def test_drift_report_is_all_ok_without_drift():
    ref, cur = _frames(0.0)
    assert set(drift.drift_report(ref, cur, ["x", "z"], ["c"])["level"]) == {"ok"}


def test_drift_report_corrects_p_values_for_the_number_of_tests():
    ref, cur = _frames(0.0)
    report = drift.drift_report(ref, cur, ["x", "z"], ["c"], alpha=0.5)
    # a p-value of 0.2 is below alpha = 0.5 but not below 0.5 / 3: no warning from it
    smallest = report["p_value"].min()
    assert (smallest > 0.5 / 3) == (set(report["level"]) == {"ok"})


@pytest.mark.parametrize("numeric, categorical, match", [
    (["nope"], [], r"columns \['nope'\] are not in the reference frame"),
    ([], ["c", "zz"], r"columns \['zz'\]"),
])
def test_drift_report_refuses_unknown_columns(numeric, categorical, match):
    ref, cur = _frames(0.0)
    with pytest.raises(ValueError, match=match):
        drift.drift_report(ref, cur, numeric, categorical)


def test_drift_report_refuses_an_empty_window():
    ref, cur = _frames(0.0)
    with pytest.raises(ValueError, match="the current frame is empty"):
        drift.drift_report(ref, cur.iloc[:0], ["x"], [])


# ------------------------------------------------------------------------- column kinds from dtypes
def test_drift_report_without_column_lists_checks_every_column():
    ref, cur = _frames(1.0)
    report = drift.drift_report(ref, cur)
    assert list(zip(report["feature"], report["kind"])) == [("x", "numeric"), ("z", "numeric"), ("c", "categorical")]
    assert list(report["level"]) == ["alert", "ok", "ok"]
    assert report.equals(drift.drift_report(ref, cur, ["x", "z"], ["c"]))  # same as naming them


def test_column_kinds_reads_dtypes():
    frame = pd.DataFrame({"n": [1, 2], "f": [0.5, 1.5], "s": ["a", "b"], "b": [True, False],
                          "k": pd.Categorical(["u", "v"])})
    assert drift.column_kinds(frame) == (["n", "f"], ["s", "b", "k"])


def test_drift_report_refuses_a_column_it_cannot_classify():
    ref, cur = _frames(0.0)
    ref["when"] = cur["when"] = pd.Timestamp("2026-01-01")
    with pytest.raises(ValueError, match=r"column 'when' has dtype datetime64.*: drift_report checks numbers and "
                                         r"categories; convert it, or pass numeric= and categorical="):
        drift.drift_report(ref, cur)


def test_drift_report_refuses_columns_in_only_one_frame():
    ref, cur = _frames(0.0)
    with pytest.raises(ValueError, match=r"columns \['c'\] are in only one of the two frames"):
        drift.drift_report(ref, cur.drop(columns="c"))


def test_drift_report_with_nothing_to_check_is_an_error_not_an_empty_frame():
    ref, cur = _frames(0.0)
    with pytest.raises(ValueError, match="nothing to check: no numeric or categorical columns and no predictions"):
        drift.drift_report(ref, cur, numeric=[], categorical=[])


def test_drift_report_errors_name_the_column():
    ref, cur = _frames(0.0)
    cur.loc[3, "z"] = np.nan
    with pytest.raises(ValueError, match=r"column 'z' of the current frame holds NaN or inf"):
        drift.drift_report(ref, cur, ["x", "z"], ["c"])
    with pytest.raises(ValueError, match=r"column 'c' of the reference frame must hold numbers, got 'a'; check it as "
                                         r"a categorical column"):
        drift.drift_report(ref, cur, ["c"], [])
