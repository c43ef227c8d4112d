"""Exercise checks of notebook 02 (losses and gradients)."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb02_losses_and_gradients as ex
from _feedback import run_check as _run


def _softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _ce_grad(labels, logits):
    return (_softmax(logits) - np.eye(logits.shape[1])[labels]) / len(labels)


def test_softmax_ce_grad_right(capsys):
    assert _run(capsys, ex.check_softmax_ce_grad, _ce_grad)[0]


def _naive(labels, logits):  # the typical mistake: no max subtracted, overflows at 1e4
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(logits.shape[1])[labels]) / len(labels)


@pytest.mark.parametrize("func, hint", [
    (lambda y, z: _ce_grad(y, z) * len(y), "factor n"),
    (lambda y, z: -_ce_grad(y, z), "sign is flipped"),
    (lambda y, z: _softmax(z) / len(y), "softmax alone"),
    (lambda y, z: (_softmax(z, axis=0) - np.eye(z.shape[1])[y]) / len(y), "axis=1"),
    (_naive, "subtract each row's max"),
    (lambda y, z: _ce_grad(y, z).sum(axis=0), "shape"),
    (lambda y, z: _ce_grad(y, z) + 0.01, "differs"),
    (lambda y, z: None, "returns None"),
    (lambda y, z: 1 / 0, "could not check"),
])
def test_softmax_ce_grad_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_softmax_ce_grad, func)
    assert not ok and hint in out


def _hessian(X):
    return 2 / len(X) * X.T @ X


def _power_lr(X, iterations=300):
    H = _hessian(X)
    v = np.random.default_rng(0).normal(size=(X.shape[1], 1))
    for _ in range(iterations):
        v = H @ v / np.linalg.norm(H @ v)
    return 2 / (v.T @ H @ v).item()


def test_max_stable_lr_right(capsys):
    assert _run(capsys, ex.check_max_stable_lr, _power_lr)[0]
    assert _run(capsys, ex.check_max_stable_lr, lambda X: 2 / np.linalg.eigvalsh(_hessian(X)).max())[0]


@pytest.mark.parametrize("func, hint", [
    (lambda X: 1 / np.linalg.eigvalsh(_hessian(X)).max(), "1 / λ_max"),
    (lambda X: 2 / np.linalg.eigvalsh(X.T @ X).max(), "(2/n)·XᵀX"),
    (lambda X: 2 / np.linalg.eigvalsh(X.T @ X / len(X)).max(), "forgot the 2"),
    (lambda X: 2 / np.linalg.eigvalsh(_hessian(X)).min(), "smallest eigenvalue"),
    (lambda X: 2 / (2 / len(X) * np.linalg.svd(X, compute_uv=False).max()), "square it"),
    (lambda X: _power_lr(X, iterations=1), "more power iterations"),
    (lambda X: 0.001, "the limit 2 / λ_max is"),
    (lambda X: -1.0, "positive number"),
    (lambda X: np.ones(3), "one number"),
    (lambda X: None, "returns None"),
    (lambda X: 1 / 0, "could not check"),
])
def test_max_stable_lr_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_max_stable_lr, func)
    assert not ok and hint in out, out


def _soft(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def _grads(X, y, w, b):
    d = 2 * (X @ w + b - y) / len(y)
    return X.T @ d, d.sum(axis=0)


def _ista(X, y, w, b, lam, lr):
    gw, gb = _grads(X, y, w, b)
    return _soft(w - lr * gw, lr * lam), b - lr * gb


def test_ista_step_right(capsys):
    assert _run(capsys, ex.check_ista_step, _ista)[0]


def _hard(X, y, w, b, lam, lr):
    gw, gb = _grads(X, y, w, b)
    w = w - lr * gw
    return np.where(np.abs(w) > lr * lam, w, 0.0), b - lr * gb


def _threshold_lam(X, y, w, b, lam, lr):
    gw, gb = _grads(X, y, w, b)
    return _soft(w - lr * gw, lam), b - lr * gb


def _subgradient(X, y, w, b, lam, lr):
    gw, gb = _grads(X, y, w, b)
    return w - lr * (gw + lam * np.sign(w)), b - lr * gb


def _reversed(X, y, w, b, lam, lr):
    w = _soft(w, lr * lam)
    gw, gb = _grads(X, y, w, b)
    return w - lr * gw, b - lr * gb


def _penalise_b(X, y, w, b, lam, lr):
    w, b = _ista(X, y, w, b, lam, lr)
    return w, _soft(b, lr * lam)


@pytest.mark.parametrize("func, hint", [
    (_hard, "hard thresholding"),
    (_threshold_lam, "not lam"),
    (_subgradient, "subgradient step"),
    (_reversed, "order is reversed"),
    (_penalise_b, "intercept too"),
    (lambda X, y, w, b, lam, lr: (_ista(X, y, w, b, lam, lr)[0], b), "b did not move"),
    (lambda X, y, w, b, lam, lr: (_ista(X, y, w, b, lam, lr)[0], b - lr), "b is off"),
    (lambda X, y, w, b, lam, lr: (_ista(X, y, w, b, lam, lr)[0].T, b), "shape"),
    (lambda X, y, w, b, lam, lr: (w, b), "w is off"),
    (lambda X, y, w, b, lam, lr: _ista(X, y, w, b, lam, lr)[0], "two arrays"),
    (lambda X, y, w, b, lam, lr: None, "returns None"),
])
def test_ista_step_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_ista_step, func)
    assert not ok and hint in out
