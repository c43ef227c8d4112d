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


def _lr_cases():
    """Fresh design matrices: different sizes, feature scales and correlations, never the Ames matrix."""
    rng = np.random.default_rng(23)
    cases = []
    for n, d, spread in ((60, 3, 3.0), (250, 8, 2.0), (1000, 20, 1.5)):
        X = rng.normal(size=(n, d)) * spread ** -np.arange(d)  # columns of falling scale: a clear λ_max
        X[:, 1] += 0.5 * X[:, 0]  # two correlated features
        cases.append(X)
    return cases


@exercise
def check_max_stable_lr(func: Callable) -> tuple[bool, str]:
    """Exercise 02.2: ``func(X)`` returns the largest learning rate for which gradient descent on
    ``MSE(Xw, y)`` converges, ``2 / λ_max`` of the Hessian ``(2/n) XᵀX`` (within 1 %), on fresh matrices.

    Examples
    --------
    >>> def max_stable_lr(X):
    ...     H = 2 / len(X) * X.T @ X
    ...     v = np.ones((X.shape[1], 1))
    ...     for _ in range(500):
    ...         v = H @ v / np.linalg.norm(H @ v)
    ...     return 2 / (v.T @ H @ v).item()
    >>> check_max_stable_lr(max_stable_lr)
    ✓ 2 / λ_max of (2/n)XᵀX on 3 fresh matrices (60×3 to 1000×20): above it gradient descent diverges
    True
    """
    for X in _lr_cases():
        n = len(X)
        result = func(X.copy())
        if result is None:
            return False, "your function returns None: return 2 / λ_max as a number"
        got = float(np.asarray(result, dtype=float).reshape(-1)[0]) if np.size(result) == 1 else None
        if got is None:
            return False, f"return one number (the learning rate); got {np.size(result)} values"
        gram = np.linalg.eigvalsh(X.T @ X)
        lam_max, lam_min = 2 / n * gram.max(), 2 / n * gram.min()
        want = 2 / lam_max
        if not np.isfinite(got) or got <= 0:
            return False, f"for a {n}×{X.shape[1]} matrix you return {got}; a learning rate is a positive number"
        if abs(got - want) <= 0.01 * want:
            continue
        close = lambda v: abs(got - v) <= 0.01 * abs(v)  # noqa: E731
        if close(1 / lam_max):
            return False, ("that is 1 / λ_max, half the limit: each step multiplies the error along the steepest "
                           "direction by (1 - αλ_max), which stays inside (-1, 1) up to α = 2 / λ_max")
        if close(2 / gram.max()) or close(1 / gram.max()):
            return False, "you used the eigenvalues of XᵀX: the Hessian of the *mean* squared error is (2/n)·XᵀX"
        if close(2 * n / gram.max()):
            return False, "you forgot the 2 of the Hessian: d²/dw² of (Xw - y)² brings down a 2, so H = (2/n)·XᵀX"
        if close(2 / lam_min) or close(1 / lam_min):
            return False, "that uses the smallest eigenvalue; the limit comes from the largest, λ_max (the steepest direction)"
        if close(n / np.sqrt(gram.max())) or close(2 / np.sqrt(2 / n * gram.max())):
            return False, "λ_max of H is (2/n)·σ_max² with σ_max the largest singular value of X: square it"
        if want < got < 1.5 * want:
            return False, (f"{got:.4g} is {100 * (got / want - 1):.1f} % above 2 / λ_max: your λ_max is too small. "
                           "Run more power iterations (a few hundred) and use λ_max ≈ vᵀHv with ‖v‖ = 1")
        return False, f"for a {n}×{X.shape[1]} matrix you return {got:.4g}, the limit 2 / λ_max is {want:.4g}"
    return True, "2 / λ_max of (2/n)XᵀX on 3 fresh matrices (60×3 to 1000×20): above it gradient descent diverges"


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
