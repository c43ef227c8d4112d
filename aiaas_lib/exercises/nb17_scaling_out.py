"""Exercise checks of notebook 17 (scaling out): used by notebooks/17_scaling_out.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 17.1: a global batch over several machines with several replicas (devices) each.
BATCH_TASK = {"global_batch": 256, "workers": 4, "replicas_per_worker": 2}
#: Exercise 17.2: each worker's gradient of the mean loss over its own 32 rows (global batch 64).
GRADIENTS = (np.array([0.4, -1.0, 2.0]), np.array([0.2, 0.6, -1.0]))
#: Exercise 17.3: plan replicas for a target load from a measured per-replica throughput.
REPLICA_TASK = {"target_rps": 1000, "per_replica_rps": 180, "utilization": 0.7}


@exercise
def check_per_replica_batch(batch) -> tuple[bool, str]:
    """Exercise 17.1: rows each replica computes per step for ``BATCH_TASK`` (global batch 256 on 4 workers
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
    """Exercise 17.2: the gradient every worker applies after the all-reduce, given ``GRADIENTS`` (each
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
    """Exercise 17.3: the fewest replicas that serve ``REPLICA_TASK["target_rps"]`` requests/s when one
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
