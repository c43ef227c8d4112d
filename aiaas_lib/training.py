"""Used by notebooks 06 and 11.

GPU-aware training helpers: devices, distribution strategy, precision and XLA decisions, the tf.data
image pipeline, the standard callbacks (best checkpoint, early stopping, backup and resume, CSV log) and
throughput in images per second.

Every decision is a pure function of what the machine has (:func:`precision_policy` and :func:`use_jit`
take a list of :class:`aiaas_lib.env.GPU`), so it can be tested on a CPU with made-up GPUs. On a
GPU-less machine the answers are the safe ones: float32, no XLA, the default strategy. Mixed precision,
XLA and ``MirroredStrategy`` all *run* on a CPU (the notebook shows it) but make it slower.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiaas_lib import env
from aiaas_lib.validation import integer, positive_int

#: Precision policies :func:`precision_policy` may return or accept in ``prefer``.
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


# -------------------------------------------------------------------------------------------- devices
@dataclass
class Devices:
    """What TensorFlow can compute on: logical CPU and GPU device names, and the physical GPUs."""

    cpus: list[str]
    gpus: list[str]
    physical_gpus: list[env.GPU] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the logical devices and, for each GPU, its compute capability."""
        gpu = ", ".join(
            f"{g.name} (compute {'.'.join(map(str, g.compute_capability or ())) or '?'})" for g in self.physical_gpus
        )
        return (f"{len(self.cpus)} logical CPU device(s) {self.cpus}; "
                f"{len(self.gpus)} GPU(s){': ' + gpu if gpu else ''}")


def devices() -> Devices:
    """The logical devices TensorFlow uses now (this initialises TensorFlow's devices).

    Examples
    --------
    >>> found = devices()
    >>> found.cpus[0]
    '/device:CPU:0'
    >>> len(found.gpus) == len(found.physical_gpus)
    True
    """
    tf = env.import_tensorflow()
    return Devices(
        cpus=[d.name for d in tf.config.list_logical_devices("CPU")],
        gpus=[d.name for d in tf.config.list_logical_devices("GPU")],
        physical_gpus=env.gpus(),
    )


def split_cpu(n: int = 2) -> list[str]:
    """Split the CPU into ``n`` logical devices, so a distribution strategy can be tried without GPUs.

    Must run before TensorFlow initialises its devices, i.e. before the first tensor, model or
    :func:`devices` call of the process (``env.import_tensorflow()`` and ``env.check()`` are fine).
    Calling it again with the same ``n`` does nothing. The logical devices share the same cores: this
    shows how a strategy works, not a speed-up.

    Returns
    -------
    list of str
        The logical CPU device names, e.g. ``['/device:CPU:0', '/device:CPU:1']``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive int.
    RuntimeError
        If TensorFlow's devices are already initialised with another layout (restart the process or
        kernel and call this first).

    Examples
    --------
    >>> try:  # in a fresh process this returns the two device names
    ...     names = split_cpu(2)
    ... except RuntimeError as err:  # here other examples initialised the devices already
    ...     names = str(err)
    >>> isinstance(names, (list, str))
    True
    """
    n = positive_int("n", n, hint="the number of logical CPU devices")
    tf = env.import_tensorflow()
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != n:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError as err:
            have = len(tf.config.list_logical_devices("CPU"))
            raise RuntimeError(
                f"split_cpu({n}) is too late: TensorFlow already initialised its devices ({have} logical CPU "
                "device(s)). Call split_cpu first, before any tensor, model or devices() call: restart the "
                "kernel (or process) and run it right after env.import_tensorflow()"
            ) from err
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def strategy(devices: Sequence[str] | None = None):
    """The distribution strategy to build and train a model under.

    Parameters
    ----------
    devices : sequence of str, optional
        ``None`` (the default) decides from the machine: ``MirroredStrategy`` over all GPUs when there
        are two or more, else the default strategy (one device, no replication). Given explicitly, e.g.
        ``["/cpu:0", "/cpu:1"]`` after :func:`split_cpu`, two or more devices give a ``MirroredStrategy``
        over them and one device a ``OneDeviceStrategy``.

    Raises
    ------
    ValueError
        If ``devices`` is empty, repeats a device, or names a device TensorFlow does not have.

    Examples
    --------
    >>> strategy().num_replicas_in_sync
    1
    >>> type(strategy(["/cpu:0"])).__name__
    'OneDeviceStrategy'
    """
    tf = env.import_tensorflow()
    if devices is None:
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) >= 2:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        return tf.distribute.get_strategy()
    if isinstance(devices, str) or not len(devices):
        raise ValueError(f"devices={devices!r} must be a non-empty list of device names like ['/cpu:0', '/cpu:1']")
    known = {d.name for d in tf.config.list_logical_devices()}
    canonical = [_canonical_device(d) for d in devices]
    unknown = [d for d, c in zip(devices, canonical) if c not in known]
    if unknown:
        raise ValueError(f"unknown device(s) {unknown}; TensorFlow has {sorted(known)} "
                         "(more CPU devices need split_cpu before TensorFlow starts)")
    if len(set(canonical)) != len(canonical):
        raise ValueError(f"devices={list(devices)!r} names a device twice; each replica needs its own device")
    if len(canonical) == 1:
        return tf.distribute.OneDeviceStrategy(canonical[0])
    return tf.distribute.MirroredStrategy(canonical)


