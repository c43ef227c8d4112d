"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

Loss functions and their gradients w.r.t. the prediction, reduced like ``keras.losses`` by default.

Every loss is a mean: over the last axis for each sample, then over the batch (Keras'
``"sum_over_batch_size"``), so for ``y_hat`` of shape ``(n, k)`` it is the mean over all ``n·k`` entries
(``n`` entries for softmax cross-entropy, which sums over classes). Each ``*_grad`` is the gradient of
that mean, so it carries the ``1/n`` (or ``1/(n·k)``) factor.

The delta rule. With a sigmoid or softmax output ``y_hat = f(z)`` and its matching cross-entropy,
the gradient w.r.t. the logits ``z`` collapses to ``(y_hat - y) / n``: see
:func:`binary_cross_entropy_grad` with ``from_logits=True`` and :func:`softmax_cross_entropy_grad`.

Shapes must match exactly (no broadcasting): ``y`` of shape ``(n,)`` against ``y_hat`` of shape
``(n, 1)`` would silently broadcast to ``(n, n)`` in NumPy, a classic bug, so it raises instead.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.numpy_nn.activations import sigmoid, softmax

EPSILON = 1e-7
"""Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before ``log``, as ``keras.config.epsilon()``."""


def _pair(y, y_hat) -> tuple[np.ndarray, np.ndarray]:
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    if y.shape != y_hat.shape:
        raise ValueError(
            f"y has shape {y.shape} but y_hat has shape {y_hat.shape}; they must be equal "
            "(reshape y, e.g. y.reshape(-1, 1), rather than rely on broadcasting)"
        )
    if y.size == 0:
        raise ValueError("y and y_hat are empty; a loss needs at least one value")
    return y, y_hat


def mse(y: np.ndarray, y_hat: np.ndarray) -> float:
    """Mean squared error, ``mean((y_hat - y)²)`` (``keras.losses.MeanSquaredError()``).

    Examples
    --------
    >>> mse(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    0.125
    """
    y, y_hat = _pair(y, y_hat)
    return float(np.mean((y_hat - y) ** 2))


def mse_grad(y: np.ndarray, y_hat: np.ndarray) -> np.ndarray:
    """Gradient of :func:`mse` w.r.t. ``y_hat``: ``2 (y_hat - y) / y.size``.

    Examples
    --------
    >>> mse_grad(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    array([[0.5],
           [0. ]])
    """
    y, y_hat = _pair(y, y_hat)
    return 2.0 * (y_hat - y) / y.size


