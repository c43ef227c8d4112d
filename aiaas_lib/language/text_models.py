"""Used by notebook 08.

Keras text-classifier builders: bag of embeddings and a transformer encoder (notebook 08 writes its GRU baseline
in its own cells), and a GRU sequence-to-sequence model.

Every builder takes token ids (from :func:`vectorizer`) and returns an uncompiled ``keras.Model`` giving
P(positive), shape (batch, 1). The transformer block is a registered Keras layer, so models that use it
save and load with ``safe_mode`` on.
"""
from __future__ import annotations

from collections.abc import Sequence

from aiaas_lib.env import import_tensorflow

import_tensorflow()
import keras  # noqa: E402


def vectorizer(texts: Sequence[str], max_tokens: int = 20_000, sequence_length: int = 128):
    """A ``TextVectorization`` layer (lower-cased words, punctuation stripped) adapted to ``texts``.

    Ids: 0 padding, 1 unknown word, then the words by count, ties by the word itself, both descending.
    Notebook 08 writes these steps in Python (§1) and checks they give the same vocabulary and ids.

    Examples
    --------
    >>> vec = vectorizer(["good coffee", "bad coffee"], sequence_length=4)
    >>> vec(["good tea"]).numpy().tolist()  # 'tea' is out of vocabulary: id 1
    [[3, 1, 0, 0]]
    """
    if max_tokens < 3 or sequence_length < 1:
        raise ValueError(f"max_tokens={max_tokens!r} must be >= 3 and sequence_length={sequence_length!r} >= 1")
    layer = keras.layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=sequence_length)
    layer.adapt(list(texts))
    return layer


def bag_of_embeddings(vocab_size: int, embedding_dim: int = 32, name: str = "bag_of_embeddings"):
    """Embedding → average over the (non-padding) words → sigmoid: word order is ignored."""
    ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(x), name=name)


@keras.saving.register_keras_serializable(package="aiaas")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm transformer encoder block: x + MHA(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.num_heads, self.ff_dim, self.dropout = dim, num_heads, ff_dim, dropout
        self.norm1, self.norm2 = keras.layers.LayerNormalization(), keras.layers.LayerNormalization()
        self.attn = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=dim // num_heads, dropout=dropout)
        self.ff1, self.ff2 = keras.layers.Dense(ff_dim, activation="gelu"), keras.layers.Dense(dim)
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        for norm in (self.norm1, self.norm2):
            norm.build(input_shape)
        self.attn.build(input_shape, input_shape)
        self.ff1.build(input_shape)
        self.ff2.build((*input_shape[:-1], self.ff_dim))
        super().build(input_shape)

    def call(self, x, mask=None, training=False):
        attention_mask = None if mask is None else mask[:, None, :]
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, attention_mask=attention_mask, training=training), training=training)
        return x + self.drop(self.ff2(self.ff1(self.norm2(x))), training=training)

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="aiaas")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position (0 … max_length-1) to its input."""

    def __init__(self, max_length: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length, self.dim = max_length, dim
        self.table = keras.layers.Embedding(max_length, dim)

    def build(self, input_shape):
        self.table.build((None,))
        super().build(input_shape)

    def call(self, x):
        return x + self.table(keras.ops.arange(keras.ops.shape(x)[1]))

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "dim": self.dim}


def transformer_classifier(vocab_size: int, sequence_length: int, dim: int = 64, num_heads: int = 4,
                           ff_dim: int = 128, num_blocks: int = 1, dropout: float = 0.1, name: str = "transformer"):
    """Token + position embeddings → transformer blocks → mean over real tokens → sigmoid.

    Examples
    --------
    >>> model = transformer_classifier(vocab_size=100, sequence_length=16, dim=8, num_heads=2, ff_dim=16)
    >>> model.output_shape
    (None, 1)
    """
    if dim % num_heads:
        raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
    ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocab_size, dim, mask_zero=True)(ids)
    x = PositionEmbedding(sequence_length, dim)(x)
    for i in range(num_blocks):
        x = TransformerBlock(dim, num_heads, ff_dim, dropout, name=f"block_{i}")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(x), name=name)


def seq2seq_gru(vocab_size: int, embedding_dim: int = 32, units: int = 64, name: str = "seq2seq"):
    """A GRU encoder-decoder for sequence-to-sequence tasks, trained with teacher forcing.

    Inputs: ``source`` ids (batch, S) and ``target_in`` ids (batch, T) — the target shifted right behind a
    start token. Output: logits (batch, T, vocab_size) for the next target token at each position.

    Examples
    --------
    >>> model = seq2seq_gru(vocab_size=12, units=8)
    >>> model.output_shape
    (None, None, 12)
    """
    source = keras.Input(shape=(None,), dtype="int64", name="source")
    target_in = keras.Input(shape=(None,), dtype="int64", name="target_in")
    _, state = keras.layers.GRU(units, return_state=True, name="encoder")(
        keras.layers.Embedding(vocab_size, embedding_dim, name="source_embedding")(source))
    decoded = keras.layers.GRU(units, return_sequences=True, name="decoder")(
        keras.layers.Embedding(vocab_size, embedding_dim, name="target_embedding")(target_in), initial_state=state)
    return keras.Model([source, target_in], keras.layers.Dense(vocab_size, name="logits")(decoded), name=name)


def greedy_decode(model, source, start_id: int, length: int):
    """Decode ``length`` tokens for each row of ``source`` with a :func:`seq2seq_gru` model, one at a time,
    feeding back the most likely token.

    Examples
    --------
    >>> import numpy as np
    >>> model = seq2seq_gru(vocab_size=12, units=8)
    >>> greedy_decode(model, np.array([[1, 2, 3]]), start_id=11, length=3).shape
    (1, 3)
    """
    import numpy as np

    source = np.asarray(source, dtype="int64")
    out = np.full((len(source), length + 1), start_id, dtype="int64")
    for t in range(length):
        logits = model.predict_on_batch({"source": source, "target_in": out[:, : t + 1]})
        out[:, t + 1] = np.argmax(logits[:, t], axis=-1)
    return out[:, 1:]
