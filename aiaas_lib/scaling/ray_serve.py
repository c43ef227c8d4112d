"""Used by notebook 17; also imported by the CLI/service.

The course's model service on Ray Serve: the same FastAPI app, several replicas, autoscaling, ``@serve.batch``.

:func:`build_app` wraps :func:`aiaas_lib.serving.app.create_app` in a Ray Serve deployment
(``@serve.deployment`` + ``@serve.ingress``): every replica is a separate process (a Ray actor) that
builds the app with the same :class:`~aiaas_lib.serving.settings.Settings` and loads the models itself, and
Ray's HTTP proxy spreads requests over the replicas. Every route of the plain service answers unchanged;
one route is added, ``POST /batched/v1/models/{name}:predict`` (TF Serving row format), whose model calls
go through ``@serve.batch``: requests that arrive within ``batch_wait_timeout_s`` of each other (up to
``max_batch_size``) share one model call.

- :func:`autoscaling_config` — a checked ``autoscaling_config`` dict (min/max replicas, target ongoing
  requests per replica) to pass as ``build_app(..., autoscaling=...)`` instead of a fixed replica count.
- :class:`RayServeRunner` — start Ray (bounded: ``num_cpus``, no dashboard, worker logs kept out of the
  driver), run the app on an HTTP port, wait until every replica answers ready, and always stop Serve and
  Ray again (context manager, and at interpreter exit).
- :func:`app_builder` — the import path for Ray's own tools (``serve run aiaas_lib.scaling.ray_serve:app_builder
  registry=models``, a KubeRay ``RayService``); ``aiaas serve --ray`` uses :func:`serve_forever`.

On one 2-core machine this is *slower* than the single ``aiaas serve`` process (an extra proxy hop, replicas
competing for the same two cores): Ray Serve pays off when the replicas run on many machines.
"""
import atexit
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import numpy as np

#: The route whose model calls go through ``@serve.batch``.
BATCHED_PREFIX = "/batched"
_AUTOSCALING_KEYS = ("min_replicas", "max_replicas", "target_ongoing_requests")
_RUNNERS: set = set()  # RayServeRunner objects still running
_CLASS = None


def autoscaling_config(min_replicas: int = 1, max_replicas: int = 2, target_ongoing_requests: float = 4.0,
                       upscale_delay_s: float = 2.0, downscale_delay_s: float = 30.0) -> dict:
    """An ``autoscaling_config`` for :func:`build_app`: Ray Serve keeps between ``min_replicas`` and
    ``max_replicas`` replicas and adds one when the requests in flight per replica stay above
    ``target_ongoing_requests`` for ``upscale_delay_s`` seconds (removes one after ``downscale_delay_s``
    below it).

    Examples
    --------
    >>> autoscaling_config(1, 4, 8)["max_replicas"]
    4
    >>> autoscaling_config(3, 2)
    Traceback (most recent call last):
    ...
    ValueError: min_replicas=3, max_replicas=2; expected 0 <= min_replicas <= max_replicas and max_replicas >= 1
    """
    if not (isinstance(min_replicas, int) and isinstance(max_replicas, int)
            and 0 <= min_replicas <= max_replicas and max_replicas >= 1):
        raise ValueError(f"min_replicas={min_replicas!r}, max_replicas={max_replicas!r}; expected "
                         "0 <= min_replicas <= max_replicas and max_replicas >= 1")
    if not target_ongoing_requests > 0:
        raise ValueError(f"target_ongoing_requests={target_ongoing_requests!r}; expected a number > 0")
    return {"min_replicas": min_replicas, "max_replicas": max_replicas,
            "target_ongoing_requests": float(target_ongoing_requests), "upscale_delay_s": float(upscale_delay_s),
            "downscale_delay_s": float(downscale_delay_s)}


