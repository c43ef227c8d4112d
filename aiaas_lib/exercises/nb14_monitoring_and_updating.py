"""Exercise checks of notebook 14 (monitoring and updating): used by notebooks/14_monitoring_and_updating.ipynb."""
from __future__ import annotations

import hashlib

import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 14.1: shares of one feature over four bins, in the reference and in this week's window.
SHARES = {"expected": (0.25, 0.25, 0.25, 0.25), "actual": (0.10, 0.20, 0.30, 0.40)}
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
    near = lambda x: abs(value - x) < 2e-3  # noqa: E731 — answers rounded to 2-4 decimals pass (0.23 too)
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


def _decision_cases(rng) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Fresh (expected decision, per-row losses of stable, of canary) on the same rows: a clear win, a clear
    loss, and a small difference well inside the noise. Per row the losses vary a lot (sd about 0.4: easy and
    hard customers) while the two versions differ by little (sd 0.02), so only a *paired* interval is narrow:
    the wins and losses are 10 paired standard errors from 0 but under half an unpaired one."""
    n = int(rng.integers(300, 600))
    stable = 0.1 + rng.gamma(1.5, 0.3, n)  # log losses: all positive, a long right tail
    se = 0.02 / np.sqrt(n)                 # the paired standard error of the mean difference
    cases = []
    for expected, shift in (("promote", -10 * se), ("roll back", 10 * se), ("wait", -0.3 * se)):
        noise = np.clip(rng.normal(0.0, 0.02, n), -0.06, 0.06)
        noise = (noise - noise.mean()) * 0.02 / noise.std()  # sd exactly 0.02, mean exactly 0
        cases.append((expected, stable.copy(), stable + shift + noise))
    return cases


@exercise
def check_promotion_decision(func) -> tuple[bool, str]:
    """Exercise 14.2: ``func(loss_stable, loss_canary)`` decides from per-row losses of the two versions on
    the *same* rows: with ``d = loss_canary - loss_stable``, resample the row indices with replacement (the
    same indices for both versions), take the mean of ``d`` per resample and the 2.5 % and 97.5 % quantiles of
    those means: ``"promote"`` when the whole interval lies below 0, ``"roll back"`` when it lies wholly above
    0, else ``"wait"``. Checked on fresh synthetic pairs: a clear win, a clear loss, no real difference.

    Examples
    --------
    >>> def my_decide(loss_stable, loss_canary, n_boot=2000, seed=0):
    ...     d = np.asarray(loss_canary) - np.asarray(loss_stable)
    ...     idx = np.random.default_rng(seed).integers(0, len(d), size=(n_boot, len(d)))
    ...     low, high = np.quantile(d[idx].mean(axis=1), [0.025, 0.975])
    ...     return "promote" if high < 0 else "roll back" if low > 0 else "wait"
    >>> check_promotion_decision(my_decide)
    ✓ right on 3 fresh synthetic pairs: a clear win → promote, a clear loss → roll back, a difference inside the noise → wait
    True
    """
    if not callable(func):
        return False, f"give a function decide(loss_stable, loss_canary), got {type(func).__name__}"
    cases = _decision_cases(np.random.default_rng())
    got = {}
    for expected, stable, canary in cases:
        answer = func(stable.copy(), canary.copy())
        if answer is None:
            return False, "your function returned None: return 'promote', 'wait' or 'roll back'"
        if answer not in ("promote", "wait", "roll back"):
            return False, f"return 'promote', 'wait' or 'roll back'; got {answer!r}"
        got[expected] = answer
    if all(got[k] == k for k in got):
        return True, ("right on 3 fresh synthetic pairs: a clear win → promote, a clear loss → roll back, "
                      "a difference inside the noise → wait")
    if got["promote"] == "roll back" and got["roll back"] == "promote":
        return False, ("wrong sign: a clear win came out 'roll back' and a clear loss 'promote'. Take "
                       "d = loss_canary − loss_stable (lower loss is better): promote when the interval of "
                       "mean(d) lies below 0")
    if got["promote"] == "wait" and got["roll back"] == "wait":
        return False, ("'wait' on a clear win and a clear loss: your interval is far too wide. Resample the "
                       "*same* row indices for both versions (d = loss_canary − loss_stable, then d[idx].mean()): "
                       "resampling each version independently (unpaired) keeps the large row-to-row spread of "
                       "the losses, and so do quantiles of d itself instead of its resampled means")
    if got["wait"] != "wait" and got["promote"] == "promote" and got["roll back"] == "roll back":
        return False, (f"'{got['wait']}' on a difference well inside the noise (0.3 standard errors): decide "
                       "from the interval, not from the mean's sign — promote only when the whole 95 % interval "
                       "lies below 0, roll back only when it lies wholly above 0")
    wrong = ", ".join(f"expected {k!r}, got {v!r}" for k, v in got.items() if k != v)
    return False, (f"{wrong}: d = loss_canary − loss_stable per row, resample rows with replacement, 95 % "
                   "interval of the resampled means; promote below 0, roll back above 0, else wait")


def _hash_share(request_id: str) -> float:
    """The spec's number in [0, 1) for one request id: the first 8 hex digits of its SHA-256, over 16**8."""
    return int(hashlib.sha256(request_id.encode()).hexdigest()[:8], 16) / 16**8