def binary_cross_entropy(y: np.ndarray, y_hat: np.ndarray, from_logits: bool = False) -> float:
    """Binary cross-entropy ``-mean(y log p + (1 - y) log(1 - p))`` (``keras.losses.BinaryCrossentropy``).

    Parameters
    ----------
    y : array of 0/1 (or soft) targets.
    y_hat : array of the same shape: probabilities ``p``, or logits ``z`` when ``from_logits=True``.
    from_logits : bool
        False: ``p`` is clipped to ``[EPSILON, 1 - EPSILON]`` (``EPSILON = 1e-7``) first, exactly as Keras
        does, so ``p = 0`` or ``1`` gives a large but finite loss (at most ``-log(1e-7) ≈ 16.1`` per value).
        True: the stable form ``max(z, 0) - z y + log(1 + exp(-|z|))`` (TensorFlow's
        ``sigmoid_cross_entropy_with_logits``), exact and finite for any ``z``, with no clipping.

    Examples
    --------
    >>> y = np.array([[1.0], [0.0]])
    >>> round(binary_cross_entropy(y, np.array([[0.9], [0.2]])), 6)
    0.164252
    >>> round(binary_cross_entropy(y, np.array([[1e4], [-1e4]]), from_logits=True), 6)
    0.0
    >>> round(binary_cross_entropy(y, np.array([[0.0], [1.0]])), 4)  # clipped: -log(1e-7)
    16.1181
    """
    y, y_hat = _pair(y, y_hat)
    if from_logits:
        z = y_hat
        return float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    p = np.clip(y_hat, EPSILON, 1.0 - EPSILON)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def binary_cross_entropy_grad(y: np.ndarray, y_hat: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy` w.r.t. ``y_hat`` (probabilities or logits).

    With logits it is the delta rule ``(sigmoid(z) - y) / y.size``. With probabilities it is
    ``(p - y) / (p (1 - p)) / y.size`` inside the clipping range and 0 where ``y_hat`` was clipped
    (the clip is flat there), as ``tf.GradientTape`` reports through Keras' clip.

    Examples
    --------
    >>> y = np.array([[1.0], [0.0]])
    >>> binary_cross_entropy_grad(y, np.array([[0.0], [0.0]]), from_logits=True)
    array([[-0.25],
           [ 0.25]])
    >>> binary_cross_entropy_grad(y, np.array([[0.5], [0.5]]))
    array([[-1.],
           [ 1.]])
    """
    y, y_hat = _pair(y, y_hat)
    if from_logits:
        return (sigmoid(y_hat) - y) / y.size
    inside = (y_hat >= EPSILON) & (y_hat <= 1.0 - EPSILON)
    p = np.clip(y_hat, EPSILON, 1.0 - EPSILON)
    return np.where(inside, (p - y) / (p * (1.0 - p)), 0.0) / y.size


def _one_hot_targets(y, logits: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.shape == logits.shape:
        return y.astype(np.float64)
    if y.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels have shape {y.shape} but logits have shape {logits.shape}; expected integer labels "
            f"of shape {logits.shape[:-1]} or one-hot labels of shape {logits.shape}"
        )
    k = logits.shape[-1]
    if y.size and (not np.all(np.mod(y, 1) == 0) or y.min() < 0 or y.max() >= k):
        bad = y[(np.mod(y, 1) != 0) | (y < 0) | (y >= k)].ravel()[0].item()
        raise ValueError(f"integer label {bad!r} is not a class index; expected integers in [0, {k})")
    return np.eye(k)[y.astype(np.int64)]


def _logits(logits) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 0 or logits.size == 0:
        raise ValueError(
            f"logits must have shape (..., k) with k >= 1 and at least one row; got {logits.shape}"
        )
    return logits


def softmax_cross_entropy(y: np.ndarray, logits: np.ndarray) -> float:
    """Softmax cross-entropy on logits, ``mean_n(logsumexp(z_n) - sum_k y_nk z_nk)``.

    Equals ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` for integer labels ``y`` of
    shape ``(n,)`` and ``keras.losses.CategoricalCrossentropy(from_logits=True)`` for one-hot labels of
    shape ``(n, k)``. ``logsumexp`` subtracts the row maximum, so logits of ±1e4 stay finite.

    Examples
    --------
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> round(softmax_cross_entropy(np.array([0, 2]), logits), 6)
    0.669079
    >>> softmax_cross_entropy(np.array([1]), np.array([[1e4, -1e4]]))  # finite: 2e4
    20000.0
    """
    logits = _logits(logits)
    y = _one_hot_targets(y, logits)
    m = logits.max(axis=-1, keepdims=True)
    logsumexp = m + np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True))
    return float(np.mean(np.sum(y * (logsumexp - logits), axis=-1)))


def softmax_cross_entropy_grad(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Gradient of :func:`softmax_cross_entropy` w.r.t. the logits: the delta rule ``(softmax(z) - y) / n``
    (for one-hot ``y``; in general ``(softmax(z) * sum_k y_k - y) / n``).

    Examples
    --------
    >>> softmax_cross_entropy_grad(np.array([0]), np.array([[0.0, 0.0]]))
    array([[-0.5,  0.5]])
    """
    logits = _logits(logits)
    y = _one_hot_targets(y, logits)
    n = logits.size // logits.shape[-1]
    return (softmax(logits) * y.sum(axis=-1, keepdims=True) - y) / n
