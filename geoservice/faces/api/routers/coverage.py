"""Coverage within a travel time (share of population, area, road length; gap polygons) and what-if."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ....questions import CoverageQuestion, TrafficAsk
from ....service.usecases import downloads, queries
from ..cancellable import cancellable
from ..deps import ServiceDep
from ..downloads import file_response, file_responses
from ..errors import api_fields
from ..query_models import CoverageParams
from ..schemas import (
    CoverageResponse,
    ErrorResponse,
    WhatIfRequest,
    WhatIfResponse,
)

router = APIRouter(tags=["coverage"])

ERR: dict[int | str, dict[str, Any]] = {422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}}


@router.get(
    "/coverage",
    response_model=CoverageResponse,
    responses={**ERR, **file_responses("the gap polygons (the CLI's gaps.geojson)")},
)
@cancellable
def coverage(svc: ServiceDep, params: Annotated[CoverageParams, Query()]) -> CoverageResponse | Response:
    """Share of population, area and road length within `minutes` of the nearest facility, by admin unit.

    As a file (`format`): csv = the table by admin unit (the CLI's coverage.csv figures), geojson =
    the gap polygons, gpkg = both (layers `gaps` and `coverage`)."""
    p = params
    q = CoverageQuestion.of(
        type=p.type,
        level=p.level,
        capability=p.capability,
        minutes=p.minutes,
        profile=p.profile,
        traffic=TrafficAsk(p.scenario, p.depart, p.percentile),
        gaps=p.gaps,
        region=p.region,
        crs=p.crs,
    )
    entry, rep = queries.coverage(svc, q)
    ans = queries.coverage_answer(entry, rep, p.crs)
    if p.format == "json":
        return ans
    return file_response(downloads.coverage_file(ans, fmt=p.format))


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
