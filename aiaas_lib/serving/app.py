"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The app factory: :func:`create_app` wires settings, the model registry, the protocol routers, the
error shape, metrics, the OpenAPI document (:mod:`.openapi`), the offline ``/docs`` and ``/redoc``
(:mod:`.docs`) and the load-at-start-up lifecycle into one FastAPI app.

Run it with ``aiaas serve`` (which also handles SIGTERM gracefully), or with any ASGI server:
``uvicorn --factory aiaas_lib.serving.app:create_app`` (settings from ``AIAAS_*`` variables).
"""
from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from aiaas_lib import __version__
from aiaas_lib.serving import kserve, openai_api, tfserving
from aiaas_lib.serving.docs import install_docs
from aiaas_lib.serving.errors import install_error_handlers
from aiaas_lib.serving.metrics import MetricsMiddleware
from aiaas_lib.serving.openapi import install_openapi
from aiaas_lib.serving.security import require_client
from aiaas_lib.serving.service import Service
from aiaas_lib.serving.settings import Settings

log = logging.getLogger("aiaas.serving")


async def _metrics_guard(request: Request) -> None:
    """``/metrics`` needs an API key like the model routes, unless ``metrics_public`` is set."""
    if not request.app.state.service.settings.metrics_public:
        await require_client(request)


def create_app(settings: Settings | None = None, registry=None) -> FastAPI:
    """The model service as a FastAPI app.

    Parameters
    ----------
    settings : Settings, optional
        Default: read from ``AIAAS_*`` environment variables.
    registry : ModelRegistry, optional
        Default: ``ModelRegistry(settings.registry)``.

    At start-up (the ASGI lifespan) the app decides which model versions to serve (an unknown model in
    ``settings.models`` stops the start with an error), then loads them in the background: liveness is
    200 at once, readiness turns 200 when no model is loading and one at least is available (a model that
    fails to load is reported by name, see :mod:`.service`); with ``poll_seconds`` the registry is then
    followed. ``app.state.service`` holds the
    :class:`~aiaas_lib.serving.service.Service` (models, metrics, ``begin_shutdown()``).

    Examples
    --------
    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(Settings(registry=tempfile.mkdtemp()))
    >>> with TestClient(app) as client:
    ...     client.get("/v2/health/live").json(), client.get("/v1/models/churn").json()
    ({'live': True}, {'error': "model 'churn' is not served; served models: []"})
    """
    service = Service(settings, registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.plan()

        async def load():
            await to_thread.run_sync(service.load_all)
            if service.settings.gc_freeze:  # see Settings: no more full-GC pauses over TF's objects
                gc.collect()
                gc.freeze()
            await service.start_batchers()
            service.log_ready()
            while service.settings.poll_seconds > 0 and not service.shutting_down:  # follow the registry
                await asyncio.sleep(service.settings.poll_seconds)
                try:
                    for line in await service.poll():
                        log.info("registry poll: %s", line)
                except Exception as err:  # noqa: BLE001 — a bad poll must not stop serving
                    log.error("registry poll failed: %s: %s", type(err).__name__, err)

        loading = asyncio.create_task(load())
        try:
            yield
        finally:
            service.begin_shutdown()
            if not loading.done():
                loading.cancel()
            try:
                await loading
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 — shutting down anyway
                pass
            await service.stop_batchers()
            if service.settings.gc_freeze:
                gc.unfreeze()

    app = FastAPI(title="aiaas model service", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="TF Serving REST and KServe V2 (Open Inference Protocol) predictions, SHAP "
                              "explanations, an OpenAI-compatible text API, health and Prometheus metrics. "
                              "Every model-specific route is listed once per served model, with its own "
                              "request schema and a runnable example.")
    app.state.service = service
    install_error_handlers(app)
    app.include_router(kserve.health)
    app.include_router(tfserving.router)
    app.include_router(kserve.router)
    app.include_router(openai_api.router)

    install_docs(app)
    install_openapi(app)

    @app.get("/metrics", dependencies=[Depends(_metrics_guard)], tags=["monitoring"])
    async def metrics():
        """Prometheus metrics of this service."""
        body, content_type = service.metrics.render()
        return Response(body, media_type=content_type)

    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    return app