def _canonical_device(name: str) -> str:
    """'/cpu:0' or 'CPU:0' -> '/device:CPU:0' (the form list_logical_devices uses)."""
    text = str(name).strip().lstrip("/")
    text = text.split("device:", 1)[-1]
    kind, _, index = text.partition(":")
    return f"/device:{kind.upper()}:{index or '0'}"


# ----------------------------------------------------------------------------- precision and XLA
def _check_gpus(gpus) -> list[env.GPU]:
    """Validate a list of env.GPU (pure)."""
    if isinstance(gpus, (str, bytes)) or not isinstance(gpus, Sequence):
        raise ValueError(f"gpus={gpus!r} must be a list of aiaas_lib.env.GPU (or None to look at this machine)")
    bad = [g for g in gpus if not isinstance(g, env.GPU)]
    if bad:
        raise ValueError(f"gpus holds {bad!r}; every item must be an aiaas_lib.env.GPU")
    return list(gpus)


def precision_policy(gpus: Sequence[env.GPU] | None = None, prefer: str = "auto") -> str:
    """The Keras dtype policy to train with: ``"mixed_float16"`` when every GPU has float16 tensor
    cores (compute capability ≥ 7.0), else ``"float32"``.

    Parameters
    ----------
    gpus : list of aiaas_lib.env.GPU, optional
        The GPUs to decide for; ``None`` looks at this machine (:func:`aiaas_lib.env.gpus`). Passing a
        list makes this a pure function.
    prefer : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        ``"auto"`` decides as above; any other value is returned as is (an explicit choice).

    Raises
    ------
    ValueError
        If ``prefer`` is not one of the allowed values or ``gpus`` is not a list of ``env.GPU``.

    Examples
    --------
    >>> from aiaas_lib.env import GPU
    >>> precision_policy([GPU("Tesla T4", (7, 5))])
    'mixed_float16'
    >>> precision_policy([GPU("Tesla K80", (3, 7))]), precision_policy([])
    ('float32', 'float32')
    """
    if prefer != "auto" and prefer not in POLICIES:
        raise ValueError(f"prefer={prefer!r} is not a precision policy; expected 'auto' or one of {list(POLICIES)}")
    gpus = env.gpus() if gpus is None else _check_gpus(gpus)
    if prefer != "auto":
        return prefer
    return "mixed_float16" if gpus and all(g.supports_mixed_precision for g in gpus) else "float32"


