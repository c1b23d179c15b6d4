"""Shared dependencies: the service, auth by API key (with its limits), common query parameters.

A valid key is always accepted. Wrong keys are counted per client address and key prefix
(``failed_key_limit`` within ``failed_key_window_s``) and per address (``failed_keys_per_address``):
beyond either, a wrong key gets 429 (``Retry-After``) instead of 401 until the window has passed,
so that guessing is slowed while an editor behind the same NAT or proxy keeps working. The
address is the one :class:`.admission.ClientAddress` found (``trusted_proxies``). Edits are
limited per key to ``writes_per_minute`` (429 beyond); every worker counts against the same
limits (:mod:`.limits`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ...errors import GeoserviceError
from ...service.answers.queries import Crs
from ...service.core import GeoService
from ...service.registry.api_keys import AUDIT_ROLES
from ...service.registry.store import EDIT_ROLES, ApiKey
from .admission import client_id, key_prefix
from .errors import LimitError
from .limits import Limits
from .schemas import LevelList

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
    return client_id(request.client.host) if request.client else "unknown"


def _current_key(
    request: Request,
    svc: ServiceDep,
    header: Annotated[str | None, Security(_api_key_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> ApiKey:
    token = header or (bearer.credentials if bearer else None)
    if not token:
        raise GeoserviceError(
            "X-API-Key",
            "this needs an API key (header X-API-Key or Authorization: Bearer); "
            "create one with 'geoservice apikey create'",
            status=401,
        )
    key = svc.registry.check_key(token) if svc.registry is not None else None
    if key is not None:
        return key  # never refused for other people's wrong keys
    limits = _limits(request)
    client = _client(request)
    this_key, address = f"{client}|{key_prefix(token)}", client
    wait_key = limits.failed_keys.retry_after(this_key)
    wait = max(wait_key, limits.failed_addresses.retry_after(address))
    if wait:
        over = limits.failed_keys if wait_key else limits.failed_addresses
        what = "this key" if wait_key else "keys"
        raise LimitError(
            "X-API-Key",
            f"too many wrong API keys from {client} ({over.limit} wrong {what} within {over.window_s:g} s); "
            f"a valid key is still accepted; try again in {max(1, round(wait))} s",
            retry_after=wait,
        )
    limits.failed_keys.record(this_key)
    limits.failed_addresses.record(address)
    raise GeoserviceError("X-API-Key", "unknown or revoked API key", status=401)


def require_role(*roles: str) -> Callable[[ApiKey], ApiKey]:
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
LevelQ = Annotated[LevelList | None, Query(description="comma-separated levels, e.g. standard,basic")]
CapabilityQ = Annotated[str | None, Query(max_length=100, description="required capabilities, e.g. evt")]
