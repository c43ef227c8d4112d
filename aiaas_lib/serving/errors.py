"""Errors in the protocols' own shape: ``{"error": "..."}`` for TF Serving and KServe V2 alike.

Route code raises :class:`ServiceError` (status, message, headers); :func:`install_error_handlers` makes
FastAPI answer with that shape for it, for its own request-validation errors, for unknown routes (404)
and wrong methods (405), and — as a last resort — for any unexpected exception (500, without internals).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger("aiaas.serving")


class ServiceError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status (and optional headers).

    Examples
    --------
    >>> err = ServiceError(404, "model 'x' is not served")
    >>> err.status, err.body()
    (404, {'error': "model 'x' is not served"})
    """

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = int(status), str(message), dict(headers or {})

    def body(self) -> dict:
        """The JSON body: ``{"error": message}``."""
        return {"error": self.message}


class InputError(ServiceError):
    """A request whose content the model cannot take (400)."""

    def __init__(self, message: str):
        super().__init__(400, message)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None):
    """A ``JSONResponse`` of ``{"error": message}``."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def _describe_validation(errors) -> str:
    """FastAPI's validation errors as one line naming each field."""
    parts = []
    for err in errors:
        where = " ".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app) -> None:
    """Answer every error of ``app`` as ``{"error": ...}``: ServiceError, request validation (400),
    HTTP errors such as unknown routes (their status) and unexpected exceptions (500)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def on_service_error(request, exc: ServiceError):
        return error_response(exc.status, exc.message, exc.headers)

    async def on_validation(request, exc: RequestValidationError):
        return error_response(400, _describe_validation(exc.errors()))

    async def on_http(request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}; see the service's routes in /docs"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    async def on_unexpected(request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the service log has the details")

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
