"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

Server-side micro-batching: concurrent requests share one model call.

A request puts its rows on a bounded queue and waits. One worker per model takes the first waiting
request, then keeps taking more for at most ``max_wait_ms`` or until ``max_size`` rows are gathered,
concatenates them, makes *one* model call (in a worker thread, so the event loop keeps serving), and
hands each request its own slice of the result. A request larger than ``max_size`` runs alone.

When the queue is full the request is refused at once (:class:`Overloaded`, answered 503 with
``Retry-After``): failing fast under overload keeps latency bounded instead of letting a queue grow.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Overloaded(Exception):
    """The batch queue is full; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


def concat_inputs(parts: Sequence[Any]):
    """Concatenate model inputs along the batch axis: arrays, or dicts of arrays (same keys).

    Examples
    --------
    >>> concat_inputs([np.zeros((1, 2)), np.ones((2, 2))]).shape
    (3, 2)
    >>> {k: v.ravel().tolist() for k, v in concat_inputs([{"a": np.array([[1]])}, {"a": np.array([[2]])}]).items()}
    {'a': [1, 2]}
    """
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}
    return np.concatenate(parts, axis=0)


@dataclass
class _Job:
    inputs: Any
    rows: int
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batch concurrent calls of ``predict`` (inputs with a batch axis → array with a batch axis).

    Parameters
    ----------
    predict : callable
        Called in a worker thread with the concatenated inputs; returns an array of ``sum(rows)`` rows.
    max_size : int
        Rows per model call at most (a single larger request still runs, alone).
    max_wait_ms : float
        How long the first request of a batch waits for others.
    queue_size : int
        Requests that may wait; one more is refused with :class:`Overloaded`.
    on_batch : callable, optional
        Called with the rows of every model call (for the batch-size histogram).

    Examples
    --------
    >>> async def demo():
    ...     batcher = MicroBatcher(lambda x: x * 2, max_size=8, max_wait_ms=50, queue_size=4)
    ...     await batcher.start()
    ...     a, b = await asyncio.gather(batcher.submit(np.array([[1.0]]), 1), batcher.submit(np.array([[2.0]]), 1))
    ...     await batcher.stop()
    ...     return a.tolist(), b.tolist(), batcher.batches
    >>> asyncio.run(demo())
    ([[2.0]], [[4.0]], [2])
    """

    def __init__(self, predict: Callable[[Any], np.ndarray], max_size: int = 64, max_wait_ms: float = 2.0,
                 queue_size: int = 128, on_batch: Callable[[int], None] | None = None, name: str = "model"):
        if int(max_size) < 1 or int(queue_size) < 1 or max_wait_ms < 0:
            raise ValueError(
                f"max_size={max_size!r}, queue_size={queue_size!r} must be >= 1 and max_wait_ms={max_wait_ms!r} >= 0"
            )
        self.predict, self.on_batch, self.name = predict, on_batch, name
        self.max_size, self.max_wait, self.queue_size = int(max_size), max_wait_ms / 1000.0, int(queue_size)
        self.batches: list[int] = []  # rows of the last model calls (kept short), for tests and notebooks
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._carry: _Job | None = None

    @property
    def waiting(self) -> int:
        """Requests waiting in the queue."""
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        """Start the worker (inside the running event loop)."""
        if self._worker is None:
            self._queue = asyncio.Queue(maxsize=self.queue_size)
            self._worker = asyncio.create_task(self._run(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        """Stop the worker; requests still waiting get a RuntimeError."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        while self._queue is not None and not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the service is shutting down"))

    async def submit(self, inputs, rows: int) -> np.ndarray:
        """Queue ``rows`` rows and wait for their predictions; :class:`Overloaded` when the queue is full."""
        if self._worker is None:
            raise RuntimeError("MicroBatcher.start() must be awaited before submit()")
        job = _Job(inputs, int(rows), asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise Overloaded(
                f"model {self.name!r} has {self.queue_size} requests waiting (batch_queue_size); retry shortly"
            ) from None
        return await job.future

    async def _next_batch(self) -> list[_Job]:
        """The next jobs to run together: the first one, then more until full or the wait is over."""
        loop = asyncio.get_running_loop()
        first = self._carry or await self._queue.get()
        self._carry = None
        jobs, rows = [first], first.rows
        deadline = loop.time() + self.max_wait
        while rows < self.max_size:
            timeout = deadline - loop.time()
            try:
                job = self._queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(self._queue.get(), timeout)
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            if rows + job.rows > self.max_size:
                self._carry = job  # starts the next batch
                break
            jobs.append(job)
            rows += job.rows
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._next_batch()
            jobs = [j for j in jobs if not j.future.done()]  # skip requests whose client went away
            if not jobs:
                continue
            rows = sum(j.rows for j in jobs)
            self.batches = [*self.batches[-99:], rows]
            if self.on_batch is not None:
                self.on_batch(rows)
            try:
                out = await loop.run_in_executor(None, self.predict, concat_inputs([j.inputs for j in jobs]))
            except Exception as err:  # the model failed: every request of the batch gets the error
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(err)
                continue
            start = 0
            for j in jobs:
                if not j.future.done():
                    j.future.set_result(out[start:start + j.rows])
                start += j.rows
