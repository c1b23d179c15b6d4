"""The query parameters of the long GET routes as one pydantic model each (issue 22): a route takes
``params: Annotated[XParams, Query()]`` instead of a dozen arguments. Each field keeps the
``Query(...)`` it had as a route argument, so the OpenAPI document lists the same parameters, in the
same order, with the same schemas and descriptions (pinned by tests/api/test_query_models.py), and
a 422 still names the field. Unknown query parameters are ignored, as before (no ``extra="forbid"``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from ...questions import MAX_K, MAX_MINUTES
from .deps import CapabilityQ, CrsQ, Lat, LevelQ, Lon, RegionQ
from .schemas import Direction, FacilityType, Profile, ScenarioName

__all__ = ["NearestParams"]

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
