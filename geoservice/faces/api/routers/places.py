"""Offline place search: landmark, station, road, district and facility names (written, English or
pinyin), for a caller without GPS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ....service.usecases.places import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY, PlaceList, search_places
from ..deps import CrsQ, ServiceDep
from ..errors import READ_ERRORS
from ..schemas import OneLine

router = APIRouter(tags=["layers"])


@router.get("/places", response_model=PlaceList, responses=READ_ERRORS)
def places(
    svc: ServiceDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY,
            description="part of a name (人民广场, People's Square), or the pinyin (renminguangchang) or pinyin "
            "initials (rmgc) of a Chinese name",
        ),
        OneLine,
    ],
    near: Annotated[
        str | None,
        Query(
            max_length=60,
            description="`lon,lat` in `crs` (the map's centre or the user's position): places of one match and kind "
            "come nearest first, each with its `distance_m`",
            examples=["121.4737,31.2304"],
        ),
    ] = None,
    region: Annotated[str | None, Query(max_length=200, description="one region; default all")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many places")] = DEFAULT_LIMIT,
    crs: CrsQ = "wgs84",
) -> PlaceList:
    """Places whose name, other name (OSM `name:en` / `name:zh`) or pinyin contains `q` (case, full/half
    width, accents, spaces and punctuation ignored): exact names first (a written name before a pinyin
    one), then prefixes, then the rest; facilities, landmarks (squares, stations, malls, schools, parks,
    hospitals, attractions) and districts before bus stops, bus stops before roads; then the nearest
    to `near` when given, else the shortest names. Each comes with a point to search from (`lon`, `lat`
    in `crs`) and `name_en` when OSM has one. Nothing is looked up online: the names are those of the
    served regions' OSM landmarks, roads, admin units and current facilities."""
    return search_places(svc, q, region=region, limit=limit, crs=crs, near=near)
