"""Facility layers as GeoJSON, filtered by bbox and attributes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ....bundle.store import ATTRIBUTION
from ..deps import CrsQ, StateDep, check_type, parse_bbox
from ..errors import ApiError
from ..schemas import ErrorResponse, FeatureCollection
from ..state import shift_geometry, to_wgs84
from ..util import facility_props

router = APIRouter(tags=["layers"])


@router.get("/layers/{type}", response_model=FeatureCollection, responses={422: {"model": ErrorResponse},
                                                                            404: {"model": ErrorResponse}})
def layer(type: Annotated[str, Path(description="facility type, or 'all'")], state: StateDep,
          bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (in crs)")] = None,
          level: Annotated[str | None, Query(description="comma-separated levels, e.g. standard,basic")] = None,
          capability: Annotated[str | None, Query(description="all of these, e.g. evt or ivt,evt")] = None,
          status: Annotated[str | None, Query(description="comma-separated statuses")] = None,
          demo: Annotated[bool | None, Query(description="only demo (true) or only real (false) rows")] = None,
          q: Annotated[str | None, Query(max_length=100, description="name contains (case-insensitive)")] = None,
          region: Annotated[str | None, Query(description="one region; default all")] = None,
          crs: CrsQ = "wgs84") -> FeatureCollection:
    ftype = check_type(type, "type", allow_all=True)
    box = parse_bbox(bbox)
    if box is not None and crs != "wgs84":
        x0, y0 = to_wgs84(box[0], box[1], crs)
        x1, y1 = to_wgs84(box[2], box[3], crs)
        box = (x0, y0, x1, y1)
    levels = {s.strip().lower() for s in level.split(",") if s.strip()} if level else None
    caps = {s.strip().lower() for s in capability.split(",") if s.strip()} if capability else None
    statuses = {s.strip().lower() for s in status.split(",") if s.strip()} if status else None
    if ftype is not None and levels:
        from ....sources.facilities import LEVELS
        bad = levels - set(LEVELS[ftype])
        if bad:
            raise ApiError(422, "level", f"level: {', '.join(sorted(bad))} not a level of {ftype}; "
                                         f"allowed: {', '.join(LEVELS[ftype]) or '(none)'}")
    entries = [state.get(region)] if region else list(state.regions.values())
    feats = []
    for e in entries:
        fac = e.engine.facilities
        for rec in fac.drop(columns=fac.geometry.name).to_dict("records"):
            if ftype is not None and rec["type"] != ftype:
                continue
            if levels and (rec.get("level") or "") not in levels:
                continue
            if caps and not caps <= set(filter(None, str(rec.get("capabilities") or "").split(","))):
                continue
            if statuses and (rec.get("status") or "") not in statuses:
                continue
            if demo is not None and bool(rec.get("demo")) != demo:
                continue
            if q and q.lower() not in str(rec.get("name") or "").lower():
                continue
            lon, lat = float(rec["lon"]), float(rec["lat"])
            if box and not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
                continue
            feats.append({"type": "Feature",
                          "geometry": shift_geometry({"type": "Point", "coordinates": [lon, lat]}, crs),
                          "properties": facility_props(rec, e.name, crs)})
    return FeatureCollection(features=feats, crs_name=crs, attribution=ATTRIBUTION)
