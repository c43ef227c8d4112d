"""Exercise checks of notebook 14 (monitoring and updating): used by notebooks/14_monitoring_and_updating.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 14.1: shares of one feature over four bins, in the reference and in this week's window.
SHARES = {"expected": (0.25, 0.25, 0.25, 0.25), "actual": (0.10, 0.20, 0.30, 0.40)}
#: Exercise 14.2: PSI of five features in one window.
PSI_VALUES = {"tenure": 0.31, "monthly_charges": 0.1, "contract": 0.249, "gender": 0.004, "prediction": 0.25}


@exercise
def check_psi_value(value) -> tuple[bool, str]:
    """Exercise 14.1: the PSI of :data:`SHARES` (actual against expected).

    Examples
    --------
    >>> e, a = np.array(SHARES["expected"]), np.array(SHARES["actual"])
    >>> check_psi_value(float(np.sum((a - e) * np.log(a / e))))
    ✓ PSI 0.2282: a moderate shift (0.1-0.25), worth a look
    True
    """
    e, a = np.array(SHARES["expected"]), np.array(SHARES["actual"])
    expected = float(np.sum((a - e) * np.log(a / e)))
    value = float(value)
    near = lambda x: abs(value - x) < 5e-4  # noqa: E731 — answers rounded to 3-4 decimals pass
    if near(expected):
        return True, f"PSI {value:.4f}: a moderate shift (0.1-0.25), worth a look"
    if near(float(np.sum(a * np.log(a / e)))) or near(float(np.sum(e * np.log(e / a)))):
        return False, "that is one KL divergence; PSI is their sum: weight ln(a/e) by (a − e), not by a or e"
    if near(float(np.sum((a - e) * np.log10(a / e)))):
        return False, "use the natural logarithm (np.log), not log10: the 0.1 / 0.25 thresholds assume ln"
    if near(float(np.sum((a - e) * np.log(a / e))) * 100) or near(float(np.sum((a - e) * 100 * np.log(a / e)))):
        return False, "use shares (fractions summing to 1), not percentages"
    if near(float(np.sum(np.abs(a - e)))) or near(float(np.sum((a - e) ** 2))):
        return False, "that is a distance between the shares, not the PSI: sum (a − e)·ln(a/e)"
    return False, f"{value!r} is not it; sum (a_i − e_i)·ln(a_i/e_i) over the four bins"


@exercise
def check_alert_levels(levels) -> tuple[bool, str]:
    """Exercise 14.2: the alert level (``"ok"``, ``"warn"``, ``"alert"``) of each feature of
    :data:`PSI_VALUES`, as a dict, with the thresholds 0.1 (warn) and 0.25 (alert), both inclusive.

    Examples
    --------
    >>> from aiaas_lib.monitoring import alert_level
    >>> check_alert_levels({k: alert_level(v) for k, v in PSI_VALUES.items()})
    ✓ all 5 levels right: tenure and prediction alert, monthly_charges and contract warn
    True
    """
    from aiaas_lib.monitoring import alert_level

    expected = {k: alert_level(v) for k, v in PSI_VALUES.items()}
    if not isinstance(levels, dict):
        return False, f"give a dict feature → level, e.g. {{'tenure': 'alert', ...}}; got {type(levels).__name__}"
    missing = sorted(set(expected) - set(levels))
    if missing:
        return False, f"levels for {missing} are missing; give one for each of {list(PSI_VALUES)}"
    bad = {k: v for k, v in levels.items() if v not in ("ok", "warn", "alert")}
    if bad:
        return False, f"levels must be 'ok', 'warn' or 'alert'; got {bad}"
    wrong = sorted(k for k in expected if levels[k] != expected[k])
    if not wrong:
        return True, "all 5 levels right: tenure and prediction alert, monthly_charges and contract warn"
    if any(PSI_VALUES[k] in (0.1, 0.25) for k in wrong):
        return False, f"wrong for {wrong}: a PSI exactly at a threshold reaches that level (>=, not >)"
    return False, f"wrong for {wrong}: below 0.1 is ok, from 0.1 warn, from 0.25 alert"


def _decision_cases() -> list[tuple[dict, dict, str]]:
    """(stable, canary, right decision) cases for exercise 14.3."""
    def m(auc, loss):
        return {"roc_auc": auc, "log_loss": loss}

    return [
        (m(0.80, 0.50), m(0.83, 0.45), "promote"),   # better on both
        (m(0.80, 0.50), m(0.795, 0.47), "promote"),  # AUC within the 0.01 tolerance, better calibrated
        (m(0.80, 0.50), m(0.78, 0.45), "rollback"),  # AUC 0.02 worse
        (m(0.80, 0.50), m(0.84, 0.55), "rollback"),  # better ranking but worse log loss
        (m(0.80, 0.50), m(0.80, 0.50), "promote"),   # a tie: no worse, so promote
    ]


@exercise
def check_promote_decision(func) -> tuple[bool, str]:
    """Exercise 14.3: ``func(stable, canary) -> "promote" | "rollback"``: promote when the canary's ROC-AUC is
    at most 0.01 below the stable's and its log loss is not higher (dicts with ``roc_auc``, ``log_loss``).

    Examples
    --------
    >>> def decide(stable, canary):
    ...     ok = canary["roc_auc"] >= stable["roc_auc"] - 0.01 and canary["log_loss"] <= stable["log_loss"]
    ...     return "promote" if ok else "rollback"
    >>> check_promote_decision(decide)
    ✓ right on all 5 cases: promote only when the canary is no worse (within the tolerance)
    True
    """
    if not callable(func):
        return False, f"give a function decide(stable, canary), got {type(func).__name__}"
    cases = _decision_cases()
    answers = [func(dict(s), dict(c)) for s, c, _ in cases]
    if any(isinstance(a, bool) for a in answers):
        return False, "return the string 'promote' or 'rollback', not True/False"
    if any(a not in ("promote", "rollback") for a in answers):
        return False, f"return 'promote' or 'rollback'; got {sorted({repr(a) for a in answers})}"
    wrong = [i for i, (a, (_, _, right)) in enumerate(zip(answers, cases)) if a != right]
    if not wrong:
        return True, "right on all 5 cases: promote only when the canary is no worse (within the tolerance)"
    if wrong == [4]:
        return False, "a tie counts as no worse: use >= for the AUC tolerance and <= for the log loss"
    if 1 in wrong and set(wrong) <= {1, 4}:
        return False, "an AUC up to 0.01 below the stable one is allowed: compare with stable − 0.01, using >="
    if wrong == [3]:
        return False, "a better ROC-AUC is not enough: the canary's log loss must not be higher (calibration)"
    return False, f"wrong decision for cases {wrong}; check both conditions: AUC tolerance and log loss"
