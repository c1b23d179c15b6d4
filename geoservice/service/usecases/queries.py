"""The questions every face asks, answered once: nearest, isochrones, service areas, layers,
coverage and what-if. The API returns these answers and the CLI prints them, so the two agree.

Travel mode comes from the facility type (``sources.schema.travel_profile``: AEDs on foot,
everything else by car) unless a profile is given. Traffic is a ``scenario`` or the hour of a
``depart`` time (``service.traffic``), and every answer says which it used.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ...analyses.coverage import CoverageReport
from ...bundle.store import ATTRIBUTION
from ...engine.engine import Engine
from ...errors import GeoserviceError
from ...questions import CoverageQuestion, IsochroneQuestion, NearestQuestion, ServiceAreaQuestion, threshold_minutes
from ...sources.cell_values import plain_value
from ...sources.schema import FacilityFilter
from .. import facility_filter
from .. import traffic as traffic_
from ..answers.queries import (
    CoverageDelta,
    CoverageResponse,
    Facility,
    FeatureCollection,
    NearestResponse,
    NearestResult,
    WhatIfResponse,
)
from ..core import GeoService, RegionEntry
from ..output_crs import nav_links, shift_geometry, shift_point
from . import areas
from .coverage_traffic import TrafficCoverage

__all__ = [
    "nearest",
    "isochrones",
    "service_areas",
    "facility_layer",
    "facility_props",
    "coverage",
    "coverage_answer",
    "whatif",
    "default_minutes",
    "traffic_of",
]


def facility_props(rec: dict[str, Any], region: str, crs: str) -> dict[str, Any]:
    """A facility record as answer properties (coordinates in ``crs``, with its region)."""
    out = {k: plain_value(v) for k, v in rec.items() if k != "geometry"}
    out["lon"], out["lat"] = shift_point(float(rec["lon"]), float(rec["lat"]), crs)
    out["region"] = region
    return out


def traffic_of(
    svc: GeoService,
    eng: Engine,
    profile: str,
    scenario: str | dict[str, float] | None,
    depart: str | None,
    percentile: int | None = None,
) -> traffic_.Traffic:
    """The traffic of a question on ``eng`` (``service.traffic.resolve``; walking knows no traffic):
    ``depart`` uses the profile stored in the region's bundle unless a file is given."""
    return traffic_.resolve(
        svc.settings,
        walking=eng.router_for(profile).walks,
        scenario=scenario,
        depart=depart,
        region_path=getattr(eng.region, "path", None),
        percentile=percentile,
    )


def _attribution(entry: RegionEntry) -> str:
    return str(entry.region.meta.get("attribution", ATTRIBUTION)) if entry.region else ATTRIBUTION


def nearest(svc: GeoService, q: NearestQuestion) -> NearestResponse:
    """The k nearest facilities of ``q`` by travel time, with routes and navigation links, under its
    traffic (``scenario`` or the hour of ``depart``; free flow when neither is given)."""
    where, at, max_minutes, crs = q.where, q.at, q.max_minutes, q.crs
    prof = q.mode
    entry = svc.locate(q.lon, q.lat, prof, q.region)
    eng = svc.engine(entry.name)
    tr = traffic_of(svc, eng, prof, q.traffic.scenario, q.traffic.depart, q.traffic.percentile)
    res = eng.nearest(q, scenario=tr.scenario)
    results = []
    for h in res.hits:
        fac = h.facility
        results.append(
            NearestResult(
                facility=Facility(**facility_props(fac, entry.name, crs)),
                time_s=h.time_s,
                minutes=round(h.time_s / 60, 1),
                distance_m=h.distance_m,
                snap_m=h.snap_m,
                facility_snap_m=h.facility_snap_m,
                access_s=h.access_s,
                facility_access_s=h.facility_access_s,
                route=shift_geometry(h.route, crs),
                nav=nav_links(float(fac["lon"]), float(fac["lat"]), str(fac.get("name") or ""), prof),
                open_at=h.open_at if at is not None else None,
            )
        )
    note = None
    if not results:
        what = (where.type or "facility").replace("_", " ")
        note = (
            f"no {what}"
            + (f" open at {at.isoformat(timespec='minutes')}" if at else "")
            + (f" within {max_minutes:g} min" if max_minutes else " reachable")
            + f" by {prof} in {entry.name}"
        )
    slon, slat = shift_point(res.snapped[0], res.snapped[1], crs)
    lon, lat = q.origin
    return NearestResponse(
        origin={"lon": lon, "lat": lat, "snap_m": res.snap_m, "snapped": [slon, slat], "region": entry.name},
        type=where.type,
        profile=prof,
        direction=q.direction,
        scenario=tr.name,
        depart=tr.depart,
        **tr.to_json(),
        at=at.isoformat(timespec="minutes") if at else None,
        max_minutes=max_minutes,
        results=results,
        crs_name=crs,
        note=note,
        attribution=_attribution(entry),
    )