def _import_serve():
    """``ray.serve``, imported without the PydanticDeprecatedSince20 warnings its own config classes raise
    at import (Ray 2.60 with pydantic 2.x: Ray's code, not ours, and harmless)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*extra keyword arguments on `Field`.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="ray.*")
        from ray import serve
    return serve


def _concat(parts: list):
    """Join decoded model inputs (column dicts or arrays) along the batch axis."""
    if isinstance(parts[0], Mapping):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)


def _until_loaded(lifespan, service, timeout: float = 600.0):
    """Wrap the app's lifespan so that start-up ends only when the models are loaded (or failed).

    The plain service loads in the background and answers 503 meanwhile; under Ray Serve the replica's
    start-up (which runs the lifespan) must not end earlier, or the proxy sends requests to a replica that
    is still loading — an autoscaled replica would answer its first requests with 503."""
    import asyncio

    @asynccontextmanager
    async def wrapped(app):
        async with lifespan(app) as state:
            deadline = time.monotonic() + timeout
            while not service.ready and "failed" not in service.not_ready_reason() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)  # poll interval while the models load
            yield state

    return wrapped


def _deployment_class():
    """The Ray Serve deployment class (made once, on first use, so importing this module needs no Ray).

    This module does not use ``from __future__ import annotations``: FastAPI must see ``request: Request``
    as the class itself (a string annotation would name a global this module does not have)."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from fastapi import Depends, Request

    serve = _import_serve()

    from aiaas_lib.serving.security import read_json, require_client

    @serve.ingress()
    class AiaasService:
        """One replica: the service's FastAPI app plus a ``@serve.batch`` predict route."""

        def __init__(self, settings: dict, max_batch_size: int = 16, batch_wait_timeout_s: float = 0.005):
            from aiaas_lib.serving.settings import Settings

            self.settings = Settings(**settings)
            self.batch_sizes: list[int] = []
            self.batched.set_max_batch_size(max_batch_size)
            self.batched.set_batch_wait_timeout_s(batch_wait_timeout_s)

        def __serve_build_asgi_app__(self):
            from aiaas_lib.serving.app import create_app
            from aiaas_lib.serving.errors import InputError

            app = create_app(self.settings)
            self.service = app.state.service
            app.router.lifespan_context = _until_loaded(app.router.lifespan_context, self.service)

            @app.post(BATCHED_PREFIX + "/v1/models/{name}:predict", dependencies=[Depends(require_client)],
                      tags=["Ray Serve"])
            async def batched_predict(name: str, request: Request):
                """TF Serving row format; the model call is shared with concurrent requests (``@serve.batch``)."""
                runtime = self.service.runtime(name)
                body = await read_json(request, self.settings.max_body_bytes)
                if not isinstance(body, dict) or set(body) != {"instances"}:
                    raise InputError('request body must be {"instances": [...]} (row format)')
                inputs, n = runtime.decode_instances(body["instances"], self.settings.max_instances)
                outputs = runtime.check_finite(await self.batched((runtime, inputs, n)))
                return {"predictions": outputs.tolist()}

            @app.get(BATCHED_PREFIX + "/stats", tags=["Ray Serve"])
            async def batch_stats():
                """How many model calls this replica made through ``@serve.batch`` and their request counts."""
                return {"calls": len(self.batch_sizes), "requests": int(sum(self.batch_sizes))}

            return app

        @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
        async def batched(self, items: list) -> list:
            """One model call per model for all requests in the batch; each request gets its rows back."""
            self.batch_sizes.append(len(items))
            results: list = [None] * len(items)
            by_model: dict = {}
            for i, (runtime, _, _) in enumerate(items):
                by_model.setdefault(id(runtime), []).append(i)
            for indices in by_model.values():
                runtime = items[indices[0]][0]
                out = self.service.call_model(runtime, _concat([items[i][1] for i in indices]))
                start = 0
                for i in indices:
                    results[i] = out[start:start + items[i][2]]
                    start += items[i][2]
            return results

    _CLASS = AiaasService
    return _CLASS


def build_app(settings=None, num_replicas: int = 2, autoscaling: Mapping | None = None, max_batch_size: int = 16,
              batch_wait_timeout_s: float = 0.005, num_cpus_per_replica: float = 1.0):
    """The service as a Ray Serve application (``Deployment.bind(...)``), ready for ``serve.run``.

    Parameters
    ----------
    settings : Settings or dict, optional
        The service's settings (registry, models, keys, limits); default: from ``AIAAS_*`` variables.
    num_replicas : int
        Fixed number of replicas (ignored when ``autoscaling`` is given).
    autoscaling : dict, optional
        From :func:`autoscaling_config`.
    max_batch_size, batch_wait_timeout_s
        The ``@serve.batch`` parameters of the ``/batched`` route.

    Examples
    --------
    >>> build_app(num_replicas=0)
    Traceback (most recent call last):
    ...
    ValueError: num_replicas=0; expected an integer >= 1 (or give autoscaling=autoscaling_config(...))
    """
    if autoscaling is None and (not isinstance(num_replicas, int) or num_replicas < 1):
        raise ValueError(f"num_replicas={num_replicas!r}; expected an integer >= 1 "
                         "(or give autoscaling=autoscaling_config(...))")
    if autoscaling is not None and not set(_AUTOSCALING_KEYS) <= set(autoscaling):
        raise ValueError(f"autoscaling={dict(autoscaling)!r}; expected a dict with {list(_AUTOSCALING_KEYS)} "
                         "(use autoscaling_config(...))")
    if not isinstance(max_batch_size, int) or max_batch_size < 1:
        raise ValueError(f"max_batch_size={max_batch_size!r}; expected an integer >= 1")
    from aiaas_lib.serving.settings import Settings

    settings = settings if isinstance(settings, Settings) else Settings(**dict(settings or {}))
    args = (settings.model_dump(mode="json"), max_batch_size, batch_wait_timeout_s)
    options = {"ray_actor_options": {"num_cpus": num_cpus_per_replica}, "max_ongoing_requests": 64}
    if autoscaling is not None:
        options["autoscaling_config"] = dict(autoscaling)
    else:
        options["num_replicas"] = num_replicas
    serve = _import_serve()
    deployment = serve.deployment(name="aiaas", **options)(_deployment_class())
    return deployment.bind(*args)


