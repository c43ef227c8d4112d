"""Exercise checks of notebook 08 (nlp): used by notebooks/08_nlp.ipynb.

Each checker runs the learner's function on fresh random inputs, compares it with the reference and,
when it differs, also computes the usual wrong answers to name the mistake in its hint.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``."""
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@exercise
def check_attention_weights(func: Callable) -> tuple[bool, str]:
    """Exercise 08.1: ``func(q, k)`` returns the attention weights ``softmax(q kᵀ / √d)`` (rows sum to 1).

    Called on fresh random queries (n_q, d) and keys (n_k, d), with n_q ≠ n_k.

    Examples
    --------
    >>> from aiaas_lib.attention import scaled_dot_product_attention
    >>> check_attention_weights(lambda q, k: scaled_dot_product_attention(q, k, k)[1])
    ✓ attention weights right: each query's scores, scaled by √d, turned into a distribution over keys
    True
    """
    rng = np.random.default_rng()
    n_q, n_k, d = int(rng.integers(3, 6)), int(rng.integers(6, 9)), int(rng.choice([9, 16, 25]))
    q, k = rng.normal(size=(n_q, d)) * 3, rng.normal(size=(n_k, d)) * 3
    result = func(q.copy(), k.copy())
    if result is None:
        return False, f"your function returns None: return the ({n_q}, {n_k}) matrix of weights"
    got = np.asarray(result, dtype=float)
    if got.shape != (n_q, n_k):
        return False, (f"for {n_q} queries and {n_k} keys the weights have shape ({n_q}, {n_k}), "
                       f"got {got.shape}")
    scale = np.sqrt(d)
    if np.allclose(got, _softmax(q @ k.T)):
        return False, f"not scaled: divide the scores by √d (here √{d} = {scale:g}) before the softmax"
    if np.allclose(got, _softmax(q @ k.T / scale, axis=0)):
        return False, "the softmax runs over the wrong axis: each query's weights over the keys must sum to 1"
    if np.allclose(got, _softmax(q @ k.T / d)):
        return False, f"divided by d = {d}: the scale is its square root, √d = {scale:g}"
    if not np.allclose(got, _softmax(q @ k.T / scale)):
        return False, "weights differ from softmax(q kᵀ / √d) taken over the keys (the last axis)"
    return True, ("attention weights right: each query's scores, scaled by √d, "
                  "turned into a distribution over keys")


@exercise
def check_causal_mask(func: Callable) -> tuple[bool, str]:
    """Exercise 08.2: ``func(n)`` returns an (n, n) boolean mask where position i may see positions j <= i.

    Examples
    --------
    >>> check_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool)))
    ✓ causal mask right: no position can look at the future
    True
    """
    n = int(np.random.default_rng().integers(4, 10))
    result = func(n)
    if result is None:
        return False, "your function returns None: return an (n, n) array of booleans"
    got = np.asarray(result)
    want = np.tril(np.ones((n, n), dtype=bool))
    if got.shape != (n, n):
        return False, f"for n = {n} the mask has shape ({n}, {n}), got {got.shape}"
    if np.array_equal(got.astype(bool), want.T):
        return False, "transposed: row i is the query, so it may see columns (keys) j <= i — use np.tril"
    if np.array_equal(got.astype(bool), np.tril(want, -1)):
        return False, "the diagonal is missing: position i may attend to itself (np.tril without k=-1)"
    if not np.array_equal(got.astype(bool), want):
        return False, "position i must see itself and everything before it, nothing after"
    return True, "causal mask right: no position can look at the future"


@exercise
def check_padding_mask(func: Callable) -> tuple[bool, str]:
    """Exercise 08.3: ``func(ids)`` turns token ids (batch, T), 0 = padding, into an attention mask
    (batch, T, T) that is True where query i may attend to key j, i.e. where token j is not padding.

    Called on fresh random batches of right-padded ids.

    Examples
    --------
    >>> check_padding_mask(lambda ids: np.repeat((ids != 0)[:, None, :], ids.shape[1], axis=1))
    ✓ padding mask right: every query ignores the padded keys (and only those)
    True
    """
    rng = np.random.default_rng()
    batch, length = int(rng.integers(3, 6)), int(rng.integers(6, 10))
    lengths = rng.integers(2, length, size=batch)
    lengths[0] = length  # one row without padding
    ids = rng.integers(2, 50, size=(batch, length))
    ids[np.arange(length)[None, :] >= lengths[:, None]] = 0
    result = func(ids.copy())
    if result is None:
        return False, (f"your function returns None: return a ({batch}, {length}, {length}) "
                       "array of booleans")
    got = np.asarray(result)
    real = ids != 0
    if got.shape == (batch, length):
        return False, (f"shape ({batch}, {length}): one row per review, but attention needs one row "
                       f"per query — ({batch}, {length}, {length}); repeat the keys' row for every query")
    if got.shape != (batch, length, length):
        return False, (f"for ids of shape {ids.shape} the mask has shape ({batch}, {length}, {length}), "
                       f"got {got.shape}")
    got = got.astype(bool)
    want = np.broadcast_to(real[:, None, :], got.shape)
    if np.array_equal(got, want):
        return True, "padding mask right: every query ignores the padded keys (and only those)"
    if np.array_equal(got, ~want):
        return False, "inverted: True must mean 'may attend' — a real token (id != 0), not padding"
    if np.array_equal(got, np.broadcast_to(real[:, :, None], got.shape)):
        return False, ("masks the padded queries instead of the padded keys: the last axis is the key j, "
                       "so put the new axis in the middle, ids[:, None, :]")
    if np.array_equal(got, real[:, :, None] & real[:, None, :]):
        return False, ("also masks padded queries: a padded query row with every key masked gives a "
                       "softmax of 0/0 (NaN); mask only the keys, ids[:, None, :]")
    return False, ("mask differs: entry (b, i, j) is True exactly when token j of review b "
                   "is not padding (id != 0)")
