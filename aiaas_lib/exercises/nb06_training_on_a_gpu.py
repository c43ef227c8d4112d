"""Exercise checks of notebook 06 (training on a gpu): used by notebooks/06_training_on_a_gpu.ipynb."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_precision_choice(func: Callable) -> tuple[bool, str]:
    """Exercise 06.1: ``func(gpus)`` takes a list of :class:`aiaas_lib.env.GPU` and returns the dtype
    policy to train with: ``"mixed_float16"`` only when every GPU has compute capability ≥ 7.0.

    Examples
    --------
    >>> check_precision_choice(lambda gpus: "mixed_float16" if gpus and all(
    ...     g.supports_mixed_precision for g in gpus) else "float32")
    ✓ right on 7 machines: float16 only where every GPU has tensor cores (compute capability >= 7.0)
    True
    """
    from aiaas_lib.env import GPU

    t4, v100, k80, p100 = GPU("Tesla T4", (7, 5)), GPU("V100", (7, 0)), GPU("K80", (3, 7)), GPU("P100", (6, 0))
    cases = [
        ([], "float32", "with no GPU stay float32: a CPU has no float16 units, so mixed precision only slows it"),
        ([k80], "float32", "a K80 (compute 3.7) has no tensor cores: float16 brings it no speed"),
        ([p100], "float32", "a P100 (compute 6.0) is below 7.0: no tensor cores, stay float32"),
        ([t4], "mixed_float16", "a T4 (compute 7.5) has float16 tensor cores: choose mixed_float16"),
        ([v100], "mixed_float16", "compute capability 7.0 itself (V100) has tensor cores: compare with >= (7, 0)"),
        ([t4, k80], "float32", "with several GPUs every one must support it: all replicas run the same policy"),
        ([GPU("unknown", None)], "float32", "an unknown compute capability is no evidence of tensor cores: float32"),
    ]
    for gpus, want, hint in cases:
        got = func(list(gpus))
        if got not in ("float32", "mixed_float16"):
            return False, f"return the string 'float32' or 'mixed_float16', not {got!r}"
        if got != want:
            return False, hint
    return True, f"right on {len(cases)} machines: float16 only where every GPU has tensor cores (compute capability >= 7.0)"


PIPELINE_STEPS = ("map", "cache", "shuffle", "batch", "prefetch")


@exercise
def check_pipeline_order(steps: Sequence[str]) -> tuple[bool, str]:
    """Exercise 06.2: order the ``tf.data`` steps ``map`` (scale the images), ``cache``, ``shuffle``,
    ``batch`` and ``prefetch`` for a training set.

    Examples
    --------
    >>> check_pipeline_order(["map", "cache", "shuffle", "batch", "prefetch"])
    ✓ map → cache → shuffle → batch → prefetch: work once, new order every epoch, the next batch ready in time
    True
    """
    given = [str(s).strip().lower() for s in steps]
    if sorted(given) != sorted(PIPELINE_STEPS):
        return False, f"use each of {list(PIPELINE_STEPS)} exactly once; got {given}"
    at = {name: i for i, name in enumerate(given)}
    if at["prefetch"] != len(given) - 1:
        return False, "prefetch goes last: it prepares the next batch while the model trains on this one"
    if at["shuffle"] < at["cache"]:
        return False, "shuffle after cache: a cache after shuffle replays the first epoch's order every epoch"
    if at["batch"] < at["shuffle"]:
        return False, "shuffle before batch: shuffling batches keeps the same images together in every epoch"
    if at["cache"] < at["map"]:
        return False, "map before cache: then the scaling runs once and the cache holds the finished images"
    return True, "map → cache → shuffle → batch → prefetch: work once, new order every epoch, the next batch ready in time"


@exercise
def check_global_batch(global_batch, steps_per_epoch, n_images: int = 60_000, replicas: int = 4,
                       per_replica: int = 64) -> tuple[bool, str]:
    """Exercise 06.3: under ``MirroredStrategy`` with ``replicas`` GPUs and ``per_replica`` images per
    GPU, the batch size to give ``dataset.batch()`` and the number of steps in one epoch of
    ``n_images`` images.

    Examples
    --------
    >>> check_global_batch(256, 235)
    ✓ global batch 256 = 4 × 64, split across the replicas; 60000 images → 235 steps (the last one smaller)
    True
    """
    global_batch, steps_per_epoch = int(global_batch), int(steps_per_epoch)
    want_batch = replicas * per_replica
    want_steps = -(-n_images // want_batch)
    if global_batch == per_replica:
        return False, (f"{per_replica} is the per-replica batch: batch the dataset with the global batch "
                       f"(per-replica × replicas); the strategy splits each batch between the {replicas} GPUs")
    if global_batch != want_batch:
        return False, f"global batch {global_batch} is not it: each of the {replicas} replicas takes {per_replica} images"
    if steps_per_epoch == n_images // want_batch and steps_per_epoch != want_steps:
        return False, f"round up: {n_images} / {want_batch} leaves a last, smaller batch, and it is a step too"
    if steps_per_epoch == -(-n_images // per_replica):
        return False, f"each step consumes the global batch of {want_batch} images, not {per_replica}"
    if steps_per_epoch != want_steps:
        return False, f"{steps_per_epoch} steps is not it: divide {n_images} images by the global batch and round up"
    return True, (f"global batch {want_batch} = {replicas} × {per_replica}, split across the replicas; "
                  f"{n_images} images → {want_steps} steps (the last one smaller)")
