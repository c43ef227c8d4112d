import numpy as np
import pytest

from aiaas_lib.exercises import nb08_nlp as ex
from _feedback import run_check as _run


def _pool_right(x, real):
    m = real[:, :, None]
    return (x * m).sum(axis=1) / m.sum(axis=1)


def test_mean_pool_right(capsys):
    assert _run(capsys, ex.check_mean_pool, _pool_right)[0]


def test_mean_pool_library_passes(capsys):
    from aiaas_lib.language.embeddings import mean_pool
    assert _run(capsys, ex.check_mean_pool, lambda x, real: np.asarray(mean_pool(x, real)))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda x, real: (x * real[:, :, None]).sum(axis=1) / x.shape[1], "divided by T"),
    (lambda x, real: x.mean(axis=1), "padding vectors are averaged in"),
    (lambda x, real: x.sum(axis=1) / real.sum(axis=1, keepdims=True), "still includes the padding"),
    (lambda x, real: (x * real[:, :, None]).sum(axis=1) / real.sum(), "whole batch"),
    (lambda x, real: (x * real[:, :, None]).mean(axis=2), "has shape"),
    (lambda x, real: _pool_right(x, real) + 1, "values differ"),
    (lambda x, real: None, "returns None"),
    (lambda x, real: "garbage", "could not check"),
])
def test_mean_pool_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_mean_pool, func)
    assert not ok and hint in out


def test_causal_mask_right(capsys):
    assert _run(capsys, ex.check_causal_mask, lambda n: np.tril(np.ones((n, n), dtype=bool)))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda n: np.triu(np.ones((n, n), dtype=bool)), "transposed"),
    (lambda n: np.tril(np.ones((n, n), dtype=bool), -1), "diagonal"),
    (lambda n: np.eye(n, dtype=bool), "everything before"),
    (lambda n: np.ones(n), "shape"),
    (lambda n: None, "returns None"),
])
def test_causal_mask_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_causal_mask, func)
    assert not ok and hint in out


def test_causal_mask_uses_fresh_lengths(capsys):
    fixed = np.tril(np.ones((5, 5), dtype=bool))
    results = [ex.check_causal_mask(lambda n: fixed) for _ in range(5)]
    capsys.readouterr()
    assert not all(results)


def _padding_right(ids):
    return np.repeat((ids != 0)[:, None, :], ids.shape[1], axis=1)


def test_padding_mask_right(capsys):
    assert _run(capsys, ex.check_padding_mask, _padding_right)[0]


def test_padding_mask_idiomatic_broadcastable_is_right(capsys):
    assert _run(capsys, ex.check_padding_mask, lambda ids: (ids != 0)[:, None, :])[0]


def test_padding_mask_broadcast_view_is_right(capsys):
    assert _run(capsys, ex.check_padding_mask,
                lambda ids: np.broadcast_to((ids != 0)[:, None, :], ids.shape + ids.shape[1:]))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda ids: ~_padding_right(ids), "inverted"),
    (lambda ids: np.repeat((ids != 0)[:, :, None], ids.shape[1], axis=2), "padded queries instead"),
    (lambda ids: (ids != 0)[:, :, None] & (ids != 0)[:, None, :], "also masks padded queries"),
    (lambda ids: ids != 0, "one row per query"),
    (lambda ids: (ids != 0)[:, :, None], "padded queries instead"),
    (lambda ids: np.ones((2, 2)), "has shape"),
    (lambda ids: np.ones(ids.shape + ids.shape[1:], dtype=bool), "differs"),
    (lambda ids: None, "returns None"),
    (lambda ids: object(), "has shape"),
    (lambda ids: 1 / 0, "could not check"),
])
def test_padding_mask_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_padding_mask, func)
    assert not ok and hint in out
