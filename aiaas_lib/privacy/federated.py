"""Used by notebook 16.

Federated averaging (McMahan et al., 2017): the data stays with K clients; each round every client
starts from the global weights, trains locally, and sends back only its weights; the server averages them,
each client weighted by its number of examples:

.. math:: w^{t+1} = \\sum_{k=1}^{K} \\frac{n_k}{n}\\, w_k^{t+1}, \\qquad n = \\sum_k n_k .

Clients are simulated by splitting one dataset: IID (a random equal split) or non-IID by *label skew*:
for every class, the shares of its examples that go to each client are drawn from Dirichlet(α, …, α) —
small α gives each client a few classes, large α approaches IID.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aiaas_lib.privacy.sgd import accuracy, train_sgd
from aiaas_lib.validation import positive_int


def split_clients(y, num_clients: int, alpha: float | None = None, seed: int = 0) -> list[np.ndarray]:
    """Split the row indices of labels ``y`` among ``num_clients`` simulated clients.

    Parameters
    ----------
    y : array-like of int
        Class labels, one per row.
    num_clients : int
        How many clients (≤ the number of rows).
    alpha : float, optional
        ``None``: IID, a random split into near-equal parts. A positive number: label skew, each class
        divided among the clients in Dirichlet(``alpha``) proportions (0.1: very skewed, 100: near IID).
    seed : int
        Fixes the shuffle and the Dirichlet draws.

    Returns
    -------
    list of numpy arrays
        The sorted row indices of each client; together they hold every row exactly once (a client can be
        empty under strong skew).

    Examples
    --------
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> [len(part) for part in split_clients(y, 4)]
    [2, 2, 2, 2]
    >>> sorted(np.concatenate(split_clients(y, 3, alpha=0.5)).tolist()) == list(range(8))
    True
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y must be a non-empty 1-d array of labels; got shape {y.shape}")
    num_clients = positive_int("num_clients", num_clients)
    if num_clients > len(y):
        raise ValueError(f"num_clients={num_clients} is more than the {len(y)} rows to share")
    rng = np.random.default_rng(seed)
    if alpha is None:
        return [np.sort(part) for part in np.array_split(rng.permutation(len(y)), num_clients)]
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha={alpha!r} must be a positive number (Dirichlet concentration) or None for IID")
    parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        shares = rng.dirichlet(np.full(num_clients, float(alpha)))
        cuts = np.round(np.cumsum(shares)[:-1] * len(rows)).astype(int)
        for k, chunk in enumerate(np.split(rows, cuts)):
            parts[k].append(chunk)
    return [np.sort(np.concatenate(chunks)).astype(int) for chunks in parts]


def fedavg(client_weights: Sequence[Sequence[np.ndarray]], client_sizes: Sequence[float]) -> list[np.ndarray]:
    """The sample-weighted mean of the clients' weights, tensor by tensor: :math:`\\sum_k (n_k/n)\\, w_k`.

    Parameters
    ----------
    client_weights : list (clients) of lists (tensors) of arrays
        Each client's ``model.get_weights()``; every client has the same tensors and shapes.
    client_sizes : list of numbers
        Each client's number of training examples :math:`n_k` (≥ 0, not all 0).

    Returns
    -------
    list of numpy arrays
        One averaged array per tensor, in the clients' dtype (computed in float64).

    Examples
    --------
    >>> a = [np.array([0.0, 4.0]), np.array(1.0)]
    >>> b = [np.array([4.0, 0.0]), np.array(3.0)]
    >>> fedavg([a, b], [1, 3])
    [array([3., 1.]), array(2.5)]
    """
    if len(client_weights) == 0:
        raise ValueError("client_weights is empty; give the weights of at least one client")
    if len(client_weights) != len(client_sizes):
        raise ValueError(f"{len(client_weights)} clients' weights but {len(client_sizes)} client_sizes; "
                         "give one size per client")
    sizes = np.asarray(client_sizes, dtype="float64")
    if not np.all(np.isfinite(sizes)) or np.any(sizes < 0) or sizes.sum() <= 0:
        raise ValueError(f"client_sizes={list(client_sizes)!r} must be finite, ≥ 0 and not all 0")
    first = [np.asarray(w) for w in client_weights[0]]
    for k, weights in enumerate(client_weights):
        shapes = [np.shape(w) for w in weights]
        if shapes != [w.shape for w in first]:
            raise ValueError(f"client {k} has tensor shapes {shapes}, client 0 has {[w.shape for w in first]}; "
                             "all clients must share one model architecture")
    share = sizes / sizes.sum()
    out = []
    for i, ref in enumerate(first):
        total = sum(share[k] * np.asarray(weights[i], dtype="float64") for k, weights in enumerate(client_weights))
        out.append(np.asarray(total, dtype=ref.dtype if np.issubdtype(ref.dtype, np.floating) else "float64"))
    return out


@dataclass
class FederatedResult:
    """What :func:`federated_training` gave: test accuracy before training and after every round, the global
    weights, and how many examples each client had."""

    accuracy: list[float]
    weights: list[np.ndarray] = field(repr=False)
    client_sizes: list[int]


def federated_training(model, clients: Sequence[tuple], test: tuple, rounds: int = 5, local_epochs: int = 1,
                       batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> FederatedResult:
    """Federated averaging: each round, every client starts from the global weights, trains ``local_epochs``
    epochs of SGD on its own data, and the server replaces the global weights by :func:`fedavg` of the
    clients' weights. Only weights travel; the data never leaves a client.

    Parameters
    ----------
    model : keras.Model
        Logits output (e.g. :func:`~aiaas_lib.privacy.sgd.mlp_classifier`); its current weights are the
        starting point and it holds the final global weights afterwards.
    clients : list of (x, y)
        Each client's data (empty clients are skipped: they have nothing to contribute).
    test : (x, y)
        Held-out data for the accuracy after each round.

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((40, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 40)
    >>> parts = split_clients(y, 2)
    >>> result = federated_training(mlp_classifier(hidden=8), [(x[p], y[p]) for p in parts], (x, y), rounds=2)
    >>> len(result.accuracy), result.client_sizes
    (3, [20, 20])
    """
    rounds, local_epochs = positive_int("rounds", rounds), positive_int("local_epochs", local_epochs)
    if len(clients) == 0:
        raise ValueError("clients is empty; give at least one client's (x, y)")
    sizes = [len(c[1]) for c in clients]
    if sum(sizes) == 0:
        raise ValueError("every client is empty; there is nothing to train on")
    global_weights = [np.asarray(w) for w in model.get_weights()]
    history = [accuracy(model, *test)]
    for r in range(rounds):
        updates, used = [], []
        for k, (x, y) in enumerate(clients):
            if len(y) == 0:
                continue
            model.set_weights(global_weights)
            train_sgd(model, x, y, epochs=local_epochs, batch_size=batch_size, lr=lr, seed=seed + 1000 * r + k)
            updates.append(model.get_weights())
            used.append(len(y))
        global_weights = fedavg(updates, used)
        model.set_weights(global_weights)
        history.append(accuracy(model, *test))
    return FederatedResult(history, global_weights, sizes)
