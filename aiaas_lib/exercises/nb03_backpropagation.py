"""Exercise checks of notebook 03 (backpropagation): used by notebooks/03_backpropagation.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-z)."""
    return 1.0 / (1.0 + np.exp(-z))


@exercise
def check_dense_backward(func: Callable) -> tuple[bool, str]:
    """Exercise 03.1: ``func(X, W, b, upstream)`` returns ``(dW, db, dX)`` for a dense layer with a
    sigmoid activation, ``a = σ(X W + b)``, given ``upstream = dL/da`` (the δ rule with σ' = σ(1 - σ)).

    Examples
    --------
    >>> def backward(X, W, b, upstream):
    ...     a = 1 / (1 + np.exp(-(X @ W + b)))
    ...     delta = upstream * a * (1 - a)
    ...     return X.T @ delta, delta.sum(axis=0), delta @ W.T
    >>> check_dense_backward(backward)
    ✓ dW, db and dX match the δ rule for a sigmoid layer on 3 fresh batches
    True
    """
    rng = np.random.default_rng(3)
    for n, d_in, d_out in ((5, 3, 4), (7, 2, 3), (1, 4, 2)):
        X, W = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out))
        b, up = rng.normal(size=d_out), rng.normal(size=(n, d_out))
        result = func(X.copy(), W.copy(), b.copy(), up.copy())
        if result is None:
            return False, "your function returns None: return the tuple (dW, db, dX)"
        if len(result) != 3:
            return False, f"return three arrays (dW, db, dX); got {len(result)}"
        a = _sigmoid(X @ W + b)
        wrong_derivative = {
            "skips the activation: multiply upstream by σ'(z) = σ(z)(1 - σ(z)) first": up,
            "uses σ(z) as its own derivative: σ'(z) = σ(z)(1 - σ(z))": up * a,
            "uses tanh's derivative 1 - a²: for the sigmoid it is a(1 - a)": up * (1 - a ** 2),
        }
        delta = up * a * (1 - a)
        want = {"dW": X.T @ delta, "db": delta.sum(axis=0), "dX": delta @ W.T}
        for (name, w), got in zip(want.items(), result):
            got = np.asarray(got, dtype=float)
            if got.shape != w.shape:
                return False, f"{name} has shape {got.shape}; for X {X.shape} and W {W.shape} it must be {w.shape}"
            for hint, bad in wrong_derivative.items():
                wrong = {"dW": X.T @ bad, "db": bad.sum(axis=0), "dX": bad @ W.T}[name]
                if np.allclose(got, wrong):
                    return False, f"{name} {hint}"
            if not np.allclose(got, w):
                return False, f"{name} is off: with δ = upstream·σ'(z), dW = Xᵀδ, db = Σᵢ δᵢ, dX = δWᵀ"
    return True, "dW, db and dX match the δ rule for a sigmoid layer on 3 fresh batches"
