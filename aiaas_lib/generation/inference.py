"""Used by notebook 13; also imported by the CLI/service.

The tiny GPT's forward pass in NumPy, with and without a key/value cache.

:class:`NumpyGPT` copies the weights out of a :func:`~aiaas_lib.generation.model.tiny_gpt` Keras model
once and then runs without TensorFlow — no Keras ``predict`` machinery per token:

- :meth:`NumpyGPT.logits` is the full forward pass over a whole sequence (what "recomputation" does at
  every step: O(T) work per layer and position for a prefix of T tokens).
- :meth:`NumpyGPT.prefill` runs the prompt once and stores every layer's keys and values in a
  :class:`KVCache`; :meth:`NumpyGPT.step` then feeds one new token, attends to the cached keys/values,
  appends its own, and returns the next logits. Keys and values of earlier positions never change (the
  mask is causal and positions are absolute), so the cached logits equal recomputation's up to float
  rounding.

Both share one code path (``_forward``), so there is one implementation of the maths to trust.
:class:`KerasRecompute` offers the same ``logits`` interface by calling the Keras model itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aiaas_lib.numpy_nn.activations import softmax


@dataclass
class KVCache:
    """Keys and values of every layer for the positions seen so far.

    ``keys``/``values`` have shape (layers, heads, context, head_dim); positions ``[0, length)`` are filled.
    """

    keys: np.ndarray
    values: np.ndarray
    length: int = 0

    @property
    def nbytes(self) -> int:
        """Memory held by the cache, in bytes."""
        return self.keys.nbytes + self.values.nbytes


@dataclass
class _Layer:
    """One decoder block's weights, attention projections fused as one (dim, 3·dim) matrix."""

    norm1: tuple
    w_qkv: np.ndarray
    b_qkv: np.ndarray
    w_o: np.ndarray
    b_o: np.ndarray
    norm2: tuple
    w_1: np.ndarray
    b_1: np.ndarray
    w_2: np.ndarray
    b_2: np.ndarray


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras LayerNormalization over the last axis (biased variance)."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x·Φ(x), as Keras' default ``gelu``."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0).astype(x.dtype)))


