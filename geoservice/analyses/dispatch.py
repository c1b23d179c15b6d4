"""Bystander and AED dispatch for one cardiac arrest: who goes straight to the patient, who fetches
which AED, when the ambulance comes, and when the first shock can be given.

Pure: an engine, the available responders and a time in; a :class:`DispatchPlan` out. Three
searches on the walk network, at the responders' walking speed (the walk profile's edge times
scaled by ``walk profile speed / responder speed``, so steps stay at half speed):

* one backward search from the patient gives walk(x → patient) for every responder and AED;
* one forward search seeded at every responder at once (their off-network leg plus the partial
  edge) gives, per AED a, min over r of walk(r → a) and the responder achieving it; so min over
  r, a of walk(r → a) + walk(a → patient) is one pass over the AEDs;

Every walk counts the off-network legs of both its ends (responder, AED, patient: the metres
between each and its footpath) at the responders' pace.
* when the best AED's hours are unknown, a second forward search without that responder gives a
  backup plan through an AED known to be open, for another responder.

The ambulance is the nearest EMS station driving toward the patient (``Engine.nearest``), after
the dispatch delay, plus the crew walking from where the road is nearest to the patient.

Times count from the alert: responders leave at once; the ambulance leaves after the dispatch
delay. Each responder gets one task: the fetchers are not also listed as going straight to the
patient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..bundle.network import haversine_m
from ..engine.engine import Engine
from ..engine.result import facility_dict, route_length_m
from ..engine.router import Router, Snap, SnapError
from ..questions import NearestQuestion
from ..sources.opening_hours import is_open
from ..sources.schema import FacilityFilter
from .dispatch_plan import (
    AedFetch,
    Ambulance,
    BystanderFetch,
    DirectResponder,
    DispatchOptions,
    DispatchPlan,
    Leg,
    Responder,
)

__all__ = [
    "Responder",
    "DispatchOptions",
    "Leg",
    "DirectResponder",
    "AedFetch",
    "BystanderFetch",
    "Ambulance",
    "DispatchPlan",
    "plan_dispatch",
    "responder_weights",
]

WALK = "walk"
AED_FILTER = FacilityFilter.parse(type="aed")
_WEIGHTS: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}


def responder_weights(router: Router, speed_ms: float) -> np.ndarray:
    """Walk edge times at ``speed_ms``: the walk profile's times scaled by its speed over
    ``speed_ms`` (so steps keep their half speed). Kept per network and speed (bounded), so
    searches reuse the router's reverse arcs."""
    base = router.net.times(WALK)
    key = (id(base), float(speed_ms))
    hit = _WEIGHTS.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    prof = router.net.profiles[WALK]
    if prof.fixed_kmh is None:  # not the shipped profile: per-class speeds, not one walking pace
        raise ValueError(f"the walk profile of {router.net.name!r} has no fixed speed to scale")
    w = base * ((prof.fixed_kmh / 3.6) / speed_ms)
    if len(_WEIGHTS) >= 8:
        _WEIGHTS.clear()
    _WEIGHTS[key] = (base, w)
    return w


def _leg(
    time_s: float,
    coords: np.ndarray,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
) -> Leg:
    """A leg along ``coords``; a walk also runs from its real ``start`` to the path and from the
    path to its real ``end`` (lon, lat): the off-network legs, drawn and counted in metres."""
    parts = [np.asarray([start], float)] if start is not None else []
    parts.append(np.asarray(coords, float).reshape(-1, 2))
    if end is not None:
        parts.append(np.asarray([end], float))
    c = np.vstack(parts)
    if len(c) > 1:
        c = c[np.concatenate([[True], np.any(np.abs(np.diff(c, axis=0)) > 0, axis=1)])]
    return Leg(round(float(time_s), 1), round(route_length_m(c), 1), np.round(c, 7).tolist())


