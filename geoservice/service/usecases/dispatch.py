"""Dispatch for a cardiac arrest, and the live responders it draws on: the one entry every face uses
(``POST /dispatch`` and ``geoservice dispatch`` print the same answer).

Responders come from the registry (live positions posted with responder keys, see
``service.responders``) or, for planning and what-if, from a list the caller gives. The plan
itself is ``analyses.dispatch``; the settings it uses are echoed in every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...analyses.dispatch import AedFetch, BystanderFetch, DispatchOptions, DispatchPlan, Leg, Responder, plan_dispatch
from ...bundle.store import ATTRIBUTION
from ...errors import GeoserviceError
from ..answers.dispatch import (
    AedPlan,
    AmbulancePlan,
    BystanderAed,
    DirectResponder,
    DispatchAssumptions,
    DispatchLeg,
    DispatchResponse,
    FirstShock,
    ResponderList,
    ResponderPositionOut,
    ResponderRef,
)
from ..answers.queries import Facility, LineString, Origin
from ..core import GeoService
from ..output_crs import shift_geometry, shift_point, to_wgs84
from ..registry.responders import ResponderPosition, ResponderStore
from .queries import facility_props, traffic_of

__all__ = [
    "dispatch",
    "DispatchAsk",
    "post_position",
    "remove_position",
    "live_responders",
    "responder_store",
    "now_local",
]

MAX_K = 10


def responder_store(svc: GeoService) -> ResponderStore | None:
    """The registry's responder positions (None without a registry)."""
    if svc.registry is None:
        return None
    return ResponderStore(svc.registry.db, ttl_s=svc.settings.server.responder_ttl_s)


def now_local(svc: GeoService) -> datetime:
    """Wall-clock time now in ``local_timezone`` (else the server's), without a zone: how opening
    hours are read."""
    if svc.settings.server.local_timezone:
        return datetime.now(ZoneInfo(svc.settings.server.local_timezone)).replace(tzinfo=None, microsecond=0)
    return datetime.now().replace(microsecond=0)


def _store(svc: GeoService) -> ResponderStore:
    store = responder_store(svc)
    if store is None:
        raise GeoserviceError("db", "responder positions need a registry (GEOSERVICE_DB_PATH or DATABASE_URL)")
    return store


# ---------------------------------------------------------------------------- the registry
def post_position(
    svc: GeoService, responder: str, lon: float, lat: float, *, available: bool, crs: str = "wgs84"
) -> ResponderPositionOut:
    """Record a responder's live position (WGS-84 inside); it expires after ``responder_ttl_s``.
    A position in no served region is refused: no dispatch could ever use it."""
    wlon, wlat = to_wgs84(lon, lat, crs)
    if not any(e.contains(wlon, wlat) for e in svc.regions.values()):
        raise GeoserviceError(
            "lon,lat",
            f"point ({lon:.6f}, {lat:.6f}) is in no served region; served (lon/lat bbox): {svc.describe()}",
        )
    pos = _store(svc).post(responder, wlon, wlat, available=available)
    return _position_out(pos, pos.posted_at, crs)


def remove_position(svc: GeoService, responder: str) -> bool:
    """Forget a responder's position (off duty)."""
    return _store(svc).remove(responder)


def live_responders(svc: GeoService, *, crs: str = "wgs84") -> ResponderList:
    """Every position not yet expired, available or not (the dispatcher's view)."""
    store = _store(svc)
    positions, now = store.current()
    return ResponderList(
        count=len(positions),
        ttl_s=store.ttl_s,
        responders=[_position_out(p, now, crs) for p in positions],
        crs_name=crs,
    )


def _position_out(p: ResponderPosition, now: float, crs: str) -> ResponderPositionOut:
    x, y = shift_point(p.lon, p.lat, crs)
    return ResponderPositionOut(
        responder=p.responder,
        lon=x,
        lat=y,
        available=p.available,
        age_s=round(p.age_s(now), 1),
        expires_in_s=round(max(0.0, p.expires_at - now), 1),
    )


