"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Checks on attributions: do they add up (additivity), do two methods agree (rank agreement), and are
they faithful (a deletion curve: remove the most important features first and watch the output move)."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

ORDERS = ("abs", "positive", "negative")


class Agreement(NamedTuple):
    """Spearman correlation of |attributions| and the fraction of top-k features the two share."""

    rho: float
    top_k_overlap: float


def additivity_error(values, base_values, predictions) -> float:
    """Largest ``|values.sum(features) + base_values - predictions|`` over the rows.

    ``values`` is (n, n_features) (or (n_features,) for one row); ``base_values`` and ``predictions`` are
    (n,) or (n, 1) or scalars.

    Examples
    --------
    >>> additivity_error(np.array([[0.25, 0.25], [0.5, -0.25]]), np.array([0.5, 0.5]), np.array([1.0, 0.5]))
    0.25
    """
    values = np.asarray(values, dtype=np.float64)
    values = values.reshape(1, -1) if values.ndim == 1 else values.reshape(len(values), -1)
    n = len(values)
    base = np.asarray(base_values, dtype=np.float64).reshape(-1)
    pred = np.asarray(predictions, dtype=np.float64).reshape(-1)
    for name, arr in (("base_values", base), ("predictions", pred)):
        if arr.size not in (1, n):
            raise ValueError(f"{name} has {arr.size} entries but values have {n} rows; expected 1 or {n}")
    return float(np.max(np.abs(values.sum(axis=1) + base - pred)))


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def rank_agreement(a, b, k: int = 5) -> Agreement:
    """How much two attributions agree: Spearman's rho of their absolute values and the overlap of
    their top-``k`` features (by absolute value), each averaged over rows for 2-D inputs.

    rho is NaN for a row where either attribution is constant (no ranking exists); rows with NaN are left
    out of the average.

    Examples
    --------
    >>> rho, overlap = rank_agreement([3.0, -2.0, 1.0, 0.5], [2.5, -2.0, 0.1, 0.2], k=2)
    >>> round(rho, 6), overlap
    (0.8, 1.0)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ValueError(f"a has shape {a.shape} and b {b.shape}; "
                         "expected equal shapes (n_features,) or (n, n_features)")
    a2, b2 = np.abs(np.atleast_2d(a)), np.abs(np.atleast_2d(b))
    m = a2.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValueError(f"k={k!r} must be an int between 1 and the number of features {m}")
    ra, rb = _ranks(a2), _ranks(b2)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1), np.nan)
    top_a = np.argsort(-a2, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-b2, axis=1, kind="stable")[:, :k]
    overlap = np.array([len(set(x) & set(y)) / k for x, y in zip(top_a, top_b)])
    mean_rho = float(np.nanmean(rho)) if np.isfinite(rho).any() else float("nan")
    return Agreement(mean_rho, float(overlap.mean()))


def deletion_curve(f: Callable, x, attributions, baseline, steps: int | None = None,
                   order: str = "abs") -> np.ndarray:
    """The model output as features of ``x`` are replaced by ``baseline`` one at a time, most important first.

    Parameters
    ----------
    f : callable
        2-D array of rows → one output per row.
    x, attributions, baseline : array-like, shape (n_features,)
        The instance, its attributions, and the values that stand for "feature removed" (e.g. the
        background mean).
    steps : int, optional
        How many features to remove (default all): the curve has ``steps + 1`` points, the first ``f(x)``;
        after removing every feature the last point is ``f(baseline)``.
    order : {"abs", "positive", "negative"}
        Remove by decreasing |attribution| (default), decreasing attribution (the strongest supporters
        first: the output should fall), or increasing attribution (the output should rise).

    Examples
    --------
    >>> w = np.array([1.0, 2.0, 3.0])
    >>> deletion_curve(lambda rows: rows @ w, np.ones(3), w * 1.0, np.zeros(3)).tolist()
    [6.0, 3.0, 1.0, 0.0]
    """
    x = np.asarray(x, dtype=np.float64)
    attributions = np.asarray(attributions, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if x.ndim != 1 or attributions.shape != x.shape or baseline.shape != x.shape:
        raise ValueError(f"x {x.shape}, attributions {attributions.shape} and baseline {baseline.shape} must all "
                         "have the same 1-D shape (n_features,)")
    if order not in ORDERS:
        raise ValueError(f"order={order!r}; expected one of {list(ORDERS)}")
    m = len(x)
    steps = m if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= m:
        raise ValueError(f"steps={steps!r} must be an int between 0 and the number of features {m}")
    key = {"abs": -np.abs(attributions), "positive": -attributions, "negative": attributions}[order]
    ranking = np.argsort(key, kind="stable")
    rows = np.repeat(x[None, :], steps + 1, axis=0)
    for s in range(1, steps + 1):
        rows[s:, ranking[s - 1]] = baseline[ranking[s - 1]]
    out = np.asarray(f(rows), dtype=np.float64)
    return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out.reshape(steps + 1)
