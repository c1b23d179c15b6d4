"""Isochrone polygons from a bounded Dijkstra, drawn as smooth contours of the reached road pieces.

Every road piece reached within the largest range (partly reached pieces cut at the exact
fraction) is sampled into one reach field per range (``contours.reach_field``): the distance to
the nearest reached road point less the off-road room it has (the margin, shrinking to nothing
where time runs out), on a lattice of about ``cell`` metres laid out in degrees (step in degrees
set from the metres at the query's latitude, so no reprojection). Every road junction *not*
reached in time is kept out (``contours.cut_late_nodes``); each field's zero contour is the
polygon. The fields nest vertex by vertex, so the polygons do (20 minutes inside 30); outlines
follow the roads and end where the time runs out, without the stair steps of whole grid cells.

Speed (a 30-minute polygon on the 12x12 mosaic reaches 35k nodes, 58k pieces, 140k road points
on a 470 x 460 lattice): the search is ``bounded.bounded_times``; the reached pieces and their
road points come in two halves at once, from halves of the reached nodes (``owned_pieces``);
the field is filled in two bands of rows at once; the node times, pieces, point tables and field
live in buffers kept between calls (``_Buffers``), so no call pages in fresh memory for them.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import shapely

from ..bundle.network import Network
from . import bounded, contours, kernels, reach
from .arrays import F64, Ints, Pieces, PieceTimes, PieceTopology
from .router import Router, Snap

Outline = dict[str, object] | shapely.MultiPolygon
"""An isochrone polygon: GeoJSON (a MultiPolygon's dict), or with ``shapes`` a shapely MultiPolygon."""
CELL_M = {"drive": 100.0, "walk": 15.0}
PARALLEL_NODES = 12_000
"""Searches reaching this many nodes (about 20,000 road pieces) get their road points in two
threads (``contours.both_halves``)."""
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0


def piece_topology(net: Network) -> PieceTopology:
    """The arrays the road-piece kernels read (a ``Router`` holds them as ``pieces``)."""
    return PieceTopology(
        net.out_ptr, net.in_ptr, net.in_edge, net.edge_geom, net.geom_u, net.geom_v, net.geom_fwd, net.geom_bwd
    )


def reached_pieces(
    net: Network | PieceTopology,
    dist: F64,
    weights: F64,
    limit: float,
    *,
    forward: bool,
    reached: Ints | None = None,
) -> Pieces:
    """The road pieces a search reached within ``limit`` (partly reached ones with their times at
    both ends): what isochrones and coverage draw. ``forward``: the search left its seeds.
    ``net``: the network, or its ``piece_topology`` (``Router.pieces``)."""
    if reached is None:
        reached = np.flatnonzero(np.isfinite(dist))
    topo = net if isinstance(net, PieceTopology) else piece_topology(net)
    pieces: Pieces = kernels.reached_geometries(reached, topo, PieceTimes(dist, weights, float(limit), forward))
    return pieces


def isochrone_geojson(
    router: Router,
    snap: Snap,
    minutes: list[float],
    *,
    profile: str,
    direction: str = "to",
    weights: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
    shapes: bool = False,
) -> list[Outline]:
    """One GeoJSON MultiPolygon (WGS-84) per entry of ``minutes`` (same order), or with ``shapes``
    the same as shapely MultiPolygons; ``timings``, when given, gets the seconds of each stage
    (``benchmarks/isochrone.py``)."""
    clock = _Clock(timings)
    net = router.net
    ranges = np.array(sorted(set(float(m) * 60.0 for m in minutes)))
    cell = CELL_M.get(net.name, 100.0)  # lattice spacing, metres
    w = net.times(profile) if weights is None else weights
    seeds = router.seeds(snap, profile, direction, weights=w)  # partial edges under the scenario too
    ptr, adj_node, adj_w, _, _ = router.adjacency(direction, w)
    buf = _take(net.n_nodes)
    dist = buf.dist
    reached = bounded.bounded_times(ptr, adj_node, adj_w, seeds.node, seeds.cost, float(ranges[-1]), dist)
    clock.lap("search")
    # the origin's own geometry is always drawn (reachable along itself from the point)
    ef, eb = int(net.geom_fwd[snap.geom]), int(net.geom_bwd[snap.geom])
    tf = float(w[ef]) if ef >= 0 else np.inf
    tb = float(w[eb]) if eb >= 0 else np.inf
    if direction == "to":
        tf, tb = tb, tf
    forward = direction == "from"
    du, dv = float(dist[net.geom_u[snap.geom]]), float(dist[net.geom_v[snap.geom]])
    ends = (du if ef >= 0 else np.inf, dv if eb >= 0 else np.inf)  # as reached_pieces sees them
    if not forward:
        ends = (du if eb >= 0 else np.inf, dv if ef >= 0 else np.inf)
    extra = -1 if min(ends) <= ranges[-1] else snap.geom  # drawn with the reached pieces, else added
    # a lattice in degrees, ``cell`` metres apart at the query's latitude, fitted to the road points
    dx = cell / (M_PER_DEG_LON_EQ * math.cos(math.radians(float(snap.lat))))
    lat_ = contours.Lattice(float(snap.lon), float(snap.lat), dx, cell / M_PER_DEG_LAT, cell, 0, 0)

    times = PieceTimes(dist, w, float(ranges[-1]), forward)
    grid = reach.SampleGrid(ranges, lat_.margin, contours.STEP * cell, lat_.x0, lat_.y0, lat_.dx, lat_.dy)
    origin = reach.Origin(snap.geom, snap.frac, tf, tb, (snap.lon - lat_.x0) / lat_.dx, (snap.lat - lat_.y0) / lat_.dy)

    def points(part: slice) -> F64:
        """The road points of the pieces owned by the nodes ``reached[part]``."""
        k = int(part.start > 0)
        extra_tau = tf if np.isfinite(tf) else tb
        found: tuple[Pieces, int] = bounded.owned_pieces(
            reached[part], router.pieces, times, extra if k == 0 else -1, extra_tau, buf.pieces[k]
        )
        pieces, m = found
        buf.pieces[k] = pieces  # (grown when they were too short)
        sel = Pieces(pieces.ids[:m], pieces.t0[:m], pieces.t1[:m], pieces.tau[:m])
        filled: tuple[F64, int] = reach.road_samples_into(buf.half(k, m), router.geometry_deg, dist, sel, grid, origin)
        table, n = filled
        buf.table[k] = table  # (grown when it was too small)
        return table[:n]

    parts = contours.both_halves(points, len(reached), at=PARALLEL_NODES)
    lat_ = lat_.fit(parts)
    clock.lap("samples")
    field = contours.reach_field(parts, ranges, lat_, out=buf.field_for(len(ranges) * lat_.ny * lat_.nx))
    clock.lap("field")
    contours.cut_late_nodes(field, net.node_lon, net.node_lat, dist, ranges, lat_.frame)
    clock.lap("cut")
    contours.settle(field, 1e-3)
    rings = [contours.outline(field[k], lat_) for k in range(len(ranges))]
    clock.lap("contour")
    dist[reached] = np.inf
    _give(buf)  # (not on an error: its times and slots may not be clear)
    polys: list[Outline] = [_shape(r) if shapes else _geojson(r) for r in rings]
    clock.lap("geojson")
    index = {r: i for i, r in enumerate(ranges)}
    return [polys[index[float(m) * 60.0]] for m in minutes]


class _Buffers:
    """The node times of the search, the pieces, point tables, junction rows and node slots of the
    two halves of ``road_samples`` and the field, kept between calls: fresh arrays this large are
    paged in anew every time (a few ms a polygon on the 12x12 mosaic). A call takes a set of its
    own (``_take``) and gives it back, times and slots cleared, when done (``_give``)."""

    def __init__(self, n_nodes: int):
        self.dist = np.full(n_nodes, np.inf)
        self.field = np.empty(0)
        self.slot = [np.zeros(n_nodes, np.int32) for _ in range(2)]
        self.table = [np.empty((0, 8)) for _ in range(2)]
        self.jx = [np.empty((0, 4)) for _ in range(2)]
        self.pieces = [Pieces(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0)) for _ in range(2)]

    def half(self, k: int, n_pieces: int) -> reach.SampleBuffers:
        """Half k's (table, slot, jx) for ``n_pieces`` pieces (``reach.road_samples_into``)."""
        if len(self.table[k]) < 3 * n_pieces + 16:  # (about 2.6 a piece; the kernel doubles it if full)
            self.table[k] = np.empty((4 * n_pieces + 16, 8))
        if len(self.jx[k]) < 2 * n_pieces:
            self.jx[k] = np.empty((2 * n_pieces + 1024, 4))
        return reach.SampleBuffers(self.table[k], self.slot[k], self.jx[k])

    def field_for(self, size: int) -> np.ndarray:
        """Room for a field of ``size`` values."""
        if len(self.field) < size:
            self.field = np.empty(size + size // 4)
        return self.field[:size]

    @property
    def nbytes(self) -> int:
        pieces = [a for p in self.pieces for a in p]
        return sum(a.nbytes for a in (self.dist, self.field, *self.slot, *self.table, *self.jx, *pieces))


_FREE: dict[int, list[_Buffers]] = {}
_FREE_LOCK = threading.Lock()
KEEP_BUFFERS = 1
"""Idle buffer sets kept per network size (each about 30 MB for 30 minutes on the 12x12 mosaic): one,
so that each server worker holds at most one per network; a concurrent second call pages in its own."""
KEEP_BYTES = 64 << 20
"""A set grown beyond this (a search over a whole province) is dropped after use, not kept."""


def _take(n_nodes: int) -> _Buffers:
    with _FREE_LOCK:
        free = _FREE.get(n_nodes)
        if free:
            return free.pop()
    return _Buffers(n_nodes)


def _give(buf: _Buffers) -> None:
    if buf.nbytes > KEEP_BYTES:
        return
    with _FREE_LOCK:
        free = _FREE.setdefault(len(buf.slot[0]), [])
        if len(free) < KEEP_BUFFERS:
            free.append(buf)


class _Clock:
    """Seconds per stage into ``timings`` (nothing when None)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.t = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.t
            self.t = now


def _geojson(polys: list[list[F64]]) -> dict[str, object]:
    """GeoJSON MultiPolygon of contour polygons (rings as coordinate arrays). Positions are
    (lon, lat) tuples, not lists: the garbage collector stops tracking a tuple of floats the first
    time it meets one, so the outline's tens of thousands of positions never count towards (and
    set off) a full collection of the whole process, as lists would."""
    return {
        "type": "MultiPolygon",
        "coordinates": [[list(zip(ring[:, 0].tolist(), ring[:, 1].tolist())) for ring in rings] for rings in polys],
    }


def _shape(polys: list[list[F64]]) -> shapely.MultiPolygon:
    """The contour polygons as one shapely MultiPolygon (the same rings as :func:`_geojson`)."""
    rings = [ring for rings in polys for ring in rings]
    if not rings:
        return shapely.MultiPolygon()
    coords = np.concatenate(rings)
    ring_ends = np.cumsum([0] + [len(r) for r in rings])
    poly_ends = np.cumsum([0] + [len(rings) for rings in polys])
    offsets = (ring_ends.astype(np.int64), poly_ends.astype(np.int64), np.array([0, len(polys)], np.int64))
    shape: shapely.MultiPolygon = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)[0]
    return shape
