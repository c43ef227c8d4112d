import numpy as np
import pytest

from aiaas_lib.exercises import nb08_nlp as ex
from aiaas_lib.numpy_nn.activations import softmax
from _feedback import run_check as _run


def test_attention_weights_right(capsys):
    assert _run(capsys, ex.check_attention_weights, lambda q, k: softmax(q @ k.T / np.sqrt(q.shape[1])))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda q, k: softmax(q @ k.T), "not scaled"),
    (lambda q, k: softmax((q @ k.T / 4).T).T, "wrong axis"),
    (lambda q, k: q @ k.T, "differ"),
    (lambda q, k: (q @ k.T)[:2], "shape"),
    (lambda q, k: None, "returns None"),
])
def test_attention_weights_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_attention_weights, func)
    assert not ok and hint in out


def test_causal_mask_right(capsys):
    assert _run(capsys, ex.check_causal_mask, lambda n: np.tril(np.ones((n, n), dtype=bool)))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda n: np.triu(np.ones((n, n), dtype=bool)), "transposed"),
    (lambda n: np.eye(n, dtype=bool), "everything before"),
    (lambda n: np.ones(n), "shape"),
    (lambda n: None, "returns None"),
])
def test_causal_mask_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_causal_mask, func)
    assert not ok and hint in out