def isochrones(svc: GeoService, q: IsochroneQuestion) -> FeatureCollection:
    """Travel-time polygons around the question's point, one feature per distinct minutes value,
    smallest first; each says its traffic (``scenario``, ``depart``). Walking at most ``max_walk_minutes``."""
    mins, profile = list(q.minutes), q.profile
    entry = svc.locate(q.lon, q.lat, profile, q.region)
    eng = svc.engine(entry.name)
    areas.check_walk_minutes(svc, eng, profile, mins)
    tr = traffic_of(svc, eng, profile, q.traffic.scenario, q.traffic.depart, q.traffic.percentile)
    feats = eng.isochrones(q.lon, q.lat, mins, profile=profile, direction=q.direction, scenario=tr.scenario)
    for f in feats:
        f["geometry"] = shift_geometry(f["geometry"], q.crs)
        f["properties"].update(region=entry.name, scenario=tr.name, depart=tr.depart, **tr.to_json())
    return FeatureCollection(features=feats, crs_name=q.crs, attribution=_attribution(entry))


default_minutes = threshold_minutes
"""The threshold asked for, else the plan target of the type (``questions.threshold_minutes``)."""


def service_areas(svc: GeoService, q: ServiceAreaQuestion) -> FeatureCollection:
    """Per facility, where a patient reaches it within the question's minutes under its ``scenario``
    or the hour of its ``depart``: each facility's polygon cached on its own and simplified, walking
    at most ``max_walk_minutes``, the whole at most ``max_answer_bytes`` (``service.areas``)."""
    where, mins, prof, crs = q.where, q.threshold, q.mode, q.crs
    feats: list[dict[str, Any]] = []
    entries = svc.entries(q.region)
    # an error when no region asked has any such facility (one without them among others: none)
    missing = [facility_filter.no_facility_error(svc.engine(e.name), where, prof, e.name) for e in entries]
    first = next((m for m in missing if m is not None), None)
    if first is not None and all(m is not None for m in missing):
        if len(entries) > 1:
            others = ", ".join(e.name for e in entries if e.name not in first.message)
            first.message = f"{first.message}; nor in {others}"
        raise first
    engines = [(e, svc.engine(e.name)) for e in entries]
    areas.check_walk_minutes(svc, engines[0][1], prof, mins)
    n = sum(len(eng.select(prof, where=where).rows) for _, eng in engines)
    what = f"{n} service areas of {where.type} within {mins:g} min by {prof}"
    limit = areas.AnswerLimit(svc.settings.limits.max_answer_bytes, n, what)
    for e, eng in engines:
        tr = traffic_of(svc, eng, prof, q.traffic.scenario, q.traffic.depart)
        feats.extend(areas.region_features(svc, e, eng, areas.AreaAsk(where, mins, prof, crs), tr, limit))
    return FeatureCollection(features=feats, crs_name=crs, attribution=ATTRIBUTION)


def facility_layer(
    svc: GeoService,
    where: FacilityFilter,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    region: str | None = None,
    crs: str = "wgs84",
    at: datetime | None = None,
) -> FeatureCollection:
    """The facilities that match, as GeoJSON points (``bbox`` in WGS-84). With ``at`` each one
    says whether it is open then: ``open_at`` true, false, or null when its hours are unknown."""
    from ...sources.opening_hours import is_open

    feats = []
    for e in svc.entries(region):
        fac = svc.engine(e.name).facilities
        sub = fac[where.mask(fac)]
        if bbox is not None:
            x0, y0, x1, y1 = bbox
            sub = sub[(sub["lon"] >= x0) & (sub["lon"] <= x1) & (sub["lat"] >= y0) & (sub["lat"] <= y1)]
        for rec in sub.drop(columns=sub.geometry.name).to_dict("records"):
            props = facility_props(rec, e.name, crs)
            if at is not None:
                props["open_at"] = is_open(rec.get("opening_hours"), at)
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [props["lon"], props["lat"]]},
                    "properties": props,
                }
            )
    return FeatureCollection(features=feats, crs_name=crs, attribution=ATTRIBUTION)


