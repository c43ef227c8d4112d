"""Exercise checks of notebook 01 (ai as a service): used by notebooks/01_ai_as_a_service.ipynb."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from aiaas_lib.exercises.feedback import exercise


LIFECYCLE = ("collect", "preprocess", "select", "train", "evaluate", "deploy", "monitor", "update")


@exercise
def check_lifecycle_order(stages: Sequence[str]) -> tuple[bool, str]:
    """Exercise 01.1: put the model lifecycle's stages in order.

    Examples
    --------
    >>> check_lifecycle_order(["collect", "preprocess", "select", "train",
    ...                        "evaluate", "deploy", "monitor", "update"])
    ✓ collect → preprocess → select → train → evaluate → deploy → monitor → update (and back to collect)
    True
    """
    given = [str(s).strip().lower() for s in stages]
    if sorted(given) != sorted(LIFECYCLE):
        missing = sorted(set(LIFECYCLE) - set(given))
        extra = sorted(set(given) - set(LIFECYCLE))
        return False, f"use each of {list(LIFECYCLE)} once (missing {missing}, unknown {extra})"
    for i, (g, e) in enumerate(zip(given, LIFECYCLE)):
        if g != e:
            return False, f"stage {i + 1} should not be {g!r}: what must exist before you can {g}?"
    return True, " → ".join(LIFECYCLE) + " (and back to collect)"


SCENARIOS = (
    "rent a virtual machine with a GPU and install everything yourself",
    "upload your training script; the platform runs it and scales the workers",
    "log in to a hosted CRM in the browser",
    "send text to an HTTP endpoint and get a sentiment score back",
)
"""The scenarios of exercise 01.2 (the questions only; the answers stay in the checker)."""

_SERVICE_MODEL_OF = dict(zip(SCENARIOS, ("IaaS", "PaaS", "SaaS", "AIaaS")))


@exercise
def check_service_models(answers) -> tuple[bool, str]:
    """Exercise 01.2: name the service model (IaaS, PaaS, SaaS, AIaaS) of each scenario in
    ``SCENARIOS``; ``answers`` is a list in the order of ``SCENARIOS`` (or a dict scenario -> model).

    Examples
    --------
    >>> check_service_models(["SaaS", "SaaS", "SaaS", "SaaS"])
    ✗ 3 of 4 not right yet, e.g. 'rent a virtual machine with a GPU and install everything yourself': who runs the model there?
    False
    """
    if isinstance(answers, dict):
        given = [answers.get(s, "") for s in SCENARIOS]
    elif isinstance(answers, (list, tuple)):
        if len(answers) != len(SCENARIOS):
            return False, f"give one answer per scenario: {len(SCENARIOS)} answers, not {len(answers)}"
        given = list(answers)
    else:
        return False, f"give a list of {len(SCENARIOS)} answers like [\"IaaS\", ...], not {type(answers).__name__}"
    names = {"IAAS", "PAAS", "SAAS", "AIAAS"}
    unknown = [g for g in given if str(g).strip().upper() not in names]
    if unknown:
        return False, f"answer with 'IaaS', 'PaaS', 'SaaS' or 'AIaaS' (got {unknown[0]!r})"
    wrong = [s for s, g in zip(SCENARIOS, given) if str(g).strip().upper() != _SERVICE_MODEL_OF[s].upper()]
    if not wrong:
        return True, "all four scenarios placed: the higher the layer, the less you run yourself"
    return False, f"{len(wrong)} of {len(SCENARIOS)} not right yet, e.g. {wrong[0]!r}: who runs the model there?"


def _rank_auc(y: np.ndarray, scores: np.ndarray, positive: int = 1, ties: str = "average",
              first_rank: int = 1) -> float:
    """ROC-AUC from ranks (Mann-Whitney); the keyword arguments reproduce the typical mistakes."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, method=ties) - 1 + first_rank
    n_pos, n_neg = int(np.sum(y == positive)), int(np.sum(y != positive))
    return float((ranks[y == positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _auc_cases(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fresh (labels, scores) cases: continuous scores, heavily tied scores, and a small imbalanced one."""
    cases = []
    for n, rate, levels in ((300, 0.3, None), (400, 0.25, 12), (40, 0.2, 5)):
        y = (rng.random(n) < rate).astype(int)
        y[:2] = [0, 1]  # both classes always present
        scores = rng.normal(size=n) + 0.8 * y
        if levels:  # few distinct values: many ties, as with tenure in months
            scores = np.round(scores * levels / 4) / levels
        cases.append((y, scores))
    return cases


_LARGE_ROWS = 200_000
_SIZES = ((2_000, 0.5), (10_000, 2.0), (_LARGE_ROWS, 20.0))  # (rows, seconds allowed) of the scaling runs
_PROBE_BYTES = 10_000_000  # peak memory allowed up to 10,000 rows: sorting needs under 1 MB, pairs 20-300 MB
_QUADRATIC_HINT = ("it works, but it does not scale: that is the n_pos x n_neg matrix (or a loop over pairs), "
                   "{what}; sort once: rank all scores, then the formula")


def _large_case(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n fresh rows, about a quarter positive, scores rounded to 1/100 (ties, as real scores have)."""
    y = (rng.random(n) < 0.25).astype(int)
    y[:2] = [0, 1]
    return y, np.round(rng.normal(size=n) + 0.8 * y, 2)


def _call_measured(func: Callable, y: np.ndarray, scores: np.ndarray) -> tuple[object, float, int]:
    """func(y, scores), its wall-clock seconds and its peak traced memory in bytes."""
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        got = func(y.copy(), scores.copy())
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return got, seconds, peak


def _scales(func: Callable, rng: np.random.Generator) -> tuple[bool, str]:
    """Run func on growing inputs (2,000 and 10,000 rows, then 200,000) within a time and memory budget."""
    from sklearn.metrics import roc_auc_score

    for n, budget in _SIZES:
        y, scores = _large_case(rng, n)
        try:
            got, seconds, peak = _call_measured(func, y, scores)
        except MemoryError:
            return False, _QUADRATIC_HINT.format(what=f"and it ran out of memory on {n:,} rows")
        if n < _LARGE_ROWS and peak > _PROBE_BYTES:
            return False, _QUADRATIC_HINT.format(what=f"{peak / 1e6:.0f} MB for {n:,} rows")
        if seconds > budget:
            return False, _QUADRATIC_HINT.format(what=f"{seconds:.1f} s for {n:,} rows")
        want = roc_auc_score(y, scores)
        got = float(np.asarray(got, dtype=float).reshape(()))
        if not abs(got - want) <= 1e-9:
            return False, (f"right on small inputs, but on {n:,} rows you get {got:.6f} and roc_auc_score "
                           f"{want:.6f}: look for integer overflow (n_pos * n_neg exceeds 2**31) or float32")
    return True, ""


@exercise
def check_roc_auc_by_rank(func: Callable) -> tuple[bool, str]:
    """Exercise 01.3: ``func(y, scores)`` returns the ROC-AUC of ``scores`` for 0/1 labels ``y``
    (NumPy arrays), computed from ranks: rank all scores from 1 (lowest) to n, tied scores sharing
    their average rank; then ``AUC = (sum of the positives' ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``.

    The check calls ``func`` on fresh random labels and scores (one case without ties, two with many)
    and compares it with ``sklearn.metrics.roc_auc_score``; the hint names the usual mistake (ties
    ranked in order of appearance, churners and stayers swapped, ranks from 0, the n_pos (n_pos + 1) / 2
    term left out, dividing by n_pos * n). Once those pass it runs ``func`` on 2,000, 10,000 and then
    200,000 fresh rows, and fails a version that builds the n_pos x n_neg pair matrix (over 10 MB at
    2,000 or 10,000 rows) or takes too long (over 0.5 s, 2 s, 20 s).

    Examples
    --------
    >>> from sklearn.metrics import roc_auc_score
    >>> check_roc_auc_by_rank(roc_auc_score)
    ✓ your ROC-AUC equals sklearn's roc_auc_score on 3 fresh random cases, ties included, and on 200,000 rows
    True
    >>> check_roc_auc_by_rank(lambda y, s: 1 - roc_auc_score(y, s))
    ✗ you get 1 - AUC: that ranks stayers above churners; sum the ranks of the y == 1 rows
    False
    """
    from sklearn.metrics import roc_auc_score

    if not callable(func):
        return False, f"pass your function itself (e.g. my_roc_auc), not {type(func).__name__}"
    rng = np.random.default_rng()
    cases = _auc_cases(rng)
    passed_untied = False
    for k, (y, scores) in enumerate(cases):
        tied = len(np.unique(scores)) < len(scores)
        got = func(y.copy(), scores.copy())
        if got is None:
            return False, "your function returns None: finish it with `return auc`"
        got = float(np.asarray(got, dtype=float).reshape(()))
        want = roc_auc_score(y, scores)
        if abs(got - want) <= 1e-9:
            passed_untied = passed_untied or not tied
            continue
        n_pos, n_neg = int(y.sum()), int((1 - y).sum())
        wrong = {
            "you get 1 - AUC: that ranks stayers above churners; sum the ranks of the y == 1 rows":
                _rank_auc(y, scores, positive=0),
            "ranks start at 1 for the lowest score, not at 0": _rank_auc(y, scores, first_rank=0),
            "subtract n_pos * (n_pos + 1) / 2 (the positives' rank sum when they all score lowest) "
            "before dividing": _rank_auc(y, scores) + (n_pos * (n_pos + 1) / 2) / (n_pos * n_neg),
            "divide by the number of (churner, stayer) pairs, n_pos * n_neg, not by n_pos * n":
                _rank_auc(y, scores) * n_neg / len(y),
        }
        for hint, value in wrong.items():
            if abs(got - value) <= 1e-9:
                return False, hint
        if tied and passed_untied:
            return False, ("right without ties, wrong with them: tied scores must share their average rank "
                           "(scipy.stats.rankdata does this; argsort().argsort() gives ties different ranks)")
        return False, (f"on {len(y)} fresh rows your function gives {got:.4f}, roc_auc_score gives {want:.4f}: "
                       "rank all scores (ties: average rank), sum the positives' ranks, subtract "
                       "n_pos (n_pos + 1) / 2, divide by n_pos * n_neg")
    ok, message = _scales(func, rng)
    if not ok:
        return False, message
    return True, (f"your ROC-AUC equals sklearn's roc_auc_score on {len(cases)} fresh random cases, ties included, "
                  f"and on {_LARGE_ROWS:,} rows")
