"""The tiny GPT: Keras model, NumPy forward pass, KV cache, saving, training and bits per character."""
import numpy as np
import pytest

from aiaas_lib.generation import model as gm
from aiaas_lib.generation import training as gt
from aiaas_lib.generation.inference import KerasRecompute, NumpyGPT

keras = gm.keras
VOCAB, CONTEXT = 20, 32
# float32 tolerance: logits are O(1-10) here; float32 carries ~7 significant digits and the two paths
# sum in different orders, so differences are ~1e-6; 1e-4 is the course's stated bound.
ATOL = 1e-4


@pytest.fixture(scope="module")
def model():
    """A tiny GPT with random weights scaled up so that logits are far from zero (equality means something)."""
    keras.utils.set_random_seed(0)
    m = gm.tiny_gpt(VOCAB, context=CONTEXT, dim=32, num_heads=4, num_layers=2)
    rng = np.random.default_rng(0)
    m.set_weights([rng.normal(0.0, 0.3, w.shape).astype("float32") for w in m.get_weights()])
    return m


@pytest.fixture(scope="module")
def ids():
    return np.random.default_rng(1).integers(0, VOCAB, size=CONTEXT)


def keras_logits(m, ids):
    return np.asarray(m(ids[None].astype("int32"), training=False))[0]


def test_logits_are_not_trivially_small(model, ids):
    assert keras_logits(model, ids).std() > 0.5  # 5,000 times the tolerance


def test_numpy_forward_equals_keras(model, ids):
    np.testing.assert_allclose(NumpyGPT.from_keras(model).logits(ids), keras_logits(model, ids), atol=ATOL)


def test_float64_forward_equals_keras(model, ids):
    gpt = NumpyGPT.from_keras(model, dtype=np.float64)
    np.testing.assert_allclose(gpt.logits(ids), keras_logits(model, ids), atol=ATOL)


def test_model_is_causal(model, ids):
    changed = ids.copy()
    changed[20] = (changed[20] + 1) % VOCAB
    a, b = keras_logits(model, ids), keras_logits(model, changed)
    np.testing.assert_allclose(a[:20], b[:20], atol=1e-5)  # positions before 20 cannot see it
    assert np.abs(a[20:] - b[20:]).max() > 1e-2


def test_kv_cache_equals_recomputation_at_every_step(model, ids):
    gpt = NumpyGPT.from_keras(model)
    cache = gpt.new_cache()
    stepped = [gpt.prefill(ids[:5], cache)]
    stepped += [gpt.step(int(t), cache) for t in ids[5:]]
    for t in range(5, CONTEXT + 1):  # recompute the whole prefix at every step, as decoding without a cache does
        np.testing.assert_allclose(stepped[t - 5], gpt.logits(ids[:t])[-1], atol=ATOL)
    assert cache.length == CONTEXT


def test_kv_cache_equals_keras_at_every_position(model, ids):
    gpt = NumpyGPT.from_keras(model)
    cache = gpt.new_cache()
    stepped = np.stack([gpt.prefill(ids[:1], cache)] + [gpt.step(int(t), cache) for t in ids[1:]])
    np.testing.assert_allclose(stepped, keras_logits(model, ids), atol=ATOL)


def test_cache_refuses_to_grow_past_the_context(model, ids):
    gpt = NumpyGPT.from_keras(model)
    cache = gpt.new_cache()
    gpt.prefill(ids, cache)
    with pytest.raises(ValueError, match=f"{CONTEXT} cached \\+ 1 new positions exceed the context"):
        gpt.step(1, cache)


@pytest.mark.parametrize("bad, message", [
    (np.array([0, VOCAB]), rf"token ids must be in \[0, {VOCAB - 1}\]"),
    (np.array([], dtype=int), "non-empty 1-D array of ints"),
    (np.array([[1, 2]]), "non-empty 1-D array of ints"),
    (np.array([0.5]), "non-empty 1-D array of ints"),
])
def test_numpy_forward_rejects_bad_ids(model, bad, message):
    with pytest.raises(ValueError, match=message):
        NumpyGPT.from_keras(model).logits(bad)


def test_from_keras_rejects_other_dtypes(model):
    with pytest.raises(ValueError, match="expected float32 or float64"):
        NumpyGPT.from_keras(model, dtype=np.float16)