# ---------------------------------------------------------------------------- dispatch
@dataclass(frozen=True)
class DispatchAsk:
    """A dispatch question: the arrest at (``lon``, ``lat``) in ``crs`` (in the region holding it,
    else ``region``), at ``at`` (None: now in ``local_timezone``), ``k`` responders to alert, and
    the ``percentile`` of real trips the ambulance drives at (None: the typical drive)."""

    lon: float
    lat: float
    at: datetime | None = None
    k: int = 3
    region: str | None = None
    crs: str = "wgs84"
    percentile: int | None = None


def dispatch(svc: GeoService, ask: DispatchAsk, *, responders: list[Responder] | None = None) -> DispatchResponse:
    """The dispatch plan for the arrest of ``ask``: ``responders`` given (a planning file), else
    the available ones of the registry. With a ``percentile`` the ambulance drives at that
    percentile of the spread of real trips, in the traffic of the hour of ``at`` (the walks of the
    responders know no traffic)."""
    lon, lat, at, k, region, crs, percentile = ask.lon, ask.lat, ask.at, ask.k, ask.region, ask.crs, ask.percentile
    if not 1 <= k <= MAX_K:
        raise GeoserviceError("k", f"must be 1 to {MAX_K}, got {k}")
    wlon, wlat = to_wgs84(lon, lat, crs)
    entry = svc.locate(wlon, wlat, "walk", region)
    when = at if at is not None else now_local(svc)
    ages: dict[str, float] = {}
    if responders is None:
        source = "registry"
        store = responder_store(svc)
        people: list[Responder] = []
        if store is not None:
            positions, now = store.current(available_only=True)
            people = [Responder(p.responder, p.lon, p.lat) for p in positions]
            ages = {p.responder: round(p.age_s(now), 1) for p in positions}
    else:
        source = "file"
        ids = [r.id for r in responders]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise GeoserviceError("responders", f"responder ids must be unique; repeated: {', '.join(dup[:5])}")
        people = [Responder(r.id, *to_wgs84(r.lon, r.lat, crs)) for r in responders]
    s = svc.settings
    options = DispatchOptions(
        walk_speed_ms=s.planning.responder_walk_speed_ms,
        dispatch_delay_s=s.planning.dispatch_delay_s,
        aed_setup_s=s.planning.aed_setup_s,
        max_walk_s=s.planning.dispatch_max_walk_min * 60,
        k=k,
        unknown_hours=s.planning.dispatch_unknown_hours,
    )
    drive = None
    if percentile is not None:
        drive = traffic_of(svc, svc.engine(entry.name), "drive", None, when.strftime("%H:%M"), percentile)
        options = replace(options, drive_scenario=drive.scenario)
    plan = plan_dispatch(svc.engine(entry.name), wlon, wlat, responders=people, at=when, options=options)
    if drive is not None:
        plan.notes.append(f"ambulance drive at P{percentile}: {drive.label()}")
    if source == "registry" and svc.registry is None:
        plan.notes.append("no registry: no live responders (give a responders file to plan with one)")
    return _answer(plan, entry.name, source, ages, crs, lon, lat, _attribution(svc, entry.name))


def _attribution(svc: GeoService, region: str) -> str:
    reg = svc.entry(region).region
    return str(reg.meta.get("attribution", ATTRIBUTION)) if reg is not None else ATTRIBUTION


def _leg(leg: Leg, crs: str) -> DispatchLeg:
    route = shift_geometry({"type": "LineString", "coordinates": leg.coords}, crs)
    assert route is not None
    return DispatchLeg(
        time_s=leg.time_s,
        minutes=round(leg.time_s / 60, 1),
        distance_m=leg.distance_m,
        route=LineString(coordinates=route["coordinates"]),
    )


def _facility(rec: dict[str, Any], region: str, crs: str) -> Facility:
    return Facility(**facility_props(rec, region, crs))


def _ref(r: Responder, snap_m: float, ages: dict[str, float], crs: str) -> ResponderRef:
    x, y = shift_point(r.lon, r.lat, crs)
    return ResponderRef(id=r.id, lon=x, lat=y, snap_m=snap_m, age_s=ages.get(r.id))


