"""Used by notebook 13; also imported by the CLI/service.

A tiny GPT in Keras: token + position embeddings, causal multi-head attention blocks, a linear head.

The layers are registered Keras classes (package ``aiaas``), so the model saves as ``.keras`` and
loads with ``safe_mode=True`` — import this module before loading (:func:`load_gpt` does it for you).
Input: token ids, shape (batch, T) with T <= ``context``; output: next-token logits, (batch, T, vocab).
Position t's logits depend only on tokens 0..t (causal mask), so one forward pass scores every position.
"""
from __future__ import annotations

from pathlib import Path

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import in_unit_interval, integer

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="aiaas")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """``token_table[ids] + position_table[0..T-1]``: what each token is plus where it is."""

    def __init__(self, vocab_size: int, context: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.context, self.dim = vocab_size, context, dim

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_table = self.add_weight(shape=(self.vocab_size, self.dim), initializer=init, name="token_table")
        self.position_table = self.add_weight(shape=(self.context, self.dim), initializer=init, name="position_table")
        super().build(input_shape)

    def call(self, ids):
        length = ops.shape(ids)[-1]
        tokens = ops.take(self.token_table, ops.cast(ids, "int32"), axis=0)
        return tokens + self.position_table[:length]

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "context": self.context, "dim": self.dim}


@keras.saving.register_keras_serializable(package="aiaas")
class DecoderBlock(keras.layers.Layer):
    """Pre-norm GPT block: ``x + CausalMHA(LN(x))``, then ``x + W2·gelu(W1·LN(x))``."""

    def __init__(self, dim: int, num_heads: int, ff_dim: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if dim % num_heads:
            raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
        self.dim, self.num_heads, self.ff_dim, self.dropout = dim, num_heads, ff_dim, dropout
        self.norm1 = keras.layers.LayerNormalization(name="norm1")
        self.norm2 = keras.layers.LayerNormalization(name="norm2")
        self.attn = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=dim // num_heads, dropout=dropout,
                                                    name="attn")
        self.ff1 = keras.layers.Dense(ff_dim, activation="gelu", name="ff1")
        self.ff2 = keras.layers.Dense(dim, name="ff2")
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.norm1.build(input_shape)
        self.norm2.build(input_shape)
        self.attn.build(input_shape, input_shape)
        self.ff1.build(input_shape)
        self.ff2.build((*input_shape[:-1], self.ff_dim))
        super().build(input_shape)

    def call(self, x, training=False):
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, use_causal_mask=True, training=training), training=training)
        return x + self.drop(self.ff2(self.ff1(self.norm2(x))), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout}


def tiny_gpt(vocab_size: int, context: int = 128, dim: int = 128, num_heads: int = 4, num_layers: int = 2,
             ff_dim: int | None = None, dropout: float = 0.0, name: str = "tiny_gpt") -> keras.Model:
    """A decoder-only transformer language model (uncompiled).

    Parameters
    ----------
    vocab_size : int
        Number of tokens (the tokenizer's ``vocab_size``).
    context : int
        Longest input it takes (size of the learned position table).
    dim, num_heads, num_layers : int
        Width, attention heads per block (``dim`` must divide by it) and number of blocks.
    ff_dim : int, optional
        Hidden width of each block's feed-forward part; default ``4 * dim``.
    dropout : float
        Dropout rate in [0, 1) on attention weights and residual branches while training.

    Returns
    -------
    keras.Model
        ids (batch, T) int32 -> logits (batch, T, vocab_size) float32, with layers ``embedding``,
        ``block_0`` … ``block_{num_layers-1}``, ``final_norm``, ``lm_head``.

    Examples
    --------
    >>> model = tiny_gpt(vocab_size=10, context=8, dim=16, num_heads=2, num_layers=1)
    >>> tuple(model(ops.zeros((2, 5), "int32")).shape)
    (2, 5, 10)
    """
    for param, value, low in (("vocab_size", vocab_size, 2), ("context", context, 2), ("dim", dim, 1),
                              ("num_heads", num_heads, 1), ("num_layers", num_layers, 1)):
        integer(param, value, low)
    in_unit_interval("dropout", dropout)
    ff_dim = 4 * dim if ff_dim is None else ff_dim
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, context, dim, name="embedding")(ids)
    for i in range(num_layers):
        x = DecoderBlock(dim, num_heads, ff_dim, dropout, name=f"block_{i}")(x)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="lm_head")(x)
    return keras.Model(ids, logits, name=name)


def gpt_config(model: keras.Model) -> dict:
    """The architecture of a :func:`tiny_gpt` model: vocab_size, context, dim, num_heads, num_layers, ff_dim.

    Examples
    --------
    >>> gpt_config(tiny_gpt(vocab_size=10, context=8, dim=16, num_heads=2, num_layers=1))["context"]
    8
    """
    try:
        emb = model.get_layer("embedding")
    except ValueError as err:
        raise ValueError(f"model {model.name!r} has no 'embedding' layer: build it with tiny_gpt()") from err
    blocks = [layer for layer in model.layers if isinstance(layer, DecoderBlock)]
    return {"vocab_size": emb.vocab_size, "context": emb.context, "dim": emb.dim, "num_heads": blocks[0].num_heads,
            "num_layers": len(blocks), "ff_dim": blocks[0].ff_dim}


def load_gpt(path: str | Path) -> keras.Model:
    """Load a saved :func:`tiny_gpt` ``.keras`` file with Keras' ``safe_mode`` on.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "gpt.keras")
    >>> tiny_gpt(vocab_size=10, context=8, dim=16, num_heads=2, num_layers=1).save(path)
    >>> gpt_config(load_gpt(path))["num_layers"]
    1
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    return keras.saving.load_model(path, safe_mode=True)
