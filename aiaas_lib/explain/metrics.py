"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Checks on attributions: do they add up (additivity), and do two methods agree (rank agreement). The
deletion test of faithfulness is written in notebooks 09 and 10 themselves."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from aiaas_lib.validation import integer


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
    k = integer("k", k, 1, m, hint="at most the number of features")
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
