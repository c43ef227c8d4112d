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


def test_mean_pool_missing_keepdims_gets_the_keepdims_hint(capsys):
    # the typical slip: (batch, dim) / (batch,) raises a ValueError in NumPy, or broadcasts wrongly if batch == dim
    slip = lambda x, real: (x * real[:, :, None]).sum(axis=1) / real.sum(axis=1)  # noqa: E731
    for _ in range(20):
        ok, out = _run(capsys, ex.check_mean_pool, slip)
        assert not ok and "keepdims=True" in out and "could not check" not in out


def test_mean_pool_draws_dim_different_from_batch_and_length(capsys):
    shapes = []

    def spy(x, real):
        shapes.append(x.shape)
        return _pool_right(x, real)

    for _ in range(30):
        assert _run(capsys, ex.check_mean_pool, spy)[0]
    assert all(dim != batch and dim < length for batch, length, dim in shapes)  # no accidental broadcast


def test_mean_pool_other_value_errors_are_not_called_keepdims(capsys):
    def bad(x, real):
        raise ValueError("something else")

    ok, out = _run(capsys, ex.check_mean_pool, bad)
    assert not ok and "could not check" in out and "keepdims" not in out


def _ngrams_right(tokens, n):
    return [" ".join(tokens[i:i + k]) for k in range(1, n + 1) for i in range(len(tokens) - k + 1)]


def test_ngrams_right(capsys):
    assert _run(capsys, ex.check_ngrams, _ngrams_right)[0]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("tokens", [["not", "good", "at", "all", "not", "good"], ["tea"], ["very", "good"]])
def test_ngrams_reference_is_what_textvectorization_makes(tokens, n):
    from aiaas_lib.language import text_models  # imports TensorFlow
    import tensorflow as tf

    # TextVectorization(ngrams=n) calls exactly this after splitting (keras/src/layers/preprocessing/text_vectorization.py)
    tf_grams = tf.strings.ngrams(tf.constant(tokens), ngram_width=tuple(range(1, n + 1)), separator=" ")
    assert [g.decode() for g in tf_grams.numpy()] == ex._ngrams(tokens, n) == _ngrams_right(tokens, n)
    layer = text_models.keras.layers.TextVectorization(ngrams=n, standardize=None)
    layer.adapt([" ".join(tokens)])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(set(ex._ngrams(tokens, n)))


@pytest.mark.parametrize("func, hint", [
    (lambda t, n: [" ".join(t[i:i + n]) for i in range(len(t) - n + 1)], "only the"),
    (lambda t, n: _ngrams_right(t, n - 1), "stops at width"),
    (lambda t, n: [" ".join(t[i:i + k]) for k in range(1, n + 1) for i in range(len(t) - k)], "last n-gram"),
    (lambda t, n: ["_".join(t[i:i + k]) for k in range(1, n + 1) for i in range(len(t) - k + 1)], "one space"),
    (lambda t, n: ["".join(t[i:i + k]) for k in range(1, n + 1) for i in range(len(t) - k + 1)], "one space"),
    (lambda t, n: [" ".join(t[i:i + k]) for i in range(len(t)) for k in range(1, n + 1) if i + k <= len(t)],
     "wrong order"),
    (lambda t, n: list(dict.fromkeys(_ngrams_right(t, n))), "occurs twice"),
    (lambda t, n: [tuple(t[i:i + k]) for k in range(1, n + 1) for i in range(len(t) - k + 1)], "return strings"),
    (lambda t, n: _ngrams_right(t, n) + ([] if len(t) >= n else [" ".join(t + ["[PAD]"] * (n - len(t)))]),
     "shorter than n"),
    (lambda t, n: t[::-1], "differ"),
    (lambda t, n: None, "returns None"),
    (lambda t, n: 42, "could not check"),
])
def test_ngrams_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_ngrams, func)
    assert not ok and hint in out


def test_ngrams_draws_fresh_inputs(capsys):
    fixed = ["a"]
    results = [ex.check_ngrams(lambda t, n: fixed) for _ in range(3)]
    capsys.readouterr()
    assert not any(results)


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