def app_builder(args: dict):
    """Ray's application-builder entry point: ``serve run aiaas_lib.scaling.ray_serve:app_builder
    registry=models replicas=2`` or ``import_path`` in a Ray Serve config / KubeRay ``RayService``.

    ``args``: ``replicas``, ``max_batch_size``, ``batch_wait_timeout_s`` and any
    :class:`~aiaas_lib.serving.settings.Settings` field (e.g. ``registry``, ``models``); values may be strings.

    Examples
    --------
    >>> app_builder({"registry": "models", "replicas": "0"})
    Traceback (most recent call last):
    ...
    ValueError: num_replicas=0; expected an integer >= 1 (or give autoscaling=autoscaling_config(...))
    """
    args = dict(args)
    replicas = int(args.pop("replicas", 2))
    max_batch_size = int(args.pop("max_batch_size", 16))
    wait = float(args.pop("batch_wait_timeout_s", 0.005))
    return build_app(args, num_replicas=replicas, max_batch_size=max_batch_size, batch_wait_timeout_s=wait)


def _quiet_logging() -> None:
    """Keep Ray's driver-side INFO lines (Serve start-up, deployment updates, "Missing packages:
    ['ipywidgets']" in Jupyter) out of notebooks and tests."""
    for name in ("ray", "ray.serve", "ray.data", "ray._private", "ray.widgets", "ray.widgets.util"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def quiet_ray() -> Iterator[None]:
    """Around Ray calls from a notebook: Ray's loggers at ERROR, and no TqdmWarning ("IProgress not found":
    Ray imports ``tqdm.auto``, which wants ipywidgets inside Jupyter; progress bars are off anyway).

    Examples
    --------
    >>> with quiet_ray():
    ...     logging.getLogger("ray.serve").level == logging.ERROR
    True
    """
    _quiet_logging()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        yield
    _quiet_logging()


def start_ray(num_cpus: int = 2, attempts: int = 3) -> None:
    """``ray.init`` bounded for a laptop or CI: ``num_cpus`` CPUs, no dashboard, a small object store,
    worker logs kept in Ray's log folder (not printed here). Does nothing when Ray already runs.

    Ray gives its own processes a fixed 30 s to start; on an overloaded machine that can fail, so the start
    is tried up to ``attempts`` times (cleaning up in between) before the error is raised."""
    with quiet_ray():
        import ray

        _quiet_logging()
        for attempt in range(attempts):
            if ray.is_initialized():
                return
            try:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, object_store_memory=256 * 1024 * 1024, configure_logging=True)
            except Exception:  # e.g. "The current node timed out during startup" (a fixed 30 s) on a busy machine
                ray.shutdown()  # stops whatever half-started
                if attempt == attempts - 1:
                    raise


def stop_ray(app_name: str | None = None) -> None:
    """Delete the Serve application ``app_name`` (its replicas stop and release their models first), then
    ``serve.shutdown()`` and ``ray.shutdown()`` (each only when running)."""
    import ray

    if ray.is_initialized():
        import contextlib
        import io

        serve = _import_serve()
        _quiet_logging()
        # serve.shutdown() ends with the controller killing itself, which Ray's error listener reports on
        # stdout ("Task ServeController.graceful_shutdown failed ...") although nothing went wrong: that one
        # expected line is swallowed here; ray.shutdown() stops the listener before the redirect ends.
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                if app_name is not None and _serve_running():
                    serve.delete(app_name)
                if _serve_running():
                    serve.shutdown()
            finally:
                ray.shutdown()


def _serve_running() -> bool:
    """True when a Serve instance runs on the connected Ray cluster."""
    from ray.serve.context import _get_global_client

    try:
        return _get_global_client() is not None
    except Exception:  # noqa: BLE001 — no controller: not running
        return False


