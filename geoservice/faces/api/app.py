"""The FastAPI application: ``create_app()`` (from the settings) or ``create_app(service)``."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ... import __version__
from ...service.core import GeoService
from . import errors
from .routers import coverage, facilities, layers, meta, pages, routing

log = logging.getLogger(__name__)

DESCRIPTION = """
Travel-time answers for emergency cardiovascular care: nearest AED (walking), chest pain and stroke
centers (driving), isochrones, coverage and gaps, and an audited facility registry.

* Coordinates are WGS-84 unless `crs=gcj02` is given (AMap basemaps): then input lon/lat are read
  as GCJ-02 and every coordinate in the answer is GCJ-02, so overlays line up with AMap tiles.
* Reads are public. Edits need an API key with the `editor` role (`geoservice apikey create`),
  sent as `X-API-Key`; every edit is audited (`GET /audit`).
* Errors are 4xx JSON `{"detail": "<field>: <problem>", "field": "<field>"}`.

Road and POI data © OpenStreetMap contributors, ODbL 1.0.
"""


def create_app(service: GeoService | None = None) -> FastAPI:
    """The app over ``service``, else over the configured (or demo) regions and registry."""
    app = FastAPI(
        title="geoservice",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "routing"},
            {"name": "layers"},
            {"name": "coverage"},
            {"name": "facilities"},
            {"name": "service"},
        ],
    )
    app.state.geo = service if service is not None else GeoService.open()
    errors.install(app)
    for r in (meta, layers, routing, coverage, facilities, pages):
        app.include_router(r.router)
    app.mount("/static", StaticFiles(directory=str(pages.STATIC)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from our own static files (no CDN)."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="geoservice API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    return app
