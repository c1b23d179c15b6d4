"""Facility layers as GeoJSON, filtered by bbox and attributes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from ....service.answers.queries import FeatureCollection
from ....service.inputs import parse_at, parse_bbox
from ....service.output_crs import to_wgs84
from ....service.usecases import downloads, queries
from ....sources.schema import FacilityFilter
from ..deps import CapabilityQ, CrsQ, LevelQ, ServiceDep
from ..downloads import FormatQ, file_response, file_responses
from ..errors import api_fields
from ..priority import low_priority
from ..schemas import ErrorResponse, FacilityTypeOrAll, OneLine

router = APIRouter(tags=["layers"])


@router.get(
    "/layers/{type}",
    response_model=FeatureCollection,
    responses={
        422: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        **file_responses("the facilities as points"),
    },
)
@low_priority
def layer(
    type: Annotated[FacilityTypeOrAll, Path(description="facility type, or 'all'")],
    svc: ServiceDep,
    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat (in crs)")] = None,
    level: LevelQ = None,
    capability: CapabilityQ = None,
    status: Annotated[str | None, Query(max_length=100, description="comma-separated statuses")] = None,
    demo: Annotated[bool | None, Query(description="only demo (true) or only real (false) rows")] = None,
    q: Annotated[str | None, Query(max_length=100, description="name contains (case-insensitive)"), OneLine] = None,
    region: Annotated[str | None, Query(max_length=200, description="one region; default all"), OneLine] = None,
    at: Annotated[
        str | None,
        Query(
            max_length=40,
            description="ISO local date-time: each feature gets `open_at` (true, false, "
            "or null when its opening hours are unknown)",
        ),
    ] = None,
    crs: CrsQ = "wgs84",
    format: FormatQ = "json",
) -> FeatureCollection | Response:
    """The facilities of a type (or all), as GeoJSON points; as a file with `format` (CSV: one row
    per facility with lon/lat)."""
    with api_fields(name_contains="q"):
        where = FacilityFilter.parse(
            type=type, level=level, capability=capability, status=status, demo=demo, name_contains=q, allow_all=True
        )
    box = parse_bbox(bbox)
    if box is not None and crs != "wgs84":
        x0, y0 = to_wgs84(box[0], box[1], crs)
        x1, y1 = to_wgs84(box[2], box[3], crs)
        box = (x0, y0, x1, y1)
    fc = queries.facility_layer(svc, where, bbox=box, region=region, crs=crs, at=parse_at(at))
    if format == "json":
        return fc
    return file_response(downloads.layer_file(fc, fmt=format, layer="facilities", describe=(type, region)))
