"""Exercise checks of notebook 05 (keras tabular): used by notebooks/05_keras_tabular.ipynb.

Both exercises make the learner write a function; the checkers call it on fresh random labels and scores,
compare with the reference below, and name the usual mistake when they can recognise it.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def expected_cost(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Total cost of acting on ``p >= threshold``: each missed positive costs ``cost_fn``, each false alarm ``cost_fp``."""
    y_true, flagged = np.asarray(y_true).ravel(), np.asarray(p).ravel() >= threshold
    return float(cost_fn * np.sum((y_true == 1) & ~flagged) + cost_fp * np.sum((y_true == 0) & flagged))


def _cost_strict(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Like :func:`expected_cost` but flagging ``p > threshold`` (the usual off-by-one)."""
    return expected_cost(y_true, np.asarray(p, dtype=float) - 1e-12, threshold, cost_fn, cost_fp)


def _candidates(p) -> np.ndarray:
    """Every threshold that gives a different decision: each distinct score, and one above them all."""
    return np.unique(np.r_[np.asarray(p, dtype=float).ravel(), 1.0 + 1e-9])


def _weights_dict(result, classes) -> dict | None:
    """The learner's weights as ``{int class: float}``, or None when they are not one weight per class."""
    try:
        got = {int(k): float(v) for k, v in dict(result).items()}
    except (TypeError, ValueError):
        return None
    return got if set(got) == {int(c) for c in classes} else None


@exercise
def check_balanced_class_weights(func: Callable) -> tuple[bool, str]:
    """Exercise 05.1: ``func(y)`` returns the "balanced" class weights ``{c: n / (k · n_c)}`` of labels ``y``
    (``n`` labels, ``k`` classes, ``n_c`` labels of class ``c``), as ``class_weight`` in Keras' ``fit`` takes them.

    Checked on fresh random labels with two and with three classes.

    Examples
    --------
    >>> def balanced(y):
    ...     classes, counts = np.unique(y, return_counts=True)
    ...     return {int(c): len(y) / (len(classes) * n_c) for c, n_c in zip(classes, counts)}
    >>> check_balanced_class_weights(balanced)
    ✓ balanced weights right for 2 and 3 classes: every class now adds the same total weight to the loss
    True
    """
    rng = np.random.default_rng(5)
    for probs in ([0.8, 0.2], [0.6, 0.3, 0.1]):
        y = rng.choice(len(probs), size=int(rng.integers(60, 120)), p=probs)
        classes, counts = np.unique(y, return_counts=True)
        n, k = len(y), len(classes)
        result = func(y.copy())
        if result is None:
            return False, "your function returned None: build the dict {class: weight} and return it"
        got = _weights_dict(result, classes)
        if got is None:
            return False, f"return a dict with one weight per class in y, e.g. {{0: w0, 1: w1}} (y had classes {classes.tolist()})"
        got = np.array([got[int(c)] for c in classes])
        want = n / (k * counts)
        if np.allclose(got, want, rtol=1e-6):
            continue
        if np.allclose(got, 1 / want, rtol=1e-6) or np.allclose(got, counts / n, rtol=1e-6):
            return False, "upside down: the rare class must get the larger weight, n / (k · n_c), not n_c / n"
        if np.allclose(got, n / counts, rtol=1e-6):
            return False, "divide by the number of classes k too: n / (k · n_c), so the weights average to 1 per row"
        if k != 2 and np.allclose(got, n / (2 * counts), rtol=1e-6):
            return False, f"right for two classes only: y here has k = {k} classes; use k = len(np.unique(y))"
        return False, (f"on labels with counts {counts.tolist()} the weights are "
                       f"{np.round(want, 4).tolist()}, you gave {np.round(got, 4).tolist()}")
    return True, "balanced weights right for 2 and 3 classes: every class now adds the same total weight to the loss"


@exercise
def check_best_threshold(func: Callable) -> tuple[bool, str]:
    """Exercise 05.2: ``func(y_true, p, cost_fn, cost_fp)`` returns the threshold ``t`` at which acting on
    ``p >= t`` has the lowest :func:`expected_cost` — exactly, by trying every score as a threshold.

    Checked on fresh random labels and scores (bunched between 0.42 and 0.48, so a 0.01 grid is not enough),
    once with misses dearer than false alarms and once the other way.

    Examples
    --------
    >>> def best(y_true, p, cost_fn, cost_fp):
    ...     candidates = np.r_[np.unique(p), 1.01]
    ...     costs = [expected_cost(y_true, p, t, cost_fn, cost_fp) for t in candidates]
    ...     return candidates[np.argmin(costs)]
    >>> check_best_threshold(best)
    ✓ your thresholds are the cheapest possible on both test cases (costs 5:1 and 1:4)
    True
    """
    rng = np.random.default_rng(11)
    for cost_fn, cost_fp in ((5.0, 1.0), (1.0, 4.0)):
        n = int(rng.integers(150, 250))
        y = (rng.random(n) < 0.3).astype(int)
        p = (0.42 + 0.06 * (0.35 * y + 0.65 * rng.random(n))).round(5)  # scores bunched together, as they can be
        result = func(y.copy(), p.copy(), cost_fn, cost_fp)
        if result is None:
            return False, "your function returned None: return the cheapest threshold"
        t = float(result)
        if not 0 <= t <= 1.01:
            return False, f"return the threshold (a probability between 0 and 1), got {t:g}; not its cost or index"
        costs = [expected_cost(y, p, c, cost_fn, cost_fp) for c in _candidates(p)]
        best, got = min(costs), expected_cost(y, p, t, cost_fn, cost_fp)
        if got <= best + 1e-9:
            continue
        if np.isclose(got, max(costs)):
            return False, f"threshold {t:g} is the most expensive one (cost {got:g}, best {best:g}): use argmin, not argmax"
        swapped = min(expected_cost(y, p, c, cost_fp, cost_fn) for c in _candidates(p))
        if np.isclose(expected_cost(y, p, t, cost_fp, cost_fn), swapped):
            return False, ("cost_fn and cost_fp are swapped: a *missed* positive (y = 1, p < t) costs cost_fn, "
                           "a false alarm (y = 0, p >= t) costs cost_fp")
        if np.isclose(_cost_strict(y, p, t, cost_fn, cost_fp), best):
            return False, "flag p >= threshold (as expected_cost does), not p > threshold: you are one score off"
        grid = min(expected_cost(y, p, c, cost_fn, cost_fp) for c in np.linspace(0.01, 0.99, 99))
        if np.isclose(got, grid):
            return False, (f"a fixed grid misses the cheapest cut (cost {got:g}, best {best:g}): the decisions only "
                           "change at the scores themselves, so try each distinct score as the threshold")
        return False, f"threshold {t:g} costs {got:g} at costs {cost_fn:g}:{cost_fp:g}; the cheapest costs {best:g}"
    return True, "your thresholds are the cheapest possible on both test cases (costs 5:1 and 1:4)"
