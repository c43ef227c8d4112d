"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The state of one running service: which models it serves, their loading and readiness, and the one
path every prediction takes (micro-batched or not, always counted in the metrics).

Lifecycle: :meth:`Service.plan` (at start-up, quick: resolve names, versions and labels in the registry;
a bad ``models`` setting stops the start with a clear error) → :meth:`Service.load_all` (in the
background: verify, load, compile and warm up every version; the service reports *not ready* until it
is done) → serving → :meth:`Service.begin_shutdown` (on SIGTERM: report not ready at once, keep
serving the requests in flight).

Canary, shadow and live updates. The default route of a model (``/v1/models/{name}:predict``,
``/v2/models/{name}/infer``) is answered by its *stable* version (the ``stable`` label, or the version
named in ``models``; a model without a ``stable`` label serves its newest version at start-up, and a reload or
poll never moves it to a version nobody labelled — label it ``stable`` to switch), except:

- **canary**: when the model has a ``canary`` label (another version) and its canary weight w > 0
  (``canary_weights[name]``, else ``canary_weight``; the reload route sets it at run time), each request goes
  to the canary with probability w (:meth:`Service.route`, a seedable RNG);
- **shadow**: when ``shadow`` is on, the canary also scores every request the stable version answered,
  *after* the reply is computed (a background task): its outputs and its disagreement with the stable
  version go to the metrics and :attr:`ModelEntry.shadow_log`; its errors never reach the client.

Every prediction reply carries the answering version in the ``x-model-version`` header.
:meth:`Service.reload` (``POST /v1/models/{name}:reload``) re-reads the registry's labels, loads newly
needed versions in a worker thread and then switches in one step (no ``await`` in between, so no request
sees half a switch); promote and rollback are the registry's job (``ModelRegistry.promote`` /
``rollback``), a reload makes the service follow them. Versions loaded once stay in memory until the
process stops (a rollback then needs no loading). When the ``canary`` label is gone (a registry rollback
removes it), a reload sets that model's canary weight to 0 and shadow off: a later ``canary`` label gets no
traffic until a weight is asked for again. Every switch is logged with the state it leaves.

Readiness policy. Each model is ``LOADING``, ``AVAILABLE`` or ``FAILED`` (with the reason), reported by
``GET /v2/models/{name}/ready`` and the status routes. The server (``/v2/health/ready``) is ready once no
model is loading and at least one model is available (or the registry is empty): one broken model does not
take the others out of rotation; it is named with its reason in the readiness body and logged at ERROR.

