"""Snapping, one-to-many and many-to-one travel times and routes on one bundle network.

Direction: ``"from"`` is travel leaving the point (ambulance out of a station), ``"to"`` is
travel arriving at the point (patient to hospital); "to" runs Dijkstra on the reversed graph.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from ..bundle.cch import CCHTopology
from ..bundle.network import Network
from ..errors import GeoserviceError
from ..sources.speeds import CLASS_INDEX, WALK_SPEED_KMH, scenario_key
from . import kernels
from .arrays import F64, I64, Adjacency, PieceTopology, SeedSet, SnapGrid, Targets
from .cch import Metric, customise
from .reach import piece_geometry

Scenario = str | dict[str, float] | None
"""A time-band scenario: a name in ``sources.speeds.SCENARIOS``, a {road class: multiplier}
table, or None (free flow); see ``Router.weights``."""
ScenarioKey = tuple[str, tuple[tuple[str, float], ...]]
"""(profile, sorted table items): names one weight set (``sources.speeds.scenario_key``)."""

DIRECTIONS = ("to", "from")
DEFAULT_MAX_SNAP_M = {"drive": 500.0, "walk": 300.0}
"""Farthest a point asked about (a tap, an origin) may lie from its road; beyond it the answer is
an error naming the distance (a tap in the sea is not '1 min by car')."""
FACILITY_MAX_SNAP_M = {"drive": 1000.0, "walk": 300.0}
"""Farthest a facility of the table may lie from its road and still be routed to (a campus at the
edge of an extract); the build and imports say loudly which are farther than usual."""
JOIN_TOLERANCE_M = {"drive": 150.0, "walk": 100.0}
"""How much nearer a bridge, tunnel or motorway may be than an at-grade road before a point is
put on it anyway (see ``Router.snap_many``)."""
ACCESS_SPEED_MS = WALK_SPEED_KMH / 3.6
"""The off-network leg between a point and its road is walked: 5 km/h (``Router.access_s``)."""
AT_NODE_M = 0.5
"""A snap this close to an end of its road piece is at that junction (``Router.seeds``)."""
ON_ROAD_M = 1.0
"""A point this close to a road is on it, whatever its grade (``Router.snap_many``)."""
METRIC_CACHE_ENTRIES = 16
METRIC_CACHE_BYTES = 1 << 30  # customised hierarchies kept per router: 1 GiB


class SnapError(GeoserviceError):
    """A point is too far from the road network; ``index`` is its position in a list of points."""

    def __init__(self, message: str, distance_m: float | None, index: int | None = None, field: str = "lon,lat"):
        super().__init__(field, message, snap_m=None if distance_m is None else round(float(distance_m), 1))
        self.distance_m = distance_m
        self.index = index


@dataclass(frozen=True)
class Snap:
    geom: int  # undirected geometry id
    frac: float  # 0..1 along the geometry (by length)
    dist_m: float  # straight-line distance from the query point to the road
    x: float
    y: float
    lon: float
    lat: float
    px: float = np.nan  # the point itself (metres, the network's CRS)
    py: float = np.nan

    def same_point(self, other: Snap) -> bool:
        return self.px == other.px and self.py == other.py


@dataclass
class Seeds:
    node: I64
    cost: F64
    length: F64  # metres between the point and the node


class Router:
    def __init__(self, net: Network, max_snap_m: float | None = None):
        self.net = net
        self._scenario_cache: dict[ScenarioKey, F64] = {}
        self._metrics: dict[ScenarioKey, Metric] = {}  # customised CCHs, least recently used first
        self._cch: CCHTopology | bool | None = None  # the bundle's CCH topology, False when it has none
        self._metrics_lock = threading.Lock()
        self._eid: NDArray[np.int32] | None = None
        self._reverse: dict[int, tuple[F64, Adjacency]] = {}
        self.max_snap_m = max_snap_m if max_snap_m is not None else DEFAULT_MAX_SNAP_M.get(net.name, 1000.0)
        self.facility_max_snap_m = max(self.max_snap_m, FACILITY_MAX_SNAP_M.get(net.name, 1000.0))
        self.join_tolerance_m = JOIN_TOLERANCE_M.get(net.name, 150.0)
        self.access_speed_ms = ACCESS_SPEED_MS
        self._off_grade = net.arrays.get("seg_off_grade")
        if self._off_grade is None:  # a network built in memory without the flags: all at grade
            self._off_grade = np.zeros(len(net.x), np.uint8)
        self._fwd = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        self._inv = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
        x0, y0, cell, nx, ny = net.grid_meta
        self.grid = SnapGrid(
            net.x,
            net.y,
            self._off_grade,
            net.grid_ptr,
            net.grid_seg,
            float(x0),
            float(y0),
            float(cell),
            int(nx),
            int(ny),
        )
        """The segments and grid snapping searches (``kernels.snap_points``)."""
        self.pieces = PieceTopology(
            net.out_ptr, net.in_ptr, net.in_edge, net.edge_geom, net.geom_u, net.geom_v, net.geom_fwd, net.geom_bwd
        )
        """The arrays the road-piece kernels read (``isochrone.reached_pieces``)."""
        self.geometry_deg = piece_geometry(net, metres=False)
        """The road pieces in degrees, as isochrones draw them (``reach.road_samples``)."""

    # ---------------------------------------------------------------- snapping
    def to_xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))

    def snap_all(self, lon: ArrayLike, lat: ArrayLike, *, max_snap_m: float | None = None) -> list[Snap]:
        """Snap every point; the first one beyond ``max_snap_m`` raises :class:`SnapError`."""
        return [s for s in self.snap_many(lon, lat, max_snap_m=max_snap_m, strict=True) if s is not None]

    def snap_many(
        self, lon: ArrayLike, lat: ArrayLike, *, max_snap_m: float | None = None, strict: bool = True
    ) -> list[Snap | None]:
        """Snap points to the road their traveller joins: the one rule of every face.

        A point is put on the nearest point of the nearest road segment (not just a node) that
        this network's traveller can join beside it. A bridge, viaduct, tunnel or road on another
        ``layer`` is joined only at its ends, and by car a motorway (or ``motorroad=yes`` trunk)
        only at its ramps (``seg_off_grade``, from ``sources.osm_roads.join_flags``); such a
        road is taken only when no at-grade road lies within ``join_tolerance_m`` (150 m driving,
        100 m walking) of the point, or when the point lies on it (within ``ON_ROAD_M``: a junction
        of an elevated road is on that road) and no at-grade road is as near, like Valhalla's search
        filters and OSRM's snapping to start-point roads. The walk network holds no road closed to pedestrians.

        With ``strict`` a point beyond ``max_snap_m`` raises :class:`SnapError` naming its distance;
        otherwise it yields None."""
        limit = self.max_snap_m if max_snap_m is None else max_snap_m
        px, py = self.to_xy(lon, lat)
        net = self.net
        seg, t, d = kernels.snap_points(px, py, self.grid, limit, self.join_tolerance_m, ON_ROAD_M)
        out: list[Snap | None] = []
        far = np.flatnonzero(seg < 0)
        if strict and len(far):
            i = int(far[0])
            # measure how far the point really is, for the message
            _, _, d2 = kernels.snap_points(px[i : i + 1], py[i : i + 1], self.grid, 1e7, 0.0, 0.0)
            dist = float(d2[0]) if np.isfinite(d2[0]) else None
            where = "point "
            raise SnapError(
                f"{where}({np.atleast_1d(lon)[i]:.6f}, {np.atleast_1d(lat)[i]:.6f}) is "
                f"{dist:.0f} m from the nearest {net.name} road; the limit is {limit:.0f} m"
                if dist is not None
                else f"{where}is outside the {net.name} network",
                dist,
                i,
            )
        sx = net.x[np.maximum(seg, 0)] + t * (net.x[np.maximum(seg, 0) + 1] - net.x[np.maximum(seg, 0)])
        sy = net.y[np.maximum(seg, 0)] + t * (net.y[np.maximum(seg, 0) + 1] - net.y[np.maximum(seg, 0)])
        slon, slat = self._inv.transform(sx, sy)
        slon = np.atleast_1d(slon)
        slat = np.atleast_1d(slat)
        for i in range(len(px)):
            s = int(seg[i])
            if s < 0:
                out.append(None)
                continue
            g = int(net.seg_geom[s])
            a, b = int(net.geom_a[g]), int(net.geom_b[g])
            L = net.cumlen[b] - net.cumlen[a]
            along = net.cumlen[s] - net.cumlen[a] + t[i] * (net.cumlen[s + 1] - net.cumlen[s])
            frac = float(along / L) if L > 0 else 0.0
            out.append(
                Snap(
                    g,
                    min(max(frac, 0.0), 1.0),
                    float(d[i]),
                    float(sx[i]),
                    float(sy[i]),
                    float(slon[i]),
                    float(slat[i]),
                    float(px[i]),
                    float(py[i]),
                )
            )
        return out

    def snap(self, lon: float, lat: float, *, max_snap_m: float | None = None) -> Snap:
        return self.snap_many([lon], [lat], max_snap_m=max_snap_m)[0]  # type: ignore[return-value]

    # ---------------------------------------------------------------- seeds
    def _edge_times(self, snap: Snap, profile: str, weights: F64 | None = None) -> tuple[int, int, float, float]:
        w = self.net.times(profile) if weights is None else weights
        ef = int(self.net.geom_fwd[snap.geom])
        eb = int(self.net.geom_bwd[snap.geom])
        tf = float(w[ef]) if ef >= 0 else np.inf
        tb = float(w[eb]) if eb >= 0 else np.inf
        return ef, eb, tf, tb

    def access_s(self, snap: Snap, access_ms: float | None = None) -> float:
        """Seconds of the off-network leg between a point and its snap, walked at ``access_ms``
        (default 5 km/h): the patient to the kerb, the crew or a bystander from the road to the
        door, a person from a hospital's gate to its entrance."""
        return float(snap.dist_m) / (access_ms or self.access_speed_ms)

    def seeds(
        self,
        snap: Snap,
        profile: str,
        direction: str,
        *,
        weights: F64 | None = None,
        access_ms: float | None = None,
    ) -> Seeds:
        """Graph nodes next to a snapped point, with the time between node and point: the
        off-network leg (``access_s``) plus the part of the edge's time in ``weights`` (default
        the profile's free-flow times) along the road.

        direction "from": nodes reachable from the point (forward search starts there);
        direction "to": nodes from which the point is reached (reverse search starts there).
        A point at an end of its road piece (within ``AT_NODE_M``) is that junction: the end node
        is a seed in both directions, whatever way the piece runs, so a point on a junction gets
        the junction's own times even when it was put on a one-way road leaving or entering it."""
        net = self.net
        u, v = int(net.geom_u[snap.geom]), int(net.geom_v[snap.geom])
        ef, eb, tf, tb = self._edge_times(snap, profile, weights)
        f = snap.frac
        glen = float(net.geom_len[snap.geom])
        leg = self.access_s(snap, access_ms)
        forward = direction == "from"
        # (node, fraction of the piece between the point and the node, usable in this direction)
        ends = (
            ((v, 1 - f, ef >= 0, tf), (u, f, eb >= 0, tb))
            if forward
            else ((u, f, ef >= 0, tf), (v, 1 - f, eb >= 0, tb))
        )
        nodes, costs, lens = [], [], []
        for node, part, usable, t in ends:
            if usable:
                nodes.append(node)
                costs.append(leg + part * t)
                lens.append(part * glen)
            elif part * glen <= AT_NODE_M:  # at the junction itself: no need to use the piece
                nodes.append(node)
                costs.append(leg + part * min(tf, tb))
                lens.append(part * glen)
        return Seeds(np.array(nodes, np.int64), np.array(costs, float), np.array(lens, float))

    def along_same_edge(
        self, a: Snap, b: Snap, profile: str, *, weights: F64 | None = None, access_ms: float | None = None
    ) -> float:
        """Time from ``a`` to ``b`` when both lie on one geometry, without leaving it (with both
        off-network legs, as ``seeds`` counts them)."""
        if a.geom != b.geom:
            return float(np.inf)
        _, _, tf, tb = self._edge_times(a, profile, weights)
        if a.same_point(b):
            return 0.0
        legs = self.access_s(a, access_ms) + self.access_s(b, access_ms)
        if b.frac == a.frac:  # the same place, even on a one-way road (0 x inf would be nan)
            return legs
        if b.frac >= a.frac:
            return legs + (b.frac - a.frac) * tf
        return legs + (a.frac - b.frac) * tb

    def weights(self, profile: str, scenario: Scenario = None) -> F64:
        """Edge times of ``profile`` under a time-band scenario (name in SCENARIOS or a
        {road class: multiplier} table). Cached per scenario (bounded).

        Walking ignores traffic: a scenario that changes any time on the walk network is an
        error naming ``scenario`` (free flow, or a table of 1.0 factors, is accepted), so no face
        can answer a walk query "under peak traffic" as if traffic had been applied."""
        base = self.net.times(profile)
        key = scenario_key(profile, scenario)
        if key[1] == ():
            return base
        if self.walks:
            what = f"scenario {scenario!r}" if isinstance(scenario, str) else "a congestion table"
            raise GeoserviceError(
                "scenario",
                f"walking ignores traffic: {what} applies to driving (drive, ambulance), not to the "
                f"{profile!r} profile; leave the scenario out",
            )
        hit = self._scenario_cache.get(key)
        if hit is None:
            factor = np.ones(len(CLASS_INDEX))
            for cls, f in key[1]:
                factor[CLASS_INDEX[cls]] = f
            cls_of_edge = self.net.way_class[self.net.geom_way[self.net.edge_geom]]
            if len(self._scenario_cache) >= 16:  # custom tables: keep the cache bounded
                self._scenario_cache.clear()
            hit = self._scenario_cache[key] = base * factor[cls_of_edge]
        return hit

    @property
    def walks(self) -> bool:
        """True for the walk network: one speed everywhere, no traffic."""
        return self.net.name == "walk"

    def metric(self, profile: str, scenario: Scenario = None) -> Metric | None:
        """The network's customizable contraction hierarchy customised for ``profile`` under
        ``scenario`` (an engine.cch.Metric), or None when the bundle carries no CCH. Customised
        once per (profile, scenario), kept in a small cache bounded by count and bytes (least
        recently used first out): one metric costs 32 bytes per arc."""
        if self._cch is None:
            self._cch = CCHTopology.from_network(self.net) or False
        if not isinstance(self._cch, CCHTopology):
            return None
        key = scenario_key(profile, scenario)
        with self._metrics_lock:  # API requests run in threads
            hit = self._metrics.pop(key, None)
            if hit is not None:
                self._metrics[key] = hit  # most recently used last
                return hit
        net = self.net
        hit = customise(self._cch, net.edge_u, net.edge_v, self.weights(profile, scenario), net.edge_len)
        with self._metrics_lock:
            while self._metrics and (
                len(self._metrics) >= METRIC_CACHE_ENTRIES
                or sum(m.nbytes for m in self._metrics.values()) + hit.nbytes > METRIC_CACHE_BYTES
            ):
                self._metrics.pop(next(iter(self._metrics)))
            self._metrics[key] = hit
        return hit

    # ---------------------------------------------------------------- searches
    def adjacency(self, direction: str, w: F64) -> Adjacency:
        """CSR-ordered arcs for a search in ``direction`` under edge times ``w``.

        Forward arcs are the edges themselves (sorted by tail); reverse arcs are gathered once
        per weight array and cached, so searches read memory sequentially."""
        net = self.net
        if direction == "from":
            if self._eid is None:
                self._eid = np.arange(net.n_edges, dtype=np.int32)
            return Adjacency(net.out_ptr, net.edge_v, w, net.edge_len, self._eid)
        if direction != "to":
            raise GeoserviceError("direction", f"direction must be one of {DIRECTIONS}, got {direction!r}")
        key = id(w)
        hit = self._reverse.get(key)
        if hit is None or hit[0] is not w:
            # in_u, in_len and in_time_<profile> were gathered by the build: mapped, shared by processes
            stored = next((p for p in net.profiles if net.times(p) is w), None)
            rev_w = net.arrays[f"in_time_{stored}"] if stored else w[net.in_edge]
            hit = (w, Adjacency(net.in_ptr, net.in_u, rev_w, net.in_len, net.in_edge))
            if len(self._reverse) >= 8:  # transient weight arrays: keep the cache bounded
                self._reverse.clear()
            self._reverse[key] = hit
        return hit[1]

    def search(
        self,
        seed_node: ArrayLike,
        seed_cost: ArrayLike,
        *,
        profile: str,
        direction: str,
        seed_label: ArrayLike | None = None,
        limit: float = np.inf,
        targets: Targets | None = None,
        k_stop: int = 0,
        weights: F64 | None = None,
        targets_sorted: bool = False,
    ) -> tuple[F64, I64, I64, F64, I64, F64]:
        """Run the kernel. ``direction`` "from" follows edges forward from the seeds; "to" runs
        backwards, so dist[n] is the time from n to the nearest seed. ``targets`` must be sorted by
        node for the kernel: they are sorted here unless ``targets_sorted``."""
        w = self.net.times(profile) if weights is None else weights
        adj = self.adjacency(direction, w)
        nodes = np.asarray(seed_node, np.int64)
        labels = np.zeros(len(nodes), np.int64) if seed_label is None else np.asarray(seed_label, np.int64)
        seeds = SeedSet(nodes, np.asarray(seed_cost, float), labels, np.zeros(len(nodes)))  # (metres: not tracked)
        if targets is None:
            targets = kernels.NO_TARGETS
        else:
            tn, ti, tc, tl, nt = targets
            if not targets_sorted:
                order = np.argsort(tn, kind="stable")
                tn, ti, tc, tl = tn[order], ti[order], tc[order], tl[order]
            targets = Targets(tn, ti, tc, tl, int(nt))
        out: tuple[F64, I64, I64, F64, I64, F64] = kernels.dijkstra(
            adj, seeds, targets, float(limit), int(k_stop), False
        )
        return out

    def targets_for(
        self,
        snaps: Sequence[Snap] | np.ndarray,
        profile: str,
        direction: str,
        *,
        weights: F64 | None = None,
        access_ms: float | None = None,
    ) -> Targets:
        """Target entries so that a search in ``direction`` reaches each snapped point.

        A forward ("from") search arrives at points via their "to" seeds, and vice versa."""
        opposite = "to" if direction == "from" else "from"
        tn: list[int] = []
        ti: list[int] = []
        tc: list[float] = []
        tl: list[float] = []
        for j, s in enumerate(snaps):
            sd = self.seeds(s, profile, opposite, weights=weights, access_ms=access_ms)
            tn.extend(sd.node.tolist())
            tc.extend(sd.cost.tolist())
            ti.extend([j] * len(sd.node))
            tl.extend(sd.length.tolist())
        return Targets(
            np.array(tn, np.int64), np.array(ti, np.int64), np.array(tc, float), np.array(tl, float), len(snaps)
        )

    # ---------------------------------------------------------------- routes
    def path_edges(self, pred: I64, node: int, direction: str) -> I64:
        """Edges from the search seed to ``node``, in travel order."""
        net = self.net
        other = net.edge_u if direction == "from" else net.edge_v
        edges: I64 = kernels.trace_path(pred, other, int(node))
        return edges[::-1] if direction == "from" else edges

    def edges_coords(self, edges: np.ndarray) -> np.ndarray:
        """Coordinates of consecutive edges (each in its travel direction), concatenated."""
        net = self.net
        if len(edges) == 0:
            return np.zeros((0, 2))
        g = net.edge_geom[edges]
        a = net.geom_a[g].astype(np.int64)
        b = net.geom_b[g].astype(np.int64)
        counts = b - a + 1
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rev = np.repeat(net.edge_rev[edges], counts)
        pos = np.where(rev, np.repeat(b, counts) - k, np.repeat(a, counts) + k)
        return np.column_stack([net.lon[pos], net.lat[pos]])

    def partial_coords(self, snap: Snap, f0: float, f1: float) -> np.ndarray:
        """Coordinates along ``snap.geom`` from fraction f0 to f1 (either order)."""
        net = self.net
        g = snap.geom
        a, b = int(net.geom_a[g]), int(net.geom_b[g])
        L = net.cumlen[b] - net.cumlen[a]
        lo, hi = min(f0, f1), max(f0, f1)
        along = (net.cumlen[a : b + 1] - net.cumlen[a]) / (L if L > 0 else 1.0)
        xs = np.interp([lo, hi], along, net.lon[a : b + 1])
        ys = np.interp([lo, hi], along, net.lat[a : b + 1])
        inner = (along > lo) & (along < hi)
        c = np.vstack(
            [[xs[0], ys[0]], np.column_stack([net.lon[a : b + 1][inner], net.lat[a : b + 1][inner]]), [xs[1], ys[1]]]
        )
        return c if f0 <= f1 else c[::-1]

    def route_coords(
        self, origin: Snap, dest: Snap, pred: np.ndarray, via_node: int, direction: str, same_edge: bool
    ) -> np.ndarray:
        """Route geometry in travel order (origin to destination as the traveller drives).

        For direction "from" the search ran from ``origin``; for "to" it ran backwards from
        ``dest``, and ``via_node`` is the node where the other end joined the search tree."""
        net = self.net
        if same_edge:
            return self.partial_coords(origin, origin.frac, dest.frac)
        if direction == "from":
            edges = self.path_edges(pred, via_node, "from")
            start_node = int(net.edge_u[edges[0]]) if len(edges) else via_node
            end_node = via_node
            first_snap, last_snap = origin, dest
        else:
            edges = self.path_edges(pred, via_node, "to")
            start_node = via_node
            end_node = int(net.edge_v[edges[-1]]) if len(edges) else via_node
            first_snap, last_snap = origin, dest
        coords = np.vstack(
            [self._to_node(first_snap, start_node), self.edges_coords(edges), self._from_node(last_snap, end_node)]
        )
        keep = np.ones(len(coords), bool)
        keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 0, axis=1)
        return coords[keep]

    def _to_node(self, snap: Snap, node: int) -> np.ndarray:
        """Along the snapped geometry from the point to one of its end nodes."""
        return self.partial_coords(snap, snap.frac, 0.0 if node == int(self.net.geom_u[snap.geom]) else 1.0)

    def _from_node(self, snap: Snap, node: int) -> np.ndarray:
        return self.partial_coords(snap, 0.0 if node == int(self.net.geom_u[snap.geom]) else 1.0, snap.frac)
