"""The FastAPI application: ``create_app()`` (uses settings) or ``create_app(state)`` (tests)."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from . import errors
from .routers import coverage, facilities, layers, meta, pages, routing
from .state import AppState

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


def default_state() -> AppState:
    """Regions from settings (GEOSERVICE_REGIONS), else the demo regions built on first use."""
    from ...bundle.demo import DEMO_REGIONS, ensure_demo
    from ...settings import get_settings

    s = get_settings()
    paths = [Path(p) for p in s.regions] or [ensure_demo(n, s.data_dir, s.regions_dir, quiet=True)
                                             for n in DEMO_REGIONS]
    db = s.db_path or (paths[0].parent / "registry.sqlite")
    return AppState.from_paths(paths, db, max_snap_m={"drive": s.max_snap_drive_m, "walk": s.max_snap_walk_m},
                               basemap_tiles=s.basemap_tiles, basemap_gcj02=s.basemap_gcj02)


def create_app(state: AppState | None = None) -> FastAPI:
    app = FastAPI(title="geoservice", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_tags=[{"name": "routing"}, {"name": "layers"}, {"name": "coverage"},
                                {"name": "facilities"}, {"name": "service"}])
    app.state.geo = state if state is not None else default_state()
    errors.install(app)
    for r in (meta, layers, routing, coverage, facilities, pages):
        app.include_router(r.router)
    app.mount("/static", StaticFiles(directory=str(pages.STATIC)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from our own static files (no CDN)."""
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="geoservice API",
                                   swagger_js_url="/static/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger-ui.css", swagger_favicon_url="data:,")
    return app