def _seeds(
    router: Router, snaps: list[Snap], direction: str, w: np.ndarray, labels: list[int], speed: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nodes: list[int] = []
    costs: list[float] = []
    labs: list[int] = []
    for s, lab in zip(snaps, labels):
        sd = router.seeds(s, WALK, direction, weights=w, access_ms=speed)
        nodes.extend(sd.node.tolist())
        costs.extend(sd.cost.tolist())
        labs.extend([lab] * len(sd.node))
    return np.array(nodes, np.int64), np.array(costs, float), np.array(labs, np.int64)


@dataclass(frozen=True)
class _Walk:
    """The walk searches of one plan: the walk network's router, the responders' edge times
    (``responder_weights``) and pace, and the time limit of a walk."""

    router: Router
    w: np.ndarray
    speed: float
    limit: float


@dataclass(frozen=True)
class _AedSet:
    """The AEDs a plan considers: facility rows, snaps, open state at the time (None: unknown)."""

    rows: list[int]
    snaps: list[Snap]
    state: list[bool | None]


def _aeds(engine: Engine, lon: float, lat: float, radius_m: float, at: datetime, unknown: str) -> _AedSet:
    """The AEDs within ``radius_m`` straight line, not closed at ``at``."""
    sel = engine.selection(WALK, AED_FILTER)
    if len(sel.rows) == 0:
        return _AedSet([], [], [])
    fac = engine.facilities.iloc[sel.rows]
    d = haversine_m(lon, lat, fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    rows: list[int] = []
    snaps: list[Snap] = []
    state: list[bool | None] = []
    for j in np.flatnonzero(d <= radius_m):
        st = is_open(sel.hours[j], at)
        if st is False or (st is None and unknown == "exclude"):
            continue
        rows.append(int(sel.rows[j]))
        snaps.append(sel.snaps[j])
        state.append(st)
    return _AedSet(rows, snaps, state)


def _fetch_search(
    router: Router, w: np.ndarray, rsnaps: list[Snap], use: list[int], asnaps: list[Snap], limit: float, speed: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per AED: min over responders ``use`` of walk(r → a), that responder, and how to trace the
    route; every walk includes the off-network legs of both ends at ``speed``."""
    nodes, costs, labs = _seeds(router, [rsnaps[i] for i in use], "from", w, use, speed)
    targets = router.targets_for(asnaps, WALK, "from", weights=w, access_ms=speed)
    _, label, pred, best, via, _ = router.search(
        nodes,
        costs,
        profile=WALK,
        direction="from",
        seed_label=labs,
        limit=limit,
        targets=targets,
        k_stop=len(asnaps),
        weights=w,
    )
    best = best.copy()
    who = np.where(via >= 0, label[np.maximum(via, 0)], -1)
    same = np.zeros(len(asnaps), bool)
    by_geom: dict[int, list[int]] = {}
    for i in use:
        by_geom.setdefault(rsnaps[i].geom, []).append(i)
    for a, s in enumerate(asnaps):
        for i in by_geom.get(s.geom, ()):
            t = router.along_same_edge(rsnaps[i], s, WALK, weights=w, access_ms=speed)
            if t <= best[a]:
                best[a], who[a], same[a] = t, i, True
    return best, who, same, pred, via


def _bystander(
    engine: Engine,
    walk: _Walk,
    p: Snap,
    at_p: tuple[float, float],
    aeds: _AedSet,
    reach_a: list[int],
    nr: int,
    to_patient: Callable[[int, Snap, tuple[float, float]], Leg],
) -> BystanderFetch | None:
    """The AED someone at the patient fetches: min over the AEDs within ``limit`` of the patient
    (both ways) of walk(patient → a) + walk(a → patient); None when there is none."""
    if not reach_a:
        return None
    router, limit, arows, asnaps, astate = walk.router, walk.limit, aeds.rows, aeds.snaps, aeds.state
    there, _, same, pred, via = _fetch_search(router, walk.w, [p], [0], asnaps, limit, walk.speed)
    total = np.array([there[a] if there[a] <= limit else np.inf for a in reach_a])
    if not np.isfinite(total).any():
        return None
    a = reach_a[int(np.argmin(total))]
    row = engine.facilities.iloc[arows[a]]
    at_aed = (float(row.geometry.x), float(row.geometry.y))
    coords = router.route_coords(p, asnaps[a], pred, int(via[a]), "from", bool(same[a]))
    return BystanderFetch(
        aed=facility_dict(row),
        aed_snap_m=round(asnaps[a].dist_m, 1),
        open_at=astate[a],
        to_aed=_leg(there[a], coords, at_p, at_aed),
        back=to_patient(nr + a, asnaps[a], at_aed),
    )


def plan_dispatch(
    engine: Engine,
    lon: float,
    lat: float,
    *,
    responders: list[Responder],
    at: datetime,
    options: DispatchOptions,
) -> DispatchPlan:
    """The dispatch plan for an arrest at (lon, lat) at ``at`` (see the module docstring). A point
    off the walk network raises ``SnapError`` naming its distance."""
    router = engine.router_for(WALK)
    speed = options.walk_speed_ms
    w = responder_weights(router, speed)
    p = router.snap(lon, lat)
    limit = options.max_walk_s
    # straight line <= both snaps + the route, and the route <= limit x speed (steps are slower)
    radius = limit * options.walk_speed_ms + 2 * router.max_snap_m
    notes: list[str] = []

    near = [r for r in responders if haversine_m(lon, lat, r.lon, r.lat) <= radius]
    snapped = router.snap_many([r.lon for r in near], [r.lat for r in near], strict=False) if near else []
    off = [r.id for r, s in zip(near, snapped) if s is None]
    resp = [r for r, s in zip(near, snapped) if s is not None]
    rsnaps = [s for s in snapped if s is not None]
    aeds = _aeds(engine, lon, lat, radius, at, options.unknown_hours)
    arows, asnaps, astate = aeds.rows, aeds.snaps, aeds.state
    nr, na = len(resp), len(asnaps)

    # walk(x → patient) for every responder and AED: one backward search from the patient
    to_p = np.full(nr + na, np.inf)
    same_p = np.zeros(nr + na, bool)
    pred_b = via_b = np.zeros(0, np.int64)
    if nr + na:
        seeds = router.seeds(p, WALK, "to", weights=w, access_ms=speed)
        targets = router.targets_for([*rsnaps, *asnaps], WALK, "to", weights=w, access_ms=speed)
        _, _, pred_b, to_p, via_b, _ = router.search(
            seeds.node,
            seeds.cost,
            profile=WALK,
            direction="to",
            limit=limit,
            targets=targets,
            k_stop=nr + na,
            weights=w,
        )
        to_p = to_p.copy()
        for j, s in enumerate([*rsnaps, *asnaps]):
            if s.geom == p.geom:
                t = router.along_same_edge(s, p, WALK, weights=w, access_ms=speed)
                if t <= to_p[j]:
                    to_p[j], same_p[j] = t, True
        to_p[to_p > limit] = np.inf

    def to_patient(j: int, s: Snap, start: tuple[float, float]) -> Leg:
        coords = router.route_coords(s, p, pred_b, int(via_b[j]), "to", bool(same_p[j]))
        return _leg(to_p[j], coords, start, (lon, lat))

    reach = [i for i in range(nr) if np.isfinite(to_p[i])]  # responders within the limit of the patient
    reach_a = [a for a in range(na) if np.isfinite(to_p[nr + a])]  # AEDs within the limit of the patient

    def best_fetch(use: list[int], allowed: list[int]) -> tuple[AedFetch, int] | None:
        if not use or not allowed:
            return None
        # walk(r → a) <= walk(r → p) + walk(p → a) <= 2 limits (footpaths run both ways): exact for these sets
        best, who, same, pred, via = _fetch_search(router, w, rsnaps, use, asnaps, 2 * limit, speed)
        total = best[allowed] + to_p[nr + np.array(allowed)]
        if not np.isfinite(total).any():
            return None
        a = allowed[int(np.argmin(total))]
        i = int(who[a])
        coords = router.route_coords(rsnaps[i], asnaps[a], pred, int(via[a]), "from", bool(same[a]))
        aed_row = engine.facilities.iloc[arows[a]]
        at_aed = (float(aed_row.geometry.x), float(aed_row.geometry.y))
        fetch = AedFetch(
            responder=resp[i],
            snap_m=round(rsnaps[i].dist_m, 1),
            aed=facility_dict(aed_row),
            aed_snap_m=round(asnaps[a].dist_m, 1),
            open_at=astate[a],
            to_aed=_leg(best[a], coords, (resp[i].lon, resp[i].lat), at_aed),
            to_patient=to_patient(nr + a, asnaps[a], at_aed),
        )
        return fetch, i

    bystander = _bystander(engine, _Walk(router, w, speed, limit), p, (lon, lat), aeds, reach_a, nr, to_patient)
    first = best_fetch(reach, reach_a)
    aed = first[0] if first else None
    backup: AedFetch | None = None
    fetchers = {first[1]} if first else set()
    if first is not None and first[0].open_at is None:
        known = [a for a in reach_a if astate[a] is True]
        second = best_fetch([i for i in reach if i != first[1]], known)
        if second is not None:
            backup = second[0]
            fetchers.add(second[1])
        else:
            notes.append(
                "the AED of the plan has unknown opening hours and no other responder can reach one known to be open"
                if known
                else "the AED of the plan has unknown opening hours; no AED nearby is known to be open then"
            )
    elif first is None:
        notes.append(
            "no available responder within reach"
            if not reach
            else "no AED open then within reach"
            + (" (AEDs of unknown hours excluded)" if options.unknown_hours == "exclude" else "")
        )

    order = sorted((i for i in reach if i not in fetchers), key=lambda i: (to_p[i], i))
    direct = [
        DirectResponder(resp[i], round(rsnaps[i].dist_m, 1), to_patient(i, rsnaps[i], (resp[i].lon, resp[i].lat)))
        for i in order[: options.k]
    ]

    ambulance = None
    try:
        ask = NearestQuestion.of(lon, lat, type="ems_station", profile="drive", direction="from")
        hit = engine.nearest(ask, scenario=options.drive_scenario)
    except SnapError as exc:
        notes.append(f"no ambulance route: {exc.message}")
    else:
        if hit.hits:
            h = hit.hits[0]
            # the drive ends at the kerb: the patient's own leg is the crew's walk, at their pace
            drive = Leg(round(h.time_s - h.access_s, 1), h.distance_m, h.route["coordinates"])
            access = round(hit.snap_m / speed, 1)
            ambulance = Ambulance(h.facility, h.facility_snap_m, options.dispatch_delay_s, drive, access)
        else:
            notes.append("no EMS station reachable by road in this region")
    if off:
        notes.append(f"{len(off)} responder(s) too far from any footpath to be routed")
    return DispatchPlan(
        lon=lon,
        lat=lat,
        snap_m=round(p.dist_m, 1),
        snapped=(round(p.lon, 7), round(p.lat, 7)),
        at=at,
        options=options,
        considered=len(reach),
        off_network=off,
        direct=direct,
        aed=aed,
        aed_backup=backup,
        ambulance=ambulance,
        bystander=bystander,
        notes=notes,
    )