def _reference_route(request_id: str, weight: float) -> str:
    """Exercise 14.3's reference: sticky routing by a hash of the request (or user) id."""
    return "canary" if _hash_share(request_id) < weight else "stable"


@exercise
def check_sticky_router(func) -> tuple[bool, str]:
    """Exercise 14.3: ``func(request_id, weight) -> "canary" | "stable"``: a *sticky* router. With
    ``u = int(sha256(request_id).hexdigest()[:8], 16) / 16**8`` (a number in [0, 1) fixed by the id), the
    request goes to the canary when ``u < weight``. Checked on fresh random ids and weights, twice each.

    Examples
    --------
    >>> import hashlib
    >>> def my_route(request_id, weight):
    ...     u = int(hashlib.sha256(request_id.encode()).hexdigest()[:8], 16) / 16**8
    ...     return "canary" if u < weight else "stable"
    >>> check_sticky_router(my_route)
    ✓ right on 500 fresh ids at 4 weights (0 and 1 included), the same answer on a second call: sticky, split by u < w
    True
    """
    if not callable(func):
        return False, f"give a function route(request_id, weight), got {type(func).__name__}"
    rng = np.random.default_rng()
    ids = [f"user-{n}" for n in rng.integers(0, 10**12, 500)]
    weights = [0.0, 0.3, float(np.round(rng.uniform(0.05, 0.95), 3)), 1.0]
    for w in weights:
        first = [func(i, w) for i in ids]
        if any(isinstance(a, (bool, np.bool_)) for a in first):
            return False, "return the string 'canary' or 'stable', not True/False"
        if any(a not in ("canary", "stable") for a in first):
            return False, f"return 'canary' or 'stable'; got {sorted({repr(a) for a in first})[:3]}"
        second = [func(i, w) for i in ids]
        if first != second:
            return False, (f"not sticky: the same id got different versions on two calls at w = {w}. Do not draw "
                           "at random: derive u from the id itself (sha256 of the id), so a user stays on one version")
        right = [_reference_route(i, w) for i in ids]
        if first == right:
            continue
        share = np.mean([a == "canary" for a in first])
        if first == ["canary" if _hash_share(i) >= w else "stable" for i in ids]:
            return False, f"at w = {w} you sent {share:.0%} to the canary: it gets the requests with u < w, not u >= w"
        if w in (0.0, 1.0):
            return False, (f"at w = {w} {share:.0%} went to the canary: weight 0 must send none, weight 1 all "
                           "(compare u < w with u in [0, 1))")
        low, high = w - 4 * np.sqrt(w * (1 - w) / len(ids)), w + 4 * np.sqrt(w * (1 - w) / len(ids))
        if low <= share <= high:
            return False, (f"sticky and the right share ({share:.0%} at w = {w}), but not the spec's hash: use "
                           "u = int(hashlib.sha256(request_id.encode()).hexdigest()[:8], 16) / 16**8 (Python's "
                           "hash() of a str changes with every process, so users would switch at each restart)")
        return False, f"at w = {w} {share:.0%} of fresh ids went to the canary; expected about {w:.0%} (u < w)"
    return True, (f"right on {len(ids)} fresh ids at {len(weights)} weights (0 and 1 included), the same answer "
                  "on a second call: sticky, split by u < w")


