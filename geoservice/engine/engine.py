"""Engine over a loaded region: facilities snapped once, nearest, matrix, isochrones, all-node reach.

Facility snaps are made when the engine is created (and again after a registry edit), never per
request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np

from ..bundle.contraction import CH
from ..bundle.store import Region
from ..errors import GeoserviceError
from ..questions import NearestQuestion
from ..sources.opening_hours import is_open
from ..sources.schema import FacilityFilter
from . import kernels
from .arrays import F64, SeedBlocks, Targets
from .cch import cch_many_to_many
from .hierarchy_matrix import ch_matrix, seed_arrays
from .isochrone import isochrone_geojson
from .nearest import nearest
from .result import NearestHit, NearestResult
from .router import DIRECTIONS, Router, Scenario, Snap, SnapError
from .selection import FacilityIndex, Selection, objects
from .table_edit import edit_table, id_positions

__all__ = ["Engine", "SnapError", "QueryError", "DIRECTIONS", "NearestHit", "NearestResult", "FacilityIndex"]


class QueryError(GeoserviceError):
    """A query parameter is not valid; ``field`` names it."""


def _kernel_dir(direction: str) -> str:
    # travel "to" a facility = forward search from the point
    return "from" if direction == "to" else "to"


class Engine:
    def __init__(self, region: Region, *, max_snap_m: dict[str, float] | None = None):
        self.region = region
        self.routers = {name: Router(net, (max_snap_m or {}).get(name)) for name, net in region.networks.items()}
        self.set_facilities(region.facilities)

    # ------------------------------------------------------------------ facilities
    def set_facilities(self, facilities: gpd.GeoDataFrame) -> None:
        """Replace the facility table (e.g. after a registry edit) and re-snap it."""
        self.facilities = facilities.reset_index(drop=True)
        self._id_pos: dict[str, int] | None = None  # id -> row, built on the first edit
        self._index: dict[str, FacilityIndex] = {}
        self.unsnapped: dict[str, list[str]] = {}
        lon = self.facilities.geometry.x.to_numpy() if len(self.facilities) else np.zeros(0)
        lat = self.facilities.geometry.y.to_numpy() if len(self.facilities) else np.zeros(0)
        for name, router in self.routers.items():
            snaps = router.snap_many(lon, lat, strict=False, max_snap_m=router.facility_max_snap_m) if len(lon) else []
            ok = [i for i, s in enumerate(snaps) if s is not None]
            self._index[name] = FacilityIndex(np.array(ok, np.int64), objects([s for s in snaps if s is not None]))
            self.unsnapped[name] = [str(self.facilities.iloc[i]["id"]) for i, s in enumerate(snaps) if s is None]
        self._selections: dict[tuple[str, FacilityFilter], Selection] = {}

    def selection(self, profile: str, where: FacilityFilter) -> Selection:
        """The facilities matching ``where`` on the profile's network (cached per table; bounded)."""
        router = self.router_for(profile)
        key = (router.net.name, where)
        sel = self._selections.get(key)
        if sel is None:
            idx = self._index[router.net.name]
            sub = self.facilities.iloc[idx.rows]
            keep = np.flatnonzero(where.mask(sub)) if len(idx.rows) else np.zeros(0, np.int64)
            hours = sub["opening_hours"].to_numpy() if "opening_hours" in sub else np.full(len(sub), None)
            sel = Selection(idx.rows[keep], idx.snaps[keep], [h if isinstance(h, str) else None for h in hours[keep]])
            if len(self._selections) >= 64:  # filters come from user input: keep the cache bounded
                self._selections.clear()
            self._selections[key] = sel
        return sel

    def apply_changes(self, upserts: Any, removed_ids: set[str]) -> None:
        """Replace or add the facilities of ``upserts`` (a facility table) and remove
        ``removed_ids``, snapping only the new rows and carrying the kept target sets over: an edit
        costs about the same with 5 or 50,000 facilities. New containers throughout, so a shallow
        copy of this engine taken before keeps answering from the old table."""
        if self._id_pos is None:
            self._id_pos = id_positions(self.facilities)
        gone = set(map(str, removed_ids)) | {str(v) for v in upserts["id"].to_numpy()}
        edit = edit_table(self.facilities, self._id_pos, upserts, removed_ids)
        upserts = upserts.reset_index(drop=True)
        newpos = edit.newpos
        lon, lat = upserts.geometry.x.to_numpy(), upserts.geometry.y.to_numpy()
        index: dict[str, FacilityIndex] = {}
        unsnapped: dict[str, list[str]] = {}
        adds: dict[str, tuple[np.ndarray, list[Snap]]] = {}
        for name, router in self.routers.items():
            snaps = router.snap_many(lon, lat, strict=False, max_snap_m=router.facility_max_snap_m) if len(lon) else []
            good = np.array([i for i, s in enumerate(snaps) if s is not None], np.int64)
            adds[name] = (good, [s for s in snaps if s is not None])
            index[name] = self._index[name].remapped(newpos, edit.rows[good], adds[name][1])
            unsnapped[name] = [u for u in self.unsnapped.get(name, []) if u not in gone] + [
                str(upserts.iloc[i]["id"]) for i, s in enumerate(snaps) if s is None
            ]
        hours = upserts["opening_hours"].to_numpy() if "opening_hours" in upserts else np.full(len(upserts), None)
        selections: dict[tuple[str, FacilityFilter], Selection] = {}
        for (net, where), sel in self._selections.items():
            rows_on, added = adds[net]
            match = where.mask(upserts.iloc[rows_on]) if len(rows_on) else np.zeros(0, bool)
            pick = np.flatnonzero(match)
            selections[(net, where)] = sel.remapped(
                self.routers[net],
                newpos,
                edit.rows[rows_on[pick]],
                [added[i] for i in pick],
                [h if isinstance(h, str) else None for h in hours[rows_on[pick]]],
            )
        self._index, self.unsnapped, self._selections = index, unsnapped, selections
        self.facilities, self._id_pos = edit.table, edit.id_pos
        self._id_pos.update(edit.added)

    def router_for(self, profile: str) -> Router:
        for router in self.routers.values():
            if profile in router.net.profiles:
                return router
        raise QueryError("profile", f"unknown profile {profile!r}; this region has {sorted(self.profiles)}")

    @property
    def profiles(self) -> list[str]:
        return [p for r in self.routers.values() for p in r.net.profiles]

    def select(
        self,
        profile: str,
        *,
        type: str | None = None,
        level: str | None = None,
        capability: str | None = None,
        at: datetime | None = None,
        ids: list[str] | None = None,
        where: FacilityFilter | None = None,
    ) -> FacilityIndex:
        """Facilities on the profile's network matching the filter (``where``, or the same
        built from ``type``/``level``/``capability``, validated) and, with ``at``, not closed then.

        With ``at``, ``FacilityIndex.open_state`` holds True (open) or None (hours unknown)."""
        if where is None:
            where = FacilityFilter.parse(type=type, level=level, capability=capability)
        if ids is None and at is None:
            sel = self.selection(profile, where)
            return FacilityIndex(sel.rows, sel.snaps)
        router = self.router_for(profile)
        idx = self._index[router.net.name]
        if len(idx.rows) == 0:
            return idx
        sub = self.facilities.iloc[idx.rows]
        keep = where.mask(sub)
        if ids is not None:
            keep &= sub["id"].astype(str).isin(set(ids)).to_numpy()
        state: list[bool | None] | None = None
        if at is not None:
            hours = sub["opening_hours"].to_numpy() if "opening_hours" in sub else [None] * len(sub)
            state = [is_open(h if isinstance(h, str) else None, at) for h in hours]
            keep &= np.array([s is not False for s in state], bool)
        picked = np.flatnonzero(keep)
        return FacilityIndex(idx.rows[picked], idx.snaps[picked], None if state is None else [state[i] for i in picked])

    # ------------------------------------------------------------------ queries
    def snap(self, lon: float, lat: float, profile: str) -> Snap:
        return self.router_for(profile).snap(lon, lat)

    def nearest(self, q: NearestQuestion, *, scenario: Scenario = None) -> NearestResult:
        """k nearest facilities by travel time, with route geometry, from/to a point (see ``nearest.py``);
        ``scenario`` is the question's traffic as in ``Router.weights`` (free flow by default)."""
        return nearest(self, q, scenario=scenario)

    def isochrones(
        self,
        lon: float,
        lat: float,
        minutes: list[float],
        *,
        profile: str = "drive",
        direction: str = "to",
        scenario: Scenario = None,
        facility: bool = False,
        shapes: bool = False,
    ) -> list[dict[str, Any]]:  # GeoJSON features (geometry a shapely MultiPolygon with shapes)
        """GeoJSON features, one per range (property ``minutes``), largest last; ``scenario`` as in
        ``Router.weights`` (free flow by default). A ``facility``'s position may lie as far from
        its road as the facility table allows (``Router.facility_max_snap_m``). With ``shapes``
        each feature's geometry is a shapely MultiPolygon, not GeoJSON."""
        if direction not in DIRECTIONS:
            raise QueryError("direction", f"direction must be one of {DIRECTIONS}")
        if not minutes or any((not math.isfinite(m)) or m <= 0 or m > 240 for m in minutes):
            raise QueryError("minutes", "minutes must be a list of numbers in (0, 240]")
        router = self.router_for(profile)
        weights = None if scenario in (None, "free_flow") else router.weights(profile, scenario)
        snap = router.snap(lon, lat, max_snap_m=router.facility_max_snap_m if facility else None)
        polys = isochrone_geojson(
            router, snap, minutes, profile=profile, direction=direction, weights=weights, shapes=shapes
        )
        return [
            {
                "type": "Feature",
                "geometry": p,
                "properties": {
                    "minutes": m,
                    "profile": profile,
                    "direction": direction,
                    "snap_m": round(snap.dist_m, 1),
                    "access_s": round(router.access_s(snap), 1),  # the point's walk to its road, in every time
                },
            }
            for m, p in sorted(zip(minutes, polys), key=lambda t: t[0])
        ]

    def all_nearest(
        self,
        *,
        profile: str = "drive",
        direction: str = "to",
        where: FacilityFilter = FacilityFilter(),
        ids: list[str] | None = None,
        extra_points: list[tuple[float, float]] | None = None,
        exclude_ids: list[str] | None = None,
        scenario: Scenario = None,
        limit: float = np.inf,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per graph node: time to (``to``) or from (``from``) the nearest selected facility,
        and that facility's row in ``self.facilities`` (-1 if none), in one multi-source pass; the
        facilities are those ``where`` selects (parsed once by the caller), less ``exclude_ids``.

        ``extra_points`` adds hypothetical sites (what-if); their label is ``-2 - i``."""
        router = self.router_for(profile)
        weights = router.weights(profile, scenario)  # validates the scenario even with no facilities
        fidx = self.select(profile, where=where, ids=ids)
        pairs = [
            (s, r)
            for s, r in zip(fidx.snaps, fidx.rows)
            if not exclude_ids or str(self.facilities.iloc[int(r)]["id"]) not in set(exclude_ids)
        ]
        snaps = [p[0] for p in pairs]
        labels = [int(p[1]) for p in pairs]
        if extra_points:
            extra = router.snap_all([p[0] for p in extra_points], [p[1] for p in extra_points])
            snaps += extra
            labels += [-2 - i for i in range(len(extra))]
        n = router.net.n_nodes
        if not snaps:
            return np.full(n, np.inf), np.full(n, -1, np.int64)
        # patients travel to the facility: search backwards from the facility's "to" seeds
        kd = "to" if direction == "to" else "from"
        nodes, costs, labs = [], [], []
        for s, lab in zip(snaps, labels):
            sd = router.seeds(s, profile, kd, weights=weights)  # partial edges under the scenario too
            nodes.extend(sd.node.tolist())
            costs.extend(sd.cost.tolist())
            labs.extend([lab] * len(sd.node))
        dist, label, _, _, _, _ = router.search(
            np.array(nodes),
            np.array(costs),
            profile=profile,
            direction=kd,
            seed_label=np.array(labs),
            limit=limit,
            weights=weights,
        )
        return dist, label

    def matrix(
        self,
        origins: Sequence[tuple[float, float]],
        destinations: Sequence[tuple[float, float]],
        *,
        profile: str = "drive",
        scenario: Scenario = None,
        block: int = 256,
        facilities: bool = False,
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield (origin index, times_s, distances_m) per origin, computed in blocks of origins
        (so any size streams in bounded memory). Distances are along the fastest route.
        ``scenario`` as in ``Router.weights`` (free flow by default). A point off the network
        raises :class:`SnapError` naming ``origins`` or ``destinations`` and its 1-based row; with
        ``facilities`` the points are facility positions, allowed the facility table's snap limit.

        Over the bundle's customizable contraction hierarchy, customised for (profile, scenario)
        once and cached (``Router.metric``); a bundle without one uses its classic hierarchy for
        free flow, else one Dijkstra per origin. All give the same times."""
        router = self.router_for(profile)
        net = router.net
        w = router.weights(profile, scenario)  # validates the scenario before any snapping
        limit = router.facility_max_snap_m if facilities else None  # facility positions: the table's limit
        osnaps = _snap_rows(router, origins, "origins", limit)
        dsnaps = _snap_rows(router, destinations, "destinations", limit)
        same_geom: dict[int, list[int]] = {}
        for j, ds in enumerate(dsnaps):
            same_geom.setdefault(ds.geom, []).append(j)
        times_of = self._matrix_kernel(router, dsnaps, profile, scenario, w)
        for start in range(0, len(osnaps), block):
            part = osnaps[start : start + block]
            times, meters = times_of(part)
            for k, o in enumerate(part):
                for j in same_geom.get(o.geom, ()):
                    t = router.along_same_edge(o, dsnaps[j], profile, weights=w)
                    if t <= times[k, j]:
                        times[k, j] = t
                        meters[k, j] = abs(dsnaps[j].frac - o.frac) * float(net.geom_len[o.geom])
                yield start + k, times[k], meters[k]

    def _matrix_kernel(
        self, router: Router, dsnaps: list[Snap], profile: str, scenario: Scenario, w: F64
    ) -> Callable[[list[Snap]], tuple[F64, F64]]:
        """A function from a block of origin snaps to its (times, metres) rows towards ``dsnaps``:
        the fastest method the bundle allows (see ``matrix``)."""
        metric = router.metric(profile, scenario)
        if metric is not None:
            dst = seed_arrays(router, dsnaps, profile, "to", weights=w)
            return lambda part: cch_many_to_many(metric, seed_arrays(router, part, profile, "from", weights=w), dst)
        ch = CH.from_network(router.net, profile) if w is router.net.times(profile) else None
        if ch is not None:
            return lambda part: ch_matrix(ch, router, part, dsnaps, profile)
        tn, ti, tc, tl, nt = router.targets_for(dsnaps, profile, "from", weights=w)
        order = np.argsort(tn, kind="stable")
        targets = Targets(tn[order], ti[order], tc[order], tl[order], nt)

        def dijkstra(part: list[Snap]) -> tuple[F64, F64]:
            rows: tuple[F64, F64] = kernels.many_to_many(
                router.adjacency("from", w), seed_arrays(router, part, profile, "from", weights=w), targets
            )
            return rows

        return dijkstra

    def cost_matrix(
        self,
        demand_nodes: np.ndarray,
        points: list[tuple[float, float]],
        *,
        profile: str = "drive",
        scenario: Scenario = None,
        block: int = 8192,
    ) -> np.ndarray:
        """(len(demand_nodes), len(points)) travel times from network nodes to points (siting's
        demand x candidate costs), inf where unreachable or for a point off the network, under
        ``scenario``. Over the customised hierarchy when the bundle has one (thousands x
        hundreds in seconds), else one reverse search per point."""
        router = self.router_for(profile)
        w = router.weights(profile, scenario)
        demand_nodes = np.asarray(demand_nodes, np.int64)
        found = router.snap_many(
            [p[0] for p in points], [p[1] for p in points], strict=False, max_snap_m=router.facility_max_snap_m
        )
        ok = [j for j, s in enumerate(found) if s is not None]
        snaps = [s for s in found if s is not None]
        out = np.full((len(demand_nodes), len(points)), np.inf)
        if not ok or not len(demand_nodes):
            return out
        metric = router.metric(profile, scenario)
        if metric is None:
            for j, snap in zip(ok, snaps):
                sd = router.seeds(snap, profile, "to", weights=w)
                dist, *_ = router.search(sd.node, sd.cost, profile=profile, direction="to", weights=w)
                out[:, j] = dist[demand_nodes]
            return out
        dst = seed_arrays(router, snaps, profile, "to", weights=w)
        for start in range(0, len(demand_nodes), block):
            part = demand_nodes[start : start + block]
            zero = np.zeros(len(part))
            one = np.arange(len(part) + 1, dtype=np.int64)
            out[start : start + len(part), ok] = cch_many_to_many(metric, SeedBlocks(part, zero, zero, one), dst)[0]
        return out


def _snap_rows(
    router: Router, points: Sequence[tuple[float, float]], field: str, max_snap_m: float | None = None
) -> list[Snap]:
    """Snap a list of points; the first one off the network is named by ``field`` and its 1-based row."""
    try:
        return router.snap_all([p[0] for p in points], [p[1] for p in points], max_snap_m=max_snap_m)
    except SnapError as exc:
        row = (exc.index or 0) + 1
        raise SnapError(f"row {row}: {exc.message}", exc.distance_m, exc.index, field=field) from None
