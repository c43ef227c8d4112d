"""Exercise checks of notebook 06 (training on a gpu): used by notebooks/06_training_on_a_gpu.ipynb.

Exercises 06.1 and 06.2 make the learner write a function: the precision decision (tried on seven made-up
machines) and a ``tf.data`` training pipeline with a random flip (run for two epochs on fresh random
images, each output image traced back to its input to catch the usual ordering mistakes).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
        ([], "float32", "with no GPU stay float32: the course's rule switches mixed precision on only for GPUs with "
                        "tensor cores; on a CPU only a measured training step could justify it (notebook §7)"),
        ([k80], "float32", "a K80 (compute 3.7) has no tensor cores: float16 brings it no speed"),
        ([p100], "float32", "a P100 (compute 6.0) is below 7.0: no tensor cores, stay float32"),
        ([t4], "mixed_float16", "a T4 (compute 7.5) has float16 tensor cores: choose mixed_float16"),
        ([v100], "mixed_float16", "compute capability 7.0 itself (V100) has tensor cores: compare with >= (7, 0)"),
        ([t4, k80], "float32", "with several GPUs every one must support it: all replicas run the same policy"),
        ([GPU("unknown", None)], "float32", "an unknown compute capability is no evidence of tensor cores: float32"),
    ]
    for gpus, want, hint in cases:
        try:
            got = func(list(gpus))
        except TypeError as err:
            if any(g.compute_capability is None for g in gpus):
                return False, ("compute_capability can be None (unknown): test `is not None` before comparing it "
                               f"with (7, 0); an unknown GPU gets float32 ({type(err).__name__}: {err})")
            raise
        if got not in ("float32", "mixed_float16"):
            return False, f"return the string 'float32' or 'mixed_float16', not {got!r}"
        if got != want:
            return False, hint
    return True, f"right on {len(cases)} machines: float16 only where every GPU has tensor cores (compute capability >= 7.0)"


def _pipeline_example(x, y, batch_size, seed):
    """A correct answer to exercise 06.2 (for the Examples and the tests)."""
    from aiaas_lib import env

    tf = env.import_tensorflow()
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda image, label: (tf.cast(image, tf.float32)[..., None] / 255.0, label))
    ds = ds.cache()
    rng = tf.random.Generator.from_seed(seed)  # its state moves on, so every epoch draws new flips

    def flip(image, label):
        return tf.cond(rng.uniform([]) < 0.5, lambda: tf.image.flip_left_right(image), lambda: image), label

    ds = ds.map(flip)
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _stages(ds) -> list[str]:
    """The tf.data stage names of a pipeline, last first (e.g. ['Prefetch', 'Batch', ...]); [] if unknown."""
    names = []
    while ds is not None and len(names) < 50:
        names.append(type(ds).__name__.strip("_").replace("Dataset", "").replace("Parallel", ""))
        inputs = getattr(ds, "_input_dataset", None)
        ds = inputs
    return names


def _epoch(ds, originals, flipped):
    """One pass over the learner's dataset: per batch, the indices, flip flags and labels it holds."""
    batches = []
    for element in ds:
        if not isinstance(element, (tuple, list)) or len(element) != 2:
            raise _Wrong("yield (images, labels) pairs: keep the labels in the dataset beside their images")
        images, labels = (np.asarray(element[0]), np.asarray(element[1]))
        if images.ndim == 3:
            raise _Wrong(f"a batch has shape {images.shape}: add the channel axis, (28, 28) -> (28, 28, 1)")
        if images.ndim != 4 or images.shape[1:] != originals.shape[1:]:
            raise _Wrong(f"a batch has shape {images.shape}; expected (batch, 28, 28, 1)")
        if images.dtype != np.float32:
            raise _Wrong(f"images are {images.dtype}; cast them to float32 before dividing by 255")
        if images.max() > 1.0 + 1e-6:
            raise _Wrong(f"pixel values reach {images.max():.0f}: divide by 255 so they lie in [0, 1]")
        flat = images.reshape(len(images), -1)
        d_orig = ((flat[:, None, :] - originals.reshape(len(originals), -1)[None]) ** 2).max(-1)
        d_flip = ((flat[:, None, :] - flipped.reshape(len(flipped), -1)[None]) ** 2).max(-1)
        ids, flips = [], []
        for row_o, row_f in zip(d_orig, d_flip):
            i_o, i_f = int(row_o.argmin()), int(row_f.argmin())
            if row_o[i_o] < 1e-8:
                ids.append(i_o), flips.append(False)
            elif row_f[i_f] < 1e-8:
                ids.append(i_f), flips.append(True)
            else:
                raise _Wrong("an image is neither an input image scaled to [0, 1] nor its left-right mirror: "
                             "only scale (/ 255) and flip, nothing else")
        batches.append((ids, flips, labels.reshape(-1).tolist()))
    return batches


