import numpy as np
import pytest

from aiaas_lib.exercises import nb14_monitoring_and_updating as ex
from aiaas_lib.monitoring import alert_level
from _feedback import run_check as _run

E, A = np.array(ex.SHARES["expected"]), np.array(ex.SHARES["actual"])
RIGHT_LEVELS = {"tenure": "alert", "monthly_charges": "warn", "contract": "warn", "gender": "ok", "prediction": "alert"}


def right_decision(stable, canary):
    ok = canary["roc_auc"] >= stable["roc_auc"] - 0.01 and canary["log_loss"] <= stable["log_loss"]
    return "promote" if ok else "rollback"


def test_psi_value_right(capsys):
    assert _run(capsys, ex.check_psi_value, float(np.sum((A - E) * np.log(A / E))))[0]
    assert _run(capsys, ex.check_psi_value, 0.2282)[0]  # rounded to 4 decimals


@pytest.mark.parametrize("value, hint", [
    (float(np.sum(A * np.log(A / E))), "KL divergence"),
    (float(np.sum((A - E) * np.log10(A / E))), "natural logarithm"),
    (float(np.sum((A - E) * np.log(A / E))) * 100, "percentages"),
    (float(np.sum(np.abs(A - E))), "distance"),
    (0.5, "is not it"),
    ("abc", "could not check"),
])
def test_psi_value_wrong(capsys, value, hint):
    ok, out = _run(capsys, ex.check_psi_value, value)
    assert not ok and hint in out


def test_psi_value_none(capsys):
    ok, out = _run(capsys, ex.check_psi_value, None)
    assert not ok and "no answer yet" in out


def test_alert_levels_right(capsys):
    assert {k: alert_level(v) for k, v in ex.PSI_VALUES.items()} == RIGHT_LEVELS
    assert _run(capsys, ex.check_alert_levels, dict(RIGHT_LEVELS))[0]


@pytest.mark.parametrize("change, hint", [
    ({"monthly_charges": "ok"}, ">=, not >"),
    ({"prediction": "warn"}, ">=, not >"),
    ({"contract": "alert"}, "from 0.25 alert"),
    ({"gender": "fine"}, "must be 'ok', 'warn' or 'alert'"),
])
def test_alert_levels_wrong(capsys, change, hint):
    ok, out = _run(capsys, ex.check_alert_levels, {**RIGHT_LEVELS, **change})
    assert not ok and hint in out


def test_alert_levels_missing_and_wrong_type(capsys):
    ok, out = _run(capsys, ex.check_alert_levels, {"tenure": "alert"})
    assert not ok and "are missing" in out
    ok, out = _run(capsys, ex.check_alert_levels, ["alert"] * 5)
    assert not ok and "give a dict" in out


def test_alert_levels_none(capsys):
    ok, out = _run(capsys, ex.check_alert_levels, None)
    assert not ok and "no answer yet" in out


def test_promote_decision_right(capsys):
    assert _run(capsys, ex.check_promote_decision, right_decision)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda s, c: "promote" if c["roc_auc"] >= s["roc_auc"] and c["log_loss"] <= s["log_loss"] else "rollback",
     "up to 0.01 below"),
    (lambda s, c: "promote" if c["roc_auc"] >= s["roc_auc"] - 0.01 else "rollback", "log loss must not be higher"),
    (lambda s, c: "promote" if c["roc_auc"] > s["roc_auc"] - 0.01 and c["log_loss"] < s["log_loss"] else "rollback",
     "a tie counts"),
    (lambda s, c: c["roc_auc"] >= s["roc_auc"], "not True/False"),
    (lambda s, c: "keep", "return 'promote' or 'rollback'"),
    (lambda s, c: "rollback", "wrong decision"),
    ("promote", "give a function"),
])
def test_promote_decision_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_promote_decision, func)
    assert not ok and hint in out, out


def test_promote_decision_none(capsys):
    ok, out = _run(capsys, ex.check_promote_decision, None)
    assert not ok and "no answer yet" in out


def _psi_right(e, a):
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _psi_no_guard(e, a):
    return float(np.sum((a - e) * np.log(a / e)))


def _psi_log10(e, a):
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum((a - e) * np.log10(a / e)))


def _psi_kl(e, a):
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum(a * np.log(a / e)))


def _psi_skip_empty(e, a):
    keep = (e > 0) & (a > 0)
    return float(np.sum((a[keep] - e[keep]) * np.log(a[keep] / e[keep])))


def test_psi_function_right(capsys):
    assert _run(capsys, ex.check_psi_function, _psi_right)[0]


@pytest.mark.parametrize("func, hint", [
    (_psi_no_guard, "raise every share"),
    (_psi_log10, "natural logarithm"),
    (_psi_kl, "KL divergence"),
    (_psi_skip_empty, "skipping empty bins"),
    (lambda e, a: 0.5, "is not the PSI"),
    (lambda e, a: None, "returned None"),
    (lambda e, a: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_psi_function_wrong(capsys, func, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        ok, out = _run(capsys, ex.check_psi_function, func)
    assert not ok and hint in out, out
