"""The state of one running service: which models it serves, their loading and readiness, and the one
path every prediction takes (micro-batched or not, always counted in the metrics).

Lifecycle: :meth:`Service.plan` (at start-up, quick: resolve names, versions and labels in the registry;
a bad ``models`` setting stops the start with a clear error) → :meth:`Service.load_all` (in the
background: verify, load, compile and warm up every version; the service reports *not ready* until it
is done) → serving → :meth:`Service.begin_shutdown` (on SIGTERM: report not ready at once, keep
serving the requests in flight).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from fastapi import Request

from aiaas_lib.serving.batching import MicroBatcher, Overloaded
from aiaas_lib.serving.errors import ServiceError
from aiaas_lib.serving.metrics import ServiceMetrics
from aiaas_lib.serving.runtime import KINDS, ModelRuntime
from aiaas_lib.serving.security import KeyChecker, RateLimiter, load_api_keys
from aiaas_lib.serving.settings import Settings

log = logging.getLogger("aiaas.serving")


@dataclass
class ModelEntry:
    """One served model: the versions to load, the default one, its labels (read at start-up) and state
    (``LOADING`` → ``AVAILABLE`` or ``FAILED``; ``UNLOADING`` once the service shuts down)."""

    name: str
    default: int
    planned: list[int]
    labels: dict[str, int]
    registered: list[int]
    state: str = "LOADING"
    error: str = ""
    runtimes: dict[int, ModelRuntime] = field(default_factory=dict)
    batchers: dict[int, MicroBatcher] = field(default_factory=dict)


def _parse_model_spec(spec: str) -> tuple[str, str | None]:
    name, _, ref = spec.partition("@")
    return name.strip(), (ref.strip() or None)


class Service:
    """Models, guards and metrics of one app (``app.state.service``).

    Examples
    --------
    >>> import tempfile
    >>> svc = Service(Settings(registry=tempfile.mkdtemp()))
    >>> svc.plan(); svc.entries, svc.ready
    ({}, False)
    >>> svc.load_all(); svc.ready
    True
    """

    def __init__(self, settings: Settings | None = None, registry=None):
        from aiaas_lib.registry import ModelRegistry

        self.settings = settings or Settings()
        self.registry = registry if registry is not None else ModelRegistry(self.settings.registry)
        self.metrics = ServiceMetrics()
        self.keys = KeyChecker(load_api_keys(self.settings.api_keys, self.settings.api_keys_file))
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute, self.settings.rate_limit_burst)
        self.entries: dict[str, ModelEntry] = {}
        self.loaded = False
        self.shutting_down = False
        self.explain_lock = threading.Lock()  # shap explainers are not made for concurrent calls

    # ---------------------------------------------------------------------------------- lifecycle
    @property
    def ready(self) -> bool:
        """True once every model is loaded, until shutdown begins."""
        return self.loaded and not self.shutting_down and all(e.state == "AVAILABLE" for e in self.entries.values())

    def not_ready_reason(self) -> str:
        """Why the service is not ready (empty when it is)."""
        if self.shutting_down:
            return "the service is shutting down"
        loading = sorted(n for n, e in self.entries.items() if e.state == "LOADING")
        failed = {n: e.error for n, e in self.entries.items() if e.state == "FAILED"}
        if failed:
            return f"models failed to load: {failed}"
        if loading or not self.loaded:
            return f"loading models {loading}"
        return ""

    def plan(self) -> None:
        """Decide which model versions to load (quick; raises ValueError for a bad ``models`` setting)."""
        from aiaas_lib.registry import RegistryError

        specs = self.settings.models or self.registry.models()
        entries = {}
        for spec in specs:
            name, ref = _parse_model_spec(spec)
            try:
                labels = self.registry.labels(name)
                registered = self.registry.versions(name)
                default = self.registry.resolve(name, ref if ref else ("stable" if "stable" in labels else "latest"))
            except (RegistryError, ValueError) as err:
                raise ValueError(f"cannot serve models={specs!r} from {self.registry}: {err}") from err
            planned = registered if self.settings.all_versions else [default]
            entries[name] = ModelEntry(name, default, list(planned), labels, list(registered))
        if not entries:
            log.warning("registry %s has no models: the service will serve none", self.registry.root)
        self.entries = entries

    def load_all(self) -> None:
        """Load every planned version (blocking; run in a worker thread). A version that fails marks its
        model ``FAILED`` with the reason, and the service stays not ready."""
        for entry in self.entries.values():
            try:
                for version in entry.planned:
                    runtime = ModelRuntime.from_registry(self.registry, entry.name, version)
                    entry.runtimes[version] = runtime
                    self.metrics.load_seconds.labels(model=entry.name, version=str(version)).set(runtime.load_seconds)
                    log.info("loaded %s version %d in %.2f s", entry.name, version, runtime.load_seconds)
                entry.state = "AVAILABLE"
            except Exception as err:  # noqa: BLE001 — reported in the model's status, not raised
                entry.state, entry.error = "FAILED", f"{type(err).__name__}: {err}"
                log.error("model %s failed to load: %s", entry.name, entry.error)
        self.loaded = True
        self.metrics.ready.set(1 if self.ready else 0)

    async def start_batchers(self) -> None:
        """Start one micro-batcher per loaded version (when ``batching`` is on)."""
        if not self.settings.batching:
            return
        s = self.settings
        for entry in self.entries.values():
            for version, runtime in entry.runtimes.items():
                if runtime.kind not in KINDS:  # language models are not micro-batched
                    continue
                batcher = MicroBatcher(lambda x, rt=runtime: self.call_model(rt, x), s.batch_max_size,
                                       s.batch_max_wait_ms, s.batch_queue_size, name=entry.name)
                await batcher.start()
                entry.batchers[version] = batcher

    async def stop_batchers(self) -> None:
        """Stop the micro-batchers."""
        for entry in self.entries.values():
            for batcher in entry.batchers.values():
                await batcher.stop()
            entry.batchers.clear()

    def begin_shutdown(self) -> None:
        """Report not ready from now on (requests in flight still finish)."""
        self.shutting_down = True
        for entry in self.entries.values():
            if entry.state == "AVAILABLE":
                entry.state = "UNLOADING"
        self.metrics.ready.set(0)

    # ----------------------------------------------------------------------------------- lookups
    def entry(self, name: str) -> ModelEntry:
        """The served model ``name``, or 404 listing the served ones."""
        entry = self.entries.get(name)
        if entry is None:
            raise ServiceError(404, f"model {name!r} is not served; served models: {sorted(self.entries)}")
        return entry

    def version_of(self, entry: ModelEntry, version: str | None = None, label: str | None = None) -> int:
        """The version meant by a ``/versions/{v}`` or ``/labels/{label}`` path part (default: the served one)."""
        if label is not None:
            if label not in entry.labels:
                raise ServiceError(404, f"model {entry.name!r} has no label {label!r}; labels: {entry.labels}")
            return entry.labels[label]
        if version is None:
            return entry.default
        if not version.isdigit() or version.startswith("0"):
            raise ServiceError(400, f"version {version!r} must be a positive integer, e.g. /versions/1")
        number = int(version)
        if number not in entry.registered:
            raise ServiceError(404, f"model {entry.name!r} has no version {number}; versions: {entry.registered}")
        return number

    def runtime(self, name: str, version: str | None = None, label: str | None = None,
                kinds: tuple[str, ...] = KINDS) -> ModelRuntime:
        """The loaded runtime for a request: 404 unknown model/version/label, 503 while loading or failed,
        400 when the model's kind is not one of ``kinds`` (language models answer on the OpenAI routes)."""
        entry = self.entry(name)
        number = self.version_of(entry, version, label)
        if number not in entry.planned:
            raise ServiceError(
                404, f"version {number} of model {name!r} is registered but not served (served: {entry.planned}); "
                     "start the service with all_versions=True or models=['name@version']"
            )
        if entry.state == "LOADING":
            raise ServiceError(503, f"model {name!r} is still loading; retry shortly", {"Retry-After": "1"})
        if entry.state == "FAILED":
            raise ServiceError(503, f"model {name!r} failed to load: {entry.error}")
        runtime = entry.runtimes[number]
        if runtime.kind not in kinds:
            where = ("/v1/completions and /v1/chat/completions" if runtime.kind == "generation" else
                     "/v1/embeddings" if runtime.kind == "embedding" else "/v1/models/{name}:predict")
            raise ServiceError(400, f"model {name!r} is a {runtime.kind} model; this route serves {list(kinds)} "
                                    f"models: use {where}")
        return runtime

    # -------------------------------------------------------------------------------- predicting
    def call_model(self, runtime: ModelRuntime, inputs) -> np.ndarray:
        """One model call, counted in the batch-size and inference-latency metrics (blocking)."""
        rows = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
        start = time.perf_counter()
        out = runtime.predict(inputs)
        self.metrics.inference.labels(model=runtime.name).observe(time.perf_counter() - start)
        self.metrics.batch_size.labels(model=runtime.name).observe(rows)
        return out

    async def predict(self, runtime: ModelRuntime, inputs, rows: int) -> np.ndarray:
        """Predictions for decoded inputs: through the micro-batcher when batching is on (503 when its
        queue is full), else one model call in a worker thread."""
        batcher = self.entries[runtime.name].batchers.get(runtime.version)
        if batcher is None:
            from anyio import to_thread

            return await to_thread.run_sync(self.call_model, runtime, inputs)
        try:
            return await batcher.submit(inputs, rows)
        except Overloaded as err:
            self.metrics.rejected.labels(model=runtime.name).inc()
            raise ServiceError(503, str(err), {"Retry-After": str(err.retry_after)}) from None


async def get_service(request: Request) -> Service:
    """FastAPI dependency: the app's :class:`Service`."""
    return request.app.state.service
