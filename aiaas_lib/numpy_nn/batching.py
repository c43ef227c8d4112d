"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

Mini-batches for the NumPy training loops: the same shuffled order for every model trained with one seed."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from aiaas_lib.validation import positive_int


def minibatches(n: int, batch_size: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Index arrays covering ``range(n)`` once, shuffled by ``seed``, ``batch_size`` at a time (the last
    batch may be smaller). Use ``seed=epoch`` for a new order each epoch that is the same for every model.

    Examples
    --------
    >>> [len(idx) for idx in minibatches(10, 4)]
    [4, 4, 2]
    >>> sorted(np.concatenate(list(minibatches(10, 4))).tolist()) == list(range(10))
    True
    """
    n, batch_size = positive_int("n", n), positive_int("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