def use_jit(gpus: Sequence[env.GPU] | None = None) -> bool:
    """Whether to compile the training step with XLA (``jit_compile``): yes on a GPU, no on a CPU,
    where compiling costs seconds and rarely pays back (Keras' own ``"auto"`` decides the same way).

    Examples
    --------
    >>> from aiaas_lib.env import GPU
    >>> use_jit([GPU("Tesla T4", (7, 5))]), use_jit([])
    (True, False)
    """
    gpus = env.gpus() if gpus is None else _check_gpus(gpus)
    return bool(gpus)


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Keep TensorFlow's C++ log lines out of a block's output: they bypass Python and go straight to
    the process's stderr. The one that matters here: the first time float16 runs on a CPU without
    AVX-512, oneDNN says it falls back to its slower Eigen kernels. Python exceptions and warnings still
    show.

    Examples
    --------
    >>> with quiet_native_logs():
    ...     print("printed as usual")
    printed as usual
    """
    with env._stderr_fd_silenced():
        yield


# ----------------------------------------------------------------------------------------- tf.data
def image_dataset(x, y=None, batch_size: int = 128, shuffle: bool = False, seed: int = 0,
                  cache: bool | str | Path = True):
    """A ``tf.data`` pipeline for 28×28 grey images: scale to [0, 1] and add a channel, cache, shuffle,
    batch, prefetch.

    Parameters
    ----------
    x : array of shape (n, height, width) or (n, height, width, 1)
        uint8 images (0–255).
    y : array of shape (n,), optional
        Integer labels; without them the dataset yields images only (for ``predict``).
    batch_size : int
        Images per batch (under a distribution strategy: the *global* batch, split across replicas).
    shuffle : bool
        Reshuffle every epoch (training data); keep False for validation and test data.
    seed : int
        Shuffle seed.
    cache : bool or path
        ``True`` caches the scaled images in memory after the first epoch, a path caches them in that
        file, ``False`` recomputes them every epoch.

    Returns
    -------
    tf.data.Dataset
        Batches of float32 images of shape (batch, height, width, 1) (and int32 labels of shape (batch,)).

    Examples
    --------
    >>> import numpy as np
    >>> ds = image_dataset(np.full((5, 28, 28), 255, np.uint8), np.arange(5), batch_size=2)
    >>> [(tuple(xb.shape), float(xb.numpy().max())) for xb, _ in ds]
    [((2, 28, 28, 1), 1.0), ((2, 28, 28, 1), 1.0), ((1, 28, 28, 1), 1.0)]
    """
    tf = env.import_tensorflow()
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"x has shape {x.shape}; expected grey images of shape (n, height, width) or (..., 1)")
    batch_size = positive_int("batch_size", batch_size)
    if not isinstance(cache, (bool, str, Path)):
        raise ValueError(f"cache={cache!r} must be True, False or a file path")

    def scale(images):
        return tf.expand_dims(tf.cast(images, tf.float32) / 255.0, -1)

    if y is None:
        ds = tf.data.Dataset.from_tensor_slices(x).map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(f"y has shape {y.shape} but x holds {len(x)} images; expected labels of shape ({len(x)},)")
        ds = tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
        ds = ds.map(lambda images, labels: (scale(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    if cache is not False:
        ds = ds.cache() if cache is True else ds.cache(str(cache))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------------------- callbacks
def standard_callbacks(folder: str | Path, monitor: str = "val_loss", patience: int = 3,
                       tensorboard: bool = False) -> list:
    """The callbacks every long training run wants, all writing into ``folder``.

    - ``BackupAndRestore`` (``folder/backup``): saves weights, optimizer and epoch at every epoch end; a
      ``fit`` that finds a backup resumes at the epoch after it. A finished ``fit`` deletes the backup.
    - ``CSVLogger`` (``folder/log.csv``): one row per epoch; appends when resuming, starts over otherwise.
    - ``ModelCheckpoint`` (``folder/best.keras``): the best model so far by ``monitor``; when resuming it
      reads the best value from the log, so a resumed run never overwrites a better checkpoint.
    - ``EarlyStopping``: stops after ``patience`` epochs without improvement and restores the best
      weights (its patience counter starts afresh after a resume).
    - ``TensorBoard`` (``folder/tensorboard``), when ``tensorboard=True``.

    Raises
    ------
    ValueError
        If ``monitor`` is not a non-empty string or ``patience`` not a non-negative int.

    Examples
    --------
    >>> import tempfile
    >>> [type(c).__name__ for c in standard_callbacks(tempfile.mkdtemp())]
    ['BackupAndRestore', 'CSVLogger', 'ModelCheckpoint', 'EarlyStopping']
    """
    env.import_tensorflow()
    import keras

    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"monitor={monitor!r} must be a metric name such as 'val_loss' or 'val_accuracy'")
    patience = integer("patience", patience, 0, hint="epochs without improvement")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    backup = folder / "backup"
    log = folder / "log.csv"

    def resuming() -> bool:
        return (backup / "training_metadata.json").is_file()

    class CSVLogger(keras.callbacks.CSVLogger):
        """Appends when resuming a backup, starts a new log otherwise."""

        def on_train_begin(self, logs=None):
            self.append = resuming()
            super().on_train_begin(logs)

    class ModelCheckpoint(keras.callbacks.ModelCheckpoint):
        """When resuming, starts from the best value in the log instead of forgetting it."""

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self.best = None
            if resuming() and log.is_file():
                if self.monitor_op is None:
                    self._set_monitor_op()
                with log.open() as fh:
                    values = [float(row[monitor]) for row in csv.DictReader(fh) if row.get(monitor)]
                if values:
                    self.best = min(values) if self.monitor_op(0.0, 1.0) else max(values)

    for cls in (CSVLogger, ModelCheckpoint):
        cls.__name__ = cls.__qualname__ = cls.__bases__[0].__name__
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        CSVLogger(str(log)),
        ModelCheckpoint(str(folder / "best.keras"), monitor=monitor, save_best_only=True),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(folder / "tensorboard")))
    return callbacks


# --------------------------------------------------------------------------------------- throughput
@dataclass
class Throughput:
    """Images per second over the timed steps (the warm-up steps are not counted)."""

    images_per_s: float
    ms_per_step: float
    steps: int
    images: int


def _batch_size(batch) -> int:
    """Number of images in one batch (an array, or a tuple whose first item is the images)."""
    first = batch[0] if isinstance(batch, (tuple, list)) else batch
    return int(first.shape[0])


def throughput(model_or_step, dataset, steps: int = 20, warmup: int = 3) -> Throughput:
    """Measure training (or input) speed in images per second, the first ``warmup`` steps excluded
    (they trace the graph and, with ``jit_compile``, compile it).

    Parameters
    ----------
    model_or_step : compiled keras.Model, callable or None
        A compiled model is trained with ``fit`` for ``warmup + steps`` batches (its weights change).
        A callable is called as ``step(x, y)`` on each batch (its result is converted to NumPy, which
        waits for the device). ``None`` only iterates the dataset: the input pipeline's own speed.
    dataset : tf.data.Dataset
        Batches of ``(x, y)``; it is repeated as needed.
    steps, warmup : int
        Timed steps, and untimed steps before them.

    Raises
    ------
    ValueError
        If ``steps`` or ``warmup`` is not a positive int, or the model is not compiled.

    Examples
    --------
    >>> import numpy as np
    >>> ds = image_dataset(np.zeros((64, 28, 28), np.uint8), np.zeros(64), batch_size=16)
    >>> result = throughput(None, ds, steps=4, warmup=1)
    >>> result.images, result.images_per_s > 0
    (64, True)
    """
    env.import_tensorflow()
    import keras

    steps, warmup = positive_int("steps", steps), positive_int("warmup", warmup)
    if model_or_step is not None and not callable(model_or_step):
        raise ValueError(f"model_or_step={model_or_step!r} must be a compiled keras.Model, a callable step or None")
    if isinstance(model_or_step, keras.Model):
        if not model_or_step.compiled:
            raise ValueError(f"model {model_or_step.name!r} is not compiled; call model.compile(...) first")
        return _fit_throughput(model_or_step, dataset, steps, warmup)
    data = iter(dataset.repeat().take(warmup + steps))
    step = model_or_step or (lambda *batch: batch[0])
    for _ in range(warmup):
        batch = next(data)
        np.asarray(step(*batch) if isinstance(batch, tuple) else step(batch))
    images, start = 0, time.perf_counter()
    for batch in data:
        np.asarray(step(*batch) if isinstance(batch, tuple) else step(batch))
        images += _batch_size(batch)
    seconds = time.perf_counter() - start
    return Throughput(images / seconds, 1000 * seconds / steps, steps, images)


def _fit_throughput(model, dataset, steps: int, warmup: int) -> Throughput:
    """Time warmup + steps batches of model.fit with a callback that waits for each step's loss."""
    import keras

    sizes = [_batch_size(b) for b in dataset.repeat().take(warmup + steps)]
    marks: list[float] = []

    class Timer(keras.callbacks.Callback):
        """Records the time each batch ends (after its loss is on the host)."""

        def on_train_batch_end(self, batch, logs=None):
            float((logs or {}).get("loss", 0.0))
            marks.append(time.perf_counter())

    model.fit(dataset.repeat().take(warmup + steps), epochs=1, verbose=0, shuffle=False, callbacks=[Timer()])
    seconds = marks[-1] - marks[warmup - 1]
    images = sum(sizes[warmup:])
    return Throughput(images / seconds, 1000 * seconds / steps, steps, images)


def input_bound(pipeline: Throughput | float, training: Throughput | float, headroom: float = 2.0) -> bool:
    """True when the input pipeline is (nearly) the bottleneck: alone it delivers fewer than
    ``headroom`` × the images per second that training consumes. The margin is there because, on a CPU,
    the pipeline and the model share the same cores while training, so the pipeline's solo speed is
    an overestimate.

    Examples
    --------
    >>> input_bound(pipeline=50_000.0, training=4_000.0), input_bound(pipeline=5_000.0, training=4_000.0)
    (False, True)
    """
    p = pipeline.images_per_s if isinstance(pipeline, Throughput) else float(pipeline)
    t = training.images_per_s if isinstance(training, Throughput) else float(training)
    if not headroom >= 1:
        raise ValueError(f"headroom={headroom!r} must be at least 1")
    if p <= 0 or t <= 0:
        raise ValueError(f"images per second must be positive; got pipeline={p!r}, training={t!r}")
    return p < headroom * t


__all__ = [
    "POLICIES", "Devices", "Throughput", "devices", "image_dataset", "input_bound", "precision_policy",
    "quiet_native_logs", "split_cpu", "standard_callbacks", "strategy", "throughput", "use_jit",
]
