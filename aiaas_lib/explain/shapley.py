"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Exact interventional Shapley values, by enumerating every coalition of features.

For a model ``f``, an instance ``x`` and background rows ``B``, the value of a coalition ``S`` (the features
taken from ``x``) is the mean output when the other features come from the background:

.. math:: v(S) = \\frac{1}{|B|} \\sum_{b \\in B} f(x_S, b_{\\bar S})

and feature ``i`` gets its Shapley value

.. math:: \\phi_i = \\sum_{S \\not\\ni i} \\frac{|S|!\\,(M - |S| - 1)!}{M!} \\big(v(S \\cup \\{i\\}) - v(S)\\big).

All :math:`2^M` masks are built once and ``f`` runs on them in a few big batches, so this is exact and
still fast for up to about a dozen features (:data:`MAX_EXACT_FEATURES`); beyond that the
:math:`2^M \\cdot |B|` model calls explode and a sampling explainer is the tool.
"""
from __future__ import annotations

from collections.abc import Callable
from math import factorial

import numpy as np

from aiaas_lib.validation import positive_int

#: More features than this are refused: 2**12 coalitions x the background is already ~0.4M model rows.
MAX_EXACT_FEATURES = 12


def _outputs(f: Callable, rows: np.ndarray) -> np.ndarray:
    """Call ``f`` and check it returns one number per row."""
    out = np.asarray(f(rows), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (len(rows),):
        raise ValueError(
            f"f returned shape {out.shape} for {len(rows)} rows; it must return one output per row, "
            "shape (n,) or (n, 1)"
        )
    return out


def coalition_masks(n_features: int) -> np.ndarray:
    """All ``2**n_features`` coalitions as a boolean matrix; row ``k`` holds the bits of ``k``
    (feature ``i`` is in coalition ``k`` when bit ``i`` of ``k`` is set).

    Examples
    --------
    >>> coalition_masks(2).astype(int).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    ids = np.arange(2 ** n_features)
    return ((ids[:, None] >> np.arange(n_features)[None, :]) & 1).astype(bool)


def coalition_values(f: Callable, x: np.ndarray, background: np.ndarray, masks: np.ndarray,
                     batch_rows: int = 65_536) -> np.ndarray:
    """``v(S)`` for every mask: the mean of ``f`` over background rows with the features of ``S`` set to ``x``.

    Evaluates ``f`` on ``len(masks) * len(background)`` rows, at most ``batch_rows`` rows per call.

    Examples
    --------
    >>> f = lambda rows: rows.sum(axis=1)
    >>> coalition_values(f, np.array([1.0, 2.0]), np.zeros((3, 2)), coalition_masks(2)).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    n_bg = len(background)
    per_chunk = max(1, batch_rows // n_bg)
    values = np.empty(len(masks))
    for start in range(0, len(masks), per_chunk):
        chunk = masks[start:start + per_chunk]
        rows = np.where(chunk[:, None, :], x[None, None, :], background[None, :, :])
        out = _outputs(f, rows.reshape(-1, x.shape[0]))
        values[start:start + len(chunk)] = out.reshape(len(chunk), n_bg).mean(axis=1)
    return values


def shapley_from_values(values: np.ndarray, n_features: int) -> np.ndarray:
    """Shapley values from the coalition values ``v`` indexed as in :func:`coalition_masks`.

    Examples
    --------
    >>> v = np.array([0.0, 1.0, 2.0, 5.0])  # v({0,1}) has an interaction worth 2, split equally
    >>> shapley_from_values(v, 2).tolist()
    [2.0, 3.0]
    """
    m = n_features
    ids = np.arange(2 ** m)
    sizes = np.array([bin(k).count("1") for k in ids])
    weight = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) if s < m else 0.0 for s in range(m + 1)])
    phi = np.empty(m)
    for i in range(m):
        without = ids[(ids >> i) & 1 == 0]
        phi[i] = np.sum(weight[sizes[without]] * (values[without | (1 << i)] - values[without]))
    return phi


def exact_shapley(f: Callable, x, background, max_features: int = MAX_EXACT_FEATURES,
                  batch_rows: int = 65_536) -> tuple[np.ndarray, float]:
    """Exact interventional Shapley values of ``f`` at ``x`` against ``background``.

    Parameters
    ----------
    f : callable
        Maps a 2-D array of rows to one output per row, shape (n,) or (n, 1).
    x : array-like, shape (n_features,) or (n, n_features)
        The instance(s) to explain. Any dtype ``numpy.where`` can mix with the background (numbers, or
        ``object`` arrays when ``f`` takes category codes or strings).
    background : array-like, shape (n_background, n_features)
        Rows that stand in for "feature unknown"; every one of them is used (no sampling).
    max_features : int
        Refuse more features than this (the cost is ``2**n_features * n_background`` model rows per ``x``).
    batch_rows : int
        At most this many rows per call of ``f`` (bounds memory).

    Returns
    -------
    values : numpy.ndarray
        Shape (n_features,) for one ``x``, (n, n_features) for a 2-D ``x``.
    base_value : float
        The mean of ``f`` over the background, so that ``values.sum(-1) + base_value == f(x)``.

    Raises
    ------
    ValueError
        When ``x`` and the background disagree on the number of features, the background is empty, there
        are more than ``max_features`` features, or ``f`` does not return one output per row.

    Examples
    --------
    A linear model gives :math:`w_i (x_i - \\bar b_i)`:

    >>> w = np.array([1.0, -2.0, 0.5])
    >>> values, base = exact_shapley(lambda rows: rows @ w, np.array([1.0, 1.0, 1.0]), np.zeros((4, 3)))
    >>> values.tolist(), base
    ([1.0, -2.0, 0.5], 0.0)
    """
    background = np.asarray(background)
    x = np.asarray(x)
    if background.ndim != 2 or len(background) == 0:
        raise ValueError(f"background has shape {background.shape}; "
                         "expected a non-empty 2-D array (rows, features)")
    if x.ndim not in (1, 2) or x.shape[-1] != background.shape[1]:
        raise ValueError(
            f"x has shape {x.shape} but the background has {background.shape[1]} features; "
            f"expected x of shape ({background.shape[1]},) or (n, {background.shape[1]})"
        )
    m = background.shape[1]
    if m > max_features:
        raise ValueError(
            f"{m} features means 2**{m} = {2 ** m:,} coalitions; exact_shapley allows at most "
            f"max_features={max_features}. Use a sampling explainer (permutation, kernel) instead"
        )
    batch_rows = positive_int("batch_rows", batch_rows)
    masks = coalition_masks(m)
    rows = np.atleast_2d(x)
    values = np.empty((len(rows), m))
    base = None
    for r, row in enumerate(rows):
        v = coalition_values(f, row, background, masks, batch_rows=batch_rows)
        values[r] = shapley_from_values(v, m)
        base = float(v[0])  # v(empty set): the background mean, the same for every row
    return (values[0] if x.ndim == 1 else values), base
