"""Isochrone polygons from a bounded Dijkstra, drawn from reached road pieces.

Every road piece reached within the range (partly reached edges included, cut at the exact
fraction) is sampled onto a grid of about ``cell`` metres; the grid is grown by one cell (the
off-road margin), the cell of every road junction that is *not* reached in time is cut out, and
the grid is polygonised. The grid is laid out in degrees (cell size in degrees set from the
metres at the query's latitude), so polygon vertices are exact grid corners in WGS-84: no
reprojection, and the ranges of one query share one grid, so a cell reached within 20 minutes
is reached within 30 and the polygons nest exactly. No area is farther than one cell from a
road reached in time, and no convex-hull artefacts arise.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.ndimage import minimum_filter

from ..bundle.network import Network
from . import kernels
from .router import Router, Snap

CELL_M = {"drive": 100.0, "walk": 15.0}
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="isochrone")
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
    seeds = router.seeds(snap, profile, direction)
    dist, *_ = router.search(seeds.node, seeds.cost, profile=profile, direction=direction, limit=ranges[-1], weights=w)
    reached = np.flatnonzero(np.isfinite(dist))
    sel, t0, t1, tau = reached_pieces(net, dist, w, ranges[-1], forward=direction == "from", reached=reached)
    # the origin's own geometry is always drawn (reachable along itself from the point)
    _, _, tf, tb = router._edge_times(snap, profile)
    if weights is not None:
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
    # grid in degrees over the reached nodes
    lons = np.append(net.node_lon[reached], snap.lon)
    lats = np.append(net.node_lat[reached], snap.lat)
    cdy = cell / M_PER_DEG_LAT
    cdx = cell / (M_PER_DEG_LON_EQ * math.cos(math.radians(float(snap.lat))))
    gx0 = lons.min() - 3 * cdx
    gy0 = lats.min() - 3 * cdy
    nx = int((lons.max() + 3 * cdx - gx0) // cdx) + 1
    ny = int((lats.max() + 3 * cdy - gy0) // cdy) + 1
    # the late-junction grid needs only the search result: compute it alongside (nogil kernels)
    late = _POOL.submit(kernels.late_node_grid, ny, nx, net.node_lon, net.node_lat, dist, ranges, gx0, gy0, cdx, cdy)
    grid = kernels.rasterize_reach(
        net.lon,
        net.lat,
        net.geom_a,
        net.geom_b,
        net.cumlen,
        sel.astype(np.int64),
        t0,
        t1,
        tau,
        ranges,
        gx0,
        gy0,
        cdx,
        cdy,
        cell,
        nx,
        ny,
        snap.geom,
        snap.frac,
        tf,
        tb,
    )
    grid = minimum_filter(grid, size=3, mode="constant", cval=255)
    np.maximum(grid, late.result(), out=grid)
    polys = _polygonize(grid, ranges, gx0, gy0, cdx, cdy)
    index = {r: i for i, r in enumerate(ranges)}
    return [polys[index[float(m) * 60.0]] for m in minutes]


def _polygonize(grid: np.ndarray, ranges: np.ndarray, gx0: float, gy0: float, cdx: float, cdy: float) -> list[dict]:
    """GeoJSON MultiPolygons of the cells reached within each range, straight from rasterio
    (whose polygons of a raster are valid by construction, touching at corners at most)."""
    from rasterio.features import shapes
    from rasterio.transform import Affine

    transform = Affine(cdx, 0, gx0, 0, cdy, gy0)  # row 0 is the southern edge
    out = []
    for k in range(len(ranges)):
        mask = (grid <= k).astype(np.uint8)
        parts = [
            geom["coordinates"]
            for geom, val in shapes(mask, mask=mask.astype(bool), transform=transform, connectivity=4)
            if val == 1
        ]
        out.append({"type": "MultiPolygon", "coordinates": parts})
    return out
