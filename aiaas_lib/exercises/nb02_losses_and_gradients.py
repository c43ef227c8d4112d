"""Exercise checks of notebook 02 (losses and gradients): used by notebooks/02_losses_and_gradients.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _rng_pair(shape=(6, 2), seed=0):
    """A reproducible (y, y_hat) pair for gradient exercises."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape)


@exercise
def check_mse_grad(func: Callable) -> tuple[bool, str]:
    """Exercise 02.1: ``func(y, y_hat)`` returns the gradient of the mean squared error w.r.t. ``y_hat``.

    Examples
    --------
    >>> check_mse_grad(lambda y, y_hat: 2 * (y_hat - y) / y.size)
    ✓ your MSE gradient matches 2 (y_hat - y) / n on 3 shapes
    True
    """
    from aiaas_lib.numpy_nn import mse_grad

    for shape in ((6, 1), (6, 2), (1, 3)):
        y, y_hat = _rng_pair(shape)
        result = func(y, y_hat)
        if result is None:
            return False, "your function returns None: replace `return None` with the gradient"
        got, want = np.asarray(result, dtype=float), mse_grad(y, y_hat)
        if got.shape != want.shape:
            return False, f"for inputs of shape {shape} your gradient has shape {got.shape}; it must match y_hat"
        if np.allclose(got, want * y.size / 2) and y.size > 2:
            return False, "off by a factor 2/n: the mean divides by n, and d(u²)/du = 2u"
        if np.allclose(got, -want):
            return False, "the sign is flipped: the derivative of (y_hat - y)² w.r.t. y_hat is +2 (y_hat - y)"
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            return False, f"for shape {shape} the gradient differs from 2 (y_hat - y) / n (check the factor and sign)"
    return True, "your MSE gradient matches 2 (y_hat - y) / n on 3 shapes"


@exercise
def check_max_learning_rate(lr: float, X) -> tuple[bool, str]:
    """Exercise 02.2: the largest learning rate for which gradient descent on the MSE of a linear model
    with design matrix ``X`` still converges: ``2 / λ_max`` of the Hessian ``(2/n) XᵀX`` (within 2 %)."""
    X = np.asarray(X, dtype=float)
    hessian = 2.0 / len(X) * X.T @ X
    limit = 2.0 / np.linalg.eigvalsh(hessian).max()
    lr = float(lr)
    if abs(lr - limit) <= 0.02 * limit:
        return True, f"learning rate {lr:.4g} ≈ 2 / λ_max = {limit:.4g}: above it the steps overshoot and grow"
    if abs(lr - limit / 2) <= 0.02 * limit:
        return False, "that is 1 / λ_max, the fastest *monotone* rate; gradient descent still converges up to twice it"
    return False, f"{lr:.4g} is {'too large' if lr > limit else 'too small'}; find λ_max of the Hessian (2/n) XᵀX"


@exercise
def check_soft_threshold(func: Callable) -> tuple[bool, str]:
    """Exercise 02.3: ``func(w, t)`` is the soft-thresholding operator ``sign(w) · max(|w| - t, 0)``.

    Examples
    --------
    >>> check_soft_threshold(lambda w, t: np.sign(w) * np.maximum(np.abs(w) - t, 0))
    ✓ soft-thresholding right: small weights become exactly 0, the others shrink by t
    True
    """
    w = np.array([-2.0, -0.3, 0.0, 0.1, 0.5, 3.0])
    want = np.sign(w) * np.maximum(np.abs(w) - 0.4, 0.0)
    result = func(w.copy(), 0.4)
    if result is None:
        return False, "your function returns None: replace `return None` with the soft-thresholded weights"
    got = np.asarray(result, dtype=float)
    if got.shape != w.shape:
        return False, f"the result has shape {got.shape}; it must have the shape of w {w.shape}"
    if np.allclose(got, np.where(np.abs(w) > 0.4, w, 0.0)):
        return False, "that is hard thresholding: the surviving weights must also shrink by t"
    if not np.allclose(got, want):
        return False, f"soft_threshold({w.tolist()}, 0.4) should be {want.round(2).tolist()}, got {got.round(2).tolist()}"
    return True, "soft-thresholding right: small weights become exactly 0, the others shrink by t"
