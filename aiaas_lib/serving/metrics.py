"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

Prometheus metrics of one service instance, in its own ``CollectorRegistry`` (never the global one, so
a test or a notebook can build many apps in one process).

=====================================  =========  ==================================================
metric                                 type       labels
=====================================  =========  ==================================================
``aiaas_requests_total``               counter    route (the route *template*), method, status
``aiaas_request_duration_seconds``     histogram  route, method
``aiaas_requests_in_progress``         gauge      —
``aiaas_batch_size``                   histogram  model — rows per model call (> 1 when batched)
``aiaas_inference_duration_seconds``   histogram  model — time of the model call alone
``aiaas_batch_rejected_total``         counter    model — requests refused because the queue was full
``aiaas_model_load_seconds``           gauge      model, version
``aiaas_ready``                        gauge      — 1 when ready (no model loading, one available, see service)
``aiaas_predictions_total``            counter    model, version, role — rows answered (role ``stable``,
                                                  ``canary``, or ``pinned`` for /versions and /labels)
``aiaas_canary_weight``                gauge      model — share of default-route requests to the canary
``aiaas_shadow_predictions_total``     counter    model, version — rows scored silently in shadow mode
``aiaas_shadow_abs_diff``              histogram  model — mean |shadow − stable| output per request
``aiaas_shadow_decision_changes_total`` counter   model — rows whose decision (p > 0.5 / argmax) differs
``aiaas_shadow_errors_total``          counter    model — shadow calls that failed (never seen by clients)
``aiaas_model_reloads_total``          counter    model, outcome (``ok`` / ``failed``)
=====================================  =========  ==================================================

Labelling by template (``/v1/models/{name}:predict``), not by raw path, keeps the number of series
bounded whatever paths clients send; unknown paths are counted as route ``"unmatched"``.
"""
from __future__ import annotations

import time

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DIFF_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServiceMetrics:
    """The metrics of one app, registered in a fresh ``CollectorRegistry``.

    Examples
    --------
    >>> m = ServiceMetrics()
    >>> m.batch_size.labels(model="churn").observe(3)
    >>> b'aiaas_batch_size_count{model="churn"} 1.0' in m.render()[0]
    True
    """

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = r = CollectorRegistry(auto_describe=True)
        self.requests = Counter("aiaas_requests", "HTTP requests by route template, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("aiaas_request_duration_seconds", "HTTP request latency",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_progress = Gauge("aiaas_requests_in_progress", "HTTP requests being served", registry=r)
        self.batch_size = Histogram("aiaas_batch_size", "Rows per model call", ["model"],
                                    buckets=BATCH_BUCKETS, registry=r)
        self.inference = Histogram("aiaas_inference_duration_seconds", "Model call latency", ["model"],
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.rejected = Counter("aiaas_batch_rejected", "Requests refused because the batch queue was full",
                                ["model"], registry=r)
        self.load_seconds = Gauge("aiaas_model_load_seconds", "Time to load (verify, load, compile, warm up)",
                                  ["model", "version"], registry=r)
        self.ready = Gauge("aiaas_ready", "1 when the service is ready", registry=r)
        self.predictions = Counter("aiaas_predictions", "Rows answered, by model version and role",
                                   ["model", "version", "role"], registry=r)
        self.canary_weight = Gauge("aiaas_canary_weight", "Share of default-route requests sent to the canary",
                                   ["model"], registry=r)
        self.shadow_predictions = Counter("aiaas_shadow_predictions", "Rows scored silently by the shadow version",
                                          ["model", "version"], registry=r)
        self.shadow_diff = Histogram("aiaas_shadow_abs_diff", "Mean |shadow - stable| output per request",
                                     ["model"], buckets=DIFF_BUCKETS, registry=r)
        self.shadow_changes = Counter("aiaas_shadow_decision_changes", "Rows whose shadow decision differs",
                                      ["model"], registry=r)
        self.shadow_errors = Counter("aiaas_shadow_errors", "Shadow calls that failed", ["model"], registry=r)
        self.reloads = Counter("aiaas_model_reloads", "Reloads of a model's labels and versions",
                               ["model", "outcome"], registry=r)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times every HTTP request by route template and status."""

    def __init__(self, app, metrics: ServiceMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.in_progress.dec()
            route = getattr(scope.get("route"), "path_format", None) or "unmatched"  # "{name}", not "{name:segment}"
            method = scope.get("method", "")
            self.metrics.latency.labels(route=route, method=method).observe(time.perf_counter() - start)
            self.metrics.requests.labels(route=route, method=method, status=str(status["code"])).inc()
