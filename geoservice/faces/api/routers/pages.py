"""The citizen page (/), the planner page (/planner) and the dispatcher page (/dispatcher): static
HTML, no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

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
