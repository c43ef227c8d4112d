"""Exercise checks of notebook 17 (scaling out): used by notebooks/17_scaling_out.ipynb.

Exercises 17.1, 17.2 and 17.6 run the learner's code on fresh random inputs: a data-parallel SGD step
(two and four replicas must end on one worker's weights), the throughput of replicas behind one proxy, and the body of a ``@serve.batch``
method. 17.3-17.5 check numbers worked out by hand."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 17.3: a global batch over several machines with several replicas (devices) each.
BATCH_TASK = {"global_batch": 256, "workers": 4, "replicas_per_worker": 2}
#: Exercise 17.4: each worker's gradient of the mean loss over its own 32 rows (global batch 64).
GRADIENTS = (np.array([0.4, -1.0, 2.0]), np.array([0.2, 0.6, -1.0]))
#: Exercise 17.5: plan replicas for a target load from a measured per-replica throughput.
REPLICA_TASK = {"target_rps": 1000, "per_replica_rps": 180, "utilization": 0.7}


def _grad_of_sum(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gradient of the summed binary cross-entropy of a logistic regression (as in §1): X^T (sigmoid(Xw) - y)."""
    return X.T @ (1 / (1 + np.exp(-X @ w)) - y)


def _train(X: np.ndarray, y: np.ndarray, w: np.ndarray, lr: float, steps: int, scale: float = 1.0) -> np.ndarray:
    """``steps`` full-batch SGD steps of one worker on the mean loss; ``scale`` multiplies the gradient (it
    builds the typical mistakes: ``n`` for a sum of per-replica means, ``1 / n`` for an average of shares)."""
    for _ in range(steps):
        w = w - lr * scale * _grad_of_sum(X, y, w) / len(X)
    return w


@exercise
def check_data_parallel_step(step) -> tuple[bool, str]:
    """Exercise 17.1: ``step(w, X, y, n_replicas, lr)`` is one SGD step of ``n_replicas`` data-parallel
    replicas on the global batch ``(X, y)`` of a logistic regression: each replica takes its slice
    (``np.array_split``), computes the gradient of its part of the mean loss, the all-reduce combines the
    parts, and every replica applies the same update. It returns the new weights.

    The check draws a fresh global batch and weights, runs 5 steps with 2 and with 4 replicas, and compares the
    weights with one worker taking the whole batch (tolerance 1e-9).

    Examples
    --------
    >>> def step(w, X, y, n_replicas, lr):
    ...     grad = lambda X, y, w: X.T @ (1 / (1 + np.exp(-X @ w)) - y)
    ...     parts = [grad(X[s], y[s], w) / len(X) for s in np.array_split(np.arange(len(X)), n_replicas)]
    ...     return w - lr * np.sum(parts, axis=0)
    >>> check_data_parallel_step(step)
    ✓ 2 and 4 replicas end on one worker's weights after 5 steps (within 1e-09): each part is its slice's sum / the global batch, and the all-reduce sums them
    True
    """
    rng = np.random.default_rng()
    steps, lr, tol = 5, 0.5, 1e-9
    B, d = 8 * int(rng.integers(2, 6)), int(rng.integers(2, 6))
    X, y, w0 = rng.standard_normal((B, d)), (rng.random(B) < 0.5).astype(float), rng.standard_normal(d)
    one_worker = _train(X, y, w0, lr, steps)
    for n in (2, 4):
        w = w0.copy()
        for _ in range(steps):
            w = step(w.copy(), X.copy(), y.copy(), n, lr)
            if w is None:
                return False, "your function returns None: return the new weights (w - lr * the all-reduced gradient)"
            w = np.asarray(w, dtype=float)
            if w.shape != w0.shape:
                return False, f"your function returns shape {w.shape}; the new weights have shape {w0.shape}"
        gap = float(np.abs(w - one_worker).max())
        if gap <= tol:
            continue
        def near(other):
            return float(np.abs(w - other).max()) <= 1e-6
        if near(_train(X, y, w0, lr, steps, scale=n)):
            return False, (f"with {n} replicas your weights move like one worker with a {n}x larger gradient: you "
                           f"summed per-replica means (each replica divided by its own {B // n} rows). Divide each "
                           f"replica's summed gradient by the global batch {B} and sum, or average the means")
        if near(_train(X, y, w0, lr, steps, scale=1 / n)):
            return False, (f"with {n} replicas your gradient is {n}x too small: each part is already divided by the "
                           f"global batch {B}, so the all-reduce must sum the parts, not average them")
        if near(_train(X, y, w0, lr, steps, scale=-1)):
            return False, "your weights climb the loss: the update is w - lr * gradient, not w + lr * gradient"
        if near(w0):
            return False, "your weights never change: return the updated weights, not w"
        return False, (f"with {n} replicas, after {steps} steps your weights differ from one worker's by {gap:.2g} "
                       f"(tolerance {tol:g}): every row must count once, each part divided by the global batch {B}")
    return True, (f"2 and 4 replicas end on one worker's weights after {steps} steps (within {tol:g}): each part is "
                  "its slice's sum / the global batch, and the all-reduce sums them")


