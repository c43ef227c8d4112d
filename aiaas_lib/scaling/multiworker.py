"""Used by notebook 17.

Data-parallel training on several worker processes with ``tf.distribute.MultiWorkerMirroredStrategy``.

Every worker holds a full copy of a small dense network. At each step the *global batch* of ``B`` rows is
split into ``N`` equal per-worker slices; each worker computes the gradient of
``sum(per-example loss on its slice) / B`` and an all-reduce adds the ``N`` gradients, which gives every
worker the gradient of the mean loss over the whole global batch. Every worker then takes the same SGD step,
so the weights stay identical everywhere — and equal (up to float rounding) to one worker training on the
same global batches.

- :func:`make_data` — the generated regression-style classification table every worker reads.
- :func:`train` — the custom training loop under a given strategy (Keras 3 ``model.fit`` fails under
  ``MultiWorkerMirroredStrategy``, see DESIGN.md); ``strategy=None`` trains on one worker in this process.
- :func:`tf_config` — the ``TF_CONFIG`` JSON of one worker.
- :func:`run_workers` — start ``n_workers`` processes on localhost (``python -m aiaas_lib.scaling.multiworker
  --task-index i ...``), wait with a deadline, stop them all on error, timeout or interpreter exit, and
  return each worker's :class:`TrainResult`.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aiaas_lib.validation import positive_int

#: Features of the generated table.
N_FEATURES = 8
_RUNNING: set[subprocess.Popen] = set()


@dataclass
class TrainResult:
    """What one worker (or the single-process run) reports: the loss of every step (mean over the global
    batch), the final weights, the number of workers and the wall seconds of the training loop."""

    losses: np.ndarray
    weights: list[np.ndarray]
    workers: int
    seconds: float

    def to_json(self) -> dict:
        """A JSON-able dict (floats in full precision)."""
        return {"losses": [float(v) for v in self.losses], "weights": [w.tolist() for w in self.weights],
                "workers": self.workers, "seconds": self.seconds}

    @classmethod
    def from_json(cls, value: dict) -> TrainResult:
        """The inverse of :meth:`to_json`."""
        return cls(np.asarray(value["losses"], dtype=np.float64),
                   [np.asarray(w, dtype=np.float32) for w in value["weights"]], int(value["workers"]),
                   float(value["seconds"]))


def make_data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A table of ``rows`` rows: ``X`` (float32, standard normal, :data:`N_FEATURES` columns) and ``y``
    (0/1 from a fixed noisy linear rule). Every worker calls it with the same seed and gets the same table.

    Examples
    --------
    >>> X, y = make_data(4)
    >>> X.shape, X.dtype.name, y.tolist()
    ((4, 8), 'float32', [1.0, 1.0, 1.0, 0.0])
    """
    rows = positive_int("rows", rows)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, N_FEATURES)).astype(np.float32)
    w = np.linspace(-1.0, 1.0, N_FEATURES)
    y = ((X @ w + 0.5 * rng.standard_normal(rows)) > 0).astype(np.float32)
    return X, y


def _check(steps: int, global_batch: int, n_workers: int) -> None:
    """Clear errors for bad sizes (a global batch must split evenly over the workers)."""
    positive_int("steps", steps), positive_int("n_workers", n_workers)
    if not isinstance(global_batch, int) or global_batch < 1 or global_batch % n_workers:
        raise ValueError(f"global_batch={global_batch!r}; expected a positive multiple of n_workers={n_workers} "
                         "(every worker takes an equal slice of each global batch)")