Live updates without a restart. With ``poll_seconds`` > 0 (:meth:`Service.poll`, like TF Serving's
file-system source), the registry is re-read every ``poll_seconds``: a new model (when ``models`` is empty)
is loaded and served, and a model whose versions or labels changed is reloaded; ``POST
/v1/models/{name}:reload`` of a registered model not yet served adds it at once.
"""
from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from fastapi import Request

from aiaas_lib.serving.batching import MicroBatcher, Overloaded
from aiaas_lib.serving.errors import ServiceError
from aiaas_lib.serving.metrics import ServiceMetrics
from aiaas_lib.serving.loading import load_runtime, served_at
from aiaas_lib.serving.runtime import KINDS, ModelRuntime
from aiaas_lib.serving.security import KeyChecker, RateLimiter, load_api_keys
from aiaas_lib.serving.settings import Settings

log = logging.getLogger("aiaas.serving")


@dataclass
class ModelEntry:
    """One served model: the versions to load, the default (stable) one, its labels (read at start-up and
    by :meth:`Service.reload`) and state (``LOADING`` → ``AVAILABLE`` or ``FAILED``; ``UNLOADING`` once the
    service shuts down); the canary version (None without one), its weight and the shadow switch."""

    name: str
    default: int
    planned: list[int]
    labels: dict[str, int]
    registered: list[int]
    state: str = "LOADING"
    error: str = ""
    runtimes: dict[int, ModelRuntime] = field(default_factory=dict)
    batchers: dict[int, MicroBatcher] = field(default_factory=dict)
    ref: str | None = None
    canary: int | None = None
    canary_weight: float = 0.0
    shadow: bool = False
    shadow_log: deque = field(default_factory=lambda: deque(maxlen=1000), repr=False)
    shadow_stats: dict = field(default_factory=lambda: {"requests": 0, "rows": 0, "abs_diff_sum": 0.0,
                                                         "decision_changes": 0, "errors": 0})

    def traffic(self) -> dict:
        """The routing of the default route: stable and canary versions, weight, shadow, shadow summary."""
        st = self.shadow_stats
        return {"name": self.name, "stable": self.default, "canary": self.canary,
                "canary_weight": self.canary_weight if self.canary is not None else 0.0,
                "shadow": bool(self.shadow and self.canary is not None), "served": list(self.planned),
                "labels": dict(self.labels),
                "shadow_summary": {"requests": st["requests"], "rows": st["rows"], "errors": st["errors"],
                                   "decision_changes": st["decision_changes"],
                                   "mean_abs_diff": st["abs_diff_sum"] / st["rows"] if st["rows"] else None}}


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
        from aiaas_lib.packaging.registry import ModelRegistry

        self.settings = settings or Settings()
        self.registry = registry if registry is not None else ModelRegistry(self.settings.registry)
        self.metrics = ServiceMetrics()
        self.keys = KeyChecker(load_api_keys(self.settings.api_keys, self.settings.api_keys_file))
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute, self.settings.rate_limit_burst)
        self.entries: dict[str, ModelEntry] = {}
        self.loaded = False
        self.shutting_down = False
        self.explain_lock = threading.Lock()  # shap explainers are not made for concurrent calls
        self.rng = random.Random(self.settings.canary_seed)  # canary routing (seeded in tests)
        self._reload_lock: asyncio.Lock | None = None

    # ---------------------------------------------------------------------------------- lifecycle
    @property
    def ready(self) -> bool:
        """True once no model is loading and at least one is available (or none is served), until shutdown
        begins: a model that failed to load is reported (:meth:`failed`) but does not stop the others."""
        if not self.loaded or self.shutting_down:
            return False
        states = [e.state for e in self.entries.values()]
        return "LOADING" not in states and (not states or "AVAILABLE" in states)

    def failed(self) -> dict[str, str]:
        """The models that failed to load, with the reason of each."""
        return {n: e.error for n, e in sorted(self.entries.items()) if e.state == "FAILED"}

    def not_ready_reason(self) -> str:
        """Why the service is not ready (empty when it is)."""
        if self.shutting_down:
            return "the service is shutting down"
        loading = sorted(n for n, e in self.entries.items() if e.state == "LOADING")
        if loading or not self.loaded:
            return f"loading models {loading}"
        failed = self.failed()
        if failed and not self.ready:
            return f"no model is available; models failed to load: {failed}"
        return ""

    def weight_for(self, name: str) -> float:
        """The canary weight model ``name`` starts with: ``canary_weights[name]``, else ``canary_weight``."""
        return self.settings.canary_weights.get(name, self.settings.canary_weight)

    def plan(self) -> None:
        """Decide which model versions to load (quick; raises ValueError for a bad ``models`` setting)."""
        from aiaas_lib.packaging.registry import RegistryError

        specs = self.settings.models or self.registry.models()
        unknown = sorted(set(self.settings.canary_weights) - {_parse_model_spec(s)[0] for s in specs})
        if unknown:
            raise ValueError(f"canary_weights names models {unknown} that are not served; served: "
                             f"{sorted(_parse_model_spec(s)[0] for s in specs)}")
        entries = {}
        for spec in specs:
            name, ref = _parse_model_spec(spec)
            try:
                entries[name] = self._new_entry(name, ref)
            except (RegistryError, ValueError) as err:
                raise ValueError(f"cannot serve models={specs!r} from {self.registry}: {err}") from err
        if not entries:
            log.warning("registry %s has no models: the service will serve none", self.registry.root)
        self.entries = entries

    def _new_entry(self, name: str, ref: str | None = None) -> ModelEntry:
        """The entry of model ``name`` as the registry says now (not loaded yet)."""
        weight, shadow = self.weight_for(name), self.settings.shadow
        default, planned, labels, registered, canary = self._read_labels(name, ref, weight, shadow)
        self.metrics.canary_weight.labels(model=name).set(weight if canary is not None else 0.0)
        return ModelEntry(name, default, planned, labels, registered, ref=ref, canary=canary, canary_weight=weight,
                          shadow=shadow, shadow_log=deque(maxlen=self.settings.shadow_log_size))

    def _read_labels(self, name: str, ref: str | None, weight: float, shadow: bool, current: int | None = None):
        """(default, planned, labels, registered, canary) of model ``name`` as the registry says now; the
        canary (a ``canary`` label on another version) is planned only when ``weight > 0`` or ``shadow``.
        Without ``ref`` or a ``stable`` label the default is ``current`` (the version served now, on a reload)
        while it is still registered, else the newest version: registering a version never makes it live."""
        labels = self.registry.labels(name)
        registered = self.registry.versions(name)
        if ref or "stable" in labels or current not in registered:
            default = self.registry.resolve(name, ref if ref else ("stable" if "stable" in labels else "latest"))
        else:
            default = current
        canary = labels.get("canary")
        if canary == default or canary not in registered or not (weight > 0 or shadow):
            canary = None
        planned = set(registered if self.settings.all_versions else [default])
        if canary is not None:
            planned.add(canary)
        return default, sorted(planned), labels, list(registered), canary

    def load_all(self) -> None:
        """Load every planned version (blocking; run in a worker thread). A version that fails marks its
        model ``FAILED`` with the reason (logged; the other models still serve, see the readiness policy)."""
        for entry in self.entries.values():
            self._load_entry(entry)
        self.loaded = True
        self.metrics.ready.set(1 if self.ready else 0)

    def _load_entry(self, entry: ModelEntry) -> None:
        """Load the planned versions of one entry (blocking): ``AVAILABLE``, or ``FAILED`` with the reason."""
        try:
            for version in entry.planned:
                runtime = load_runtime(self.registry, entry.name, version)
                entry.runtimes[version] = runtime
                self.metrics.load_seconds.labels(model=entry.name, version=str(version)).set(runtime.load_seconds)
                log.info("loaded %s version %d in %.2f s", entry.name, version, runtime.load_seconds)
            entry.state, entry.error = "AVAILABLE", ""
        except Exception as err:  # noqa: BLE001 — reported in the model's status, not raised
            entry.state, entry.error = "FAILED", f"{type(err).__name__}: {err}"
            log.error("model %s is broken and not served (the others are): %s", entry.name, entry.error)

    def log_ready(self) -> None:
        """Log what is served and, at ERROR, each model that failed to load with its reason."""
        served = {n: e.planned for n, e in self.entries.items() if e.state == "AVAILABLE"}
        failed = self.failed()
        if self.ready:
            log.info("ready: serving %s%s", served, f"; NOT serving (failed to load): {failed}" if failed else "")
        else:
            log.error("not ready: %s", self.not_ready_reason())

    async def add_model(self, name: str, ref: str | None = None) -> ModelEntry:
        """Serve registered model ``name`` that is not served yet, or load a ``FAILED`` one again (a reload of
        it, or :meth:`poll`): read its labels, load it in a worker thread, then add it. 404 when it is not in
        the registry, or is new while the service serves a fixed ``models`` list."""
        from anyio import to_thread

        from aiaas_lib.packaging.registry import RegistryError

        if name not in self.entries and self.settings.models:
            raise ServiceError(404, f"model {name!r} is not served; this service serves models={self.settings.models} "
                                    "only (start it without models= to pick up new ones)")
        if name not in self.registry.models():
            raise ServiceError(404, f"model {name!r} is not served nor registered; served models: "
                                    f"{sorted(self.entries)}")
        try:
            entry = await to_thread.run_sync(self._new_entry, name, ref)
        except (RegistryError, ValueError) as err:
            raise ServiceError(409, f"cannot serve model {name!r}: {err}") from None
        await to_thread.run_sync(self._load_entry, entry)
        if entry.state == "AVAILABLE":
            for version, runtime in entry.runtimes.items():
                await self._start_batcher(entry, version, runtime)
        self.entries[name] = entry
        log.info("new model %s: %s", name, f"serving versions {entry.planned}, stable {entry.default}"
                 if entry.state == "AVAILABLE" else f"FAILED: {entry.error}")
        self.metrics.ready.set(1 if self.ready else 0)
        return entry

    async def poll(self) -> list[str]:
        """One look at the registry: serve new models (when ``models`` is empty) and reload the models whose
        versions or labels changed (a failed model is loaded again once its versions change). Returns what it
        did, one line per model; errors are logged, never raised (the old routing keeps serving)."""
        from anyio import to_thread

        done = []
        names = await to_thread.run_sync(self.registry.models)
        for name in names:
            if self.shutting_down:
                break
            entry = self.entries.get(name)
            try:
                if entry is None:
                    if not self.settings.models:
                        entry = await self.add_model(name)
                        done.append(f"{name}: new, {entry.state.lower()}")
                    continue
                labels, registered = await to_thread.run_sync(
                    lambda n=name: (self.registry.labels(n), self.registry.versions(n)))
                if (labels, registered) == (entry.labels, entry.registered):
                    continue
                if entry.state == "FAILED":
                    fresh = await self.add_model(name, entry.ref)
                    done.append(f"{name}: loaded again, {fresh.state.lower()}")
                elif entry.state == "AVAILABLE":
                    reply = await self.reload(name)
                    done.append(f"{name}: reloaded, stable {reply['stable']}, canary {reply['canary']}")
            except ServiceError as err:
                log.error("poll: %s: %s", name, err.message)
                done.append(f"{name}: {err.message}")
        return done

    async def start_batchers(self) -> None:
        """Start one micro-batcher per loaded version (when ``batching`` is on)."""
        if not self.settings.batching:
            return
        for entry in self.entries.values():
            for version, runtime in entry.runtimes.items():
                await self._start_batcher(entry, version, runtime)

    async def _start_batcher(self, entry: ModelEntry, version: int, runtime: ModelRuntime) -> None:
        """Start the micro-batcher of one version (batching on, a tabular or tensor model, none yet)."""
        s = self.settings
        if not s.batching or runtime.kind not in KINDS or version in entry.batchers:
            return  # language models are not micro-batched
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
        """The loaded runtime for a request: 404 unknown model/version/label, 503 while loading, 500 when it
        failed to load (permanently, with the reason for its owner),
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
        if entry.state == "FAILED":  # permanent until the registry entry is fixed: not a "retry later" 503
            raise ServiceError(500, f"model {name!r} failed to load and will not be retried until its registry "
                                    f"entry changes: {entry.error}; tell the model's owner (fix the registry entry, "
                                    f"then POST /v1/models/{name}:reload; the other models are served)")
        runtime = entry.runtimes[number]
        if runtime.kind not in kinds:
            raise ServiceError(400, f"model {name!r} is a {runtime.kind} model; this route serves {list(kinds)} "
                                    f"models: use {served_at(runtime.kind, name)}")
        return runtime

    def route(self, name: str) -> tuple[ModelRuntime, str, ModelRuntime | None]:
        """The runtime answering a default-route request, its role (``"stable"`` or ``"canary"``), and the
        runtime to score it in shadow (None unless shadow mode is on and the stable version answers).
        The random draw happens only when the canary weight is > 0, so weight 0 never routes to it."""
        stable = self.runtime(name)
        entry = self.entries[name]
        canary = entry.runtimes.get(entry.canary) if entry.canary is not None else None
        if canary is None:
            return stable, "stable", None
        if entry.canary_weight > 0 and self.rng.random() < entry.canary_weight:
            return canary, "canary", None
        return stable, "stable", (canary if entry.shadow else None)

    async def reload(self, name: str, canary_weight: float | None = None, shadow: bool | None = None) -> dict:
        """Re-read model ``name``'s labels from the registry, load the versions now needed (in a worker
        thread; the old routing serves meanwhile), then switch in one step; ``canary_weight`` / ``shadow``
        (None: keep) set the split. Returns :meth:`ModelEntry.traffic` plus ``loaded`` (new versions).

        Raises ServiceError 400 (weight outside [0, 1], shadow not a bool), 409 (a weight > 0 or shadow asked
        for but the model has no ``canary`` label), 503 (model not loaded yet), 500 (loading a version failed:
        the old routing stays)."""
        from anyio import to_thread

        from aiaas_lib.packaging.registry import RegistryError

        if not self.shutting_down and (name not in self.entries or self.entries[name].state == "FAILED"):
            # a model registered after start-up (404 when it is not registered), or a broken one fixed since
            entry = self.entries.get(name)
            fresh = await self.add_model(name, entry.ref if entry else None)
            if fresh.state == "FAILED":
                raise ServiceError(500, f"model {name!r} failed to load again: {fresh.error}; tell the model's "
                                        "owner (fix the registry entry, then reload again)")
        entry = self.entry(name)
        if canary_weight is not None:
            if isinstance(canary_weight, bool) or not isinstance(canary_weight, (int, float)) \
                    or not 0 <= canary_weight <= 1:
                raise ServiceError(400, f"canary_weight={canary_weight!r}; expected a number between 0 and 1")
        if shadow is not None and not isinstance(shadow, bool):
            raise ServiceError(400, f"shadow={shadow!r}; expected true or false")
        if entry.state != "AVAILABLE":
            raise ServiceError(503, f"model {name!r} is {entry.state.lower()}; reload once it is available",
                               {"Retry-After": "1"})
        if self._reload_lock is None:
            self._reload_lock = asyncio.Lock()
        async with self._reload_lock:
            weight = entry.canary_weight if canary_weight is None else float(canary_weight)
            shadow_on = entry.shadow if shadow is None else shadow
            try:
                default, planned, labels, registered, canary = await to_thread.run_sync(
                    self._read_labels, name, entry.ref, weight, shadow_on, entry.default)
            except (RegistryError, ValueError) as err:
                self.metrics.reloads.labels(model=name, outcome="failed").inc()
                raise ServiceError(409, f"cannot reload model {name!r}: {err}") from None
            asked = (canary_weight is not None and canary_weight > 0) or shadow is True
            if asked and "canary" not in labels:
                self.metrics.reloads.labels(model=name, outcome="failed").inc()
                raise ServiceError(409, f"model {name!r} has no 'canary' label (labels: {labels}); label a version "
                                        f"first: ModelRegistry.set_label({name!r}, 'canary', version)")
            new = [v for v in planned if v not in entry.runtimes]

            def load() -> dict[int, ModelRuntime]:
                return {v: load_runtime(self.registry, name, v) for v in new}

            try:
                loaded = await to_thread.run_sync(load)
            except Exception as err:  # noqa: BLE001 — the old routing keeps serving
                self.metrics.reloads.labels(model=name, outcome="failed").inc()
                log.error("reload of %s failed: %s", name, err)
                raise ServiceError(500, f"reload of model {name!r} failed, still serving version {entry.default}: "
                                        f"{type(err).__name__}: {err}; tell the model's owner (fix the registry "
                                        "entry, then reload again)") from None
            for version, runtime in loaded.items():
                self.metrics.load_seconds.labels(model=name, version=str(version)).set(runtime.load_seconds)
                await self._start_batcher(entry, version, runtime)
            if "canary" not in labels and (weight > 0 or shadow_on):
                weight, shadow_on = 0.0, False  # the canary label is gone (a rollback): its traffic goes too
                log.info("model %s has no 'canary' label any more: canary weight set to 0 and shadow off", name)
            if not entry.ref and "stable" not in labels and registered[-1] != default:
                log.warning("model %s has no 'stable' label: still serving version %d, not the newest %d (label "
                            "it: aiaas models promote %s %d)", name, default, registered[-1], name, registered[-1])
            # the switch: plain assignments without an await in between, so no request sees half of it
            entry.runtimes.update(loaded)
            entry.labels, entry.registered, entry.planned = labels, registered, planned
            entry.default, entry.canary, entry.canary_weight, entry.shadow = default, canary, weight, shadow_on
            effective = weight if canary is not None else 0.0
            self.metrics.canary_weight.labels(model=name).set(effective)
            self.metrics.reloads.labels(model=name, outcome="ok").inc()
            log.info("reloaded %s: stable %d, canary %s (weight %.2f, shadow %s), newly loaded %s",
                     name, default, canary, effective, bool(shadow_on and canary is not None), sorted(loaded))
        return {**entry.traffic(), "loaded": sorted(loaded)}

    def count(self, runtime: ModelRuntime, role: str, rows: int) -> None:
        """Count ``rows`` answered by ``runtime`` in ``aiaas_predictions_total``."""
        self.metrics.predictions.labels(model=runtime.name, version=str(runtime.version), role=role).inc(rows)

    async def score_shadow(self, shadow: ModelRuntime, inputs, answered: np.ndarray, answered_version: int) -> None:
        """Score ``inputs`` with the shadow version after the reply was sent, and record its outputs and
        their disagreement with ``answered`` (the stable outputs). Errors are logged and counted only."""
        from anyio import to_thread

        entry, stats = self.entries[shadow.name], self.entries[shadow.name].shadow_stats
        try:
            out = np.asarray(await to_thread.run_sync(shadow.predict, inputs), dtype=float)
            ref = np.asarray(answered, dtype=float)
            if out.shape != ref.shape:
                raise ValueError(f"shadow output shape {out.shape} differs from the stable {ref.shape}")
            rows = len(ref)
            flat_out, flat_ref = out.reshape(rows, -1), ref.reshape(rows, -1)
            diff = np.abs(flat_out - flat_ref).mean(axis=1)
            if flat_ref.shape[1] == 1:
                changes = int(((flat_out[:, 0] > 0.5) != (flat_ref[:, 0] > 0.5)).sum())
            else:
                changes = int((flat_out.argmax(axis=1) != flat_ref.argmax(axis=1)).sum())
        except Exception as err:  # noqa: BLE001 — a failing shadow must never affect clients
            stats["errors"] += 1
            self.metrics.shadow_errors.labels(model=shadow.name).inc()
            log.warning("shadow version %d of %s failed: %s: %s", shadow.version, shadow.name,
                        type(err).__name__, err)
            return
        stats["requests"] += 1
        stats["rows"] += rows
        stats["abs_diff_sum"] += float(diff.sum())
        stats["decision_changes"] += changes
        self.metrics.shadow_predictions.labels(model=shadow.name, version=str(shadow.version)).inc(rows)
        self.metrics.shadow_diff.labels(model=shadow.name).observe(float(diff.mean()))
        if changes:
            self.metrics.shadow_changes.labels(model=shadow.name).inc(changes)
        entry.shadow_log.append({"stable_version": answered_version, "shadow_version": shadow.version,
                                 "stable": flat_ref.tolist(), "shadow": flat_out.tolist()})

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
