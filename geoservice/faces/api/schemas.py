"""Request bodies and API-only replies; the answers themselves are the service's (service.answers)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from ...questions import MAX_MINUTES
from ...service.answers.queries import (  # noqa: F401  (re-exported for the routers)
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
from ...sources.cell_values import id_problem, text_problem
from ...sources.facility_rows import TEXT_LIMITS
from ...sources.schema import ALL_LEVELS, FACILITY_TYPES
from ...sources.speeds import SCENARIOS

FacilityType = Literal[FACILITY_TYPES]  # type: ignore[valid-type]
FacilityTypeOrAll = Literal[(*FACILITY_TYPES, "all")]  # type: ignore[valid-type]
ScenarioName = Literal["free_flow", "off_peak", "peak"]  # the names of speeds.SCENARIOS
if set(get_args(ScenarioName)) != set(SCENARIOS):
    raise RuntimeError(f"ScenarioName {get_args(ScenarioName)} is not speeds.SCENARIOS {tuple(SCENARIOS)}")
InputCrs = Literal["wgs84", "gcj02", "bd09"]


# Text follows the rule of every face (``cell_values.text_problem``): no control character, no
# lone surrogate; tab and line breaks only in free text (names, addresses, notes).
def _refuse(problem: str | None, value: Any) -> Any:
    if problem:
        raise PydanticCustomError("text", problem)  # the problem alone (no "Value error, ")
    return value


def _one_line(value: Any) -> Any:
    return _refuse(text_problem(value), value) if isinstance(value, str) else value


def _free_text(value: Any) -> Any:
    return _refuse(text_problem(value, free_text=True), value) if isinstance(value, str) else value


def _an_id(value: Any) -> Any:
    return _refuse(id_problem(value), value) if isinstance(value, str) else value


OneLine = AfterValidator(_one_line)
FreeText = AfterValidator(_free_text)

# Bounds of every request field (the service checks meaning; these keep sizes sane).
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
FacilityId = Annotated[
    str,
    Field(pattern=ID_PATTERN, description="letters, digits and _ . : - (at most 64; not . or ..)"),
    AfterValidator(_an_id),
]
Name = Annotated[str, Field(max_length=TEXT_LIMITS["name"]), FreeText]
Address = Annotated[str, Field(max_length=200), FreeText]
Word = Annotated[str, Field(max_length=40), OneLine]  # a status, access value, capability
AdminCode = Annotated[str, Field(max_length=40), OneLine]
OpeningHours = Annotated[str, Field(max_length=300, description="OSM opening_hours syntax"), FreeText]
Source = Annotated[str, Field(max_length=300), FreeText]
Location = Annotated[
    str,
    Field(
        max_length=TEXT_LIMITS["location"],
        description="where to find it on site, e.g. '1F lobby, next to the information desk'",
    ),
    FreeText,
]
Floor = Annotated[str, Field(max_length=TEXT_LIMITS["floor"], description="the floor it is on, e.g. 1, B1"), OneLine]
RegionName = Annotated[str, Field(max_length=200), OneLine]
Capabilities = (
    Annotated[str, Field(max_length=200, description="comma-separated, e.g. evt,ivt"), OneLine]
    | Annotated[list[Word], Field(max_length=10)]
)
# A facility's level, one of ALL_LEVELS (which ones a type has is checked with the record, and
# said naming the type's levels): an enum in the OpenAPI document, checked by the service.
Level = Annotated[
    str,
    Field(max_length=40),
    OneLine,
    WithJsonSchema({"type": "string", "enum": list(ALL_LEVELS), "description": "the facility's level"}),
]
_LEVEL = "|".join(map(re.escape, ALL_LEVELS))
# Levels as a filter: one, or several comma-separated (standard,basic); checked by FacilityFilter.
LevelList = Annotated[
    str,
    Field(max_length=100),
    OneLine,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": list(ALL_LEVELS)},
                {"type": "string", "pattern": f"^({_LEVEL})(,({_LEVEL}))*$", "maxLength": 100},
            ],
            "description": "a level, or several comma-separated (e.g. standard,basic)",
        }
    ),
]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """A calendar day written YYYY-MM-DD (not a number: pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, date):
        return value
    if not (isinstance(value, str) and _ISO_DAY.fullmatch(value.strip())):
        raise PydanticCustomError("date", "a day written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise PydanticCustomError("date", "no such day ({why})", {"why": str(exc)}) from None


IsoDay = Annotated[date, BeforeValidator(_iso_day), WithJsonSchema({"type": "string", "format": "date"})]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
DoorToNeedle = Annotated[float, Field(ge=0, le=600, description="median door-to-needle time, minutes")]
Capacity = Annotated[
    float,
    Field(gt=0, le=1_000_000, description="beds, cath labs, stroke unit beds ... (capacity-aware access); none = 1"),
]


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
                "location": "lobby, next to the information desk",
                "floor": "1",
            }
        },
    )
    id: FacilityId | None = Field(None, description="default: generated")
    type: FacilityType
    name: Name | None = None
    level: Level | None = None
    capabilities: Capabilities | None = None
    address: Address | None = None
    admin_code: AdminCode | None = None
    status: Word | None = None
    opening_hours: OpeningHours | None = None
    access: Word | None = None
    location: Location | None = None
    floor: Floor | None = None
    door_to_needle_min: DoorToNeedle | None = None
    capacity: Capacity | None = None
    source: Source | None = None
    demo: bool = False
    lon: Longitude
    lat: Latitude
    crs: InputCrs = Field("wgs84", description="coordinate system of lon/lat")
    region: RegionName | None = Field(None, description="default: the region whose network holds the point")


