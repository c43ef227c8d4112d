"""Exercise checks of notebook 05 (keras tabular): used by notebooks/05_keras_tabular.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


def expected_cost(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Total cost of acting on ``p >= threshold``: each missed positive costs ``cost_fn``, each false alarm ``cost_fp``."""
    y_true, flagged = np.asarray(y_true).ravel(), np.asarray(p).ravel() >= threshold
    return float(cost_fn * np.sum((y_true == 1) & ~flagged) + cost_fp * np.sum((y_true == 0) & flagged))


@exercise
def check_cost_threshold(threshold: float, y_true, p, cost_fn: float, cost_fp: float) -> tuple[bool, str]:
    """Exercise 05.1: the decision threshold on ``p`` that minimises :func:`expected_cost` (within 1 %).

    Examples
    --------
    >>> check_cost_threshold(0.3, [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.9], cost_fn=5, cost_fp=1)
    ✓ threshold 0.3 costs 1, the minimum possible 1
    True
    """
    threshold = float(threshold)
    if not 0 <= threshold <= 1:
        return False, f"threshold={threshold} must be a probability in [0, 1]"
    candidates = np.unique(np.r_[0.0, np.asarray(p, dtype=float).ravel(), 1.0 + 1e-9])
    best = min(expected_cost(y_true, p, t, cost_fn, cost_fp) for t in candidates)
    got = expected_cost(y_true, p, threshold, cost_fn, cost_fp)
    if got <= best * 1.01 + 1e-9:
        return True, f"threshold {threshold:g} costs {got:,.0f}, the minimum possible {best:,.0f}"
    hint = "lower" if cost_fn > cost_fp else "higher"
    return False, (f"threshold {threshold:g} costs {got:,.0f}; the best costs {best:,.0f}. When a miss costs "
                   f"{cost_fn / cost_fp:g}× a false alarm, try {hint} thresholds (scan a grid, keep the cheapest)")


@exercise
def check_class_weights(weights: dict, y) -> tuple[bool, str]:
    """Exercise 05.2: "balanced" class weights for labels ``y``: ``n / (2 · n_c)`` for class ``c``.

    Examples
    --------
    >>> check_class_weights({0: 0.625, 1: 2.5}, [0, 0, 0, 0, 1])
    ✓ balanced weights {0: 0.625, 1: 2.5}: both classes now weigh the same in the loss
    True
    """
    y = np.asarray(y).ravel()
    want = {c: len(y) / (2 * np.sum(y == c)) for c in (0, 1)}
    if not isinstance(weights, dict) or set(weights) != {0, 1}:
        return False, "give a dict with one weight per class: {0: w0, 1: w1}"
    got = {c: float(weights[c]) for c in (0, 1)}
    if np.allclose([got[0], got[1]], [1 / want[0], 1 / want[1]], rtol=1e-3):
        return False, "upside down: the rare class must get the larger weight"
    if not np.allclose([got[0], got[1]], [want[0], want[1]], rtol=1e-3):
        ratio = want[1] / want[0]
        return False, f"with n / (2 · n_c) the weights are about {want[0]:.3f} and {want[1]:.3f} (ratio {ratio:.2f})"
    return True, (f"balanced weights {{0: {got[0]:.4g}, 1: {got[1]:.4g}}}: both classes now weigh the same in "
                  "the loss")
