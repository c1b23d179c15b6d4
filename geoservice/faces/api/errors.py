"""4xx errors as JSON ``{"detail": "<field>: <message>", "field": ...}``; never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...errors import GeoserviceError

log = logging.getLogger(__name__)


def _detail(exc: GeoserviceError) -> str:
    return exc.message if exc.field is None else f"{exc.field}: {exc.message}"


@contextmanager
def api_fields(**names: str) -> Iterator[None]:
    """Report service fields under this endpoint's parameter names (``add_sites`` → ``add``)."""
    try:
        yield
    except GeoserviceError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


def _field_of(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "body", "path", "header")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(GeoserviceError)
    async def _user_error(request: Request, exc: GeoserviceError):
        body = {"detail": _detail(exc), "field": exc.field, **exc.extra}
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errs = []
        for e in exc.errors():
            f = _field_of(e.get("loc", ()))
            msg = e.get("msg", "invalid")
            inp = e.get("input")
            if inp is not None and not isinstance(inp, (dict, list)):
                msg = f"{msg} (got {str(inp)[:60]!r})"
            errs.append({"field": f, "message": f"{f}: {msg}"})
        first = errs[0] if errs else {"field": "request", "message": "request: invalid"}
        return JSONResponse(
            {
                "detail": "; ".join(e["message"] for e in errs) or first["message"],
                "field": first["field"],
                "errors": errs,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return JSONResponse(
            {"detail": str(exc.detail), "field": None},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