#: Exercise 14.4: the floor for empty categories' shares (as in :func:`aiaas_lib.monitoring.psi`).
EPS = 1e-4

_CATEGORIES = ("Month-to-month", "One year", "Two year", "Fibre", "DSL", "None")


def _categorical_cases(rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fresh (reference, current) label arrays: same categories; then a category new in the current window."""
    n_ref, n_cur = int(rng.integers(200, 400)), int(rng.integers(80, 200))
    cats = list(_CATEGORIES[:4])
    ref = rng.choice(cats[:3], n_ref, p=rng.dirichlet(np.ones(3)))
    same = rng.choice(cats[:3], n_cur, p=rng.dirichlet(np.ones(3)))
    new = rng.choice(cats, n_cur, p=rng.dirichlet(np.ones(4)))
    new[0] = cats[3]  # at least one row of a category the reference never saw
    return [(ref, same), (ref, new)]


def _shares(ref, cur, cats):
    """Shares of each category of ``cats`` in both samples."""
    return (np.array([np.mean(ref == c) for c in cats]), np.array([np.mean(cur == c) for c in cats]))


def _psi(e, a, eps=EPS):
    e, a = np.maximum(e, eps), np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


@exercise
def check_categorical_psi(func) -> tuple[bool, str]:
    """Exercise 14.4: ``func(reference, current)`` returns the PSI of a *categorical* feature from its raw
    values (arrays of labels): the bins are the categories seen in either sample, the shares are counts over
    the sample size, and every share is raised to at least ``EPS`` before the logarithm. Checked on fresh
    random samples, one with a category that the reference never saw.

    Examples
    --------
    >>> def my_categorical_psi(reference, current):
    ...     reference, current = np.asarray(reference), np.asarray(current)
    ...     cats = sorted(set(reference) | set(current))
    ...     e = np.maximum([np.mean(reference == c) for c in cats], EPS)
    ...     a = np.maximum([np.mean(current == c) for c in cats], EPS)
    ...     return float(np.sum((a - e) * np.log(a / e)))
    >>> check_categorical_psi(my_categorical_psi)
    ✓ right on 2 fresh pairs of samples, one with a category the reference never saw (a large but finite PSI)
    True
    """
    if not callable(func):
        return False, f"give a function psi(reference, current), got {type(func).__name__}"
    rng = np.random.default_rng()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, (ref, cur) in enumerate(_categorical_cases(rng)):
            got = func(ref.copy(), cur.copy())
            if got is None:
                return False, "your function returned None: return the PSI, a number"
            got = float(np.asarray(got, dtype=np.float64).ravel()[0]) if np.ndim(got) else float(got)
            cats = sorted(set(ref) | set(cur))
            e, a = _shares(ref, cur, cats)
            expected = _psi(e, a)
            if np.isclose(got, expected, rtol=1e-3):
                continue
            if not np.isfinite(got):
                return False, (f"PSI {got} with a category missing from one sample: ln 0 is -inf; raise every share "
                               "to at least EPS first (np.maximum(shares, EPS))")
            ref_cats = sorted(set(ref))
            e_ref, a_ref = _shares(ref, cur, ref_cats)
            if i == 1 and np.isclose(got, _psi(e_ref, a_ref), rtol=1e-3):
                return False, ("you binned by the reference's categories only, so a category new in the window "
                               "vanished: take the categories of both samples (set(reference) | set(current))")
            counts_e, counts_a = e * len(ref), a * len(cur)
            if np.isclose(got, _psi(counts_e, counts_a), rtol=1e-3):
                return False, "use shares (counts divided by the sample's size), not counts"
            if np.isclose(got, float(np.sum(np.maximum(a, EPS) * np.log(np.maximum(a, EPS) / np.maximum(e, EPS)))),
                          rtol=1e-3):
                return False, "that is one KL divergence; PSI is their sum: weight ln(a/e) by (a − e)"
            return False, f"{got:.4f} differs from the PSI {expected:.4f}: sum (a − e)·ln(a/e) over the categories"
    return True, "right on 2 fresh pairs of samples, one with a category the reference never saw (a large but finite PSI)"
