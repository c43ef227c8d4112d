"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) that work offline: FastAPI's own pages load their scripts
and styles from a CDN, so on a machine without internet they stay blank. Here the service serves the
assets itself, from the pinned ``fastapi-offline`` package (MIT; it ships ``swagger-ui-bundle.js``,
``swagger-ui.css``, ``redoc.standalone.js`` and a favicon), under :data:`ASSETS_PATH`; no page references
another host (ReDoc's Google fonts are left out: it falls back to the system's fonts; Swagger UI's
validator badge, which calls validator.swagger.io, is switched off).
"""
from __future__ import annotations

from importlib.resources import files

#: Where the service serves the documentation pages' scripts and styles.
ASSETS_PATH = "/docs-assets"


def assets_dir() -> str:
    """The folder of Swagger UI's and ReDoc's files inside the installed ``fastapi-offline`` package."""
    return str(files("fastapi_offline") / "static")


def install_docs(app, openapi_url: str = "/openapi.json") -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app`` (created with ``docs_url=None, redoc_url=None``)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui():
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} — Swagger UI",
                                   swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
                                   # no validator badge: Swagger UI would fetch it from validator.swagger.io
                                   swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True})

    @app.get("/redoc", include_in_schema=False)
    async def redoc():
        return get_redoc_html(openapi_url=openapi_url, title=f"{app.title} — ReDoc",
                              redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False)
