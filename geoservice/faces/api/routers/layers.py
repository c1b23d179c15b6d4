"""Facility layers as GeoJSON, filtered by bbox and attributes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from ....service.answers.queries import FeatureCollection
from ....service.inputs import parse_at, parse_bbox
from ....service.output_crs import to_wgs84
from ....service.usecases import downloads, queries
from ....sources.schema import FacilityFilter
from ..deps import ServiceDep
from ..downloads import file_response, file_responses
from ..errors import api_fields
from ..priority import low_priority
from ..query_models import LayerParams
from ..schemas import ErrorResponse, FacilityTypeOrAll

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
    params: Annotated[LayerParams, Query()],
) -> FeatureCollection | Response:
    """The facilities of a type (or all), as GeoJSON points; as a file with `format` (CSV: one row
    per facility with lon/lat)."""
    p = params
    with api_fields(name_contains="q"):
        where = FacilityFilter.parse(
            type=type,
            level=p.level,
            capability=p.capability,
            status=p.status,
            demo=p.demo,
            name_contains=p.q,
            allow_all=True,
        )
    box = parse_bbox(p.bbox)
    crs, format = p.crs, p.format
    if box is not None and crs != "wgs84":
        x0, y0 = to_wgs84(box[0], box[1], crs)
        x1, y1 = to_wgs84(box[2], box[3], crs)
        box = (x0, y0, x1, y1)
    fc = queries.facility_layer(svc, where, bbox=box, region=p.region, crs=crs, at=parse_at(p.at))
    if format == "json":
        return fc
    return file_response(downloads.layer_file(fc, fmt=format, layer="facilities", describe=(type, p.region)))
