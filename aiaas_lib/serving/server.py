"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

Running the service in uvicorn with a graceful stop: on SIGTERM (or Ctrl-C) the service first reports
*not ready*, optionally keeps serving for ``drain_seconds`` so that a load balancer notices, then uvicorn
stops accepting connections, lets the requests in flight finish, and the process exits with code 0.
"""
from __future__ import annotations

import ipaddress
import logging
import signal
import threading

import uvicorn

from aiaas_lib.serving.app import create_app
from aiaas_lib.serving.settings import Settings


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, ``localhost``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("::1")
    (True, True, False, True)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


class GracefulServer(uvicorn.Server):
    """uvicorn's ``Server`` whose exit signal first calls ``service.begin_shutdown()`` (not ready), then,
    after ``drain_seconds``, lets uvicorn stop as usual. A second signal stops at once.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> calls = []
    >>> service = SimpleNamespace(begin_shutdown=lambda: calls.append("not ready"))
    >>> server = GracefulServer(uvicorn.Config(app=None), service)
    >>> server.handle_exit(signal.SIGTERM, None)
    >>> calls, server.should_exit
    (['not ready'], True)
    """

    def __init__(self, config: uvicorn.Config, service, drain_seconds: float = 0.0):
        super().__init__(config)
        self.service, self.drain_seconds, self._draining = service, float(drain_seconds), False

    def handle_exit(self, sig: int, frame) -> None:
        """Report not ready, then (at once, or after ``drain_seconds``) stop like uvicorn."""
        self.service.begin_shutdown()
        if self._draining or self.drain_seconds <= 0:
            super().handle_exit(sig, frame)
            return
        self._draining = True
        timer = threading.Timer(self.drain_seconds, super().handle_exit, args=(sig, frame))
        timer.daemon = True
        timer.start()


def serve(settings: Settings | None = None) -> int:
    """Serve ``create_app(settings)`` with uvicorn until SIGTERM/SIGINT; return the exit code (0 after a
    graceful stop, 1 when start-up failed)."""
    settings = settings or Settings()
    log = logging.getLogger("aiaas")
    if not log.handlers:  # model loading and readiness lines, beside uvicorn's own
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", lifespan="on")
    server = GracefulServer(config, app.state.service, drain_seconds=settings.drain_seconds)
    # uvicorn re-raises the signal that stopped it once it has shut down; with these no-op handlers in
    # place that re-raise is harmless, so a graceful SIGTERM ends the process with exit code 0.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    except SystemExit as stop:  # uvicorn exits this way when the app's start-up fails
        return int(stop.code or 1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1
