"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

Errors in the protocols' own shape: ``{"error": "..."}`` for TF Serving and KServe V2 alike.

Route code raises :class:`ServiceError` (status, message, headers); :func:`install_error_handlers` makes
FastAPI answer with that shape for it, for its own request-validation errors, for unknown routes (404)
and wrong methods (405), and — as a last resort — for any unexpected exception (500, without internals).

The OpenAI-compatible routes (:data:`OPENAI_PATHS`, see :mod:`.openai_api`) answer in OpenAI's shape
instead, ``{"error": {"message", "type", "param", "code"}}``, for every one of those errors (a 401 of the
shared API-key check included): :class:`OpenAIError` carries ``param`` and ``code``, and
:func:`openai_error_body` fills in OpenAI's ``type`` and ``code`` for the others by status.
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


#: Paths whose errors take OpenAI's shape (exact paths: ``/v1/models/{name}`` is TF Serving's).
OPENAI_PATHS = ("/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/embeddings")
_OPENAI_TYPES = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
                 404: ("invalid_request_error", None), 405: ("invalid_request_error", "method_not_allowed"),
                 413: ("invalid_request_error", "request_too_large"),
                 415: ("invalid_request_error", "unsupported_media_type"),
                 429: ("rate_limit_error", "rate_limit_exceeded"), 503: ("server_error", "model_not_ready")}


def is_openai_path(path: str) -> bool:
    """True for the OpenAI-compatible routes, whose errors take OpenAI's shape.

    Examples
    --------
    >>> is_openai_path("/v1/chat/completions"), is_openai_path("/v1/models"), is_openai_path("/v1/models/churn")
    (True, True, False)
    """
    return path.rstrip("/") in OPENAI_PATHS


def openai_error_body(status: int, message: str, param: str | None = None, code: str | None = None,
                      type: str | None = None) -> dict:
    """OpenAI's error body; ``type`` and ``code`` default by HTTP status (e.g. 401 → ``invalid_api_key``).

    Examples
    --------
    >>> openai_error_body(400, "temperature=5 must be a number in [0, 2]", param="temperature")
    {'error': {'message': 'temperature=5 must be a number in [0, 2]', 'type': 'invalid_request_error', 'param': 'temperature', 'code': None}}
    >>> openai_error_body(401, "invalid API key")["error"]["code"]
    'invalid_api_key'
    """
    default_type, default_code = _OPENAI_TYPES.get(int(status), ("server_error" if status >= 500 else
                                                                "invalid_request_error", None))
    return {"error": {"message": str(message), "type": type or default_type, "param": param,
                      "code": code if code is not None else default_code}}


class OpenAIError(ServiceError):
    """An error of the OpenAI-compatible routes: ``param`` names the field to fix, ``code`` is OpenAI's
    (e.g. ``model_not_found``, ``unsupported_parameter``).

    Examples
    --------
    >>> err = OpenAIError(404, "The model 'x' does not exist", param="model", code="model_not_found")
    >>> err.status, err.body()["error"]["code"]
    (404, 'model_not_found')
    """

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(status, message, headers)
        self.param, self.code, self.type = param, code, type

    def body(self) -> dict:
        """OpenAI's body: ``{"error": {"message", "type", "param", "code"}}``."""
        return openai_error_body(self.status, self.message, self.param, self.code, self.type)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None, request=None,
                   body: dict | None = None):
    """A ``JSONResponse`` of ``{"error": message}`` (OpenAI's shape on :data:`OPENAI_PATHS` when
    ``request`` is given; ``body`` overrides both)."""
    from fastapi.responses import JSONResponse

    if body is None:
        openai = request is not None and is_openai_path(request.url.path)
        body = openai_error_body(status, message) if openai else {"error": message}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def internal_error_message(request, exc: Exception) -> str:
    """The 500 message of an unexpected exception: which model (the path's ``{name}``), an error id to quote,
    and whom to tell; the traceback goes to the service log under that id (never to the client).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> req = SimpleNamespace(method="POST", url=SimpleNamespace(path="/v1/models/churn:predict"),
    ...                       path_params={"name": "churn"})
    >>> internal_error_message(req, ValueError("boom")).split(" (error id")[0]
    "internal error while serving model 'churn' (ValueError); this is not a problem with your request"
    """
    import uuid

    error_id = uuid.uuid4().hex[:12]
    name = (getattr(request, "path_params", None) or {}).get("name")
    log.error("unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    what = f"model {name!r}" if name else f"{request.method} {request.url.path}"
    return (f"internal error while serving {what} ({type(exc).__name__}); this is not a problem with your "
            f"request (error id {error_id}): tell the service's operator or the model's owner this id, and the "
            "service log has the details")


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
        body = exc.body() if isinstance(exc, OpenAIError) and is_openai_path(request.url.path) else None
        return error_response(exc.status, exc.message, exc.headers, request, body)

    async def on_validation(request, exc: RequestValidationError):
        return error_response(400, _describe_validation(exc.errors()), request=request)

    async def on_http(request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}; see the service's routes in /docs"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None), request)

    async def on_unexpected(request, exc: Exception):
        return error_response(500, internal_error_message(request, exc), request=request)

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