def _throughput(replicas: int, work_s: float, hop_s: float) -> float:
    """Reference for 17.2: the slower of the replicas together and the one shared proxy sets the rate."""
    return min(replicas / work_s, 1 / hop_s)


@exercise
def check_throughput(throughput) -> tuple[bool, str]:
    """Exercise 17.2: ``throughput(replicas, work_s, hop_s)`` returns the requests/s that ``replicas``
    replicas reach behind one proxy, with enough requests in flight, when a replica handles one request at a
    time for ``work_s`` seconds and the shared proxy spends ``hop_s`` seconds on each request.

    It is called on fresh random cases, some limited by the replicas and some by the proxy.

    Examples
    --------
    >>> check_throughput(lambda replicas, work_s, hop_s: min(replicas / work_s, 1 / hop_s))
    ✓ min(replicas / work_s, 1 / hop_s): the slowest stage sets the rate; adding replicas stops helping at replicas = work_s / hop_s
    True
    """
    rng = np.random.default_rng()
    cases = [(int(rng.integers(1, 3)), float(rng.uniform(0.02, 0.05)), float(rng.uniform(0.002, 0.005))),
             (int(rng.integers(20, 40)), float(rng.uniform(0.02, 0.05)), float(rng.uniform(0.002, 0.005)))]
    cases += [(int(rng.integers(1, 17)), float(rng.uniform(0.001, 0.05)), float(rng.uniform(0.001, 0.01)))
              for _ in range(4)]
    for replicas, work_s, hop_s in cases:
        right = _throughput(replicas, work_s, hop_s)
        got = throughput(replicas, work_s, hop_s)
        if got is None:
            return False, "your function returns None: write its body (one line) and run the cell again"
        got = float(got)
        if np.isclose(got, right, rtol=1e-6):
            continue
        case = f"(replicas={replicas}, work_s={work_s:.4f}, hop_s={hop_s:.4f})"
        if np.isclose(got, replicas / work_s):
            return False, (f"{case}: you forgot the proxy: every request passes it, so the rate can never exceed "
                           f"1 / hop_s = {1 / hop_s:.0f} requests/s")
        if np.isclose(got, 1 / (work_s / replicas + hop_s)) or np.isclose(got, replicas / (work_s + hop_s)):
            return False, (f"{case}: adding the hop to the work treats the stages as taking turns; with requests in "
                           "flight the proxy and the replicas work at the same time, so the slower stage sets the "
                           "rate (a min, not a sum)")
        if np.isclose(got, 1 / work_s):
            return False, f"{case}: that is one replica; {replicas} replicas each serve 1 / work_s"
        return False, f"{case}: expected {right:.1f} requests/s, got {got:.1f}"
    return True, ("min(replicas / work_s, 1 / hop_s): the slowest stage sets the rate; adding replicas stops "
                  "helping at replicas = work_s / hop_s")


