import numpy as np
import pytest

from aiaas_lib.language import attention as at
from aiaas_lib.env import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

RNG = np.random.default_rng(0)


def test_source_formula_is_scaled_dot_product_attention_with_tau_sqrt_d():
    w, v = RNG.normal(size=(4, 8)), RNG.normal(size=(6, 8))
    out, _ = at.scaled_dot_product_attention(w[None], v[None], v[None])
    np.testing.assert_allclose(at.attention_embedding(w, v, tau=np.sqrt(8)), out[0], atol=1e-12)


def test_attention_weights_are_distributions_and_mask_blocks_future():
    x = RNG.normal(size=(2, 5, 4))
    _, weights = at.scaled_dot_product_attention(x, x, x, mask=at.causal_mask(5))
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    assert np.all(weights[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


@pytest.mark.parametrize("heads, key_dim, tq, tv", [(1, 4, 3, 3), (3, 4, 5, 7), (4, 2, 6, 6)])
def test_multi_head_attention_equals_keras(heads, key_dim, tq, tv):
    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim, dtype="float64")
    x, y = RNG.normal(size=(2, tq, 8)), RNG.normal(size=(2, tv, 8))
    want, want_att = layer(x, y, return_attention_scores=True)
    got, got_att = at.multi_head_attention(x, y, at.keras_mha_weights(layer))
    # Keras rounds the scale 1/sqrt(key_dim) through float32 even in a float64 layer: exact for key_dim 4,
    # off by ~1e-8 relative for key_dim 2, hence 1e-7 rather than 1e-12.
    np.testing.assert_allclose(got, want.numpy(), atol=1e-7)
    np.testing.assert_allclose(got_att, want_att.numpy(), atol=1e-7)


def test_multi_head_attention_with_causal_mask_equals_keras_float32():
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = RNG.normal(size=(3, 6, 8)).astype("float32")
    mask = np.repeat(at.causal_mask(6)[None], 3, axis=0)
    want = layer(x, x, attention_mask=mask).numpy()
    got, _ = at.multi_head_attention(x, x, at.keras_mha_weights(layer), mask=mask)
    np.testing.assert_allclose(got, want, atol=1e-5)  # Keras computes in float32: agreement to ~1e-6


def test_shape_errors_are_named():
    with pytest.raises(ValueError, match="shapes do not fit"):
        at.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="w vectors have size 3 but v vectors 4"):
        at.attention_embedding(np.ones((1, 3)), np.ones((2, 4)), tau=1.0)
    with pytest.raises(ValueError, match="tau=0"):
        at.attention_embedding(np.ones((1, 3)), np.ones((2, 3)), tau=0)


def test_keras_weights_need_a_built_layer():
    with pytest.raises(ValueError, match="expected 8 arrays"):
        at.keras_mha_weights(keras.layers.MultiHeadAttention(num_heads=1, key_dim=2))
