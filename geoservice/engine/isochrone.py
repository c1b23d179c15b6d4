"""Isochrone polygons from a bounded Dijkstra, drawn as smooth contours of the reached road pieces.

Every road piece reached within the largest range (partly reached pieces cut at the exact
fraction) is sampled into one reach field per range (``contours.reach_field``): the distance to
the nearest reached road point less the off-road room it has (the margin, shrinking to nothing
where time runs out), on a lattice of about ``cell`` metres laid out in degrees (step in degrees
set from the metres at the query's latitude, so no reprojection). Every road junction *not*
reached in time is kept out (``contours.cut_late_nodes``); each field's zero contour is the
polygon. The fields nest vertex by vertex, so the polygons do (20 minutes inside 30); outlines
follow the roads and end where the time runs out, without the stair steps of whole grid cells.
"""

from __future__ import annotations

import math

import numpy as np

from ..bundle.network import Network
from . import contours, kernels, reach
from .router import Router, Snap

CELL_M = {"drive": 100.0, "walk": 15.0}
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0


def reached_pieces(
    net: Network,
    dist: np.ndarray,
    weights: np.ndarray,
    limit: float,
    *,
    forward: bool,
    reached: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The road pieces a search reached within ``limit`` (partly reached ones with their times at
    both ends): what isochrones and coverage draw. ``forward``: the search left its seeds."""
    if reached is None:
        reached = np.flatnonzero(np.isfinite(dist))
    return kernels.reached_geometries(
        reached,
        net.out_ptr,
        net.in_ptr,
        net.in_edge,
        net.edge_geom,
        net.geom_u,
        net.geom_v,
        net.geom_fwd,
        net.geom_bwd,
        dist,
        weights,
        float(limit),
        forward,
    )


def isochrone_geojson(
    router: Router,
    snap: Snap,
    minutes: list[float],
    *,
    profile: str,
    direction: str = "to",
    cell: float | None = None,
    weights: np.ndarray | None = None,
) -> list[dict]:
    """One GeoJSON MultiPolygon (WGS-84) per entry of ``minutes`` (same order)."""
    net = router.net
    ranges = np.array(sorted(set(float(m) * 60.0 for m in minutes)))
    cell = cell or CELL_M.get(net.name, 100.0)
    w = net.times(profile) if weights is None else weights
    seeds = router.seeds(snap, profile, direction, weights=w)  # partial edges under the scenario too
    dist, *_ = router.search(seeds.node, seeds.cost, profile=profile, direction=direction, limit=ranges[-1], weights=w)
    reached = np.flatnonzero(np.isfinite(dist))
    sel, t0, t1, tau = reached_pieces(net, dist, w, ranges[-1], forward=direction == "from", reached=reached)
    # the origin's own geometry is always drawn (reachable along itself from the point)
    ef, eb = int(net.geom_fwd[snap.geom]), int(net.geom_bwd[snap.geom])
    tf = float(w[ef]) if ef >= 0 else np.inf
    tb = float(w[eb]) if eb >= 0 else np.inf
    if direction == "to":
        tf, tb = tb, tf
    if not np.any(sel == snap.geom):
        sel = np.append(sel, snap.geom)
        t0 = np.append(t0, np.inf)
        t1 = np.append(t1, np.inf)
        tau = np.append(tau, tf if np.isfinite(tf) else tb)
    # a lattice in degrees, ``cell`` metres apart at the query's latitude, fitted to the road points
    dx = cell / (M_PER_DEG_LON_EQ * math.cos(math.radians(float(snap.lat))))
    lat_ = contours.Lattice(float(snap.lon), float(snap.lat), dx, cell / M_PER_DEG_LAT, cell, 0, 0)

    def points(part: slice) -> np.ndarray:
        return reach.road_samples(
            net.lon,
            net.lat,
            net.geom_a,
            net.geom_b,
            net.cumlen,
            net.geom_u,
            net.geom_v,
            dist,
            sel[part],
            t0[part],
            t1[part],
            tau[part],
            ranges,
            lat_.margin,
            contours.STEP * cell,
            lat_.x0,
            lat_.y0,
            lat_.dx,
            lat_.dy,
            snap.geom,
            snap.frac,
            tf,
            tb,
            (snap.lon - lat_.x0) / lat_.dx,
            (snap.lat - lat_.y0) / lat_.dy,
        )

    parts = contours.both_halves(points, len(sel))
    lat_ = lat_.fit(parts)
    field = contours.reach_field(parts, ranges, lat_)
    contours.cut_late_nodes(field, net.node_lon, net.node_lat, dist, ranges, lat_.x0, lat_.y0, lat_.dx, lat_.dy, lat_.h)
    contours.settle(field, 1e-3)
    polys = [_geojson(contours.outline(field[k], lat_)) for k in range(len(ranges))]
    index = {r: i for i, r in enumerate(ranges)}
    return [polys[index[float(m) * 60.0]] for m in minutes]


def _geojson(polys: list[list[np.ndarray]]) -> dict:
    """GeoJSON MultiPolygon of contour polygons (rings as coordinate arrays)."""
    return {"type": "MultiPolygon", "coordinates": [[ring.tolist() for ring in rings] for rings in polys]}