class _Wrong(Exception):
    """A wrong answer with its hint."""


@exercise
def check_pipeline(func: Callable, trials: int = 2) -> tuple[bool, str]:
    """Exercise 06.2: ``func(x, y, batch_size, seed)`` builds the training pipeline for uint8 images ``x``
    of shape (n, 28, 28) and int labels ``y``: scale to float32 in [0, 1] with a channel axis, ``cache``,
    flip each image left-right at random (a new draw every epoch, even under a global seed), ``shuffle`` the whole set (a new
    order every epoch), ``batch``, ``prefetch``. The check runs it for two epochs on fresh random images.

    Examples
    --------
    >>> check_pipeline(_pipeline_example)
    ✓ right on 2 fresh data sets: scaled once and cached, new flips and a new order every epoch, fresh batches, prefetched
    True
    """
    rng = np.random.default_rng()
    for _ in range(trials):
        n, batch_size = int(rng.integers(80, 121)), int(rng.choice([8, 16]))
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype("int32")
        originals = (x.astype(np.float32) / 255.0)[..., None]
        flipped = originals[:, :, ::-1, :]
        ds = func(x, y, batch_size, int(rng.integers(0, 10_000)))
        if not hasattr(ds, "element_spec") or not hasattr(ds, "batch"):
            return False, f"return the tf.data.Dataset itself, not {type(ds).__name__}"
        try:
            epochs = [_epoch(ds, originals, flipped) for _ in range(2)]
        except _Wrong as wrong:
            return False, str(wrong)
        first, second = epochs
        sizes = [len(ids) for ids, _, _ in first]
        if sorted(sizes) != sorted([batch_size] * (n // batch_size) + [n % batch_size] * (n % batch_size > 0)):
            return False, f"batches of {sizes[:3]}... images: batch with the batch_size argument ({batch_size})"
        for epoch in epochs:
            ids = [i for b in epoch for i in b[0]]
            if sorted(ids) != list(range(n)):
                return False, (f"an epoch must hold each of the {n} images exactly once; it held {len(ids)} "
                               f"({len(set(ids))} different): no repeat() or take() in the pipeline")
            if any(label != y[i] for b in epoch for i, label in zip(b[0], b[2])):
                return False, "a label left its image: slice (x, y) together and shuffle the pairs, not x alone"
        order = [[i for b in epoch for i in b[0]] for epoch in epochs]
        if order[0] == list(range(n)):
            return False, "the first epoch comes in the input order: shuffle the training set"
        if order[0] == order[1]:
            return False, ("both epochs came in the same order: shuffle after cache (a cache after shuffle replays "
                           "the first order) with reshuffle_each_iteration=True")
        if sorted(map(sorted, (b[0] for b in first))) == sorted(map(sorted, (b[0] for b in second))):
            return False, ("every epoch has the same batches, only reordered: shuffle before batch, so the images "
                           "meet new neighbours every epoch")
        if max(first[0][0]) < 3 * batch_size:
            return False, (f"the first batch holds only images from the first {max(first[0][0]) + 1} of {n}: "
                           "a small shuffle buffer only mixes neighbours; use a buffer of len(x)")
        flips = [dict(zip((i for b in e for i in b[0]), (f for b in e for f in b[1]))) for e in epochs]
        if all(all(f.values()) or not any(f.values()) for f in flips):
            return False, "flip at random (tf.image.random_flip_left_right), not every image or none"
        if flips[0] == flips[1]:
            stages = _stages(ds)
            if "Cache" in stages and "Map" in stages[:stages.index("Cache")]:  # a map runs after the cache
                return False, ("every image got the same flip in both epochs although the flip comes after cache: "
                               "with a global seed set (config.set_seed / tf.random.set_seed), "
                               "tf.image.random_flip_left_right starts its draws afresh every epoch; draw from a "
                               "tf.random.Generator.from_seed(seed), whose state moves on")
            return False, ("every image got the same flip in both epochs: the random map ran before cache, so the "
                           "cache froze it; cache the scaled images, then flip")
        stages = _stages(ds)
        if stages and stages[0] != "Prefetch":
            return False, f"end with .prefetch(tf.data.AUTOTUNE) so the next batch is ready in time (last stage: {stages[0]})"
        if stages and "Cache" not in stages:
            return False, "cache the scaled images (before the random flip), so the scaling runs once, not every epoch"
    return True, (f"right on {trials} fresh data sets: scaled once and cached, new flips and a new order every epoch, "
                  "fresh batches, prefetched")


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
