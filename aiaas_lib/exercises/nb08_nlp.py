"""Exercise checks of notebook 08 (nlp): used by notebooks/08_nlp.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_attention_weights(func: Callable) -> tuple[bool, str]:
    """Exercise 08.1: ``func(q, k)`` returns the attention weights ``softmax(q kᵀ / √d)`` (rows sum to 1).

    Examples
    --------
    >>> from aiaas_lib.attention import scaled_dot_product_attention
    >>> check_attention_weights(lambda q, k: scaled_dot_product_attention(q, k, k)[1])
    ✓ attention weights right: each query's scores, scaled by √d, turned into a distribution over keys
    True
    """
    from aiaas_lib.numpy_nn.activations import softmax

    rng = np.random.default_rng(8)
    q, k = rng.normal(size=(4, 16)) * 3, rng.normal(size=(6, 16)) * 3
    result = func(q.copy(), k.copy())
    if result is None:
        return False, "your function returns None: return the (4, 6) matrix of weights"
    got = np.asarray(result, dtype=float)
    if got.shape != (4, 6):
        return False, f"for 4 queries and 6 keys the weights have shape (4, 6), got {got.shape}"
    want = softmax(q @ k.T / 4.0)
    if np.allclose(got, softmax(q @ k.T)):
        return False, "not scaled: divide the scores by √d (here √16 = 4) before the softmax"
    if np.allclose(got, softmax((q @ k.T / 4.0).T).T):
        return False, "the softmax runs over the wrong axis: each query's weights over the keys must sum to 1"
    if not np.allclose(got, want):
        return False, "weights differ from softmax(q kᵀ / √d) taken over the keys (the last axis)"
    return True, "attention weights right: each query's scores, scaled by √d, turned into a distribution over keys"


@exercise
def check_causal_mask(func: Callable) -> tuple[bool, str]:
    """Exercise 08.2: ``func(n)`` returns an (n, n) boolean mask where position i may see positions j <= i."""
    result = func(5)
    if result is None:
        return False, "your function returns None: return an (n, n) array of booleans"
    got = np.asarray(result)
    want = np.tril(np.ones((5, 5), dtype=bool))
    if got.shape != (5, 5):
        return False, f"for n = 5 the mask has shape (5, 5), got {got.shape}"
    if np.array_equal(got.astype(bool), want.T):
        return False, "transposed: row i is the query, so it may see columns (keys) j <= i — use np.tril"
    if not np.array_equal(got.astype(bool), want):
        return False, "position i must see itself and everything before it, nothing after"
    return True, "causal mask right: no position can look at the future"
