"""Used by notebook 15 (through :mod:`aiaas_lib.compression`) and notebook 11 (through
:func:`aiaas_lib.packaging.export.compare_formats`, which sizes and times every format with these helpers).

Measure a model honestly: real file sizes (and their gzip size), and latency as the median of many calls after
warm-up, for each Keras call path. The table of compressed models that uses them: :mod:`.compare`.
"""
from __future__ import annotations

import gzip
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aiaas_lib.env import import_tensorflow

#: Keras call paths :func:`keras_call_paths` times for one row.
CALL_PATHS = ("model(x)", "predict_on_batch", "tf.function", "tf.function+XLA")


def file_size(path: str | Path) -> int:
    """Bytes of a file, or of all files under a folder.

    Examples
    --------
    >>> import os
    >>> path = tempfile.mkdtemp() + "/f.bin"
    >>> _ = open(path, "wb").write(b"x" * 1000)
    >>> file_size(path)
    1000
    """
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    raise FileNotFoundError(f"{path} does not exist")


def gzip_size(path: str | Path, level: int = 9) -> int:
    """Bytes of the file after ``gzip -9``: what it costs to store or send. Runs of zeros (pruned weights)
    shrink; random-looking float weights hardly do.

    Examples
    --------
    >>> path = tempfile.mkdtemp() + "/zeros.bin"
    >>> _ = open(path, "wb").write(bytes(100_000))
    >>> gzip_size(path) < 1_000
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file; gzip_size measures one file")
    return len(gzip.compress(path.read_bytes(), compresslevel=int(level), mtime=0))


def save_for_serving(model, path: str | Path) -> Path:
    """Save ``model`` as a ``.keras`` file *without* its optimizer state (Adam keeps two extra copies of
    every weight; a served model does not need them), so the file size is the model's.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(100)])
    >>> model.compile("adam", "mse"); _ = model.fit(np.ones((4, 100)), np.ones((4, 100)), verbose=0)
    >>> folder = tempfile.mkdtemp()
    >>> model.save(folder + "/with_adam.keras")
    >>> file_size(folder + "/with_adam.keras") > 2.5 * file_size(save_for_serving(model, folder + "/m.keras"))
    True
    """
    import_tensorflow()
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path={str(path)!r} must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    serving = keras.Model(model.inputs, model.outputs, name=model.name)  # same layers, not compiled
    serving.save(path)
    return path


def median_ms(fn: Callable, x, repeats: int = 200, warmup: int = 20) -> float:
    """Median wall time of ``fn(x)`` in milliseconds over ``repeats`` calls after ``warmup`` calls.

    The median, not the mean: on a shared machine a few calls are slowed by other processes.

    Examples
    --------
    >>> median_ms(lambda x: sum(x), list(range(10)), repeats=5, warmup=1) < 10
    True
    """
    if int(repeats) < 1 or int(warmup) < 0:
        raise ValueError(f"repeats={repeats!r} must be >= 1 and warmup={warmup!r} >= 0")
    for _ in range(int(warmup)):
        fn(x)
    times = []
    for _ in range(int(repeats)):
        start = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - start) * 1e3)
    return float(statistics.median(times))


def keras_call_paths(model) -> dict[str, Callable]:
    """The ways to run a Keras model on one batch, each returning NumPy: ``model(x)`` (eager),
    ``predict_on_batch`` (Keras' compiled predict function), a ``tf.function`` and a ``tf.function`` with
    XLA (``jit_compile=True``). (``model.predict`` is left out: ~70 ms overhead per call, for big data.)

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> x = np.ones((1, 3), "float32")
    >>> outs = [fn(x) for fn in keras_call_paths(model).values()]
    >>> all(np.allclose(o, outs[0], atol=1e-6) for o in outs)
    True
    """
    tf = import_tensorflow()
    graph = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True, reduce_retracing=True)
    return {
        "model(x)": lambda x: np.asarray(model(x, training=False)),
        "predict_on_batch": lambda x: np.asarray(model.predict_on_batch(x)),
        "tf.function": lambda x: graph(tf.convert_to_tensor(x)).numpy(),
        "tf.function+XLA": lambda x: xla(tf.convert_to_tensor(x)).numpy(),
    }


def keras_latencies(model, x_one, repeats: int = 200, warmup: int = 20) -> dict[str, float]:
    """:func:`median_ms` of every :func:`keras_call_paths` path on ``x_one`` (a path that fails to compile,
    e.g. XLA on an unsupported op, is left out).

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> sorted(keras_latencies(model, np.ones((1, 3), "float32"), repeats=3, warmup=1)) == sorted(CALL_PATHS)
    True
    """
    out = {}
    for name, fn in keras_call_paths(model).items():
        try:
            out[name] = median_ms(fn, x_one, repeats, warmup)
        except Exception:  # noqa: BLE001 - a path this model cannot take is simply not a candidate
            continue
    return out
