"""Used by notebook 17.

Batch inference over a large table: Ray Data ``map_batches`` with a model-holding class, and the plain
in-process loop it is compared with.

- :func:`resample_rows` — a large table made from a small one by sampling rows with replacement (the
  course ships 7,043 churn customers; scoring 100,000 rows needs more).
- :class:`TablePredictor` — loads a tabular model from the registry once (its constructor) and scores a
  pandas batch (its ``__call__``): the shape Ray Data's ``map_batches`` wants for a stateful transform.
- :func:`predict_local` — the same predictor over the table in batches, in this process.
- :func:`predict_ray` — ``ray.data.from_pandas(table).map_batches(TablePredictor, batch_size=...,
  concurrency=...)``: ``concurrency`` actor processes each load the model and score the blocks they are
  given; the predictions come back in row order.

Both return ``(predictions, seconds)``. On two cores Ray Data is slower than the loop (process start-up,
moving blocks between processes); on a cluster the actors spread over many machines and the table need
not fit in one.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np


def resample_rows(frame, rows: int, seed: int = 0):
    """``rows`` rows drawn from ``frame`` with replacement (index reset), reproducible with ``seed``.

    Examples
    --------
    >>> import pandas as pd
    >>> resample_rows(pd.DataFrame({"a": [1, 2, 3]}), 5).shape
    (5, 1)
    >>> resample_rows(pd.DataFrame({"a": [1]}), 0)
    Traceback (most recent call last):
    ...
    ValueError: rows=0; expected an integer >= 1
    """
    if not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows={rows!r}; expected an integer >= 1")
    return frame.sample(rows, replace=True, random_state=seed).reset_index(drop=True)


class TablePredictor:
    """Score pandas batches with a tabular model from a registry (loaded, verified and warmed up once).

    Parameters
    ----------
    registry : path
        The :class:`~aiaas_lib.packaging.registry.ModelRegistry` folder.
    name, version
        Which model (``version`` may be a number or a label such as ``"stable"``).
    output : str
        Name of the output column.

    ``predictor(batch)`` returns a DataFrame with one column, ``output``.
    """

    def __init__(self, registry: str | Path, name: str = "churn", version: int | str = "latest",
                 output: str = "p_churn"):
        from aiaas_lib.packaging.registry import ModelRegistry
        from aiaas_lib.serving.runtime import ModelRuntime

        self.runtime = ModelRuntime.from_registry(ModelRegistry(registry), name, version)
        if self.runtime.kind != "tabular":
            raise ValueError(f"model {name!r} is a {self.runtime.kind} model; TablePredictor scores tabular models")
        self.output = output

    def __call__(self, batch):
        import pandas as pd

        from aiaas_lib.keras_models import tabular_inputs

        inputs = tabular_inputs(batch, self.runtime.numeric, self.runtime.categorical)
        return pd.DataFrame({self.output: self.runtime.predict(inputs)[:, 0]})


def _check_batch(batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected an integer >= 1")


def predict_local(frame, registry: str | Path, name: str = "churn", batch_size: int = 4096) -> tuple[np.ndarray, float]:
    """Score ``frame`` in batches of ``batch_size`` rows in this process; ``(predictions, seconds)``
    (model loading not timed, as for :func:`predict_ray` the actors' start-up is).

    Examples
    --------
    >>> predict_local(None, "models", batch_size=0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size=0; expected an integer >= 1
    """
    _check_batch(batch_size)
    predictor = TablePredictor(registry, name)
    start = time.perf_counter()
    parts = [predictor(frame.iloc[i:i + batch_size])["p_churn"].to_numpy() for i in range(0, len(frame), batch_size)]
    return np.concatenate(parts), time.perf_counter() - start


def ray_data_available() -> bool:
    """True when Ray Data can be imported (it needs ``pyarrow``, installed by ``ray[data]``, not by
    ``ray[serve]``).

    Examples
    --------
    >>> ray_data_available() in (True, False)
    True
    """
    import importlib.util

    return importlib.util.find_spec("ray") is not None and importlib.util.find_spec("pyarrow") is not None


def predict_ray(frame, registry: str | Path, name: str = "churn", batch_size: int = 4096, concurrency: int = 2,
                engine: str = "auto") -> tuple[np.ndarray, float]:
    """Score ``frame`` on ``concurrency`` Ray actors, each holding one :class:`TablePredictor`;
    ``(predictions in row order, seconds including the actors' start-up)``.

    ``engine="data"``: Ray Data, ``from_pandas(frame).map_batches(TablePredictor, batch_size=...,
    concurrency=...)`` (needs ``pyarrow``: ``pip install "ray[data]"``). ``engine="actors"``: the same
    thing spelled out with Ray Core — ``concurrency`` actors in a ``ray.util.ActorPool``, one batch per
    task, results in order (what ``map_batches`` does underneath, without Ray Data's streaming and
    spilling). ``"auto"``: Ray Data when :func:`ray_data_available`, else actors.

    Ray must be running (:func:`aiaas_lib.scaling.ray_serve.start_ray`); progress bars are turned off.

    Examples
    --------
    >>> predict_ray(None, "models", concurrency=0)
    Traceback (most recent call last):
    ...
    ValueError: concurrency=0; expected an integer >= 1
    >>> predict_ray(None, "models", engine="spark")
    Traceback (most recent call last):
    ...
    ValueError: engine='spark'; expected one of ['auto', 'data', 'actors']
    """
    _check_batch(batch_size)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency={concurrency!r}; expected an integer >= 1")
    if engine not in ("auto", "data", "actors"):
        raise ValueError(f"engine={engine!r}; expected one of ['auto', 'data', 'actors']")
    if engine == "data" and not ray_data_available():
        raise ValueError("engine='data' needs Ray Data, which needs pyarrow: pip install \"ray[data]\" "
                         "(or use engine='actors')")
    if engine == "auto":
        engine = "data" if ray_data_available() else "actors"
    from aiaas_lib.scaling.ray_serve import quiet_ray

    with quiet_ray():
        return _predict_ray(frame, registry, name, batch_size, concurrency, engine)


def _no_restarts() -> dict:
    """Remote arguments of Ray Data's map workers: no restarts (a failed actor fails the job)."""
    return {"max_restarts": 0}


def _predict_ray(frame, registry, name, batch_size, concurrency, engine) -> tuple[np.ndarray, float]:
    """:func:`predict_ray` after its checks."""
    import ray

    start = time.perf_counter()
    if engine == "data":
        import ray.data

        from aiaas_lib.scaling.ray_serve import _quiet_logging

        _quiet_logging()  # importing ray.data configures Ray Data's own loggers (INFO): quiet them again
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.execution_options.preserve_order = True
        # blocks: enough for every actor to get work (one block would leave all but one idle);
        # max_restarts=0: a failed actor fails the job (and Ray does not warn about restarting actors
        # whose constructor arguments live in the object store)
        # (split here: from_pandas(override_num_blocks=...) uses np.array_split, which gives arrays, not
        # frames, under pandas 3)
        blocks = max(1, min(4 * concurrency, -(-len(frame) // batch_size)))
        bounds = np.linspace(0, len(frame), blocks + 1).astype(int)
        parts = [frame.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        with warnings.catch_warnings():  # Ray 2.60 deprecates remote-args functions but offers no named
            warnings.simplefilter("ignore", DeprecationWarning)  # max_restarts yet (due in Ray 2.64)
            dataset = ray.data.from_pandas(parts).map_batches(
                TablePredictor, fn_constructor_kwargs={"registry": str(registry), "name": name},
                batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=concurrency), batch_format="pandas",
                num_cpus=1, ray_remote_args_fn=_no_restarts)
        return dataset.to_pandas()["p_churn"].to_numpy(), time.perf_counter() - start
    from ray.util import ActorPool

    actor_class = ray.remote(num_cpus=1)(TablePredictor)
    actors = [actor_class.remote(str(registry), name) for _ in range(concurrency)]
    try:
        pool = ActorPool(actors)
        batches = [frame.iloc[i:i + batch_size] for i in range(0, len(frame), batch_size)]
        parts = list(pool.map(lambda actor, batch: actor.__call__.remote(batch), batches))
    finally:
        for actor in actors:
            ray.kill(actor)
    return np.concatenate([p["p_churn"].to_numpy() for p in parts]), time.perf_counter() - start
