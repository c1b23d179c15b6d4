"""Shared dependencies: app state, auth by API key, common query parameters."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ...sources.facilities import FACILITY_TYPES
from .errors import ApiError
from .registry import EDIT_ROLES, ROLES, ApiKey
from .schemas import Crs
from .state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.geo
    state.sync()  # one indexed SQLite read; reloads only after another worker's edit
    return state


StateDep = Annotated[AppState, Depends(get_state)]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                               description="API key created with `geoservice apikey create`")
_bearer = HTTPBearer(auto_error=False, description="the same API key as a Bearer token")


def _current_key(state: StateDep, header: Annotated[str | None, Security(_api_key_header)] = None,
                 bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None) -> ApiKey:
    token = header or (bearer.credentials if bearer else None)
    if not token:
        raise ApiError(401, "X-API-Key", "X-API-Key: this needs an API key (header X-API-Key or "
                                         "Authorization: Bearer); create one with 'geoservice apikey create'")
    key = state.registry.check_key(token)
    if key is None:
        raise ApiError(401, "X-API-Key", "X-API-Key: unknown or revoked API key")
    return key


def require_role(*roles: str):
    def dep(key: Annotated[ApiKey, Depends(_current_key)]) -> ApiKey:
        if key.role not in roles:
            raise ApiError(403, "X-API-Key", f"X-API-Key: key {key.name!r} has role {key.role!r}; "
                                             f"this needs {' or '.join(roles)}")
        return key
    return dep


EditorKey = Annotated[ApiKey, Depends(require_role(*EDIT_ROLES))]
AnyKey = Annotated[ApiKey, Depends(require_role(*ROLES))]

# ---------------------------------------------------------------------- query parameters
Lon = Annotated[float, Query(ge=-180, le=180, description="longitude (in `crs`)")]
Lat = Annotated[float, Query(ge=-90, le=90, description="latitude (in `crs`)")]
CrsQ = Annotated[Crs, Query(description="coordinate system of lon/lat in and of every coordinate out; "
                                        "gcj02 for AMap basemaps")]
RegionQ = Annotated[str | None, Query(description="region name; default: the one holding the point")]


def check_type(value: str | None, field: str = "type", allow_all: bool = False) -> str | None:
    if value is None:
        return None
    v = value.strip().lower()
    if allow_all and v == "all":
        return None
    if v not in FACILITY_TYPES:
        raise ApiError(422, field, f"{field}: unknown facility type {value!r}; allowed: "
                                   f"{', '.join(FACILITY_TYPES)}{', all' if allow_all else ''}")
    return v


def parse_minutes(text: str, field: str = "minutes", max_n: int = 8) -> list[float]:
    try:
        vals = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise ApiError(422, field, f"{field}: must be comma-separated numbers such as 5,10,15; got {text[:60]!r}") from None
    if not vals:
        raise ApiError(422, field, f"{field}: empty; give e.g. 5,10,15")
    if len(vals) > max_n:
        raise ApiError(422, field, f"{field}: at most {max_n} values")
    for v in vals:
        if not math.isfinite(v) or v <= 0 or v > 240:
            raise ApiError(422, field, f"{field}: each value must be in (0, 240] minutes; got {v:g}")
    return vals


def parse_at(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "at", f"at: must be an ISO date-time such as 2026-11-22T14:30; got {text[:60]!r}") from None


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise ApiError(422, "bbox", f"bbox: must be minlon,minlat,maxlon,maxlat; got {text[:80]!r}") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise ApiError(422, "bbox", f"bbox: must be 4 numbers minlon,minlat,maxlon,maxlat; got {text[:80]!r}")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ApiError(422, "bbox", "bbox: need -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90")
    return x0, y0, x1, y1