class FacilityPatch(BaseModel):
    """Some fields of a facility to change (PATCH); every field optional, the same limits as
    :class:`FacilityIn`. Use ``model_dump(exclude_unset=True)`` to tell a field left out from one
    sent as null."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"opening_hours": "24/7", "status": "certified"}}
    )
    id: FacilityId | None = None
    type: FacilityType | None = None
    name: Name | None = None
    level: Level | None = None
    capabilities: Capabilities | None = None
    address: Address | None = None
    admin_code: AdminCode | None = None
    status: Word | None = None
    opening_hours: OpeningHours | None = None
    access: Word | None = None
    location: Location | None = None
    floor: Floor | None = None
    door_to_needle_min: DoorToNeedle | None = None
    capacity: Capacity | None = None
    source: Source | None = None
    demo: bool | None = None
    lon: Longitude | None = None
    lat: Latitude | None = None
    crs: InputCrs | None = Field(None, description="coordinate system of lon/lat (default wgs84)")
    region: RegionName | None = None


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: Longitude
    lat: Latitude


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: FacilityType
    minutes: float | None = Field(None, gt=0, le=MAX_MINUTES, description="default: the type's target (30/60/4)")
    profile: Profile | None = Field(None, description="default: walk for aed, else drive")
    level: LevelList | None = Field(None, description="comma-separated levels")
    capability: Annotated[str, Field(max_length=100), OneLine] | None = Field(None, description="required capabilities")
    scenario: ScenarioName = "free_flow"
    depart: Annotated[str, Field(max_length=10, description="departure time HH:MM (not with scenario)")] | None = None
    add: list[Point] = Field(default_factory=list, max_length=50)
    remove: list[Annotated[str, Field(max_length=200), OneLine]] = Field(default_factory=list, max_length=500)
    region: RegionName | None = None
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
    preparing: str | None = Field(
        None, description="what the server is doing before it serves (more) regions: a first run builds the demos"
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    regions: list[str]
    preparing: str | None = None


class FieldError(BaseModel):
    field: str = Field(description="the parameter or body field at fault (dotted for nested ones)")
    message: str = Field(description="'<field>: <what is wrong>'")


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: ``detail`` and ``field``; 422s from request checking list every
    problem in ``errors``; 429/503 say when to retry (also in the ``Retry-After`` header)."""

    detail: str = Field(description="'<field>: <what is wrong>'")
    field: str | None = Field(None, description="the parameter or body field at fault")
    errors: list[FieldError] | None = Field(None, description="422: every field at fault, the first one in `field`")
    snap_m: float | None = Field(None, description="for points off the network: distance to the nearest road")
    retry_after: int | None = Field(None, description="429/503: seconds to wait before trying again")
