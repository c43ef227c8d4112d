"""Exercise checks of notebook 02 (losses and gradients)."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb02_losses_and_gradients as ex
from _feedback import run_check as _run


def test_mse_grad_right(capsys):
    assert _run(capsys, ex.check_mse_grad, lambda y, y_hat: 2 * (y_hat - y) / y.size)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda y, y_hat: y_hat - y, "factor 2/n"),
    (lambda y, y_hat: 2 * (y - y_hat) / y.size, "sign is flipped"),
    (lambda y, y_hat: (y_hat - y).sum(), "shape"),
    (lambda y, y_hat: None, "returns None"),
    (lambda y, y_hat: 1 / 0, "could not check"),
])
def test_mse_grad_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_mse_grad, func)
    assert not ok and hint in out


def _design():
    return np.random.default_rng(0).normal(size=(40, 3))


def _limit(X):
    return 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()


def test_max_learning_rate_right(capsys):
    X = _design()
    assert _run(capsys, ex.check_max_learning_rate, _limit(X) * 1.01, X)[0]


@pytest.mark.parametrize("factor, hint", [(0.5, "1 / λ_max"), (3.0, "too large"), (0.1, "too small")])
def test_max_learning_rate_wrong(capsys, factor, hint):
    X = _design()
    ok, out = _run(capsys, ex.check_max_learning_rate, _limit(X) * factor, X)
    assert not ok and hint in out


def test_soft_threshold_right(capsys):
    assert _run(capsys, ex.check_soft_threshold, lambda w, t: np.sign(w) * np.maximum(np.abs(w) - t, 0))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda w, t: np.where(np.abs(w) > t, w, 0.0), "hard thresholding"),
    (lambda w, t: np.maximum(w - t, 0), "should be"),
    (lambda w, t: w[:2], "shape"),
    (lambda w, t: None, "returns None"),
])
def test_soft_threshold_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_soft_threshold, func)
    assert not ok and hint in out
