"""Bystander and AED dispatch: responders post their live position (responder key), a 120
dispatcher sees them and asks for the plan for one arrest (dispatcher key)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ....service.answers.dispatch import DispatchResponse, ResponderList, ResponderPositionOut, ResponderRemoved
from ....service.answers.queries import Crs
from ....service.inputs import parse_at
from ....service.registry.api_keys import DISPATCH_ROLES, RESPONDER_ROLES, ApiKey
from ....service.usecases import dispatch as service
from ..deps import CrsQ, ServiceDep, require_role
from ..errors import AUTH_ERRORS, R404, R422, LimitError
from ..limits import Limits
from ..schemas import RegionName

router = APIRouter(tags=["dispatch"])

DispatcherKey = Annotated[ApiKey, Depends(require_role(*DISPATCH_ROLES))]


def _responder(request: Request, key: Annotated[ApiKey, Depends(require_role(*RESPONDER_ROLES))]) -> ApiKey:
    """A responder key within its write budget (``writes_per_minute``, as for edits)."""
    limits: Limits | None = getattr(request.app.state, "limits", None)
    if limits is not None:
        wait = limits.writes.acquire(f"key:{key.id}")
        if wait:
            raise LimitError(
                "X-API-Key",
                f"key {key.name!r} posted {limits.writes.limit} times within the last minute (writes_per_minute); "
                f"try again in {max(1, round(wait))} s",
                retry_after=wait,
            )
    return key


ResponderKey = Annotated[ApiKey, Depends(_responder)]
ERR: dict[int | str, dict[str, Any]] = {**AUTH_ERRORS, **R422}


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180, description="longitude (in `crs`)")
    lat: float = Field(ge=-90, le=90, description="latitude (in `crs`)")
    available: bool = Field(True, description="false: on duty but cannot take an alert now")
    crs: Crs = Field("wgs84", description="wgs84 (GPS) or gcj02 (AMap SDK)")


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180, description="the arrest location (in `crs`)")
    lat: float = Field(ge=-90, le=90)
    at: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="ISO local date-time of the arrest (AED opening hours); default now"
    )
    k: int = Field(3, ge=1, le=10, description="responders to send straight to the patient")
    region: RegionName | None = Field(None, description="default: the region holding the point")
    crs: Crs = "wgs84"
    percentile: Literal[50, 80, 90] | None = Field(
        None,
        description="the ambulance drives at this percentile of the spread of real trips (calibrated, else default)",
    )


@router.post("/responders/position", response_model=ResponderPositionOut, responses=ERR)
def post_position(body: PositionIn, svc: ServiceDep, key: ResponderKey) -> ResponderPositionOut:
    """A responder's live position (responder key; the key's name is the responder). Kept until
    `responder_ttl_s` after the post, then deleted; never audited. Post again to stay listed."""
    return service.post_position(svc, key.name, body.lon, body.lat, available=body.available, crs=body.crs)


@router.delete("/responders/position", response_model=ResponderRemoved, responses=ERR)
def remove_position(svc: ServiceDep, key: ResponderKey) -> ResponderRemoved:
    """Going off duty: the position is deleted at once."""
    return ResponderRemoved(responder=key.name, removed=service.remove_position(svc, key.name))


@router.get("/responders", response_model=ResponderList, responses=ERR)
def responders(svc: ServiceDep, key: DispatcherKey, crs: CrsQ = "wgs84") -> ResponderList:
    """Responders whose position has not expired, available or not (dispatcher key)."""
    return service.live_responders(svc, crs=crs)


@router.post("/dispatch", response_model=DispatchResponse, responses={**ERR, **R404})
def dispatch(body: DispatchIn, svc: ServiceDep, key: DispatcherKey) -> DispatchResponse:
    """The plan for a cardiac arrest (dispatcher key): the nearest available responders on foot
    (CPR), the best responder → AED → patient fetch among AEDs open at `at` (unknown hours allowed
    and flagged, with a backup through an AED known to be open), the AED a bystander at the patient
    can fetch (there and back on foot: what to tell the caller, live responders or not), the nearest
    ambulance's ETA, and the predicted time to the first shock against the 4-minute target."""
    ask = service.DispatchAsk(
        body.lon, body.lat, parse_at(body.at), body.k, region=body.region, crs=body.crs, percentile=body.percentile
    )
    return service.dispatch(svc, ask)