def train(strategy=None, steps: int = 20, global_batch: int = 64, lr: float = 0.1, hidden: int = 16,
          seed: int = 0) -> TrainResult:
    """Train the small network with a custom loop for ``steps`` SGD steps of ``global_batch`` rows.

    Global batch ``k`` is rows ``k*B ... (k+1)*B - 1`` of :func:`make_data`; replica ``i`` of ``N`` takes the
    ``i``-th of its ``N`` equal slices. Each replica's loss is ``tf.nn.compute_average_loss`` (its summed
    binary cross-entropy divided by the *global* batch), the replicas' gradients are summed with an
    all-reduce, and each replica applies the same update ``w <- w - lr * g``.

    Parameters
    ----------
    strategy : tf.distribute.Strategy, optional
        ``None``: the default (one-replica) strategy in this process.

    Examples
    --------
    ``train(steps=3, global_batch=8, hidden=4)`` (about 1 s, most of it tracing the step) returns a
    :class:`TrainResult` with ``workers == 1``, three losses and weights of shapes
    ``[(8, 4), (4,), (4, 1), (1,)]``.

    >>> train(steps=2, global_batch=0)
    Traceback (most recent call last):
    ...
    ValueError: global_batch=0; expected a positive multiple of n_workers=1 (every worker takes an equal slice of each global batch)
    """
    _check(steps, global_batch, 1)  # the sizes themselves, before the (slow) TensorFlow import
    from aiaas_lib.env import import_tensorflow

    tf = import_tensorflow()
    strategy = strategy or tf.distribute.get_strategy()
    n = strategy.num_replicas_in_sync
    _check(steps, global_batch, n)
    X, y = make_data(steps * global_batch, seed)
    per_replica = global_batch // n

    def dataset_fn(context):
        i = context.input_pipeline_id if n > 1 else 0
        # replica i's slices of every global batch, in step order
        idx = np.concatenate([np.arange(k * global_batch + i * per_replica, k * global_batch + (i + 1) * per_replica)
                              for k in range(steps)])
        return tf.data.Dataset.from_tensor_slices((X[idx], y[idx])).batch(per_replica)

    rng = np.random.default_rng(seed + 1)
    init = [rng.normal(0, 1 / np.sqrt(N_FEATURES), (N_FEATURES, hidden)), np.zeros(hidden),
            rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)), np.zeros(1)]
    with strategy.scope():
        # ONLY_FIRST_REPLICA: the update is already all-reduced, so every replica writes the same value
        variables = [tf.Variable(v.astype(np.float32), aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                     for v in init]
    data = strategy.distribute_datasets_from_function(dataset_fn)

    def replica_step(xb, yb):
        w1, b1, w2, b2 = variables
        with tf.GradientTape() as tape:
            logits = tf.squeeze(tf.nn.relu(xb @ w1 + b1) @ w2 + b2, axis=1)
            per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=logits)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, variables)
        grads = tf.distribute.get_replica_context().all_reduce("sum", grads)  # = gradient of the global mean
        for v, g in zip(variables, grads):
            v.assign_sub(lr * g)
        return loss

    @tf.function(autograph=False)  # plain TensorFlow ops, no Python control flow to convert
    def step(batch):
        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce("sum", losses, axis=None)  # the global batch's mean loss

    start = time.perf_counter()
    losses = [float(step(batch)) for batch in data]
    seconds = time.perf_counter() - start
    return TrainResult(np.asarray(losses), [np.asarray(v.numpy()) for v in variables], n, seconds)


