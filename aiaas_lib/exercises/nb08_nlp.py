"""Exercise checks of notebook 08 (nlp): used by notebooks/08_nlp.ipynb.

Each checker runs the learner's function on fresh random inputs, compares it with the reference and,
when it differs, also computes the usual wrong answers to name the mistake in its hint.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_mean_pool(func: Callable) -> tuple[bool, str]:
    """Exercise 08.1: ``func(x, real)`` returns masked mean pooling: the mean of each row's real token vectors.

    ``x`` has shape (batch, T, dim) — every position holds a vector, padding included, as inside a
    transformer — and ``real`` (batch, T) is True for real tokens. The answer has shape (batch, dim), like
    :func:`aiaas_lib.language.embeddings.mean_pool`. Called on fresh random inputs with different lengths per row.

    Examples
    --------
    >>> def pool(x, real):
    ...     m = real[:, :, None]
    ...     return (x * m).sum(axis=1) / m.sum(axis=1)
    >>> check_mean_pool(pool)
    ✓ masked mean pooling right: each row averages its real tokens only, divided by how many there are
    True
    """
    rng = np.random.default_rng()
    batch, length, dim = int(rng.integers(3, 6)), int(rng.integers(6, 10)), int(rng.integers(3, 6))
    lengths = rng.integers(1, length, size=batch)
    lengths[0] = length  # one row without padding
    real = np.arange(length)[None, :] < lengths[:, None]
    x = rng.normal(size=(batch, length, dim)) + 2.0  # padded positions hold vectors too
    result = func(x.copy(), real.copy())
    if result is None:
        return False, f"your function returns None: return the ({batch}, {dim}) array of review vectors"
    got = np.asarray(result, dtype=float)
    if got.shape != (batch, dim):
        return False, (f"for x of shape {x.shape} the answer has shape ({batch}, {dim}): one vector per row, "
                       f"averaged over the token axis (axis=1), got {got.shape}")
    m = real[:, :, None].astype(float)
    want = (x * m).sum(axis=1) / m.sum(axis=1)
    if np.allclose(got, want):
        return True, "masked mean pooling right: each row averages its real tokens only, divided by how many there are"
    if np.allclose(got, (x * m).sum(axis=1) / length):
        return False, (f"divided by T = {length} (all positions) instead of the number of real tokens in each row: "
                       "divide by real.sum(axis=1), kept as a column")
    if np.allclose(got, x.mean(axis=1)):
        return False, "the padding vectors are averaged in too: multiply by the mask before summing"
    if np.allclose(got, x.sum(axis=1) / m.sum(axis=1)):
        return False, "divided by the number of real tokens, but the sum still includes the padding vectors"
    if np.allclose(got, (x * m).sum(axis=1) / m.sum()):
        return False, "divided by the real tokens of the whole batch: count each row's real tokens, real.sum(axis=1)"
    return False, "values differ from the mean of each row's real token vectors (x where real is True)"


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

    The broadcastable form (batch, 1, T), ``(ids != 0)[:, None, :]``, is accepted: it is what Keras'
    ``attention_mask`` and NumPy broadcasting expand to (batch, T, T).

    Called on fresh random batches of right-padded ids.

    Examples
    --------
    >>> check_padding_mask(lambda ids: np.repeat((ids != 0)[:, None, :], ids.shape[1], axis=1))
    ✓ padding mask right: every query ignores the padded keys (and only those)
    True
    >>> check_padding_mask(lambda ids: (ids != 0)[:, None, :])  # broadcastable: Keras accepts it too
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
    if got.shape in ((batch, 1, length), (batch, length, 1)):  # the broadcastable form Keras accepts too
        got = np.broadcast_to(got, (batch, length, length))
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
