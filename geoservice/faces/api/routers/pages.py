"""The citizen page (/, with its service worker /sw.js and manifest), the planner page (/planner), the
dispatcher page (/dispatcher) and the manual (/guide/, see ``faces/guide``): static HTML, no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def citizen() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The citizen page's service worker (static/sw.js), at the root so that its scope is the whole
    site: the page opens from its cache, offline too."""
    headers = {"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"}
    return FileResponse(STATIC / "sw.js", media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/manifest.webmanifest")
def manifest() -> FileResponse:
    """The web app manifest: the citizen page installs on a phone's home screen as 急救地图."""
    return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")


@router.get("/planner")
def planner() -> FileResponse:
    return FileResponse(STATIC / "planner.html", media_type="text/html; charset=utf-8")


@router.get("/dispatcher")
def dispatcher() -> FileResponse:
    return FileResponse(STATIC / "dispatcher.html", media_type="text/html; charset=utf-8")


@router.get("/guide")
def guide_root() -> RedirectResponse:
    return RedirectResponse("guide/", status_code=308)


@router.get("/guide/{path:path}")
def guide(path: str) -> Response:
    from ...guide.http import guide_response

    return guide_response(path)
