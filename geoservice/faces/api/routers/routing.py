"""Travel-time queries: nearest facilities with routes, isochrones, service areas, under a traffic
scenario or the hour of a departure time (and the hours the planner offers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ....questions import (
    MAX_MINUTES,
    IsochroneQuestion,
    NearestQuestion,
    ServiceAreaQuestion,
    TrafficAsk,
    parse_minutes,
)
from ....service import traffic
from ....service.inputs import parse_at
from ....service.output_crs import to_wgs84
from ....service.usecases import downloads, queries
from ..cancellable import cancellable
from ..deps import CapabilityQ, CrsQ, Lat, LevelQ, Lon, RegionQ, ServiceDep
from ..downloads import FormatQ, file_response, file_responses
from ..priority import low_priority
from ..query_models import NearestParams
from ..schemas import (
    Direction,
    ErrorResponse,
    FacilityType,
    FeatureCollection,
    NearestResponse,
    Profile,
    ScenarioName,
)

router = APIRouter(tags=["routing"])
Scenario = Annotated[
    ScenarioName | None,
    Query(description="free_flow (default), off_peak or peak: road class time factors; driving only"),
]
Depart = Annotated[
    str | None,
    Query(
        max_length=10,
        description="departure time HH:MM: that hour's traffic (hourly factors per road class); "
        "not with scenario; driving only",
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "a parameter is wrong; `field` names it"},
    404: {"model": ErrorResponse, "description": "the point is in no served region"},
}


@router.get("/nearest", response_model=NearestResponse, responses=ERRORS)
async def nearest(svc: ServiceDep, params: Annotated[NearestParams, Query()]) -> Response:
    """The k nearest facilities by travel time, with route, distance and snap distance.

    AEDs use walking time unless a profile is given; `at=` leaves out those closed then and marks
    those whose hours are unknown (`open_at: null`)."""
    # async on purpose: the search takes ~2 ms, less than a hop to the thread pool and back
    p = params
    wlon, wlat = to_wgs84(p.lon, p.lat, p.crs)
    q = NearestQuestion.of(
        wlon,
        wlat,
        type=p.type,
        level=p.level,
        capability=p.capability,
        k=p.k,
        profile=p.profile,
        direction=p.direction,
        at=parse_at(p.at),
        max_minutes=p.max_minutes,
        traffic=TrafficAsk(p.scenario, p.depart, p.percentile),
        region=p.region,
        crs=p.crs,
        given=None if p.crs == "wgs84" else (p.lon, p.lat),
    )
    ans = queries.nearest(svc, q)
    return Response(ans.model_dump_json(), media_type="application/json")


@router.get("/isochrones", response_model=FeatureCollection, responses=ERRORS)
@low_priority
def isochrones(
    svc: ServiceDep,
    lon: Lon,
    lat: Lat,
    minutes: Annotated[
        str, Query(max_length=100, description="comma-separated, e.g. 5,10,15 (each in (0, 240])")
    ] = "5,10,15",
    profile: Annotated[Profile, Query()] = "drive",
    direction: Annotated[Direction, Query(description="to: reach the point; from: leave it")] = "to",
    scenario: Scenario = None,
    depart: Depart = None,
    percentile: Annotated[
        int | None,
        Query(description="50, 80 or 90: driving times at this percentile of the spread (calibrated, else default)"),
    ] = None,
    region: RegionQ = None,
    crs: CrsQ = "wgs84",
) -> FeatureCollection:
    """Travel-time polygons around a point, one feature per distinct minutes value (smallest first);
    each feature names its traffic (`scenario`, `depart`)."""
    mins = tuple(parse_minutes(minutes))  # before the point: a wrong list is named first, as always
    wlon, wlat = to_wgs84(lon, lat, crs)
    traffic_ask = TrafficAsk(scenario, depart, percentile)
    q = IsochroneQuestion(wlon, wlat, mins, profile, direction, traffic_ask, region, crs)
    return queries.isochrones(svc, q)


@router.get(
    "/service-areas",
    response_model=FeatureCollection,
    responses={**ERRORS, **file_responses("one polygon per facility")},
)
@cancellable
def service_areas(
    svc: ServiceDep,
    type: Annotated[FacilityType, Query(description="facility type")],
    minutes: Annotated[float | None, Query(gt=0, le=MAX_MINUTES, description="default: the type's target")] = None,
    profile: Annotated[Profile | None, Query(description="default: walk for aed, else drive")] = None,
    level: LevelQ = None,
    capability: CapabilityQ = None,
    scenario: Scenario = None,
    depart: Depart = None,
    region: Annotated[str | None, Query(max_length=200, description="default: all regions")] = None,
    crs: CrsQ = "wgs84",
    format: FormatQ = "json",
) -> FeatureCollection | Response:
    """Per facility, the area from which it is reached within `minutes` (e.g. 30-min chest pain circles);
    as a file with `format` (CSV: one row per facility with its area in km² and the polygon as WKT)."""
    q = ServiceAreaQuestion.of(
        type=type,
        level=level,
        capability=capability,
        minutes=minutes,
        profile=profile,
        traffic=TrafficAsk(scenario, depart),
        region=region,
        crs=crs,
    )
    fc = queries.service_areas(svc, q)
    if format == "json":  # JSON straight from the answer: no second copy of every position
        return Response(fc.model_dump_json(), media_type="application/json")
    traffic_part = scenario or (f"depart-{depart}" if depart else None)
    describe = (type, downloads.minutes_part(q.threshold), traffic_part, region)
    return file_response(downloads.layer_file(fc, fmt=format, layer="service_areas", describe=describe))


@router.get("/depart-hours", response_model=traffic.DepartHours)
def depart_hours(svc: ServiceDep) -> traffic.DepartHours:
    """The 24 departure hours `depart=` offers, each with the named scenario its factors equal
    (`level`: free_flow, off_peak, peak, or mixed) and its largest factor: the planner's hours."""
    return traffic.depart_hours(svc.settings)
