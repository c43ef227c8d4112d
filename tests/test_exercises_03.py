"""Exercise checks of notebook 03 (backpropagation)."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb03_backpropagation as ex
from _feedback import run_check as _run


def _dense_backward(X, W, b, upstream):
    dz = upstream * (1 - np.tanh(X @ W + b) ** 2)
    return X.T @ dz, dz.sum(axis=0), dz @ W.T


def test_dense_backward_right(capsys):
    assert _run(capsys, ex.check_dense_backward, _dense_backward)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda X, W, b, up: (X.T @ up, up.sum(axis=0), up @ W.T), "skips the activation"),
    (lambda X, W, b, up: _dense_backward(X, W, b, up)[:2], "three arrays"),
    (lambda X, W, b, up: (_dense_backward(X, W, b, up)[0].T, *_dense_backward(X, W, b, up)[1:]), "shape"),
    (lambda X, W, b, up: (_dense_backward(X, W, b, up)[0], _dense_backward(X, W, b, up)[1] / 5,
                          _dense_backward(X, W, b, up)[2]), "db is off"),
    (lambda X, W, b, up: None, "returns None"),
])
def test_dense_backward_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_dense_backward, func)
    assert not ok and hint in out
