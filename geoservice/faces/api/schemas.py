"""Request bodies and API-only replies; the answers themselves are the service's (service.answers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...service.answers import (  # noqa: F401  (re-exported for the routers)
    AuditEntry,
    AuditList,
    CoverageDelta,
    CoverageOverall,
    CoverageResponse,
    CoverageUnit,
    Crs,
    Direction,
    EditResult,
    Facility,
    FacilityList,
    Feature,
    FeatureCollection,
    Geometry,
    LineString,
    NavLinks,
    NearestResponse,
    NearestResult,
    Origin,
    Profile,
    RegionInfo,
    WhatIfResponse,
)
from ...sources.schema import FACILITY_TYPES

FacilityType = Literal[FACILITY_TYPES]  # type: ignore[valid-type]


class FacilityIn(BaseModel):
    """A facility to create or replace. Checked with the same rules as file import."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "type": "aed",
                "name": "Lobby AED",
                "lon": 7.4246,
                "lat": 43.7384,
                "opening_hours": "Mo-Fr 08:00-18:00",
                "access": "yes",
            }
        },
    )
    id: str | None = Field(None, max_length=200, description="default: generated")
    type: str
    name: str | None = None
    level: str | None = None
    capabilities: str | list[str] | None = None
    address: str | None = None
    admin_code: str | None = None
    status: str | None = None
    opening_hours: str | None = None
    access: str | None = None
    door_to_needle_min: float | None = None
    source: str | None = None
    demo: bool = False
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02", "bd09"] = Field("wgs84", description="coordinate system of lon/lat")
    region: str | None = Field(None, description="default: the region whose network holds the point")


class Point(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: FacilityType
    minutes: float | None = Field(None, gt=0, le=240, description="default: the type's target (30/60/4)")
    profile: Profile | None = Field(None, description="default: walk for aed, else drive")
    level: str | None = None
    capability: str | None = None
    scenario: str = "free_flow"
    add: list[Point] = Field(default_factory=list, max_length=50)
    remove: list[str] = Field(default_factory=list, max_length=500)
    region: str | None = None
    crs: Crs = "wgs84"
    gaps: bool = False


class ServiceConfig(BaseModel):
    regions: list[RegionInfo]
    basemap_tiles: str | None
    basemap_gcj02: bool
    crs_name: Crs
    attribution: str
    notice: str
    notice_zh: str = ""


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    regions: list[str]


class ErrorResponse(BaseModel):
    detail: str = Field(description="'<field>: <what is wrong>'")
    field: str | None = Field(None, description="the parameter or body field at fault")
    snap_m: float | None = Field(None, description="for points off the network: distance to the nearest road")
