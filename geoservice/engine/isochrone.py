"""Isochrone polygons from a bounded Dijkstra, drawn from reached road pieces.

Every road piece reached within the range (partly reached edges included, cut at the exact
fraction) is sampled onto a grid of ``cell`` metres; the grid is grown by one cell (the
off-road margin) and polygonised. Ranges share one search and one grid, and a cell reached
within 20 minutes is by construction reached within 30, so the polygons nest exactly and
contain no area farther than ``cell`` metres from a road reached in time (no hull artefacts).
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer
from scipy.ndimage import minimum_filter

from . import kernels
from .router import Router, Snap

CELL_M = {"drive": 100.0, "walk": 15.0}


def reached_geometries(router: Router, dist: np.ndarray, profile: str, direction: str, tmax: float):
    """Geometries touched within ``tmax`` with their end times (t0 at u-side, t1 at v-side)."""
    net = router.net
    ef, eb = net.geom_fwd, net.geom_bwd
    du = dist[net.geom_u]
    dv = dist[net.geom_v]
    if direction == "from":   # leaving the point: enter at u going forward, at v going backward
        t0 = np.where(ef >= 0, du, np.inf)
        t1 = np.where(eb >= 0, dv, np.inf)
    else:                     # arriving at the point: leave the geometry at v (forward) or u (backward)
        t0 = np.where(eb >= 0, du, np.inf)
        t1 = np.where(ef >= 0, dv, np.inf)
    sel = np.flatnonzero(np.minimum(t0, t1) <= tmax)
    w = net.times(profile)
    tau = np.where(ef[sel] >= 0, w[np.maximum(ef[sel], 0)], w[np.maximum(eb[sel], 0)])
    return sel, t0[sel], t1[sel], tau


def isochrone_polygons(router: Router, snap: Snap, minutes: list[float], *, profile: str,
                       direction: str = "to", cell: float | None = None) -> list[shapely.Geometry]:
    """One (Multi)Polygon in WGS-84 per entry of ``minutes`` (same order)."""
    net = router.net
    ranges = np.array(sorted(set(float(m) * 60.0 for m in minutes)))
    cell = cell or CELL_M.get(net.name, 100.0)
    seeds = router.seeds(snap, profile, direction)
    kdir = "from" if direction == "from" else "to"
    dist, *_ = router.search(seeds.node, seeds.cost, profile=profile, direction=kdir,
                                     limit=ranges[-1])
    sel, t0, t1, tau = reached_geometries(router, dist, profile, direction, ranges[-1])
    # the origin's own geometry is always considered
    g0 = snap.geom
    _, _, tf, tb = router._edge_times(snap, profile)
    if direction == "to":
        tf, tb = tb, tf
    if g0 not in set(sel.tolist()):
        sel = np.append(sel, g0); t0 = np.append(t0, np.inf); t1 = np.append(t1, np.inf)
        tau = np.append(tau, tf if np.isfinite(tf) else tb)
    # grid over the reached nodes
    reached = np.isfinite(dist)
    xs = np.concatenate([net.node_x[reached], [snap.x]])
    ys = np.concatenate([net.node_y[reached], [snap.y]])
    gx0 = xs.min() - 3 * cell; gy0 = ys.min() - 3 * cell
    nx = int((xs.max() + 3 * cell - gx0) // cell) + 1
    ny = int((ys.max() + 3 * cell - gy0) // cell) + 1
    grid = kernels.rasterize_reach(net.x, net.y, net.geom_a, net.geom_b, net.cumlen,
                                   sel.astype(np.int64), t0, t1, tau, ranges, gx0, gy0, cell, nx, ny,
                                   g0, snap.frac, tf, tb)
    grid = minimum_filter(grid, size=3, mode="constant", cval=255)
    _exclude_late_nodes(grid, net, dist, ranges, gx0, gy0, cell)
    polys = _polygonize(grid, ranges, gx0, gy0, cell, net.crs)
    index = {r: i for i, r in enumerate(ranges)}
    return [polys[index[float(m) * 60.0]] for m in minutes]


def _exclude_late_nodes(grid: np.ndarray, net, dist: np.ndarray, ranges: np.ndarray,
                        gx0: float, gy0: float, cell: float) -> None:
    """Cut out the cell of every graph node that is not reached within a range, so no road
    junction inside a polygon takes longer than its range (nesting is kept: a node late for
    30 minutes is late for 20 too)."""
    ny, nx = grid.shape
    cx = np.floor((net.node_x - gx0) / cell).astype(np.int64)
    cy = np.floor((net.node_y - gy0) / cell).astype(np.int64)
    inside = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
    idx = np.flatnonzero(inside)
    t = dist[idx]
    # smallest range index that reaches the node (len(ranges) if none)
    first_ok = np.searchsorted(ranges, t, side="left")
    cur = grid[cy[idx], cx[idx]].astype(np.int64)
    late = cur < first_ok
    if late.any():
        # the cell may only count from the node's own first range on
        np.maximum.at(grid, (cy[idx][late], cx[idx][late]),
                      np.minimum(first_ok[late], 255).astype(np.uint8))


def _polygonize(grid: np.ndarray, ranges: np.ndarray, gx0: float, gy0: float, cell: float,
                crs: str) -> list[shapely.Geometry]:
    from rasterio.features import shapes
    from rasterio.transform import Affine

    # row 0 of the grid is the southern edge: use a south-up transform
    transform = Affine(cell, 0, gx0, 0, cell, gy0)
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = []
    for k in range(len(ranges)):
        mask = (grid <= k).astype(np.uint8)
        parts = [shapely.polygons(np.asarray(geom["coordinates"][0]),
                                  holes=[shapely.linearrings(np.asarray(h)) for h in geom["coordinates"][1:]] or None)
                 for geom, val in shapes(mask, mask=mask.astype(bool), transform=transform, connectivity=4)
                 if val == 1]
        geom = shapely.multipolygons(parts) if parts else shapely.MultiPolygon()
        # keep a vertex at every grid corner, so ranges share vertices exactly and stay nested
        # after the (non-linear) projection to WGS-84
        geom = shapely.segmentize(geom, cell * 1.0000001)
        geom = shapely.transform(geom, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        out.append(geom)
    return out
