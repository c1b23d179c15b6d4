"""The citizen page (/), the planner page (/planner), the dispatcher page (/dispatcher) and the
manual (/guide/, see ``faces/guide``): static HTML, no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def citizen() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


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
