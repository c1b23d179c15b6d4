"""The query parameters of the long GET routes as one pydantic model each (issue 22): a route takes
``params: Annotated[XParams, Query()]`` instead of a dozen arguments. Each field keeps the
``Query(...)`` it had as a route argument, so the OpenAPI document lists the same parameters, in the
same order, with the same schemas and descriptions (pinned by tests/api/test_query_models.py), and
a 422 still names the field. Unknown query parameters are ignored, as before (no ``extra="forbid"``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel

from ...questions import MAX_K, MAX_MINUTES
from .deps import CapabilityQ, CrsQ, Lat, LevelQ, Lon, RegionQ
from .downloads import FormatQ
from .schemas import Direction, FacilityType, OneLine, Profile, ScenarioName

__all__ = ["AccessParams", "CoverageParams", "LayerParams", "NearestParams"]

ProfileQ = Annotated[Profile | None, Query(description="default: walk for aed, else drive")]
PercentileQ = Annotated[
    int | None,
    Query(description="50, 80 or 90: driving times at this percentile of the spread (calibrated, else default)"),
]


class NearestParams(BaseModel):
    """``GET /nearest``: where, which facilities, how many, how travelled."""

    lon: Lon
    lat: Lat
    type: Annotated[FacilityType | None, Query(description="facility type; default any")] = None
    level: LevelQ = None
    capability: CapabilityQ = None
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 1
    profile: ProfileQ = None
    direction: Annotated[Direction, Query(description="to: point → facility; from: facility → point")] = "to"
    at: Annotated[
        str | None, Query(max_length=40, description="ISO local date-time: only facilities not closed then")
    ] = None
    max_minutes: Annotated[float | None, Query(gt=0, le=MAX_MINUTES, description="search no farther")] = None
    scenario: Annotated[
        ScenarioName | None,
        Query(description="free_flow (default), off_peak or peak: road class time factors; driving only"),
    ] = None
    depart: Annotated[
        str | None,
        Query(
            max_length=10,
            description="departure time HH:MM: that hour's traffic (hourly factors per road class); "
            "not with scenario; driving only",
        ),
    ] = None
    percentile: PercentileQ = None
    region: RegionQ = None
    crs: CrsQ = "wgs84"


class LayerParams(BaseModel):
    """``GET /layers/{type}`` (``type`` stays a path parameter): which facilities, where, in what form."""

    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat (in crs)")] = None
    level: LevelQ = None
    capability: CapabilityQ = None
    status: Annotated[str | None, Query(max_length=100, description="comma-separated statuses")] = None
    demo: Annotated[bool | None, Query(description="only demo (true) or only real (false) rows")] = None
    q: Annotated[str | None, Query(max_length=100, description="name contains (case-insensitive)"), OneLine] = None
    region: Annotated[str | None, Query(max_length=200, description="one region; default all"), OneLine] = None
    at: Annotated[
        str | None,
        Query(
            max_length=40,
            description="ISO local date-time: each feature gets `open_at` (true, false, "
            "or null when its opening hours are unknown)",
        ),
    ] = None
    crs: CrsQ = "wgs84"
    format: FormatQ = "json"


class CoverageParams(BaseModel):
    """``GET /coverage``: which facilities, within what time, how travelled, and the answer's form."""

    type: Annotated[FacilityType, Query(description="facility type, e.g. chest_pain_center")]
    minutes: Annotated[
        float | None, Query(gt=0, le=MAX_MINUTES, description="default: the type's target (30/60/4)")
    ] = None
    region: Annotated[str | None, Query(max_length=200, description="default: the only region, else required")] = None
    profile: ProfileQ = None
    level: LevelQ = None
    capability: CapabilityQ = None
    scenario: Annotated[
        ScenarioName | None, Query(description="free_flow (default), off_peak or peak; driving only")
    ] = None
    depart: Annotated[
        str | None,
        Query(max_length=10, description="departure time HH:MM: that hour's traffic; not with scenario; driving only"),
    ] = None
    percentile: PercentileQ = None
    gaps: Annotated[bool, Query(description="include gap polygons")] = True
    crs: CrsQ = "wgs84"
    format: FormatQ = "json"


class AccessParams(BaseModel):
    """``GET /access``: the E2SFCA question (type, catchment, decay, travel), the equity and standards
    asked for, and what the answer includes."""

    type: Annotated[FacilityType, Query(description="facility type, e.g. chest_pain_center")]
    minutes: Annotated[float | None, Query(gt=0, le=240, description="catchment (default 30; aed 4)")] = None
    decay: Annotated[Literal["gaussian", "zones"], Query(description="distance decay")] = "gaussian"
    zones: Annotated[
        str | None, Query(max_length=200, description="decay=zones: MIN:WEIGHT,... (default 10:1,20:0.68,30:0.22)")
    ] = None
    profile: ProfileQ = None
    level: LevelQ = None
    scenario: Annotated[ScenarioName | None, Query(description="free_flow (default), off_peak or peak")] = None
    depart: Annotated[str | None, Query(max_length=10, description="departure time HH:MM; not with scenario")] = None
    region: Annotated[str | None, Query(max_length=200, description="default: the first region served")] = None
    equity: Annotated[bool, Query(description="Gini, Theil, Lorenz curve, worst-off decile, urban / rural")] = True
    standards: Annotated[bool, Query(description="AED density, fetch and return, EMS radius, time")] = False
    aed_per_100k: Annotated[float | None, Query(gt=0, description="AEDs per 100,000 (default: the plan's)")] = None
    fetch_minutes: Annotated[float | None, Query(gt=0, le=60, description="AED round trip on foot (default 4)")] = None
    ems_minutes: Annotated[float | None, Query(gt=0, le=240, description="ambulance minutes (default 12)")] = None
    share_target: Annotated[float | None, Query(gt=0, le=1, description="share asked for (default 1)")] = None
    points: Annotated[bool, Query(description="include every demand point")] = False
    layer: Annotated[bool, Query(description="include the admin units as GeoJSON")] = False
    crs: CrsQ = "wgs84"
