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


#: Exercise 14.4: the floor for empty bins' shares (as in :func:`aiaas_lib.monitoring.psi`).
EPS = 1e-4


def _share_cases(rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fresh (expected, actual) share vectors: one without empty bins, then empty bins on each side."""
    def shares(k, zeros=()):
        s = rng.dirichlet(np.ones(k))
        s[list(zeros)] = 0.0
        return s / s.sum()

    k = int(rng.integers(5, 11))
    return [(shares(k), shares(k)), (shares(k), shares(k, zeros=(0,))), (shares(k, zeros=(k - 1,)), shares(k, zeros=(1,)))]


@exercise
def check_psi_function(func) -> tuple[bool, str]:
    """Exercise 14.4: ``func(expected, actual)`` returns the PSI of two share vectors, each share first
    raised to at least ``EPS`` (an empty bin must give a large but finite PSI, not ``inf`` or ``nan``).
    Checked on fresh random shares, some with empty bins.

    Examples
    --------
    >>> def my_psi(expected, actual):
    ...     e, a = np.maximum(expected, EPS), np.maximum(actual, EPS)
    ...     return float(np.sum((a - e) * np.log(a / e)))
    >>> check_psi_function(my_psi)
    ✓ right on 3 fresh pairs of shares, with and without empty bins (largest PSI there: finite, as it must be)
    True
    """
    if not callable(func):
        return False, f"give a function psi(expected, actual), got {type(func).__name__}"
    rng = np.random.default_rng()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, (e0, a0) in enumerate(_share_cases(rng)):
            got = func(e0.copy(), a0.copy())
            if got is None:
                return False, "your function returned None: return the PSI, a number"
            got = float(np.asarray(got, dtype=np.float64).ravel()[0]) if np.ndim(got) else float(got)
            e, a = np.maximum(e0, EPS), np.maximum(a0, EPS)
            expected = float(np.sum((a - e) * np.log(a / e)))
            if np.isclose(got, expected, rtol=1e-3):
                continue
            if not np.isfinite(got):
                return False, (f"PSI {got} on shares with an empty bin: ln 0 is -inf; raise every share to at least "
                               "EPS first, e = np.maximum(expected, EPS), the same for actual")
            if np.isclose(got, float(np.sum((a - e) * np.log10(a / e))), rtol=1e-3):
                return False, "use the natural logarithm (np.log), not log10: the 0.1 / 0.25 thresholds assume ln"
            if np.isclose(got, float(np.sum(a * np.log(a / e))), rtol=1e-3) or \
                    np.isclose(got, float(np.sum(e * np.log(e / a))), rtol=1e-3):
                return False, "that is one KL divergence; PSI is their sum: weight ln(a/e) by (a − e)"
            if i > 0 and np.isclose(got, float(np.nansum(np.where((e0 > 0) & (a0 > 0), (a0 - e0) * np.log(a0 / e0), 0))),
                                    rtol=1e-3):
                return False, "skipping empty bins hides the biggest shift; raise their shares to EPS instead"
            if i == 0:
                return False, f"{got:.4f} is not the PSI of bins without zeros ({expected:.4f}): sum (a − e)·ln(a/e)"
            return False, f"{got:.4f} differs from {expected:.4f} with an empty bin: raise each share to EPS (np.maximum)"
    return True, ("right on 3 fresh pairs of shares, with and without empty bins (largest PSI there: finite, "
                  "as it must be)")
