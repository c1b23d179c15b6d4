"""Coverage within a travel time (share of population, area, road length; gap polygons) and what-if."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import CrsQ, StateDep, check_type
from ..errors import ApiError
from ..schemas import CoverageResponse, ErrorResponse, Profile, WhatIfRequest, WhatIfResponse
from ..state import shift_geometry, to_wgs84
from ..util import engine_errors

router = APIRouter(tags=["coverage"])

ERR = {422: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
       501: {"model": ErrorResponse, "description": "coverage analysis not installed"}}


def _report(entry, **kw) -> dict:
    try:
        from ....analyses.coverage import coverage_report
    except ImportError as exc:  # the analysis lives in another package of the project
        raise ApiError(501, None, f"coverage analysis unavailable: {exc}") from None
    try:
        from ....analyses.coverage import CoverageError
    except ImportError:  # pragma: no cover
        CoverageError = ValueError  # type: ignore[misc,assignment]
    with engine_errors("add"):
        try:
            return coverage_report(entry.engine, **kw)
        except CoverageError as exc:
            field = getattr(exc, "field", "query")
            field = {"add_sites": "add", "remove_ids": "remove"}.get(field, field)
            raise ApiError(422, field, f"{field}: {exc}") from None


def _shaped(entry, rep: dict, crs: str) -> dict:
    out = dict(rep, region=entry.name, crs_name=crs)
    gaps = rep.get("gaps")
    if gaps is not None and crs != "wgs84":
        out["gaps"] = dict(gaps, features=[dict(f, geometry=shift_geometry(f.get("geometry"), crs))
                                           for f in gaps.get("features", [])])
    return out


def _cached(entry, key, fn):
    if key not in entry.cache:
        entry.cache[key] = fn()
    return entry.cache[key]


@router.get("/coverage", response_model=CoverageResponse, responses=ERR)
def coverage(state: StateDep,
             type: Annotated[str, Query(description="facility type, e.g. chest_pain_center")],
             minutes: Annotated[float, Query(gt=0, le=240, description="travel-time threshold")],
             region: Annotated[str | None, Query(description="default: the only region, else required")] = None,
             profile: Annotated[Profile, Query()] = "drive",
             level: Annotated[str | None, Query()] = None,
             capability: Annotated[str | None, Query()] = None,
             scenario: Annotated[str, Query(description="free_flow, off_peak or peak")] = "free_flow",
             gaps: Annotated[bool, Query(description="include gap polygons")] = True,
             crs: CrsQ = "wgs84") -> CoverageResponse:
    """Share of population, area and road length within `minutes` of the nearest facility, by admin unit."""
    ftype = check_type(type)
    entry = _pick_region(state, region)
    key = ("coverage", ftype, minutes, profile, level, capability, scenario, gaps)
    rep = _cached(entry, key, lambda: _report(entry, type=ftype, minutes=minutes, profile=profile, level=level,
                                              capability=capability, scenario=scenario, gaps=gaps))
    return CoverageResponse(**_shaped(entry, rep, crs))


def _pick_region(state, region: str | None, point=None):
    if region is not None:
        return state.get(region)
    if point is not None:
        return state.locate(point[0], point[1], "drive")
    if len(state.regions) == 1:
        return next(iter(state.regions.values()))
    raise ApiError(422, "region", f"region: several regions are served ({', '.join(state.regions)}); say which")


def _delta(a: dict, b: dict) -> dict:
    out = {}
    for k in ("population_share", "area_share", "road_share", "population_covered"):
        x, y = a["overall"].get(k), b["overall"].get(k)
        out[k] = None if x is None or y is None else round(y - x, 6)
    return out


@router.post("/whatif", response_model=WhatIfResponse, responses=ERR)
def whatif(body: WhatIfRequest, state: StateDep) -> WhatIfResponse:
    """Coverage before and after adding hypothetical sites and/or removing facilities (nothing is saved)."""
    ftype = check_type(body.type)
    adds = [to_wgs84(p.lon, p.lat, body.crs) for p in body.add]
    entry = _pick_region(state, body.region, adds[0] if adds else None)
    for i, (x, y) in enumerate(adds):
        if not entry.contains(x, y):
            raise ApiError(422, "add", f"add[{i}]: ({x:.6f}, {y:.6f}) is outside region {entry.name!r}")
    common = dict(type=ftype, minutes=body.minutes, profile=body.profile, level=body.level,
                  capability=body.capability, scenario=body.scenario, gaps=body.gaps)
    key = ("coverage",) + tuple(common.values())
    before = _cached(entry, key, lambda: _report(entry, **common))
    after = _report(entry, add_sites=adds or None, remove_ids=body.remove or None, **common)
    return WhatIfResponse(region=entry.name, before=CoverageResponse(**_shaped(entry, before, body.crs)),
                          after=CoverageResponse(**_shaped(entry, after, body.crs)), delta=_delta(before, after))
