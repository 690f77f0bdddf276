"""``/docs``: Swagger UI served from an installed package, so it works without internet.

FastAPI's default page loads Swagger UI from a CDN, which a plant network often cannot
reach; the ``fastapi-offline`` package ships the same files (Swagger UI 5, which reads
OpenAPI 3.1) and we serve them ourselves.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from enms.api.security_headers import policy_with_script_hashes

ASSETS = "/static/docs"


def _asset_dir() -> Path:
    return Path(str(files("fastapi_offline").joinpath("static")))


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` from local assets (create the app with docs_url=None)."""
    app.mount(ASSETS, StaticFiles(directory=str(_asset_dir())), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
        # Swagger UI starts from one inline script: the policy allows exactly that one.
        page.headers["content-security-policy"] = policy_with_script_hashes(
            bytes(page.body).decode()
        )
        return page
