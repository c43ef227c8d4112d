"""Exercise checks of notebook 02 (losses and gradients): used by notebooks/02_losses_and_gradients.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Row-wise softmax with the max subtracted first."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _ce_cases():
    """Fresh (labels, logits) pairs: small and large batches, and one row of logits of size 1e4."""
    rng = np.random.default_rng(11)
    cases = []
    for n, k, scale in ((5, 3, 1.0), (8, 4, 3.0), (6, 5, 1.0)):
        cases.append((rng.integers(0, k, size=n), rng.normal(size=(n, k)) * scale))
    big = rng.normal(size=(4, 3))
    big[-1] *= 1e4
    cases.append((rng.integers(0, 3, size=4), big))
    return cases


@exercise
def check_softmax_ce_grad(func: Callable) -> tuple[bool, str]:
    """Exercise 02.1: ``func(labels, logits)`` returns the gradient of the mean softmax cross-entropy with
    respect to the logits, ``(softmax(logits) - onehot(labels)) / n``, for integer ``labels`` of shape ``(n,)``
    and ``logits`` of shape ``(n, k)``.

    Examples
    --------
    >>> def grad(labels, logits):
    ...     e = np.exp(logits - logits.max(axis=1, keepdims=True))
    ...     p = e / e.sum(axis=1, keepdims=True)
    ...     p[np.arange(len(labels)), labels] -= 1
    ...     return p / len(labels)
    >>> check_softmax_ce_grad(grad)
    ✓ (softmax - onehot) / n on 4 fresh batches, finite for logits of size 1e4
    True
    """
    for labels, logits in _ce_cases():
        n, k = logits.shape
        with np.errstate(all="ignore"):
            result = func(labels.copy(), logits.copy())
        if result is None:
            return False, "your function returns None: replace `return None` with the gradient"
        got = np.asarray(result, dtype=float)
        onehot = np.eye(k)[labels]
        want = (_softmax(logits) - onehot) / n
        if got.shape != want.shape:
            return False, f"for logits of shape {logits.shape} your gradient has shape {got.shape}; it must match the logits"
        if not np.all(np.isfinite(got)):
            return False, ("your gradient has inf or nan for logits of size 1e4: subtract each row's max before np.exp "
                           "(it changes nothing mathematically)")
        if np.allclose(got, want * n):
            return False, "off by a factor n: the loss is the *mean* over the batch, so divide by n = len(labels)"
        if np.allclose(got, -want):
            return False, "the sign is flipped: it is prediction minus target, softmax(z) - onehot(y)"
        if np.allclose(got, _softmax(logits) / n) or np.allclose(got, _softmax(logits)):
            return False, "you return the softmax alone: subtract 1 at each row's true class (the one-hot target)"
        if np.allclose(got, (_softmax(logits, axis=0) - onehot) / n):
            return False, "the softmax runs over the batch (axis 0); each row's classes must sum to 1: use axis=1"
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            return False, f"for logits of shape {logits.shape} the gradient differs from (softmax(z) - onehot(y)) / n"
    return True, "(softmax - onehot) / n on 4 fresh batches, finite for logits of size 1e4"


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


def _soft(w: np.ndarray, t: float) -> np.ndarray:
    """Soft-thresholding sign(w)·max(|w| - t, 0)."""
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def _ista_case(seed: int):
    """A fresh small regression (X, y) with weights w near zero, intercept b, and (lam, lr)."""
    rng = np.random.default_rng(seed)
    n, d = 30, 6
    X, y = rng.normal(size=(n, d)), rng.normal(size=(n, 1)) + 2.0
    w, b = rng.normal(size=(d, 1)) * 0.3, np.array([0.5])
    return X, y, w, b, 2.0, 0.05


@exercise
def check_ista_step(func: Callable) -> tuple[bool, str]:
    """Exercise 02.3: ``func(X, y, w, b, lam, lr)`` takes one proximal-gradient (ISTA) step for
    ``MSE(Xw + b, y) + lam·|w|₁`` and returns ``(w, b)``: a gradient step of the MSE for both, then
    soft-thresholding of ``w`` only, with threshold ``lr·lam`` (the intercept is not penalised).

    Examples
    --------
    >>> def step(X, y, w, b, lam, lr):
    ...     d = 2 * (X @ w + b - y) / len(y)
    ...     w, b = w - lr * X.T @ d, b - lr * d.sum(axis=0)
    ...     return np.sign(w) * np.maximum(np.abs(w) - lr * lam, 0), b
    >>> check_ista_step(step)
    ✓ one ISTA step right on 3 fresh problems: small weights set to exactly 0, the intercept left unpenalised
    True
    """
    for seed in (5, 6, 7):
        X, y, w, b, lam, lr = _ista_case(seed)
        result = func(X.copy(), y.copy(), w.copy(), b.copy(), lam, lr)
        if result is None:
            return False, "your function returns None: return the pair (w, b) after the step"
        if len(result) != 2:
            return False, f"return two arrays (w, b); got {len(result)} items"
        got_w, got_b = (np.asarray(r, dtype=float) for r in result)
        d = 2 * (X @ w + b - y) / len(y)
        w_half, b_new = w - lr * X.T @ d, b - lr * d.sum(axis=0)
        want_w = _soft(w_half, lr * lam)
        if got_w.shape != w.shape:
            return False, f"w has shape {got_w.shape}; it must keep the shape of w {w.shape}"
        if got_b.size != 1:
            return False, f"b has {got_b.size} values; the intercept is one number (shape {b.shape})"
        got_b = got_b.reshape(b.shape)
        if np.allclose(got_w, np.where(np.abs(w_half) > lr * lam, w_half, 0.0)):
            return False, "that is hard thresholding: the surviving weights must also shrink by lr·lam"
        if np.allclose(got_w, _soft(w_half, lam)):
            return False, "the threshold is lr·lam, not lam: the penalty's step is as long as the gradient's"
        if np.allclose(got_w, w - lr * (X.T @ d + lam * np.sign(w))):
            return False, ("that is a subgradient step: it never lands on exactly 0. Take the MSE gradient step, "
                           "then soft-threshold")
        w_soft = _soft(w, lr * lam)  # thresholding first, then the gradient step (at either point)
        reversed_order = (w_soft - lr * X.T @ (2 * (X @ w_soft + b - y) / len(y)), w_soft - lr * X.T @ d)
        if any(np.allclose(got_w, r) for r in reversed_order):
            return False, "the order is reversed: first the gradient step of the MSE, then soft-thresholding"
        if not np.allclose(got_w, want_w):
            return False, "w is off: gradient step w - lr·Xᵀ(2(Xw + b - y)/n), then sign(w)·max(|w| - lr·lam, 0)"
        if np.allclose(got_b, _soft(b_new, lr * lam)) and not np.allclose(b_new, _soft(b_new, lr * lam)):
            return False, "you soft-thresholded the intercept too: L1 penalises the weights w, not b"
        if np.allclose(got_b, b):
            return False, "b did not move: it takes the plain gradient step b - lr·Σ(2(Xw + b - y)/n)"
        if not np.allclose(got_b, b_new):
            return False, "w is right but b is off: b - lr·Σᵢ 2(ŷᵢ - yᵢ)/n, no penalty"
    return True, "one ISTA step right on 3 fresh problems: small weights set to exactly 0, the intercept left unpenalised"
