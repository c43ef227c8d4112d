"""Used by notebooks 02, 03, 04 and 13 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

Activation functions and their backward rules, each rule beside its forward.

Every ``*_grad(z, upstream=None)`` answers two questions:

- without ``upstream``: the derivative itself — ``f'(z)`` elementwise, or for softmax the Jacobian
  ``diag(s) - s sᵀ`` of each row (shape ``(..., k, k)``);
- with ``upstream = dL/da`` (the gradient of the loss w.r.t. the activation's output ``a = f(z)``):
  the chain rule product ``dL/dz``. For the elementwise functions that is ``upstream * f'(z)``; for
  softmax it is the vector-Jacobian product ``s * (upstream - sum(upstream * s))`` row by row, which
  never builds the ``k × k`` Jacobian.

:data:`ACTIVATIONS` maps a name to its ``(forward, grad)`` pair and :func:`get` looks one up.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def linear(z: np.ndarray) -> np.ndarray:
    """Identity, ``f(z) = z`` (Keras' ``activation=None``).

    Examples
    --------
    >>> linear(np.array([-1.0, 2.0]))
    array([-1.,  2.])
    """
    return np.asarray(z, dtype=np.float64)


def linear_grad(z: np.ndarray, upstream: np.ndarray | None = None) -> np.ndarray:
    """``f'(z) = 1``; with ``upstream``, returns ``upstream`` unchanged.

    Examples
    --------
    >>> linear_grad(np.array([-1.0, 2.0]))
    array([1., 1.])
    """
    return np.ones_like(z, dtype=np.float64) if upstream is None else upstream


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit, ``max(z, 0)``.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(z, 0.0)


def relu_grad(z: np.ndarray, upstream: np.ndarray | None = None) -> np.ndarray:
    """``f'(z) = 1 if z > 0 else 0`` (0 at the kink, as TensorFlow does).

    Examples
    --------
    >>> relu_grad(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    positive = np.asarray(z) > 0
    return positive.astype(np.float64) if upstream is None else upstream * positive


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, computed without overflow for any ``z``.

    ``exp`` only ever sees ``-|z|``, so ``sigmoid(-1e4)`` is 0 (not a warning and nan).

    Examples
    --------
    >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z: np.ndarray, upstream: np.ndarray | None = None) -> np.ndarray:
    """``f'(z) = s (1 - s)`` with ``s = sigmoid(z)``.

    Examples
    --------
    >>> sigmoid_grad(np.array([0.0]))
    array([0.25])
    """
    s = sigmoid(z)
    d = s * (1.0 - s)
    return d if upstream is None else upstream * d


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent.

    Examples
    --------
    >>> tanh(np.array([0.0, 1e4]))
    array([0., 1.])
    """
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z: np.ndarray, upstream: np.ndarray | None = None) -> np.ndarray:
    """``f'(z) = 1 - tanh(z)²``.

    Examples
    --------
    >>> tanh_grad(np.array([0.0]))
    array([1.])
    """
    d = 1.0 - np.tanh(np.asarray(z, dtype=np.float64)) ** 2
    return d if upstream is None else upstream * d


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, ``exp(z_i) / sum_j exp(z_j)``, stable for any ``z``.

    Subtracting the row maximum first changes nothing mathematically but keeps ``exp`` ≤ 1.

    Examples
    --------
    >>> softmax(np.array([[1e4, 1e4, -1e4]]))
    array([[0.5, 0.5, 0. ]])
    >>> softmax(np.array([0.0, 0.0, -np.inf])).tolist()  # a masked (-inf) logit gets probability 0
    [0.5, 0.5, 0.0]
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_grad(z: np.ndarray, upstream: np.ndarray | None = None) -> np.ndarray:
    """Without ``upstream``: the Jacobian ``ds_i/dz_j = s_i (δ_ij - s_j)`` of each row, shape ``(..., k, k)``.
    With ``upstream``: ``dL/dz = s * (upstream - sum(upstream * s, axis=-1))``, shape ``(..., k)``.

    Examples
    --------
    >>> softmax_grad(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> softmax_grad(np.array([[0.0, 0.0]]), upstream=np.array([[1.0, 0.0]]))
    array([[ 0.25, -0.25]])
    """
    s = softmax(z)
    if upstream is None:
        return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])
    return s * (upstream - np.sum(upstream * s, axis=-1, keepdims=True))


Activation = tuple[Callable[[np.ndarray], np.ndarray], Callable[..., np.ndarray]]

ACTIVATIONS: dict[str, Activation] = {
    "linear": (linear, linear_grad),
    "relu": (relu, relu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "softmax": (softmax, softmax_grad),
}


def get(name: str | None) -> Activation:
    """Return the ``(forward, grad)`` pair of activation ``name``; ``None`` means ``"linear"``.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`ACTIVATIONS`.

    Examples
    --------
    >>> f, f_grad = get("tanh")
    >>> f(np.array([0.0])), f_grad(np.array([0.0]))
    (array([0.]), array([1.]))
    >>> get("swish")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown activation 'swish'; expected None or one of ['linear', 'relu', ...]
    """
    key = "linear" if name is None else name
    if not isinstance(key, str) or key not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; expected None or one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[key]