def test_keras_recompute_engine_equals_numpy(model, ids):
    np.testing.assert_allclose(KerasRecompute(model).logits(ids[:7]), NumpyGPT.from_keras(model).logits(ids[:7]),
                               atol=ATOL)


def test_keras_recompute_rejects_too_long_input(model):
    with pytest.raises(ValueError, match=f"1 to {CONTEXT} tokens"):
        KerasRecompute(model).logits(np.zeros(CONTEXT + 1, int))


def test_saves_and_loads_in_safe_mode(model, ids, tmp_path):
    path = tmp_path / "gpt.keras"
    model.save(path)
    again = gm.load_gpt(path)
    np.testing.assert_allclose(NumpyGPT.from_keras(again).logits(ids), keras_logits(model, ids), atol=ATOL)
    assert gm.gpt_config(again) == gm.gpt_config(model)


def test_load_gpt_reports_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        gm.load_gpt(tmp_path / "none.keras")


@pytest.mark.parametrize("kwargs, message", [
    (dict(vocab_size=1), "vocab_size=1 must be an integer >= 2"),
    (dict(vocab_size=10, num_layers=0), "num_layers=0 must be an integer >= 1"),
    (dict(vocab_size=10, dim=30, num_heads=4), "dim=30 must be divisible by num_heads=4"),
    (dict(vocab_size=10, dropout=1.0), r"dropout=1.0 must be a number in \[0, 1\)"),
])
def test_tiny_gpt_rejects_bad_architecture(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gm.tiny_gpt(**kwargs)


def test_gpt_config_rejects_other_models():
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="other")
    with pytest.raises(ValueError, match="has no 'embedding' layer"):
        gm.gpt_config(other)


# ------------------------------------------------------------------------------------------- training
TEXT = ("A man is known by the company he organizes. " * 40
        + "ACCIDENT, n. An inevitable occurrence due to the action of immutable natural laws. " * 20)


@pytest.fixture(scope="module")
def trained():
    return gt.train_tiny_gpt(TEXT, context=32, dim=32, num_heads=4, num_layers=1, batch_size=16,
                             steps_per_epoch=12, epochs=3, learning_rate=1e-2, seed=0)


def test_training_loss_falls(trained):
    _, _, history = trained
    assert history["loss"][-1] < history["loss"][0] - 0.5  # nats; the epoch means fall ~1 nat here


def test_training_beats_the_unigram_baseline(trained):
    _, _, history = trained
    assert history["val_bpc"] < history["unigram_bpc"] - 0.5


def test_bits_per_character_agree_between_keras_and_numpy(trained):
    model, tok, _ = trained
    ids = tok.encode(TEXT[:300])
    assert abs(gt.bits_per_character(model, ids) - gt.bits_per_character(NumpyGPT.from_keras(model), ids)) < 1e-4


def test_bits_per_character_of_uniform_logits_is_log2_vocab(model):
    gpt = NumpyGPT.from_keras(model)
    gpt.w_head[:] = 0.0
    gpt.b_head[:] = 0.0  # all logits equal: every character costs log2(VOCAB) bits
    assert abs(gt.bits_per_character(gpt, np.arange(70) % VOCAB) - np.log2(VOCAB)) < 1e-6


def test_bits_per_character_needs_two_tokens(model):
    with pytest.raises(ValueError, match="at least 2 tokens"):
        gt.bits_per_character(model, np.array([1]))


def test_unigram_bpc_of_a_fair_coin_is_one_bit():
    assert gt.unigram_bpc(np.array([0, 1] * 50), np.array([0, 1]), 2) == pytest.approx(1.0)


def test_split_is_contiguous_and_rejects_bad_fraction():
    train, val = gt.split_ids(np.arange(100), 0.1)
    assert train[-1] + 1 == val[0] == 90
    with pytest.raises(ValueError, match="val_fraction=1.0"):
        gt.split_ids(np.arange(10), 1.0)


def test_train_rejects_too_short_text():
    with pytest.raises(ValueError, match="needs more than context"):
        gt.train_tiny_gpt("short", context=32)


def test_train_rejects_zero_epochs():
    with pytest.raises(ValueError, match="epochs=0 must be an integer >= 1"):
        gt.train_tiny_gpt(TEXT, context=32, epochs=0)


def test_train_default_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode='quick'"):
        gt.train_default_gpt(mode="quick")
