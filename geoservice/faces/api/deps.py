"""Shared dependencies: the service, auth by API key (with its limits), common query parameters.

Key checks are limited per client address: after ``failed_key_limit`` wrong keys within
``failed_key_window_s`` the address gets 429 (``Retry-After``) for any key, right or wrong, until
the window has passed. Edits are limited per key to ``writes_per_minute`` (429 beyond)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ...errors import GeoserviceError
from ...service.api_keys import AUDIT_ROLES
from ...service.core import GeoService
from ...service.registry import EDIT_ROLES, ApiKey
from .errors import LimitError
from .limits import Limits
from .schemas import Crs

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_service(request: Request) -> GeoService:
    svc: GeoService = request.app.state.geo
    svc.sync()  # one indexed SQLite read; reloads only after another process's edit
    return svc


ServiceDep = Annotated[GeoService, Depends(get_service)]

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key created with `geoservice apikey create`"
)
_bearer = HTTPBearer(auto_error=False, description="the same API key as a Bearer token")


def _limits(request: Request) -> Limits:
    limits: Limits | None = getattr(request.app.state, "limits", None)
    if limits is None:  # an app not made by create_app
        limits = request.app.state.limits = Limits(request.app.state.geo.settings)
    return limits


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _current_key(
    request: Request,
    svc: ServiceDep,
    header: Annotated[str | None, Security(_api_key_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> ApiKey:
    failed = _limits(request).failed_keys
    client = _client(request)
    wait = failed.retry_after(client)
    if wait:
        raise LimitError(
            "X-API-Key",
            f"too many wrong API keys from {client} ({failed.limit} within {failed.window_s:g} s); "
            f"try again in {max(1, round(wait))} s",
            retry_after=wait,
        )
    token = header or (bearer.credentials if bearer else None)
    if not token:
        raise GeoserviceError(
            "X-API-Key",
            "this needs an API key (header X-API-Key or Authorization: Bearer); "
            "create one with 'geoservice apikey create'",
            status=401,
        )
    key = svc.registry.check_key(token) if svc.registry is not None else None
    if key is None:
        failed.record(client)
        raise GeoserviceError("X-API-Key", "unknown or revoked API key", status=401)
    return key


def require_role(*roles: str):
    def dep(key: Annotated[ApiKey, Depends(_current_key)]) -> ApiKey:
        if key.role not in roles:
            raise GeoserviceError(
                "X-API-Key", f"key {key.name!r} has role {key.role!r}; this needs {' or '.join(roles)}", status=403
            )
        return key

    return dep


def _editor_write(request: Request, key: Annotated[ApiKey, Depends(require_role(*EDIT_ROLES))]) -> ApiKey:
    """An editor key, within its write budget (``writes_per_minute``) for anything but a read."""
    if request.method not in READ_METHODS:
        writes = _limits(request).writes
        wait = writes.acquire(f"key:{key.id}")
        if wait:
            raise LimitError(
                "X-API-Key",
                f"key {key.name!r} made {writes.limit} edits within the last minute (writes_per_minute); "
                f"try again in {max(1, round(wait))} s",
                retry_after=wait,
            )
    return key


EditorKey = Annotated[ApiKey, Depends(_editor_write)]
AnyKey = Annotated[ApiKey, Depends(require_role(*AUDIT_ROLES))]  # not responder / dispatcher keys

Lon = Annotated[float, Query(ge=-180, le=180, description="longitude (in `crs`)")]
Lat = Annotated[float, Query(ge=-90, le=90, description="latitude (in `crs`)")]
CrsQ = Annotated[
    Crs, Query(description="coordinate system of lon/lat in and of every coordinate out; gcj02 for AMap basemaps")
]
RegionQ = Annotated[str | None, Query(max_length=200, description="region name; default: the one holding the point")]
LevelQ = Annotated[str | None, Query(max_length=100, description="comma-separated levels, e.g. standard,basic")]
CapabilityQ = Annotated[str | None, Query(max_length=100, description="required capabilities, e.g. evt")]
