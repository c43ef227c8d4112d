"""Exercise checks of notebook 17 (scaling out): used by notebooks/17_scaling_out.ipynb.

Exercises 17.1, 17.2 and 17.6 run the learner's code on fresh random inputs: the per-replica loss of
data-parallel training, the throughput of replicas behind one proxy, and the body of a ``@serve.batch``
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


def _replica_loss(per_example: np.ndarray, global_batch_size: int) -> float:
    """Reference for 17.1: this replica's summed per-example loss divided by the global batch."""
    return float(np.sum(per_example) / global_batch_size)


@exercise
def check_replica_loss(replica_loss) -> tuple[bool, str]:
    """Exercise 17.1: ``replica_loss(per_example, global_batch_size)`` returns the loss one replica
    differentiates — what ``tf.nn.compute_average_loss(per_example, global_batch_size=B)`` computes — so that
    the all-reduced *sum* of the replicas' gradients is the gradient of the mean loss over the global batch.

    It is called on fresh random losses of one replica's slice (``b`` rows of a global batch of ``N * b``).

    Examples
    --------
    >>> check_replica_loss(lambda per_example, global_batch_size: per_example.sum() / global_batch_size)
    ✓ sum over this replica's rows / global batch: the replicas' losses (and gradients) add up to the global mean
    True
    """
    rng = np.random.default_rng()
    for _ in range(5):
        b, n = int(rng.integers(3, 33)), int(rng.integers(2, 9))
        per_example = rng.exponential(1.0, b)
        right = _replica_loss(per_example, n * b)
        got = replica_loss(per_example.copy(), n * b)
        if got is None:
            return False, "your function returns None: write its body (one line of NumPy) and run the cell again"
        if np.ndim(got) > 0:
            return False, (f"your function returns {np.size(got)} numbers, one per row: sum them into one number "
                           "(and divide by the global batch size)")
        got = float(got)
        if np.isclose(got, right, rtol=1e-6, atol=1e-12):
            continue
        if np.isclose(got, per_example.mean()):
            return False, (f"that is the mean over this replica's {b} rows: summed over {n} replicas it is {n}x the "
                           "global mean loss (and gradient); divide the sum by the global batch size")
        if np.isclose(got, per_example.sum()):
            return False, "that is the plain sum: divide it by the global batch size"
        if np.isclose(got, per_example.sum() / (n * b) / n):
            return False, "you divided by the number of replicas twice: sum / global batch is already the share"
        return False, (f"for {b} per-example losses of a global batch of {n * b} the loss is {right:.4g}; got "
                       f"{got:.4g}")
    return True, ("sum over this replica's rows / global batch: the replicas' losses (and gradients) add up to the "
                  "global mean")


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
