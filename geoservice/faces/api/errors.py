"""Errors as JSON ``{"detail": "<field>: <message>", "field": ...}``; never a traceback. A 405
names every method the path accepts in ``Allow``; a body that cannot be read as JSON is a 422 on
``body``, like one that is not valid JSON.

Also the error answers every route may give, for the OpenAPI document: constants the routers can
use in ``responses=`` (``R404``, ``R422``, ``WRITE_ERRORS``…), and :func:`document_errors`, which
adds to the generated document what the middleware and the key checks send on every route
(413/415 on routes with a body, 429 and 503 everywhere) and describes 422 as
our :class:`ErrorResponse` (with its ``errors`` list) instead of FastAPI's default shape.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from ...errors import GeoserviceError
from .schemas import ErrorResponse

log = logging.getLogger(__name__)

Responses = dict[int | str, dict[str, Any]]

R401: Responses = {401: {"model": ErrorResponse, "description": "no, unknown or revoked API key (`X-API-Key`)"}}
R403: Responses = {403: {"model": ErrorResponse, "description": "the key's role may not do this"}}
R404: Responses = {404: {"model": ErrorResponse, "description": "not found (an id, a region, a point in no region)"}}
R409: Responses = {409: {"model": ErrorResponse, "description": "clashes with the stored state"}}
R413: Responses = {413: {"model": ErrorResponse, "description": "request body larger than `max_body_bytes`"}}
R415: Responses = {415: {"model": ErrorResponse, "description": "the body is not JSON (`Content-Type`)"}}
R422: Responses = {
    422: {"model": ErrorResponse, "description": "a parameter or body field is wrong; `field` names it, `errors` all"}
}
R429: Responses = {
    429: {
        "model": ErrorResponse,
        "description": "too many wrong API keys from this address, too many edits with this key, or requests "
        "without a valid key beyond this client's budget (`public_rate_per_s`); see `Retry-After`",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    }
}
R503: Responses = {
    503: {
        "model": ErrorResponse,
        "description": "the request ran longer than `request_timeout_s`, its class of requests is full "
        "(`*_slots`, `queue_wait_s`), or the registry database cannot answer now (unreachable, or "
        "deadlocked after retries); see `Retry-After`",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    }
}
READ_ERRORS: Responses = {**R404, **R422}
AUTH_ERRORS: Responses = {**R401, **R403, **R429}
WRITE_ERRORS: Responses = {**AUTH_ERRORS, **R404, **R409, **R413, **R415, **R422}


class LimitError(GeoserviceError):
    """Too many requests (429) or too slow (503): the answer carries ``Retry-After`` (seconds)."""

    status = 429

    def __init__(self, field: str | None, message: str, *, retry_after: float, status: int | None = None) -> None:
        super().__init__(field, message, status=status, retry_after=max(1, math.ceil(retry_after)))


def _detail(exc: GeoserviceError) -> str:
    return exc.message if exc.field is None else f"{exc.field}: {exc.message}"


def error_response(
    field: str | None, message: str, status: int, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Our error shape, for code outside the exception handlers (the ASGI middleware)."""
    body = {"detail": message if field is None else f"{field}: {message}", "field": field, **extra}
    hdrs = dict(headers or {})
    if "retry_after" in extra:
        hdrs["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, headers=hdrs or None)


@contextmanager
def api_fields(**names: str) -> Iterator[None]:
    """Report service fields under this endpoint's parameter names (``add_sites`` → ``add``)."""
    try:
        yield
    except GeoserviceError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


# pydantic names the member of a union it tried in ``loc`` (``capabilities.list[constrained-str]``)
_UNION_TAG = re.compile(r"^(str|int|float|bool|list|dict|none|(constrained|function|lax|strict)-.*|.*\[.*\])$")


def _field_of(loc: Iterable[object]) -> str:
    parts = [
        str(p)
        for p in loc
        if p not in ("query", "body", "path", "header") and not (isinstance(p, str) and _UNION_TAG.match(p))
    ]
    return ".".join(parts) or "request"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path accepts (Starlette's 405 names only the first route's).

    Asks each top-level route (FastAPI's included routers too) whether it would take the request
    with each method; mounts (static files) answer for every method, so they are left out. A
    path that is a route of its own in the OpenAPI document (``/facilities/import``) names that
    route's methods only, not those of a route it also fits as a parameter (``/facilities/{id}``)."""
    own = request.app.openapi().get("paths", {}).get(request.url.path)
    if own is not None and "{" not in request.url.path:
        return [m for m in _METHODS if m.lower() in own]
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)]


def install(app: FastAPI) -> None:
    @app.exception_handler(GeoserviceError)
    async def _user_error(request: Request, exc: GeoserviceError) -> JSONResponse:
        body = {"detail": _detail(exc), "field": exc.field, **exc.extra}
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(body, status_code=exc.status, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = []
        for e in exc.errors():
            f = _field_of(e.get("loc", ()))
            msg = e.get("msg", "invalid")
            inp = e.get("input")
            if e.get("type") == "json_invalid":  # loc is ("body", <character position>)
                f, pos = "body", e.get("loc", ("body", "?"))[-1]
                msg = f"not valid JSON: {e.get('ctx', {}).get('error', msg)} (character {pos})"
            elif inp is not None and not isinstance(inp, (dict, list)):
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
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        body = {"detail": str(exc.detail), "field": None}
        if exc.status_code == 400 and request.method in ("POST", "PUT", "PATCH"):
            # FastAPI's "error parsing the body" (e.g. not UTF-8): a bad body, answered like bad JSON
            msg = "body: could not be read as JSON (send UTF-8 application/json)"
            return JSONResponse({"detail": msg, "field": "body", "errors": [{"field": "body", "message": msg}]}, 422)
        if exc.status_code == 405:
            allowed = allowed_methods(request) or [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
            if allowed:
                headers["Allow"] = ", ".join(allowed)
                body = {
                    "detail": f"method: {request.method} is not allowed here; allowed: {', '.join(allowed)}",
                    "field": "method",
                }
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # a program bug: logged with its traceback by the server, answered without one
        return JSONResponse({"detail": "internal error", "field": None}, status_code=500)


_DEFAULT_422 = "#/components/schemas/HTTPValidationError"
_ERROR_REF = "#/components/schemas/ErrorResponse"


def _response(spec: Responses, code: int) -> dict[str, Any]:
    r = spec[code]
    out: dict[str, Any] = {
        "description": r["description"],
        "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
    }
    if "headers" in r:
        out["headers"] = r["headers"]
    return out


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the error answers we really send (see the module docstring)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for item in schema.get("paths", {}).values():
            for method, op in item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                res = op["responses"]
                r422 = res.get("422")
                if r422 is not None:
                    c = r422.get("content", {}).get("application/json", {})
                    if c.get("schema", {}).get("$ref") == _DEFAULT_422:
                        res["422"] = _response(R422, 422)
                if "requestBody" in op or method in ("post", "put", "patch"):
                    res.setdefault("413", _response(R413, 413))
                    res.setdefault("415", _response(R415, 415))
                res.setdefault("429", _response(R429, 429))  # keys, edits, and the anonymous budget
                res.setdefault("503", _response(R503, 503))
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorResponse" not in comps:
            own = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            comps.update(own.pop("$defs", {}))
            comps["ErrorResponse"] = own
        if _DEFAULT_422 not in json.dumps(schema.get("paths", {})):
            comps.pop("HTTPValidationError", None)
            comps.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
