"""The FastAPI application: ``create_app()`` (from the settings) or ``create_app(service)``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from ... import __version__
from ...service.core import GeoService
from . import errors
from .admission import Admission, ClientAddress
from .limits import Limits
from .memory import ensure_heap_trimmer
from .middleware import BodyLimits, SecurityHeaders, TimeLimit, content_security_policy, inline_script_hashes
from .routers import access, coverage, dispatch, facilities, imports, layers, meta, pages, places, plans, routing, tiles
from .version import API_PREFIX, DeprecatedAliases

log = logging.getLogger(__name__)

DESCRIPTION = """
Travel-time answers for emergency cardiovascular care: nearest AED (walking), chest pain and stroke
centers (driving), isochrones, coverage and gaps, and an audited facility registry.

* Version 1 of the API is served under `/v1` (`/v1/nearest`, `/v1/facilities`, …). The same paths
  without the prefix still answer alike for one release: they are marked deprecated here and
  answered with `Deprecation: true` and a `Link` to their `/v1` successor.

* Coordinates are WGS-84 unless `crs=gcj02` is given (AMap basemaps): then input lon/lat are read
  as GCJ-02 and every coordinate in the answer is GCJ-02, so overlays line up with AMap tiles.
* Reads are public. Edits need an API key with the `editor` role (`geoservice apikey create`),
  sent as `X-API-Key`; every edit is audited (`GET /audit`).
* Errors are 4xx JSON `{"detail": "<field>: <problem>", "field": "<field>"}` (422s from request
  checking also list every problem in `errors`). Bodies are JSON only (415 otherwise) and at most
  `max_body_bytes` (413); too many wrong keys from one address, too many edits with one key, or
  requests without a key beyond the client's budget (`public_rate_per_s`, weighted by cost) get 429;
  a request running over `request_timeout_s`, or arriving when its class of requests is full, gets
  503; both with `Retry-After`.

Road and POI data © OpenStreetMap contributors, ODbL 1.0.
"""


class _App(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's 500 answer included."""

    csp: str = content_security_policy()

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), csp=self.csp)


def _key_checker(svc: GeoService) -> Callable[[str], bool]:
    """Whether a token is a valid key now (the request budget exempts requests carrying one)."""

    def check(token: str) -> bool:
        return svc.registry is not None and svc.registry.check_key(token) is not None

    return check


def create_app(service: GeoService | None = None, *, counters: Path | str | None = None) -> FastAPI:
    """The app over ``service``, else over the configured (or demo) regions and registry; its rate
    limits counted in ``counters`` (a file the forked workers share), else in memory."""
    app = _App(
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
            {"name": "planning"},
            {"name": "dispatch"},
            {"name": "service"},
        ],
    )
    svc = service if service is not None else GeoService.open()
    settings = svc.settings
    app.state.geo = svc
    ensure_heap_trimmer()  # freed memory goes back to the system every 2 s (serve with one worker too)
    app.state.limits = limits = Limits(settings, counters)
    app.csp = content_security_policy(settings.server.basemap_tiles)
    errors.install(app)
    errors.document_errors(app)
    api = (meta, tiles, layers, places, routing, coverage, access, facilities, imports, dispatch, plans)
    for r in api:
        app.include_router(r.router, prefix=API_PREFIX)
    for r in api:  # the unprefixed paths: aliases for one release, deprecated in the OpenAPI document
        app.include_router(r.router, deprecated=True)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(pages.STATIC)), name="static")

    # added innermost first: client address → CORS (when configured) → time limit → admission
    # (budget, slots per class) → body limits → deprecation headers of unprefixed aliases → routes
    app.add_middleware(DeprecatedAliases)
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.limits.max_body_bytes,
        larger={
            path: (settings.limits.max_import_body_bytes, "max_import_body_bytes")
            for path in ("/facilities/import", API_PREFIX + "/facilities/import")
        },
    )
    app.add_middleware(Admission, settings=settings, limits=limits, check_key=_key_checker(svc))
    app.add_middleware(TimeLimit, seconds=settings.server.request_timeout_s)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.server.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(ClientAddress, trusted=settings.server.trusted_proxies)

    docs_page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title="geoservice API",
        swagger_js_url="/static/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui.css",
        swagger_favicon_url="data:,",
    ).body
    docs_html = bytes(docs_page).decode("utf-8")
    # the page's one inline script (the Swagger UI call) is allowed by its hash, nothing else inline
    docs_csp = content_security_policy(settings.server.basemap_tiles, inline_script_hashes(docs_html))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from our own static files (no CDN)."""
        return HTMLResponse(docs_html, headers={"Content-Security-Policy": docs_csp})

    return app