class RayServeRunner:
    """Run a Ray Serve application on ``http://127.0.0.1:port`` and stop it (and Ray) afterwards.

    Parameters
    ----------
    app
        From :func:`build_app`.
    port : int, optional
        HTTP port of Ray's proxy (default: a free one).
    num_cpus : int
        CPUs Ray may use on this machine.
    ready_path : str
        Polled until ``ready_hits`` answers in a row are 200 (the proxy spreads them over the replicas, so
        every replica has loaded its models), within ``timeout`` seconds of :meth:`start`.

    Use it as a context manager; Ray is also stopped at interpreter exit.

    Examples
    --------
    ``with RayServeRunner(build_app({"registry": "models"})) as ray_service: ray_service.url`` — about
    20-40 s to start two replicas on two cores.
    """

    def __init__(self, app, port: int | None = None, num_cpus: int = 2, ready_path: str = "/v2/health/ready",
                 ready_hits: int = 20, name: str = "aiaas"):
        from aiaas_lib.loadtest import free_port

        self.app, self.port, self.num_cpus = app, port or free_port(), num_cpus
        self.ready_path, self.ready_hits, self.name = ready_path, ready_hits, name
        self.url = f"http://127.0.0.1:{self.port}"
        self.running = False

    def start(self, timeout: float = 180.0) -> "RayServeRunner":
        """Start Ray and Serve, deploy, and wait until ready (stop everything and raise RuntimeError if not
        ready within ``timeout`` seconds)."""
        serve = _import_serve()
        deadline = time.monotonic() + timeout
        _RUNNERS.add(self)
        self.running = True
        try:
            start_ray(self.num_cpus)
            serve.start(http_options={"host": "127.0.0.1", "port": self.port})
            _quiet_logging()
            serve.run(self.app, name=self.name, route_prefix="/", blocking=False)
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, deadline: float) -> None:
        """Poll ``ready_path`` until ``ready_hits`` answers in a row are 200, or raise RuntimeError."""
        import httpx

        hits = 0
        while hits < self.ready_hits:
            try:
                ok = httpx.get(self.url + self.ready_path, timeout=5.0).status_code == 200
            except httpx.TransportError:
                ok = False
            hits = hits + 1 if ok else 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"Ray Serve was not ready at {self.url}{self.ready_path} in time")
            if not ok:
                time.sleep(0.1)  # poll interval

    def redeploy(self, app, timeout: float = 180.0) -> "RayServeRunner":
        """Replace the running application with ``app`` (e.g. the same service with an autoscaling config);
        Ray Serve starts the new replicas before it stops the old ones. Waits until ready."""
        if not self.running:
            raise RuntimeError("the runner is not running; start() it first")
        serve = _import_serve()
        self.app = app
        serve.run(app, name=self.name, route_prefix="/", blocking=False)
        _quiet_logging()
        self._wait_ready(time.monotonic() + timeout)
        return self

    def replicas(self) -> dict[str, int]:
        """Replicas of the deployment per state, e.g. ``{"RUNNING": 2}`` (from ``serve.status()``)."""
        serve = _import_serve()
        status = serve.status().applications[self.name].deployments["aiaas"]
        return {str(k): int(v) for k, v in status.replica_states.items()}

    def stop(self) -> None:
        """Stop Serve and Ray (safe to call twice)."""
        if self.running:
            self.running = False
            stop_ray(self.name)
        _RUNNERS.discard(self)

    def __enter__(self) -> "RayServeRunner":
        return self if self.running else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for runner in list(_RUNNERS):
        runner.stop()


def serve_forever(settings, num_replicas: int = 2, port: int = 8000, num_cpus: int | None = None) -> int:
    """``aiaas serve --ray``: run the service on Ray Serve until SIGINT or SIGTERM, then stop Serve and Ray."""
    import os
    import signal
    import threading

    stop = threading.Event()
    cpus = num_cpus or os.cpu_count() or 2
    runner = RayServeRunner(build_app(settings, num_replicas=num_replicas), port=port, num_cpus=cpus, ready_hits=5)
    start_ray(num_cpus=cpus)
    # after ray.init, which installs its own SIGTERM handler in the driver (it dumps a stack trace and dies
    # without stopping Serve): ours replaces it, so that SIGTERM — even one during start-up — stops Serve and
    # Ray, then exits 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with runner:
        print(f"aiaas serve --ray: http://127.0.0.1:{port} ({num_replicas} replicas on Ray Serve; "
              f"batched route {BATCHED_PREFIX}/v1/models/{{name}}:predict)", flush=True)
        while not stop.wait(0.5):
            pass
    return 0
