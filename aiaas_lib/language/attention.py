"""Used by notebook 08; also imported by the CLI/service.

Attention in NumPy: the source's embedding formula, scaled dot-product attention, and multi-head
attention computed with the weights of a ``keras.layers.MultiHeadAttention`` (so the two can be compared).

The source material writes a contextual word vector as
``w_i = Σ_j softmax_j(w_i · v_j / τ) v_j`` — attention with query ``w_i``, keys and values ``v_j`` and
temperature ``τ``; with ``τ = √d`` it is scaled dot-product attention.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.numpy_nn.activations import softmax


def attention_embedding(w: np.ndarray, v: np.ndarray, tau: float) -> np.ndarray:
    """The source's formula: each row of ``w`` replaced by a softmax(w·v/τ)-weighted average of rows of ``v``.

    Examples
    --------
    >>> v = np.eye(2)
    >>> attention_embedding(np.array([[100.0, 0.0]]), v, tau=1.0).round(3)  # sharp: picks v_0
    array([[1., 0.]])
    """
    if not tau > 0:
        raise ValueError(f"tau={tau!r} must be positive")
    w, v = np.asarray(w, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if w.shape[-1] != v.shape[-1]:
        raise ValueError(f"w vectors have size {w.shape[-1]} but v vectors {v.shape[-1]}; they must match")
    return softmax(w @ v.T / tau) @ v


def causal_mask(n: int) -> np.ndarray:
    """Boolean (n, n) mask: position i may attend to positions j <= i.

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    return np.tril(np.ones((n, n), dtype=bool))


def scaled_dot_product_attention(q, k, v, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(q kᵀ / √d + masked) v`` over the last two axes; returns (output, attention weights).

    ``mask`` (broadcastable to the scores, True = may attend) sets masked scores to -inf before the softmax.

    Examples
    --------
    >>> q = k = v = np.eye(2)[None]
    >>> out, weights = scaled_dot_product_attention(q, k, v)
    >>> weights.shape, bool(np.allclose(weights.sum(-1), 1))
    ((1, 2, 2), True)
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape} "
                         "(q and k share the last axis; k and v share the sequence axis)")
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)
    weights = softmax(scores)
    return weights @ v, weights


def keras_mha_weights(layer) -> dict[str, np.ndarray]:
    """The weights of a built ``keras.layers.MultiHeadAttention`` by role (query/key/value/output kernels and biases)."""
    names = ["wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo"]
    arrays = layer.get_weights()
    if len(arrays) != len(names):
        raise ValueError(f"expected {len(names)} arrays (a built layer with use_bias=True), got {len(arrays)}")
    return dict(zip(names, (np.asarray(a, dtype=np.float64) for a in arrays)))


def multi_head_attention(query, value, weights: dict[str, np.ndarray], key=None, mask=None):
    """Multi-head attention with Keras' weight layout; returns (output, attention weights per head).

    Each head h projects ``q = query·Wq[:, h] + bq[h]`` (and k, v likewise), runs scaled dot-product
    attention, and the heads are mixed back by ``Wo`` (shape heads × key_dim × d_model) plus ``bo``.
    Shapes: query (batch, Tq, d), value/key (batch, Tv, d); attention weights (batch, heads, Tq, Tv).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = {"wq": rng.normal(size=(4, 2, 3)), "bq": np.zeros((2, 3)), "wk": rng.normal(size=(4, 2, 3)),
    ...      "bk": np.zeros((2, 3)), "wv": rng.normal(size=(4, 2, 3)), "bv": np.zeros((2, 3)),
    ...      "wo": rng.normal(size=(2, 3, 4)), "bo": np.zeros(4)}
    >>> out, att = multi_head_attention(rng.normal(size=(1, 5, 4)), rng.normal(size=(1, 5, 4)), w)
    >>> out.shape, att.shape
    ((1, 5, 4), (1, 2, 5, 5))
    """
    query, value = np.asarray(query, dtype=np.float64), np.asarray(value, dtype=np.float64)
    key = value if key is None else np.asarray(key, dtype=np.float64)
    q = np.einsum("btd,dhk->bhtk", query, weights["wq"]) + weights["bq"][None, :, None, :]
    k = np.einsum("btd,dhk->bhtk", key, weights["wk"]) + weights["bk"][None, :, None, :]
    v = np.einsum("btd,dhk->bhtk", value, weights["wv"]) + weights["bv"][None, :, None, :]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        mask = mask[:, None] if mask.ndim == 3 else mask  # (batch, Tq, Tv) -> per head
    heads, att = scaled_dot_product_attention(q, k, v, mask)
    return np.einsum("bhtk,hkd->btd", heads, weights["wo"]) + weights["bo"], att