@exercise
def check_per_replica_batch(batch) -> tuple[bool, str]:
    """Exercise 17.3: rows each replica computes per step for ``BATCH_TASK`` (global batch 256 on 4 workers
    with 2 replicas each).

    Examples
    --------
    >>> check_per_replica_batch(32)
    ✓ 256 rows / (4 workers × 2 replicas) = 32 rows per replica per step
    True
    """
    t = BATCH_TASK
    replicas = t["workers"] * t["replicas_per_worker"]
    right = t["global_batch"] // replicas
    if isinstance(batch, bool) or float(batch) != int(float(batch)):
        return False, f"a batch is a whole number of rows; got {batch!r}"
    batch = int(float(batch))
    if batch == right:
        return True, (f"{t['global_batch']} rows / ({t['workers']} workers × {t['replicas_per_worker']} replicas) = "
                      f"{right} rows per replica per step")
    if batch == t["global_batch"] // t["workers"]:
        return False, "that is the batch of one worker; each worker splits it again over its replicas"
    if batch == t["global_batch"] // t["replicas_per_worker"]:
        return False, "you divided by the replicas of one worker only; every replica on every worker takes a slice"
    if batch == t["global_batch"]:
        return False, "that is the global batch: all replicas together compute it, each a slice"
    if batch == t["global_batch"] * replicas:
        return False, "the global batch is split over the replicas, not multiplied"
    return False, f"{batch} is not it; divide the global batch by the number of replicas in sync"


@exercise
def check_averaged_gradient(gradient) -> tuple[bool, str]:
    """Exercise 17.4: the gradient every worker applies after the all-reduce, given ``GRADIENTS`` (each
    worker's gradient of the mean loss over its own equal slice of the global batch).

    Examples
    --------
    >>> check_averaged_gradient((GRADIENTS[0] + GRADIENTS[1]) / 2)
    ✓ the mean of the two workers' gradients [0.3, -0.2, 0.5]: the gradient of the mean loss over the global batch
    True
    """
    g1, g2 = GRADIENTS
    right = (g1 + g2) / 2
    got = np.asarray(gradient, dtype=np.float64)
    if got.shape != right.shape:
        return False, f"the gradient has one entry per weight: shape {right.shape}; got {got.shape}"
    if np.allclose(got, right):
        return True, (f"the mean of the two workers' gradients {np.round(right, 4).tolist()}: the gradient of the mean "
                      "loss over the global batch")
    if np.allclose(got, g1 + g2):
        return False, ("the sum of two *mean* gradients counts every row twice as much: each worker's gradient is "
                       "over half the batch, so average them (or sum gradients of sum/global_batch losses)")
    if np.allclose(got, g1) or np.allclose(got, g2):
        return False, "that is one worker's gradient; the all-reduce combines both, so every worker applies the same"
    if np.allclose(got, np.full_like(right, right.mean())):
        return False, "average the two vectors entry by entry, not all entries into one number"
    return False, "not it: combine the two vectors so that every row of the global batch has the same weight"


