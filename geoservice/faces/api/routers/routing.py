"""Travel-time queries: nearest facilities with routes, isochrones, service areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ....bundle.store import ATTRIBUTION
from ..deps import CrsQ, Lat, Lon, RegionQ, StateDep, check_type, parse_at, parse_minutes
from ..errors import ApiError
from ..schemas import Direction, ErrorResponse, FeatureCollection, NearestResponse, Profile
from ..state import shift_geometry, shift_point, to_wgs84
from ..util import engine_errors, facility_props, nav_links

router = APIRouter(tags=["routing"])

ERRORS = {422: {"model": ErrorResponse, "description": "a parameter is wrong; `field` names it"},
          404: {"model": ErrorResponse, "description": "the point is in no served region"}}


@router.get("/nearest", response_model=NearestResponse, responses=ERRORS)
async def nearest(state: StateDep, lon: Lon, lat: Lat,
            type: Annotated[str | None, Query(description="facility type; default any")] = None,
            level: Annotated[str | None, Query(description="comma-separated levels")] = None,
            capability: Annotated[str | None, Query(description="required capabilities, e.g. evt")] = None,
            k: Annotated[int, Query(ge=1, le=20)] = 1,
            profile: Annotated[Profile | None, Query(description="default: walk for aed, else drive")] = None,
            direction: Annotated[Direction, Query(description="to: point → facility; from: facility → point")] = "to",
            at: Annotated[str | None, Query(description="ISO local date-time: only facilities open then")] = None,
            max_minutes: Annotated[float | None, Query(gt=0, le=240, description="search no farther")] = None,
            region: RegionQ = None, crs: CrsQ = "wgs84") -> NearestResponse:
    """The k nearest facilities by travel time, with route, distance and snap distance.

    AEDs use walking time by default; `at=` keeps only those open then (opening_hours)."""
    # async on purpose: the search takes ~2 ms, less than a hop to the thread pool and back
    return _json(nearest_answer(state, lon, lat, type=type, level=level, capability=capability, k=k,
                                profile=profile, direction=direction, at=at, max_minutes=max_minutes,
                                region=region, crs=crs))


def _json(model) -> Response:
    """The validated model, serialised once (FastAPI would validate a returned model again)."""
    return Response(model.model_dump_json(), media_type="application/json")


def nearest_answer(state, lon: float, lat: float, *, type=None, level=None, capability=None, k=1, profile=None,
                   direction="to", at=None, max_minutes=None, region=None, crs="wgs84") -> NearestResponse:
    ftype = check_type(type)
    when = parse_at(at)
    if when is not None and when.tzinfo is not None:
        when = when.replace(tzinfo=None)  # opening hours are local wall-clock times
    prof = profile or ("walk" if ftype == "aed" else "drive")
    wlon, wlat = to_wgs84(lon, lat, crs)
    entry = state.locate(wlon, wlat, prof, region)
    eng = entry.engine
    with engine_errors():
        res = eng.nearest(wlon, wlat, type=ftype, k=k, profile=prof, direction=direction, level=level,
                          capability=capability, at=when, max_minutes=max_minutes)
    results = []
    for r in res["results"]:
        fac = r["facility"]
        results.append({
            "facility": facility_props(fac, entry.name, crs),
            "time_s": r["time_s"], "minutes": round(r["time_s"] / 60, 1),
            "distance_m": r["distance_m"], "snap_m": r["snap_m"], "facility_snap_m": r["facility_snap_m"],
            "route": shift_geometry(r["route"], crs),
            "nav": nav_links(float(fac["lon"]), float(fac["lat"]), str(fac.get("name") or ""), prof),
        })
    o = res["origin"]
    slon, slat = shift_point(o["snapped"][0], o["snapped"][1], crs)
    note = None
    if not results:
        what = (ftype or "facility").replace("_", " ")
        note = (f"no {what}" + (f" open at {when.isoformat(timespec='minutes')}" if when else "")
                + (f" within {max_minutes:g} min" if max_minutes else " reachable") + f" by {prof} in {entry.name}")
    return NearestResponse(origin={"lon": lon, "lat": lat, "snap_m": round(o["snap_m"], 1), "snapped": [slon, slat],
                                   "region": entry.name},
                           type=ftype, profile=prof, direction=direction,
                           at=when.isoformat(timespec="minutes") if when else None, max_minutes=max_minutes,
                           results=results, crs_name=crs, note=note,
                           attribution=entry.region.meta.get("attribution", ATTRIBUTION))


@router.get("/isochrones", response_model=FeatureCollection, responses=ERRORS)
def isochrones(state: StateDep, lon: Lon, lat: Lat,
               minutes: Annotated[str, Query(description="comma-separated, e.g. 5,10,15 (each in (0, 240])")] = "5,10,15",
               profile: Annotated[Profile, Query()] = "drive",
               direction: Annotated[Direction, Query(description="to: reach the point; from: leave it")] = "to",
               region: RegionQ = None, crs: CrsQ = "wgs84") -> FeatureCollection:
    """Travel-time polygons around a point, one feature per minutes value (smallest first)."""
    mins = parse_minutes(minutes)
    wlon, wlat = to_wgs84(lon, lat, crs)
    entry = state.locate(wlon, wlat, profile, region)
    with engine_errors():
        feats = entry.engine.isochrones(wlon, wlat, mins, profile=profile, direction=direction)
    for f in feats:
        f["geometry"] = shift_geometry(f["geometry"], crs)
        f["properties"]["region"] = entry.name
    return FeatureCollection(features=feats, crs_name=crs,
                             attribution=entry.region.meta.get("attribution", ATTRIBUTION))


def service_area_features(entry, ftype: str, minutes: float, profile: str = "drive",
                          level: str | None = None, capability: str | None = None) -> list[dict]:
    """One isochrone per facility: where a patient reaches it within ``minutes`` (cached per edit)."""
    key = ("service", ftype, minutes, profile, level, capability)
    if key in entry.cache:
        return entry.cache[key]
    eng = entry.engine
    fidx = eng.select(profile, type=ftype, level=level, capability=capability)
    feats = []
    for row in fidx.rows:
        rec = eng.facilities.iloc[int(row)]
        try:
            poly = eng.isochrones(float(rec.geometry.x), float(rec.geometry.y), [minutes], profile=profile,
                                  direction="to")[0]
        except ValueError:
            continue
        poly["properties"].update({"id": str(rec["id"]), "name": str(rec["name"]), "type": ftype,
                                   "level": rec.get("level"), "capabilities": rec.get("capabilities"),
                                   "region": entry.name})
        feats.append(poly)
    entry.cache[key] = feats
    return feats


@router.get("/service-areas", response_model=FeatureCollection, responses=ERRORS)
def service_areas(state: StateDep,
                  type: Annotated[str, Query(description="facility type")],
                  minutes: Annotated[float, Query(gt=0, le=240)] = 30,
                  profile: Annotated[Profile, Query()] = "drive",
                  level: Annotated[str | None, Query()] = None,
                  capability: Annotated[str | None, Query()] = None,
                  region: Annotated[str | None, Query(description="default: all regions")] = None,
                  crs: CrsQ = "wgs84") -> FeatureCollection:
    """Per facility, the area from which it is reached within `minutes` (e.g. 30-min chest pain circles)."""
    ftype = check_type(type)
    if ftype is None:
        raise ApiError(422, "type", "type: required")
    entries = [state.get(region)] if region else list(state.regions.values())
    feats = []
    for e in entries:
        with engine_errors():
            for f in service_area_features(e, ftype, minutes, profile, level, capability):
                feats.append(dict(f, geometry=shift_geometry(f["geometry"], crs)))
    return FeatureCollection(features=feats, crs_name=crs, attribution=ATTRIBUTION)
