"""Coverage within a travel time (share of population, area, road length; gap polygons) and what-if."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ....questions import MAX_MINUTES, CoverageQuestion, TrafficAsk
from ....service.usecases import downloads, queries
from ..cancellable import cancellable
from ..deps import CapabilityQ, CrsQ, LevelQ, ServiceDep
from ..downloads import FormatQ, file_response, file_responses
from ..errors import api_fields
from ..schemas import (
    CoverageResponse,
    ErrorResponse,
    FacilityType,
    Profile,
    ScenarioName,
    WhatIfRequest,
    WhatIfResponse,
)

router = APIRouter(tags=["coverage"])

ERR: dict[int | str, dict[str, Any]] = {422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}}
Scenario = Annotated[ScenarioName | None, Query(description="free_flow (default), off_peak or peak; driving only")]
Depart = Annotated[
    str | None,
    Query(max_length=10, description="departure time HH:MM: that hour's traffic; not with scenario; driving only"),
]


@router.get(
    "/coverage",
    response_model=CoverageResponse,
    responses={**ERR, **file_responses("the gap polygons (the CLI's gaps.geojson)")},
)
@cancellable
def coverage(
    svc: ServiceDep,
    type: Annotated[FacilityType, Query(description="facility type, e.g. chest_pain_center")],
    minutes: Annotated[
        float | None, Query(gt=0, le=MAX_MINUTES, description="default: the type's target (30/60/4)")
    ] = None,
    region: Annotated[str | None, Query(max_length=200, description="default: the only region, else required")] = None,
    profile: Annotated[Profile | None, Query(description="default: walk for aed, else drive")] = None,
    level: LevelQ = None,
    capability: CapabilityQ = None,
    scenario: Scenario = None,
    depart: Depart = None,
    percentile: Annotated[
        int | None,
        Query(description="50, 80 or 90: driving times at this percentile of the spread (calibrated, else default)"),
    ] = None,
    gaps: Annotated[bool, Query(description="include gap polygons")] = True,
    crs: CrsQ = "wgs84",
    format: FormatQ = "json",
) -> CoverageResponse | Response:
    """Share of population, area and road length within `minutes` of the nearest facility, by admin unit.

    As a file (`format`): csv = the table by admin unit (the CLI's coverage.csv figures), geojson =
    the gap polygons, gpkg = both (layers `gaps` and `coverage`)."""
    q = CoverageQuestion.of(
        type=type,
        level=level,
        capability=capability,
        minutes=minutes,
        profile=profile,
        traffic=TrafficAsk(scenario, depart, percentile),
        gaps=gaps,
        region=region,
        crs=crs,
    )
    entry, rep = queries.coverage(svc, q)
    ans = queries.coverage_answer(entry, rep, crs)
    if format == "json":
        return ans
    return file_response(downloads.coverage_file(ans, fmt=format))


@router.post("/whatif", response_model=WhatIfResponse, responses=ERR)
@cancellable
def whatif(body: WhatIfRequest, svc: ServiceDep) -> WhatIfResponse:
    """Coverage before and after adding hypothetical sites and/or removing facilities (nothing is saved),
    under `scenario` or the hour of `depart` (not both)."""
    from ....service.output_crs import to_wgs84

    adds = [to_wgs84(p.lon, p.lat, body.crs) for p in body.add]
    with api_fields(add_sites="add", remove_ids="remove"):
        q = CoverageQuestion.of(
            type=body.type,
            level=body.level,
            capability=body.capability,
            minutes=body.minutes,
            profile=body.profile,
            traffic=TrafficAsk(body.scenario if "scenario" in body.model_fields_set else None, body.depart),
            gaps=body.gaps,
            add_sites=tuple(adds),
            remove_ids=tuple(body.remove or ()),
            region=body.region,
            crs=body.crs,
        )
        return queries.whatif(svc, q)
