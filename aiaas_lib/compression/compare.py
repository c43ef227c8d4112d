"""Used by notebook 15 (through :mod:`aiaas_lib.compression`).

The one table of compressed models: each :class:`Candidate` is a file that would be shipped, how to run it and
how to time one row; :func:`compare` gives size, gzip size, one-row latency (against the *fastest* Keras call
path, timed in interleaved rounds) and test accuracy. Sizes and times come from :mod:`.measure`.
"""
from __future__ import annotations

import statistics
import tempfile  # noqa: F401  (the Examples use it)
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiaas_lib.compression.measure import (
    CALL_PATHS, file_size, gzip_size, keras_call_paths, keras_latencies, save_for_serving,
)
from aiaas_lib.env import import_tensorflow


def _interleaved_ms(fns: Sequence[Callable], x, repeats: int, rounds: int) -> list[float]:
    """Median ms per function of ``repeats`` calls each, made in ``rounds`` interleaved rounds after warm-up."""
    for fn in fns:
        for _ in range(min(20, repeats)):
            fn(x)
    times: list[list[float]] = [[] for _ in fns]
    per_round = [repeats // rounds + (1 if r < repeats % rounds else 0) for r in range(rounds)]
    for n in per_round:
        for i, fn in enumerate(fns):
            for _ in range(n):
                start = time.perf_counter()
                fn(x)
                times[i].append((time.perf_counter() - start) * 1e3)
    return [float(statistics.median(t)) for t in times]


@dataclass
class Candidate:
    """One row of :func:`compare`: a model as a file, how to run it on a batch, and how to time one row.

    Build them with :func:`keras_candidate` and :func:`tflite_candidate`.

    Attributes
    ----------
    name : str
        Row label.
    path : Path
        The file that would be shipped.
    predict : callable
        Batch (n, ...) float32 -> scores (n, classes).
    latency_fn : callable, optional
        What to time on one row (defaults to ``predict``); for Keras models the fastest call path.
    call_path : str
        Which call path ``latency_fn`` is.
    latencies : dict
        Every timed path (ms), for Keras models.
    """

    name: str
    path: Path
    predict: Callable
    latency_fn: Callable | None = None
    call_path: str = ""
    latencies: dict = field(default_factory=dict)


def keras_candidate(name: str, model, folder: str | Path, x_one, repeats: int = 200,
                    latencies: dict[str, float] | None = None) -> Candidate:
    """A :class:`Candidate` for a Keras model: saved with :func:`save_for_serving` to ``folder/name.keras``,
    timed on every Keras call path, keeping the fastest as ``latency_fn``.

    Pass ``latencies`` (from :func:`keras_latencies` on the same model and row) to reuse a measurement
    instead of timing again.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> c = keras_candidate("tiny", model, tempfile.mkdtemp(), np.ones((1, 3), "float32"), repeats=3)
    >>> c.path.name, c.call_path in CALL_PATHS
    ('tiny.keras', True)
    """
    path = save_for_serving(model, Path(folder) / f"{name.replace(' ', '_').replace('%', 'pct')}.keras")
    if latencies is None:
        latencies = keras_latencies(model, x_one, repeats=repeats, warmup=min(20, repeats))
    elif not latencies:
        raise ValueError("latencies is empty; give keras_latencies(...) output or None to measure")
    latencies = dict(latencies)
    fastest = min(latencies, key=latencies.get)
    paths = keras_call_paths(model)
    return Candidate(name, path, paths["predict_on_batch"], paths[fastest], fastest, latencies)


def tflite_candidate(name: str, path: str | Path, num_threads: int | None = None) -> Candidate:
    """A :class:`Candidate` for a ``.tflite`` file run by :class:`aiaas_lib.packaging.export.TFLiteRunner`
    (``ai_edge_litert``; int8 inputs/outputs are (de)quantized by the runner, inside the timed call).

    Examples
    --------
    >>> tflite_candidate("x", "no-such.tflite")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no-such.tflite does not exist; write it with aiaas_lib.packaging.export.export_tflite
    """
    from aiaas_lib.packaging.export import TFLiteRunner

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; write it with aiaas_lib.packaging.export.export_tflite")
    runner = TFLiteRunner(path, num_threads=num_threads)
    return Candidate(name, path, runner, runner, "LiteRT interpreter")


def compare(candidates: Sequence[Candidate], x_test, y_test, baseline: int = 0, repeats: int = 200,
            rounds: int = 5):
    """The one table: size, one-row latency and accuracy of every candidate, relative to ``baseline``.

    Parameters
    ----------
    candidates : sequence of Candidate
        Rows, in order.
    x_test, y_test : array-like
        Test images and integer labels; accuracy is the share of ``argmax(predict(x_test)) == y_test``.
    baseline : int
        Index of the reference row (the float Keras model).
    repeats : int
        Timed one-row calls per candidate (median reported, after warm-up).
    rounds : int
        The calls are made in this many interleaved rounds (every candidate a share of its calls per
        round), so that a change in the machine's load during the measurement hits all rows alike.

    Returns
    -------
    pandas.DataFrame
        Indexed by name: ``file_kb`` (the file on disk), ``x_smaller`` (baseline file / this file),
        ``gzip_kb`` and ``x_smaller_gzip`` (the same after gzip -9: pruned models only shrink here),
        ``latency_ms`` (median of ``repeats`` one-row calls on the candidate's fastest path, measured
        here, interleaved with the other rows), ``x_faster``, ``call_path``, ``accuracy`` and
        ``drop_points`` (baseline accuracy minus this one, in percentage points).

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> x, y = np.ones((4, 3), "float32"), np.zeros(4, int)
    >>> c = keras_candidate("float", model, tempfile.mkdtemp(), x[:1], repeats=3)
    >>> table = compare([c], x, y, repeats=3, rounds=1)
    >>> table.loc["float", ["x_smaller", "drop_points"]].tolist()
    [1.0, 0.0]
    """
    import pandas as pd

    if not candidates:
        raise ValueError("candidates is empty; give at least the float model")
    if not 0 <= int(baseline) < len(candidates):
        raise ValueError(f"baseline={baseline!r} must index candidates (0..{len(candidates) - 1})")
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique; got {names}")
    x_test = np.asarray(x_test, dtype=np.float32)
    y_test = np.asarray(y_test).ravel()
    if len(x_test) != len(y_test):
        raise ValueError(f"{len(x_test)} test rows but {len(y_test)} labels; they must match")
    if int(repeats) < 1 or not 1 <= int(rounds) <= int(repeats):
        raise ValueError(f"repeats={repeats!r} and rounds={rounds!r}: need 1 <= rounds <= repeats")
    x_one = x_test[:1]
    latencies = _interleaved_ms([c.latency_fn or c.predict for c in candidates], x_one, int(repeats), int(rounds))
    rows = []
    for c, latency in zip(candidates, latencies):
        scores = np.asarray(c.predict(x_test))
        rows.append({
            "model": c.name,
            "file_kb": file_size(c.path) / 1e3,
            "gzip_kb": gzip_size(c.path) / 1e3 if Path(c.path).is_file() else float("nan"),
            "latency_ms": latency,
            "call_path": c.call_path,
            "accuracy": float(np.mean(scores.argmax(axis=1) == y_test)),
        })
    table = pd.DataFrame(rows).set_index("model")
    base = table.iloc[int(baseline)]
    table.insert(1, "x_smaller", base["file_kb"] / table["file_kb"])
    table.insert(3, "x_smaller_gzip", base["gzip_kb"] / table["gzip_kb"])
    table.insert(5, "x_faster", base["latency_ms"] / table["latency_ms"])
    table["drop_points"] = 100 * (base["accuracy"] - table["accuracy"])
    return table
