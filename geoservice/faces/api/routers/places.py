"""Offline place search: road, district and facility names, for a caller without GPS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ....service.places import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY, PlaceList, search_places
from ..deps import CrsQ, ServiceDep
from ..errors import READ_ERRORS
from ..schemas import OneLine

router = APIRouter(tags=["layers"])


@router.get("/places", response_model=PlaceList, responses=READ_ERRORS)
def places(
    svc: ServiceDep,
    q: Annotated[
        str,
        Query(min_length=1, max_length=MAX_QUERY, description="part of a road, district or facility name"),
        OneLine,
    ],
    region: Annotated[str | None, Query(max_length=200, description="one region; default all")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many places")] = DEFAULT_LIMIT,
    crs: CrsQ = "wgs84",
) -> PlaceList:
    """Places whose name contains `q` (case, full/half width, accents, spaces and punctuation ignored;
    Chinese matched as written), exact names first, then prefixes; facilities and districts before
    roads. Each comes with a point to search from (`lon`, `lat` in `crs`). Nothing is looked up online:
    the names are those of the served regions' roads, admin units and current facilities."""
    return search_places(svc, q, region=region, limit=limit, crs=crs)