class NumpyGPT:
    """A :func:`~aiaas_lib.generation.model.tiny_gpt` model's inference in NumPy (build with :meth:`from_keras`).

    Attributes
    ----------
    context, vocab_size, num_heads, head_dim : int
        Architecture read from the Keras model.
    dtype : numpy dtype
        float32 (default; the Keras model's own precision) or float64.

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> model = tiny_gpt(vocab_size=12, context=16, dim=16, num_heads=2, num_layers=1)
    >>> gpt = NumpyGPT.from_keras(model)
    >>> ids = np.array([3, 1, 4, 1, 5])
    >>> full = gpt.logits(ids)                      # recompute everything: (T, vocab)
    >>> cache = gpt.new_cache()
    >>> last = gpt.prefill(ids[:4], cache)          # the prompt once ...
    >>> step = gpt.step(5, cache)                   # ... then one token at a time
    >>> bool(np.allclose(last, full[3], atol=1e-5) and np.allclose(step, full[4], atol=1e-5))
    True
    """

    def __init__(self, token_table, position_table, layers, final_norm, w_head, b_head, num_heads: int,
                 dtype=np.float32):
        self.dtype = np.dtype(dtype)
        self.token_table, self.position_table = self._cast(token_table), self._cast(position_table)
        self.layers = [_Layer(**{name: self._cast(value) for name, value in vars(layer).items()}) for layer in layers]
        self.final_norm = self._cast(final_norm)
        self.w_head, self.b_head = self._cast(w_head), self._cast(b_head)
        self.context, self.dim = self.position_table.shape
        self.vocab_size = self.token_table.shape[0]
        self.num_heads = num_heads
        self.head_dim = self.dim // num_heads
        self._scale = self.dtype.type(1.0 / np.sqrt(self.head_dim))

    def _cast(self, value):
        """Arrays (also inside a LayerNorm's (gamma, beta, epsilon) tuple) to contiguous ``self.dtype``."""
        if isinstance(value, tuple):
            return (self._cast(value[0]), self._cast(value[1]), value[2])
        return np.ascontiguousarray(value, dtype=self.dtype)

    @classmethod
    def from_keras(cls, model, dtype=np.float32) -> NumpyGPT:
        """Copy the weights of a :func:`~aiaas_lib.generation.model.tiny_gpt` model (takes milliseconds)."""
        from aiaas_lib.language.attention import keras_mha_weights
        from aiaas_lib.generation.model import DecoderBlock, gpt_config

        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype={dtype!r}; expected float32 or float64")
        cfg = gpt_config(model)
        emb = model.get_layer("embedding")

        def norm(layer):
            return (np.asarray(layer.gamma), np.asarray(layer.beta), float(layer.epsilon))

        layers = []
        for block in (layer for layer in model.layers if isinstance(layer, DecoderBlock)):
            w = keras_mha_weights(block.attn)
            dim = w["wq"].shape[0]
            w_qkv = np.concatenate([w[n].reshape(dim, -1) for n in ("wq", "wk", "wv")], axis=1)
            b_qkv = np.concatenate([w[n].reshape(-1) for n in ("bq", "bk", "bv")])
            layers.append(_Layer(norm(block.norm1), w_qkv, b_qkv, w["wo"].reshape(-1, dim), w["bo"],
                                 norm(block.norm2),
                                 np.asarray(block.ff1.kernel), np.asarray(block.ff1.bias),
                                 np.asarray(block.ff2.kernel), np.asarray(block.ff2.bias)))
        head = model.get_layer("lm_head")
        return cls(np.asarray(emb.token_table), np.asarray(emb.position_table), layers,
                   norm(model.get_layer("final_norm")), np.asarray(head.kernel), np.asarray(head.bias),
                   num_heads=cfg["num_heads"], dtype=dtype)

    # ------------------------------------------------------------------------------------------ forward
    def _check_ids(self, ids, start: int) -> np.ndarray:
        """Validate token ids and that they fit in the context after ``start`` cached positions."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a non-empty 1-D array of ints; got shape {ids.shape}, dtype {ids.dtype}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"token ids must be in [0, {self.vocab_size - 1}]; got min {ids.min()}, max {ids.max()}")
        if start + ids.size > self.context:
            raise ValueError(f"{start} cached + {ids.size} new positions exceed the context of {self.context} tokens")
        return ids

    def _forward(self, ids: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Logits (T, vocab) for ``ids`` placed after the cache's positions (if any), updating the cache."""
        start = 0 if cache is None else cache.length
        T, H, K = len(ids), self.num_heads, self.head_dim
        x = self.token_table[ids] + self.position_table[start:start + T]
        mask = None
        if T > 1:  # query i (absolute start + i) may see keys 0 .. start + i
            mask = np.arange(start + T)[None, :] > (start + np.arange(T))[:, None]
        for n, layer in enumerate(self.layers):
            h = _layer_norm(x, *layer.norm1)
            q, k, v = (h @ layer.w_qkv + layer.b_qkv).reshape(T, 3, H, K).transpose(1, 2, 0, 3)
            if cache is not None:
                cache.keys[n, :, start:start + T] = k
                cache.values[n, :, start:start + T] = v
                k, v = cache.keys[n, :, :start + T], cache.values[n, :, :start + T]
            scores = (q * self._scale) @ k.transpose(0, 2, 1)  # (H, T, start + T)
            if mask is not None:
                scores = np.where(mask, -np.inf, scores)
            heads = softmax(scores).astype(scores.dtype) @ v  # (H, T, K)
            x = x + heads.transpose(1, 0, 2).reshape(T, H * K) @ layer.w_o + layer.b_o
            h = _layer_norm(x, *layer.norm2)
            x = x + _gelu(h @ layer.w_1 + layer.b_1) @ layer.w_2 + layer.b_2
        if cache is not None:
            cache.length = start + T
        return _layer_norm(x, *self.final_norm) @ self.w_head + self.b_head

    def logits(self, ids) -> np.ndarray:
        """Full forward pass without a cache: next-token logits at every position, shape (T, vocab)."""
        return self._forward(self._check_ids(ids, 0))

    def new_cache(self) -> KVCache:
        """An empty cache with room for ``context`` positions."""
        shape = (len(self.layers), self.num_heads, self.context, self.head_dim)
        return KVCache(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype), 0)

    def prefill(self, ids, cache: KVCache) -> np.ndarray:
        """Run the prompt ``ids`` once, filling ``cache``; return the logits after its last token (vocab,)."""
        return self._forward(self._check_ids(ids, cache.length), cache)[-1]

    def step(self, token: int, cache: KVCache) -> np.ndarray:
        """Feed one token after the cached ones; return the logits for the token after it (vocab,)."""
        return self._forward(self._check_ids(np.array([token]), cache.length), cache)[0]

    def __repr__(self) -> str:
        return (f"NumpyGPT(vocab {self.vocab_size}, context {self.context}, dim {self.dim}, "
                f"{len(self.layers)} layers x {self.num_heads} heads, {self.dtype})")


class KerasRecompute:
    """The same ``logits(ids)`` interface by running the Keras model on the whole prefix (no cache).

    The model runs inside one ``tf.function`` traced for any length (input signature (1, None)), not
    through ``predict``, which costs ~70 ms per call, nor eagerly, which runs op by op.

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> engine = KerasRecompute(tiny_gpt(vocab_size=12, context=16, dim=16, num_heads=2, num_layers=1))
    >>> engine.logits(np.array([1, 2, 3])).shape
    (3, 12)
    """

    def __init__(self, model):
        from aiaas_lib.env import import_tensorflow
        from aiaas_lib.generation.model import gpt_config

        tf = import_tensorflow()
        cfg = gpt_config(model)
        self.model, self.context, self.vocab_size = model, cfg["context"], cfg["vocab_size"]
        self._forward = tf.function(lambda x: model(x, training=False),
                                    input_signature=[tf.TensorSpec([1, None], tf.int32)])

    def logits(self, ids) -> np.ndarray:
        """Next-token logits at every position of ``ids``, shape (T, vocab), from the Keras model."""
        ids = np.asarray(ids, dtype=np.int32)
        if ids.ndim != 1 or not 0 < ids.size <= self.context:
            raise ValueError(f"ids must be 1-D with 1 to {self.context} tokens; got shape {ids.shape}")
        return np.asarray(self._forward(ids[None]))[0]