@exercise
def check_replicas_for_target(replicas) -> tuple[bool, str]:
    """Exercise 17.5: the fewest replicas that serve ``REPLICA_TASK["target_rps"]`` requests/s when one
    replica was measured at ``per_replica_rps`` and replicas should run at most ``utilization`` busy.

    Examples
    --------
    >>> check_replicas_for_target(8)
    ✓ ceil(1000 / (180 × 0.7)) = 8 replicas: 1008 requests/s of capacity at 70% load
    True
    """
    import math

    t = REPLICA_TASK
    capacity = t["per_replica_rps"] * t["utilization"]
    right = math.ceil(t["target_rps"] / capacity)
    if isinstance(replicas, bool) or float(replicas) != int(float(replicas)):
        return False, f"replicas come whole: round up; got {replicas!r}"
    replicas = int(float(replicas))
    if replicas == right:
        return True, (f"ceil({t['target_rps']} / ({t['per_replica_rps']} × {t['utilization']})) = {right} replicas: "
                      f"{round(right * capacity)} requests/s of capacity at {t['utilization']:.0%} load")
    if replicas == math.ceil(t["target_rps"] / t["per_replica_rps"]):
        return False, (f"that runs every replica at 100 %: latency explodes near saturation; plan for "
                       f"{t['utilization']:.0%} busy")
    if replicas == math.floor(t["target_rps"] / capacity):
        return False, "round up, not down: a fraction of a replica is a whole one"
    return False, f"{replicas} is not it; divide the target by what one replica should carry (rate × utilization)"


class _CountingModel:
    """A stand-in model for 17.6: a random logistic regression over columns ``a``, ``b``, ``c`` of a pandas
    DataFrame; it records the number of rows of every call."""

    def __init__(self, rng):
        self.w, self.calls = rng.normal(size=3), []

    def __call__(self, frame) -> np.ndarray:
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"the model takes a pandas DataFrame, got {type(frame).__name__}")
        self.calls.append(len(frame))
        return 1 / (1 + np.exp(-frame[["a", "b", "c"]].to_numpy(float) @ self.w))


@exercise
def check_batch_predict(batch_predict) -> tuple[bool, str]:
    """Exercise 17.6: ``batch_predict(requests, model)`` is the body of a ``@serve.batch`` method: ``requests``
    is a list of one-row requests (dicts of column values), ``model`` takes a pandas DataFrame and returns one
    number per row. Return one answer per request, in the requests' order, with **one** model call.

    It is called on fresh random batches of 2 to 9 requests, with a model that counts its calls.

    Examples
    --------
    >>> import pandas as pd
    >>> check_batch_predict(lambda requests, model: list(model(pd.DataFrame(requests))))
    ✓ one model call for the whole list, answer i to request i: what @serve.batch needs
    True
    """
    import pandas as pd

    rng = np.random.default_rng()
    for _ in range(5):
        k = int(rng.integers(2, 10))
        requests = [{c: float(v) for c, v in zip("abc", rng.normal(size=3))} for _ in range(k)]
        model = _CountingModel(rng)
        right = model(pd.DataFrame(requests))
        model.calls.clear()
        got = batch_predict([dict(r) for r in requests], model)
        if got is None:
            return False, "your function returns None: write its body and run the cell again"
        if not model.calls:
            return False, "your function never called the model: the answers must come from model(...)"
        if len(model.calls) == k and set(model.calls) == {1}:
            return False, (f"you called the model once per request ({k} calls of 1 row): put the {k} requests in one "
                           "DataFrame, pd.DataFrame(requests), and call the model once — that one call is what "
                           "batching saves")
        if len(model.calls) > 1:
            return False, f"the model was called {len(model.calls)} times for {k} requests; once is enough"
        if isinstance(got, (pd.DataFrame, pd.Series)):
            got = got.to_numpy().ravel()
        got = list(got)
        if len(got) != k:
            return False, (f"{k} requests, {len(got)} answers: Serve hands answer i back to request i, so return a "
                           f"list of {k} answers (e.g. list(predictions)), not one item holding them all")
        got = np.asarray(got, dtype=float).ravel()
        if got.shape != right.shape:
            return False, f"expected one number per request ({k}), got {got.size} numbers"
        if np.allclose(got, right, rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(np.sort(got), np.sort(right), rtol=1e-6, atol=1e-9):
            return False, "the right answers in the wrong order: answer i must belong to request i"
        return False, f"for {k} requests expected {np.round(right, 4).tolist()}, got {np.round(got, 4).tolist()}"
    return True, "one model call for the whole list, answer i to request i: what @serve.batch needs"
