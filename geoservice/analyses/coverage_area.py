"""The area side of coverage: road-touched grid cells, those reached in time, and the gap polygons.

Cells of ``cell`` metres touched by a road piece (grown by one cell, as isochrones) make the
extent; a cell is covered when a road in it is reached within T (the isochrone's own compiled
pass), with the cell of every junction not reached in time cut out; gaps are the rest, polygonised.
"""

from __future__ import annotations

from typing import Any

import numpy as np

UNREACHED = 1e12

__all__ = ["extent_grid", "cover_grid", "gap_features", "UNREACHED"]


def extent_grid(router, cell):
    """Cells touched by any road piece (cached per router)."""
    from ..engine import kernels

    key = ("extent", cell)
    cache = router.__dict__.setdefault("_analysis_cache", {})
    if key not in cache:
        net = router.net
        gx0 = float(net.x.min()) - 3 * cell
        gy0 = float(net.y.min()) - 3 * cell
        nx = int((net.x.max() + 3 * cell - gx0) // cell) + 1
        ny = int((net.y.max() + 3 * cell - gy0) // cell) + 1
        g = np.arange(len(net.geom_a), dtype=np.int64)
        z = np.zeros(len(g))
        grid = kernels.rasterize_reach(
            net.x,
            net.y,
            net.geom_a,
            net.geom_b,
            net.cumlen,
            g,
            z,
            z,
            z,
            np.array([0.0]),
            gx0,
            gy0,
            cell,
            cell,
            cell,
            nx,
            ny,
            -1,
            0.0,
            0.0,
            0.0,
        )
        from scipy.ndimage import minimum_filter

        ext = minimum_filter(grid, size=3, mode="constant", cval=255) == 0
        cache[key] = (gx0, gy0, nx, ny, ext)
    return cache[key]


def cover_grid(router, dist, profile, weights, T, cell):
    from scipy.ndimage import minimum_filter

    from ..engine import kernels
    from ..engine.isochrone import reached_pieces

    net = router.net
    gx0, gy0, nx, ny, ext = extent_grid(router, cell)
    # the same reached pieces as an isochrone towards the facilities (travel "to" them)
    sel, t0, t1, tau = reached_pieces(net, dist, weights, T, forward=False)
    grid = kernels.rasterize_reach(
        net.x,
        net.y,
        net.geom_a,
        net.geom_b,
        net.cumlen,
        sel,
        t0,
        t1,
        tau,
        np.array([float(T)]),
        gx0,
        gy0,
        cell,
        cell,
        cell,
        nx,
        ny,
        -1,
        0.0,
        0.0,
        0.0,
    )
    cov = (minimum_filter(grid, size=3, mode="constant", cval=255) == 0) & ext
    # the cell of every junction not reached within T is not covered (as in isochrones): else a
    # populated node beside a reached road would be neither covered nor in a gap
    late = ~(dist <= T)
    cx = ((net.node_x[late] - gx0) // cell).astype(np.int64)
    cy = ((net.node_y[late] - gy0) // cell).astype(np.int64)
    ok = (cx >= 0) & (cy >= 0) & (cx < cov.shape[1]) & (cy < cov.shape[0])
    cov[cy[ok], cx[ok]] = False
    return gx0, gy0, ext, cov


def gap_features(router, gx0, gy0, cell, ext, cov, pop, dist, T, max_features=500):
    import shapely
    from pyproj import Transformer
    from rasterio.features import shapes
    from rasterio.transform import Affine
    from scipy.ndimage import label as cc_label

    net = router.net
    gap = ext & ~cov
    lab, n = cc_label(gap, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    if n == 0:
        return []
    # population and worst time per gap component, from the uncovered nodes inside it
    cx = ((net.node_x - gx0) // cell).astype(np.int64)
    cy = ((net.node_y - gy0) // cell).astype(np.int64)
    inside = (cx >= 0) & (cy >= 0) & (cx < lab.shape[1]) & (cy < lab.shape[0])
    comp = np.zeros(net.n_nodes, np.int64)
    comp[inside] = lab[cy[inside], cx[inside]]
    unc = ~(dist <= T)
    comp = np.where(unc, comp, 0)
    gpop = np.bincount(comp, pop, minlength=n + 1)
    finite = np.where(np.isfinite(dist), dist, UNREACHED)
    worst = np.zeros(n + 1)
    np.maximum.at(worst, comp, finite)
    area = np.bincount(lab.ravel(), minlength=n + 1) * cell * cell / 1e6
    transform = Affine(cell, 0, gx0, 0, cell, gy0)
    to_wgs = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    feats = []
    for geom, val in shapes(lab.astype(np.int32), mask=gap, transform=transform, connectivity=4):
        k = int(val)
        g = shapely.geometry.shape(geom)
        g = shapely.transform(g, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
        feats.append((k, g))
    merged: dict[int, list] = {}
    for k, g in feats:
        merged.setdefault(k, []).append(g)
    out: list[dict[str, Any]] = []
    for k, parts in merged.items():
        g = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        g = shapely.set_precision(g, 1e-6)
        w = worst[k]
        out.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {
                    "gap_id": k,
                    "area_km2": round(float(area[k]), 3),
                    "population": round(float(gpop[k]), 1),
                    "max_time_s": None if w >= UNREACHED else round(float(w), 1),
                },
            }
        )
    out.sort(key=lambda f: (-f["properties"]["population"], -f["properties"]["area_km2"]))
    return out[:max_features]