def _aed(f: AedFetch | None, setup_s: float, region: str, ages: dict[str, float], crs: str) -> AedPlan | None:
    if f is None:
        return None
    t = round(f.time_s, 1)
    return AedPlan(
        responder=_ref(f.responder, f.snap_m, ages, crs),
        aed=_facility(f.aed, region, crs),
        aed_snap_m=f.aed_snap_m,
        open_at=f.open_at,
        to_aed=_leg(f.to_aed, crs),
        to_patient=_leg(f.to_patient, crs),
        time_s=t,
        minutes=round(t / 60, 1),
        shock_s=round(t + setup_s, 1),
    )


def _bystander(f: BystanderFetch | None, setup_s: float, region: str, crs: str) -> BystanderAed | None:
    if f is None:
        return None
    t = round(f.time_s, 1)
    return BystanderAed(
        aed=_facility(f.aed, region, crs),
        aed_snap_m=f.aed_snap_m,
        open_at=f.open_at,
        to_aed=_leg(f.to_aed, crs),
        back=_leg(f.back, crs),
        time_s=t,
        minutes=round(t / 60, 1),
        shock_s=round(t + setup_s, 1),
    )


def _shock_aed_unknown(plan: DispatchPlan, by: str | None) -> bool:
    f = {"responder_aed": plan.aed, "bystander_aed": plan.bystander}.get(by or "")
    return f is not None and f.open_at is None


def _answer(
    plan: DispatchPlan,
    region: str,
    source: str,
    ages: dict[str, float],
    crs: str,
    lon: float,
    lat: float,
    attribution: str,
) -> DispatchResponse:
    o = plan.options
    amb = None
    if plan.ambulance is not None:
        a = plan.ambulance
        eta = round(a.eta_s, 1)
        amb = AmbulancePlan(
            station=_facility(a.station, region, crs),
            station_snap_m=a.station_snap_m,
            dispatch_delay_s=a.delay_s,
            drive=_leg(a.drive, crs),
            access_s=a.access_s,
            eta_s=eta,
            minutes=round(eta / 60, 1),
            shock_s=round(eta + o.aed_setup_s, 1),
        )
    shock_s, by = plan.first_shock
    shock = None if shock_s is None else round(shock_s, 1)
    cpr = plan.first_cpr_s
    sx, sy = shift_point(plan.snapped[0], plan.snapped[1], crs)
    return DispatchResponse(
        origin=Origin(lon=lon, lat=lat, snap_m=plan.snap_m, snapped=[sx, sy], region=region),
        at=plan.at.isoformat(timespec="minutes"),
        responders_source=source,
        responders_considered=plan.considered,
        responders_off_network=plan.off_network,
        direct=[
            DirectResponder(responder=_ref(d.responder, d.snap_m, ages, crs), to_patient=_leg(d.leg, crs))
            for d in plan.direct
        ],
        aed_plan=_aed(plan.aed, o.aed_setup_s, region, ages, crs),
        aed_backup=_aed(plan.aed_backup, o.aed_setup_s, region, ages, crs),
        bystander_aed=_bystander(plan.bystander, o.aed_setup_s, region, crs),
        ambulance=amb,
        first_cpr_s=None if cpr is None else round(cpr, 1),
        first_shock=FirstShock(
            time_s=shock,
            minutes=None if shock is None else round(shock / 60, 1),
            by=by,
            target_s=o.target_s,
            target_met=shock is not None and shock <= o.target_s,
            aed_hours_unknown=_shock_aed_unknown(plan, by),
        ),
        assumptions=DispatchAssumptions(
            walk_speed_ms=o.walk_speed_ms,
            dispatch_delay_s=o.dispatch_delay_s,
            aed_setup_s=o.aed_setup_s,
            max_walk_min=round(o.max_walk_s / 60, 1),
            unknown_hours=o.unknown_hours,
        ),
        notes=plan.notes,
        crs_name=crs,
        attribution=attribution,
    )