def coverage(
    svc: GeoService, q: CoverageQuestion, *, require_facilities: bool | None = None
) -> tuple[RegionEntry, CoverageReport]:
    """Coverage report of one region (``analyses.coverage``) under the question's ``scenario`` or the
    hour of its ``depart`` (a :class:`TrafficCoverage`: it says which); answers without what-if are cached.

    A filter that selects no facility is a :class:`~.facility_filter.NoFacilityError` (naming
    ``type``, ``level`` or ``capability``), not 0% everywhere; unless sites are added (they are
    facilities) or ``require_facilities`` is False (what-if's "before" of added sites, a national
    batch region without any)."""
    from ...analyses.coverage import coverage_report

    where, mins, prof, add_sites, remove_ids = q.where, q.threshold, q.mode, q.add_sites, q.remove_ids
    if add_sites:
        entry = svc.locate(add_sites[0][0], add_sites[0][1], prof, q.region, field_name="add_sites")
        for i, (x, y) in enumerate(add_sites):
            if not entry.contains(x, y):
                raise GeoserviceError("add_sites", f"site {i + 1} ({x:.6f}, {y:.6f}) is outside region {entry.name!r}")
    else:
        entry = svc.pick(q.region)
    eng = svc.engine(entry.name)
    tr = traffic_of(svc, eng, prof, q.traffic.scenario, q.traffic.depart, q.traffic.percentile)
    if require_facilities if require_facilities is not None else not add_sites:
        facility_filter.require_facilities(eng, where, prof, entry.name)

    def run() -> CoverageReport:
        rep = coverage_report(eng, q, scenario=tr.scenario)
        band = None
        if tr.percentile is not None and tr.spread is not None:
            from ...analyses.coverage import node_times
            from ...analyses.coverage_band import coverage_band

            scenario = tr.median or "free_flow"
            dist, _ = node_times(
                eng, where, profile=prof, scenario=scenario, add_sites=add_sites, remove_ids=remove_ids
            )
            band = coverage_band(
                eng, dist, profile=prof, minutes=mins, spread=tr.spread, hour=tr.hour, by_unit=q.by != "none"
            )
        return TrafficCoverage.of(rep, tr, band)

    if add_sites or remove_ids:
        return entry, run()
    key = ("coverage", where, mins, prof, tr.key(prof), q.gaps, q.by)
    return entry, entry.cache.get_or_compute(key, run)


def coverage_answer(entry: RegionEntry, rep: CoverageReport, crs: str = "wgs84") -> CoverageResponse:
    """A coverage report as the API's answer, gap polygons in ``crs``; ``scenario`` is the
    traffic's name (free_flow, off_peak, peak, custom, hour_HH with ``depart``)."""
    out = dict(rep.to_json(), region=entry.name, crs_name=crs, scenario=rep.scenario_name)
    gaps = out.get("gaps")
    if gaps is not None and crs != "wgs84":
        out["gaps"] = dict(
            gaps, features=[dict(f, geometry=shift_geometry(f.get("geometry"), crs)) for f in gaps.get("features", [])]
        )
    return CoverageResponse(**out)


def whatif(svc: GeoService, q: CoverageQuestion) -> WhatIfResponse:
    """Coverage before and after adding the question's hypothetical sites and/or closing its
    ``remove_ids`` facilities (nothing saved); gap polygons in ``q.crs``."""
    entry, after = coverage(svc, q)
    # before added sites of a type nobody has: 0 covered, a true answer (after has facilities)
    plain = replace(q, add_sites=(), remove_ids=(), region=entry.name)
    _, before = coverage(svc, plain, require_facilities=not q.add_sites)
    b, a = coverage_answer(entry, before, q.crs), coverage_answer(entry, after, q.crs)
    delta = {}
    for k in ("population_share", "area_share", "road_share", "population_covered"):
        x, y = getattr(b.overall, k), getattr(a.overall, k)
        delta[k] = None if x is None or y is None else round(y - x, 6)
    return WhatIfResponse(region=entry.name, before=b, after=a, delta=CoverageDelta(**delta))
