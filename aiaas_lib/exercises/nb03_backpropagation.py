"""Exercise checks of notebook 03 (backpropagation): used by notebooks/03_backpropagation.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_dense_backward(func: Callable) -> tuple[bool, str]:
    """Exercise 03.1: ``func(X, W, b, upstream)`` returns ``(dW, db, dX)`` for ``a = tanh(X W + b)``,
    given ``upstream = dL/da``.

    Examples
    --------
    >>> def backward(X, W, b, upstream):
    ...     dz = upstream * (1 - np.tanh(X @ W + b) ** 2)
    ...     return X.T @ dz, dz.sum(axis=0), dz @ W.T
    >>> check_dense_backward(backward)
    ✓ dW, db and dX all match the δ rule for a tanh layer
    True
    """
    rng = np.random.default_rng(3)
    X, W, b, up = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))
    result = func(X.copy(), W.copy(), b.copy(), up.copy())
    if result is None:
        return False, "your function returns None: return the tuple (dW, db, dX)"
    if len(result) != 3:
        return False, f"return three arrays (dW, db, dX); got {len(result)}"
    dz = up * (1 - np.tanh(X @ W + b) ** 2)
    want = {"dW": X.T @ dz, "db": dz.sum(axis=0), "dX": dz @ W.T}
    forgot = {"dW": X.T @ up, "db": up.sum(axis=0), "dX": up @ W.T}
    for (name, w), got in zip(want.items(), result):
        got = np.asarray(got, dtype=float)
        if got.shape != w.shape:
            return False, f"{name} has shape {got.shape}; it must have the shape {w.shape}"
        if np.allclose(got, forgot[name]):
            return False, f"{name} skips the activation: multiply upstream by tanh'(z) = 1 - tanh(z)² first"
        if not np.allclose(got, w):
            return False, f"{name} is off: with dz = upstream·tanh'(z), dW = Xᵀdz, db = Σ dz, dX = dz Wᵀ"
    return True, "dW, db and dX all match the δ rule for a tanh layer"
