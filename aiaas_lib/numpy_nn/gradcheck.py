"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

Gradient checking: compare a backward pass with finite differences.

The central difference ``(f(x + ε) - f(x - ε)) / 2ε`` has error ``O(ε²)`` from truncation plus about
``|f| · 1e-16 / ε`` from rounding; ``ε = 1e-6`` balances the two for float64 and smooth ``f``. Near a kink
(``relu`` at 0) it is wrong whenever ``x ± ε`` crosses the kink, so check with inputs away from it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f`` at ``x`` (any shape, float64).

    Each entry of ``x`` is nudged *in place* by ``±eps`` and put back afterwards, so ``f`` may ignore its
    argument and read ``x`` through a closure — e.g. ``x`` a model parameter and ``f`` the model's loss.

    Raises
    ------
    ValueError
        If ``x`` is not a float64 array (it must be changed in place) or ``eps`` is not positive.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> np.round(numerical_gradient(lambda a: float(np.sum(a ** 2)), x), 6)
    array([[2., 4.],
           [6., 8.]])
    >>> x                                   # restored
    array([[1., 2.],
           [3., 4.]])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            "x must be a float64 numpy array (it is perturbed in place); "
            f"got {type(x).__name__} of dtype {getattr(x, 'dtype', None)}"
        )
    if not eps > 0:
        raise ValueError(f"eps={eps!r} must be > 0")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = f(x)
            x[idx] = old - eps
            f_minus = f(x)
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b| / max(|a| + |b|)``, guarded by the smallest positive float64; 0 for identical arrays.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> relative_error(np.array([0.0, 1.0]), np.array([0.0, 3.0]))  # 2 / 4
    0.5
    >>> relative_error(np.zeros(3), np.zeros(3))
    0.0
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a has shape {a.shape} but b has shape {b.shape}; they must be equal")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), np.finfo(np.float64).tiny))
