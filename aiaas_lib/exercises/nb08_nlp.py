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
    :func:`aiaas_lib.language.embeddings.mean_pool`. Called on fresh random inputs with different lengths per row,
    ``batch`` never equal to ``dim`` (so dividing by ``real.sum(axis=1)`` without ``keepdims`` cannot pass by
    broadcasting: it gets a hint to use ``keepdims=True``).

    Examples
    --------
    >>> def pool(x, real):
    ...     m = real[:, :, None]
    ...     return (x * m).sum(axis=1) / m.sum(axis=1)
    >>> check_mean_pool(pool)
    ✓ masked mean pooling right: each row averages its real tokens only, divided by how many there are
    True
    >>> check_mean_pool(lambda x, real: (x * real[:, :, None]).sum(axis=1) / real.sum(axis=1))  # doctest: +ELLIPSIS
    ✗ ValueError: operands could not be broadcast together ... keepdims=True), shape (..., 1)
    False
    """
    rng = np.random.default_rng()
    batch, length = int(rng.integers(3, 6)), int(rng.integers(6, 10))
    dim = int(rng.choice([d for d in range(2, 6) if d != batch]))  # dim != batch (no broadcast), < T
    lengths = rng.integers(1, length, size=batch)
    lengths[0] = length  # one row without padding
    real = np.arange(length)[None, :] < lengths[:, None]
    x = rng.normal(size=(batch, length, dim)) + 2.0  # padded positions hold vectors too
    try:
        result = func(x.copy(), real.copy())
    except ValueError as err:
        if "broadcast" not in str(err):
            raise
        return False, (f"ValueError: {err}. Dividing the ({batch}, {dim}) sums by real.sum(axis=1), shape ({batch},), "
                       f"cannot broadcast: keep each row's count as a column, real.sum(axis=1, keepdims=True), "
                       f"shape ({batch}, 1)")
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


_WORDS = ("good", "not", "bad", "tea", "coffee", "at", "all", "great", "taste", "very", "sweet", "too")


def _ngrams(tokens: list[str], n: int) -> list[str]:
    """The reference: every width 1..n in turn, each n-gram's words joined by one space."""
    return [" ".join(tokens[i:i + k]) for k in range(1, n + 1) for i in range(len(tokens) - k + 1)]


@exercise
def check_ngrams(func: Callable) -> tuple[bool, str]:
    """Exercise 08.2: ``func(tokens, n)`` returns the tokens ``TextVectorization(ngrams=n)`` makes from a list of words.

    That is all single words, then all pairs of neighbours, ..., up to n words in a row, each joined by one
    space: what ``tf.strings.ngrams(tokens, ngram_width=(1, ..., n), separator=" ")`` returns (the layer calls
    it; tests/test_exercises_08.py checks the two agree). Called on fresh random word lists with a random
    n from 2 to 4, one list shorter than n.

    Examples
    --------
    >>> def ngrams(tokens, n):
    ...     return [" ".join(tokens[i:i + k]) for k in range(1, n + 1) for i in range(len(tokens) - k + 1)]
    >>> ngrams(["not", "good", "at", "all"], 2)
    ['not', 'good', 'at', 'all', 'not good', 'good at', 'at all']
    >>> check_ngrams(ngrams)
    ✓ n-grams right: every width from 1 to n, in order, words joined by one space
    True
    """
    rng = np.random.default_rng()
    n = int(rng.integers(2, 5))
    sizes = [int(size) for size in rng.integers(n + 2, n + 7, size=3)] + [n - 1]  # the last list is shorter than n
    lists = [[str(word) for word in rng.choice(_WORDS, size=size)] for size in sizes]
    lists[0][-1] = lists[0][0]  # a word that occurs twice
    got = [func(list(tokens), n) for tokens in lists]
    if any(result is None for result in got):
        return False, "your function returns None: return the list of n-gram strings"
    got = [list(result) for result in got]
    if any(not isinstance(gram, str) for result in got for gram in result):
        return False, "return strings: join the words of each n-gram with one space, ' '.join(tokens[i:i + k])"
    want = [_ngrams(tokens, n) for tokens in lists]
    if got == want:
        return True, "n-grams right: every width from 1 to n, in order, words joined by one space"
    if got == [[" ".join(t[i:i + n]) for i in range(len(t) - n + 1)] for t in lists]:
        return False, (f"only the {n}-grams: TextVectorization(ngrams={n}) keeps every width from 1 to {n}, "
                       "the single words first")
    if got == [_ngrams(tokens, n - 1) for tokens in lists]:
        return False, f"stops at width {n - 1}: the widths run from 1 to n inclusive, range(1, n + 1)"
    if got == [[" ".join(t[i:i + k]) for k in range(1, n + 1) for i in range(len(t) - k)] for t in lists]:
        return False, ("the last n-gram of each width is missing: an n-gram of width k can start at positions "
                       "0 … len(tokens) - k, that is range(len(tokens) - k + 1)")
    if got[:-1] == want[:-1]:
        return False, (f"wrong for a list shorter than n ({lists[-1]}, n = {n}): it has only the n-grams "
                       f"that fit, {want[-1]}")
    if all(len(g) == len(w) and [x.replace(" ", "") for x in g] == [x.replace(" ", "") for x in w]
           for g, w in zip(got, want)):
        return False, "the words of an n-gram are joined by one space: ' '.join(...) gives 'not good'"
    if all(sorted(g) == sorted(w) for g, w in zip(got, want)):
        return False, ("right n-grams, wrong order: all single words first, then all pairs, and so on — "
                       "loop over the width k outside and the start position i inside")
    if all(sorted(set(g)) == sorted(set(w)) for g, w in zip(got, want)):
        return False, "an n-gram that occurs twice must appear twice (the layer counts every occurrence): no set()"
    return False, "n-grams differ: width 1, then 2, … up to n, each window of neighbouring words joined by one space"


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
