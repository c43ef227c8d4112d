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


SERVICE_MODELS = {
    "rent a virtual machine with a GPU and install everything yourself": "IaaS",
    "upload your training script; the platform runs it and scales the workers": "PaaS",
    "log in to a hosted CRM in the browser": "SaaS",
    "send text to an HTTP endpoint and get a sentiment score back": "AIaaS",
}


@exercise
def check_service_models(answers: dict) -> tuple[bool, str]:
    """Exercise 01.2: name the service model (IaaS, PaaS, SaaS, AIaaS) of each scenario in
    ``SERVICE_MODELS``; ``answers`` maps each scenario to its model.

    Examples
    --------
    >>> check_service_models(dict(zip(SERVICE_MODELS, ["IaaS", "PaaS", "SaaS", "AIaaS"])))
    ✓ all four scenarios placed: the higher the layer, the less you run yourself
    True
    """
    wrong = [s for s, m in SERVICE_MODELS.items() if str(answers.get(s, "")).strip().upper() != m.upper()]
    if not wrong:
        return True, "all four scenarios placed: the higher the layer, the less you run yourself"
    return False, f"{len(wrong)} of {len(SERVICE_MODELS)} not right yet, e.g. {wrong[0]!r}: who runs the model there?"


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


@exercise
def check_roc_auc_by_rank(func: Callable) -> tuple[bool, str]:
    """Exercise 01.3: ``func(y, scores)`` returns the ROC-AUC of ``scores`` for 0/1 labels ``y``
    (NumPy arrays), computed from ranks: rank all scores from 1 (lowest) to n, tied scores sharing
    their average rank; then ``AUC = (sum of the positives' ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``.

    The check calls ``func`` on fresh random labels and scores (some with many ties) and compares it
    with ``sklearn.metrics.roc_auc_score``; the hint names the usual mistake (ties ranked in order of
    appearance, churners and stayers swapped, ranks from 0, the n_pos (n_pos + 1) / 2 term left out).

    Examples
    --------
    >>> from sklearn.metrics import roc_auc_score
    >>> check_roc_auc_by_rank(roc_auc_score)
    ✓ your ROC-AUC equals sklearn's roc_auc_score on 3 fresh random cases, ties included
    True
    >>> check_roc_auc_by_rank(lambda y, s: 1 - roc_auc_score(y, s))
    ✗ you get 1 - AUC: that ranks stayers above churners; sum the ranks of the y == 1 rows
    False
    """
    from sklearn.metrics import roc_auc_score

    if not callable(func):
        return False, f"pass your function itself (e.g. my_roc_auc), not {type(func).__name__}"
    cases = _auc_cases(np.random.default_rng())
    for y, scores in cases:
        got = func(y.copy(), scores.copy())
        if got is None:
            return False, "your function returns None: finish it with `return auc`"
        got = float(np.asarray(got, dtype=float).reshape(()))
        want = roc_auc_score(y, scores)
        if abs(got - want) <= 1e-9:
            continue
        wrong = {
            "you get 1 - AUC: that ranks stayers above churners; sum the ranks of the y == 1 rows":
                _rank_auc(y, scores, positive=0),
            "tied scores must share their average rank (scipy.stats.rankdata does this; "
            "argsort().argsort() ranks ties in order of appearance)": _rank_auc(y, scores, ties="ordinal"),
            "ranks start at 1 for the lowest score, not at 0": _rank_auc(y, scores, first_rank=0),
            "subtract n_pos * (n_pos + 1) / 2 (the positives' rank sum when they all score lowest) "
            "before dividing": _rank_auc(y, scores) + (y.sum() * (y.sum() + 1) / 2) / (y.sum() * (1 - y).sum()),
        }
        for hint, value in wrong.items():
            if abs(got - value) <= 1e-9:
                return False, hint
        return False, (f"on {len(y)} fresh rows your function gives {got:.4f}, roc_auc_score gives {want:.4f}: "
                       "rank all scores (ties: average rank), sum the positives' ranks, subtract "
                       "n_pos (n_pos + 1) / 2, divide by n_pos * n_neg")
    return True, f"your ROC-AUC equals sklearn's roc_auc_score on {len(cases)} fresh random cases, ties included"
