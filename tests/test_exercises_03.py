"""Exercise checks of notebook 03 (backpropagation)."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb03_backpropagation as ex
from _feedback import run_check as _run


def _backward(X, W, b, upstream, derivative=lambda a: a * (1 - a)):
    a = 1 / (1 + np.exp(-(X @ W + b)))
    delta = upstream * derivative(a)
    return X.T @ delta, delta.sum(axis=0), delta @ W.T


def test_dense_backward_right(capsys):
    assert _run(capsys, ex.check_dense_backward, _backward)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda X, W, b, up: (X.T @ up, up.sum(axis=0), up @ W.T), "skips the activation"),
    (lambda X, W, b, up: _backward(X, W, b, up, derivative=lambda a: a), "its own derivative"),
    (lambda X, W, b, up: _backward(X, W, b, up, derivative=lambda a: 1 - a ** 2), "tanh's derivative"),
    (lambda X, W, b, up: _backward(X, W, b, up)[:2], "three arrays"),
    (lambda X, W, b, up: (_backward(X, W, b, up)[0].T, *_backward(X, W, b, up)[1:]), "shape"),
    (lambda X, W, b, up: (_backward(X, W, b, up)[0], _backward(X, W, b, up)[1] / len(X),
                          _backward(X, W, b, up)[2]), "db is off"),
    (lambda X, W, b, up: None, "returns None"),
    (lambda X, W, b, up: 1 / 0, "could not check"),
])
def test_dense_backward_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_dense_backward, func)
    assert not ok and hint in out
