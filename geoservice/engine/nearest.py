"""k nearest facilities from or to a point: one early-stopping search over a cached target set.

The target set of a filter (type, levels, capabilities) is built once per facility table and
kept (``Engine.selection``), so a query costs a search that stops at the k-th facility reached,
not a pass over every facility. With a time (``at``), opening hours are read only for the
facilities the search reaches first, widening the search while too many of them are closed.

Under a scenario every cost comes from the scenario's edge times: the search, the partial edges
between the point (or a facility) and its road's ends, and two points on one road piece. The
target set of a scenario is built for the query (free flow keeps the cached one).
"""

from __future__ import annotations

from typing import Protocol

import geopandas as gpd
import numpy as np

from ..questions import NearestQuestion
from ..sources.opening_hours import is_open
from ..sources.schema import FacilityFilter
from .result import NearestHit, NearestResult, facility_dict, route_length_m
from .router import Router, Scenario
from .selection import Selection

__all__ = ["nearest", "FacilitySource"]


class FacilitySource(Protocol):
    """What a nearest-facility search reads of the engine (``engine.Engine`` is one)."""

    @property
    def facilities(self) -> gpd.GeoDataFrame: ...

    def router_for(self, profile: str) -> Router: ...

    def selection(self, profile: str, where: FacilityFilter) -> Selection: ...


def nearest(engine: FacilitySource, q: NearestQuestion, *, scenario: Scenario = None) -> NearestResult:
    """The k nearest facilities of ``q`` (its point, filter, k, travel mode, direction, ``at`` and
    ``max_minutes``); ``scenario`` is its traffic resolved to edge factors (free flow when None)."""
    lon, lat, where, k, profile, direction = q.lon, q.lat, q.where, q.k, q.mode, q.direction
    at, max_minutes = q.at, q.max_minutes
    router = engine.router_for(profile)
    w = router.weights(profile, scenario)  # validates the scenario before snapping
    free = w is router.net.times(profile)
    origin = router.snap(lon, lat)
    hits: list[NearestHit] = []
    result = NearestResult(lon, lat, round(origin.dist_m, 1), (origin.lon, origin.lat), profile, direction, hits)
    sel = engine.selection(profile, where)
    n = len(sel.rows)
    if n == 0:
        return result
    kd = "from" if direction == "to" else "to"  # travel to a facility = forward search from the point
    seeds = router.seeds(origin, profile, kd, weights=w)
    targets = sel.targets(router, profile, kd) if free else router.targets_for(sel.snaps, profile, kd, weights=w)
    limit = max_minutes * 60 if max_minutes else np.inf
    want = min(n, k if at is None else max(4 * k, k + 8))
    while True:
        _, _, pred, best, via, _ = router.search(
            seeds.node,
            seeds.cost,
            profile=profile,
            direction=kd,
            targets=targets,
            k_stop=want,
            limit=limit,
            weights=w,
            targets_sorted=free,
        )
        best = best.copy()
        same = np.zeros(n, bool)
        for j in map(int, np.flatnonzero(sel.geom == origin.geom)):  # on the point's own road piece
            s = sel.snaps[j]
            t = (
                router.along_same_edge(origin, s, profile, weights=w)
                if direction == "to"
                else router.along_same_edge(s, origin, profile, weights=w)
            )
            if t <= best[j]:
                best[j] = t
                same[j] = True
        finite = np.flatnonzero(np.isfinite(best) & (best <= limit))
        order = finite[np.argsort(best[finite], kind="stable")][:want]  # the ones the search settled
        if at is None:
            chosen: list[tuple[int, bool | None]] = [(int(j), None) for j in order[:k]]
            break
        chosen = []
        for j in order:
            state = is_open(sel.hours[j], at)
            if state is not False:
                chosen.append((int(j), state))
                if len(chosen) == k:
                    break
        if len(chosen) == k or want >= n or len(finite) < want:
            break
        want = min(n, want * 4)
    for j, state in chosen:
        row = engine.facilities.iloc[int(sel.rows[j])]
        fs = sel.snaps[j]
        if direction == "to":
            coords = router.route_coords(origin, fs, pred, int(via[j]), "from", bool(same[j]))
        else:
            coords = router.route_coords(fs, origin, pred, int(via[j]), "to", bool(same[j]))
        hits.append(
            NearestHit(
                facility=facility_dict(row),
                time_s=round(float(best[j]), 1),
                distance_m=round(route_length_m(coords), 1),
                snap_m=round(origin.dist_m, 1),
                facility_snap_m=round(fs.dist_m, 1),
                access_s=round(router.access_s(origin), 1),
                facility_access_s=round(router.access_s(fs), 1),
                route={"type": "LineString", "coordinates": np.round(coords, 7).tolist()},
                open_at=state,
            )
        )
    return result