def tf_config(addresses: list[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers at ``addresses`` (``host:port``).

    Worker 0 is the chief (it would write checkpoints); every worker gets the same ``cluster`` and its own
    ``task``.

    Examples
    --------
    >>> tf_config(["localhost:2222", "localhost:2223"], 1)
    '{"cluster": {"worker": ["localhost:2222", "localhost:2223"]}, "task": {"type": "worker", "index": 1}}'
    >>> tf_config(["localhost:2222"], 1)
    Traceback (most recent call last):
    ...
    ValueError: index=1; expected 0..0 for 1 worker address(es)
    """
    if not isinstance(index, int) or not 0 <= index < len(addresses):
        raise ValueError(f"index={index!r}; expected 0..{len(addresses) - 1} for {len(addresses)} worker address(es)")
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}})


def _stop(procs) -> None:
    """Kill the processes still running and reap them."""
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        _RUNNING.discard(p)


@atexit.register
def _stop_all() -> None:
    _stop(list(_RUNNING))


def run_workers(n_workers: int = 2, steps: int = 20, global_batch: int = 64, lr: float = 0.1, hidden: int = 16,
                seed: int = 0, timeout: float = 120.0, workdir: str | Path | None = None,
                script: str | Path | None = None) -> list[TrainResult]:
    """Train with ``MultiWorkerMirroredStrategy`` on ``n_workers`` processes on localhost; return each
    worker's :class:`TrainResult` (index order).

    Each worker is ``python -m aiaas_lib.scaling.multiworker --task-index i ...`` with its ``TF_CONFIG`` in
    the environment, on a free port. If a worker fails or ``timeout`` seconds pass, every worker is killed
    and RuntimeError carries the workers' logs; workers still running at interpreter exit are killed too.

    ``script``: run ``python script --task-index i --out FILE --steps ... --global-batch ... --lr ...
    --hidden ... --seed ...`` instead (e.g. a worker script a notebook wrote, with its own training loop);
    it must write its result to ``--out`` as :meth:`TrainResult.to_json` does.

    Examples
    --------
    ``run_workers(2, steps=10)`` takes ~10-20 s (two TensorFlow start-ups).

    >>> run_workers(2, global_batch=63)
    Traceback (most recent call last):
    ...
    ValueError: global_batch=63; expected a positive multiple of n_workers=2 (every worker takes an equal slice of each global batch)
    """
    from aiaas_lib.loadtest import free_port

    _check(steps, global_batch, n_workers)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="aiaas-workers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    addresses = [f"localhost:{free_port()}" for _ in range(n_workers)]
    procs, logs = [], []
    try:
        for i in range(n_workers):
            env = {**os.environ, "TF_CONFIG": tf_config(addresses, i), "TF_CPP_MIN_LOG_LEVEL": "3"}
            log = open(workdir / f"worker{i}.log", "w")
            logs.append(log)
            entry = [str(script)] if script is not None else ["-m", "aiaas_lib.scaling.multiworker"]
            cmd = [sys.executable, *entry, "--task-index", str(i),
                   "--out", str(workdir / f"worker{i}.json"), "--steps", str(steps),
                   "--global-batch", str(global_batch), "--lr", repr(lr), "--hidden", str(hidden), "--seed", str(seed)]
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
            procs.append(p)
            _RUNNING.add(p)
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in procs):
            failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
            if failed or time.monotonic() > deadline:
                _stop(procs)
                why = f"worker {failed[0]} exited with code {procs[failed[0]].returncode}" if failed else \
                    f"the workers did not finish within {timeout:g} s"
                raise RuntimeError(f"{why}; logs:\n{_logs(workdir, n_workers)}")
            time.sleep(0.05)  # poll interval
        failed = [i for i, p in enumerate(procs) if p.returncode != 0]
        if failed:
            raise RuntimeError(f"worker {failed[0]} exited with code {procs[failed[0]].returncode}; "
                               f"logs:\n{_logs(workdir, n_workers)}")
        return [TrainResult.from_json(json.loads((workdir / f"worker{i}.json").read_text())) for i in range(n_workers)]
    finally:
        _stop(procs)
        for log in logs:
            log.close()


def _logs(workdir: Path, n: int) -> str:
    """The tail of every worker's log."""
    return "\n".join(f"--- worker {i}\n{(workdir / f'worker{i}.log').read_text(errors='replace')[-2000:]}"
                     for i in range(n) if (workdir / f"worker{i}.log").exists())


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: read ``TF_CONFIG``, train under ``MultiWorkerMirroredStrategy``, write the result."""
    parser = argparse.ArgumentParser(description="one MultiWorkerMirroredStrategy worker (TF_CONFIG from the env)")
    parser.add_argument("--task-index", type=int, required=True)
    parser.add_argument("--out", required=True, help="JSON file for this worker's losses and weights")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    if config.get("task", {}).get("index") != args.task_index:
        print(f"error: --task-index {args.task_index} does not match TF_CONFIG {config!r}", file=sys.stderr)
        return 2
    from aiaas_lib.env import import_tensorflow

    tf = import_tensorflow()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    result = train(strategy, steps=args.steps, global_batch=args.global_batch, lr=args.lr, hidden=args.hidden,
                   seed=args.seed)
    Path(args.out).write_text(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
