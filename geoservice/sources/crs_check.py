"""Which coordinate system a facility file is likely in, judged by how close its points lie to
the roads.

A file in GCJ-02 (AMap, Tencent) or BD-09 (Baidu) declared as WGS-84 loads without a single bad
row, yet inside China every point is a few hundred metres off, which changes which center is
nearest. Facilities sit on or beside roads, so the reading of the file that puts its points
closest to the road network is the likely one. ``check_crs`` compares the median distance to a
road of the points as declared with the median when the same numbers are read as each other
system, and says so when another reading fits much better.

Only points inside China (``out_of_china``) can be shifted, and only points near the network
(some reading within ``CHECK_RADIUS_M`` of a road) say anything, so a file that covers more than
the region is judged by the part that the region holds.

Thresholds (measured on the Shanghai/Huangpu extract, one of the densest road networks there is:
ten road points shifted to GCJ-02 but declared WGS-84 lie a median 30-170 m from *some* road,
median 85 m, because another street is never far; read correctly they lie on the road):

* ``RATIO`` 3: another reading's median must be at least 3 times smaller. Correctly declared
  points 0-60 m from their road never came within a ratio of 0.6 (200 random draws).
* ``MIN_DECLARED_M`` 30 m: below that every reading is "on the road" within geocoding error,
  and a ratio of small numbers means nothing.
* ``MIN_POINTS`` 5: a median of one or two points can fit another street by chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .coords import CRS_CHOICES, out_of_china, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02

__all__ = [
    "CHECK_RADIUS_M",
    "MIN_DECLARED_M",
    "MIN_POINTS",
    "RATIO",
    "CrsCheck",
    "DistanceFn",
    "as_declared",
    "check_crs",
    "network_distances",
]

CHECK_RADIUS_M: Final = 2000.0
RATIO: Final = 3.0
MIN_DECLARED_M: Final = 30.0
MIN_POINTS: Final = 5
NAMES: Final = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}

DistanceFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
"""WGS-84 lon, lat → metres from each point to the nearest road (inf beyond the search radius)."""


def _key(crs: str) -> str:
    return crs.strip().lower().replace("-", "").replace("_", "")


def _fmt(m: float) -> str:
    return f"over {CHECK_RADIUS_M:.0f} m" if not math.isfinite(m) else f"{m:.0f} m"


@dataclass(frozen=True)
class CrsCheck:
    """The figures of one check: ``median_m`` per reading (the declared one first; inf: farther
    than ``CHECK_RADIUS_M``), the points they come from, and ``likely``/``warning`` when another
    system fits much better (else None)."""

    declared: str
    points: int
    median_m: dict[str, float]
    likely: str | None = None
    warning: str | None = None

    def to_meta(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "points_checked": self.points,
            "median_m": {k: (round(v, 1) if math.isfinite(v) else None) for k, v in self.median_m.items()},
            "likely": self.likely,
            "warning": self.warning,
        }


def as_declared(lon: ArrayLike, lat: ArrayLike, declared: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 points (as loaded) back to the numbers the file held in its ``declared`` system."""
    key = _key(declared)
    forward = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(key)
    x, y = forward(lon, lat) if forward else (np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    return np.atleast_1d(np.asarray(x, np.float64)), np.atleast_1d(np.asarray(y, np.float64))


def check_crs(
    lon: ArrayLike,
    lat: ArrayLike,
    declared: str,
    distances: DistanceFn,
    *,
    label: str | None = None,
    flag: str = "--crs",
) -> CrsCheck | None:
    """Check that ``declared`` is the likely system of a file's points.

    ``lon``/``lat`` are the points as loaded (converted to WGS-84 from ``declared``);
    ``distances`` measures WGS-84 points against the road network. Returns None when no point
    can tell (none inside China, or none near the network); otherwise the figures, with a
    one-line ``warning`` (prefixed by ``label``, e.g. the file name, and naming ``flag``) when
    another reading puts the points much closer to the roads (see the module thresholds).
    """
    decl = _key(declared)
    rx, ry = as_declared(lon, lat, decl)
    ok = np.isfinite(rx) & np.isfinite(ry)
    inside = ok & ~np.asarray(out_of_china(rx, ry), bool)
    if not inside.any():
        return None
    rx, ry = rx[inside], ry[inside]
    readings = [decl, *(c for c in CRS_CHOICES if c != decl)]
    dist: dict[str, NDArray[np.float64]] = {}
    for c in readings:
        wx, wy = to_wgs84(rx, ry, c)
        dist[c] = np.asarray(distances(np.atleast_1d(wx), np.atleast_1d(wy)), np.float64)
    near = np.zeros(len(rx), bool)
    for d in dist.values():
        near |= np.isfinite(d)
    n = int(near.sum())
    if n == 0:
        return None
    median = {c: float(np.median(d[near])) for c, d in dist.items()}
    check = CrsCheck(decl, n, median)
    best = min(readings[1:], key=lambda c: median[c])
    if n < MIN_POINTS or median[decl] < MIN_DECLARED_M or not median[best] * RATIO <= median[decl]:
        return check
    others = ", as ".join(f"{c}: {_fmt(median[c])}" for c in readings[1:])
    warning = (
        f"{label + ': ' if label else ''}declared {decl}: median {_fmt(median[decl])} from a road; "
        f"read as {others} ({n} points checked) — the file is probably {NAMES[best]}; pass {flag} {best}"
    )
    return CrsCheck(decl, n, median, best, warning)


def network_distances(net: Any, radius_m: float = CHECK_RADIUS_M) -> DistanceFn:
    """A ``DistanceFn`` over a bundle network's road geometries (projected ``x``/``y``, one line
    per ``geom_a``..``geom_b`` range): the straight-line distance to the nearest road, the one
    the engine's snapping measures, and inf beyond ``radius_m``."""
    import shapely
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    x, y = np.asarray(net.x, np.float64), np.asarray(net.y, np.float64)
    ga, gb = np.asarray(net.geom_a, np.int64), np.asarray(net.geom_b, np.int64)
    counts = gb - ga + 1
    offsets = np.cumsum(counts) - counts
    pos = np.repeat(ga, counts) + (np.arange(int(counts.sum())) - np.repeat(offsets, counts))
    px, py = x[pos], y[pos]
    gx0, gx1 = np.minimum.reduceat(px, offsets), np.maximum.reduceat(px, offsets)
    gy0, gy1 = np.minimum.reduceat(py, offsets), np.maximum.reduceat(py, offsets)

    def distances(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        qx, qy = (np.atleast_1d(np.asarray(v, np.float64)) for v in to_xy.transform(lon, lat))
        out = np.full(len(qx), np.inf)
        fin = np.isfinite(qx) & np.isfinite(qy)
        if not fin.any() or len(ga) == 0:
            return out
        # only the roads near the points (a province-wide network holds millions)
        sel = np.flatnonzero(
            (gx1 >= qx[fin].min() - radius_m)
            & (gx0 <= qx[fin].max() + radius_m)
            & (gy1 >= qy[fin].min() - radius_m)
            & (gy0 <= qy[fin].max() + radius_m)
        )
        if len(sel) == 0:
            return out
        keep = np.repeat(np.isin(np.arange(len(ga)), sel), counts)
        line_of = np.repeat(np.arange(len(ga)), counts)[keep]
        lines = shapely.linestrings(px[keep], py[keep], indices=np.searchsorted(sel, line_of))
        tree = shapely.STRtree(lines)
        idx = np.flatnonzero(fin)
        (qi, _), d = tree.query_nearest(
            shapely.points(qx[idx], qy[idx]), max_distance=radius_m, return_distance=True, all_matches=False
        )
        np.minimum.at(out, idx[qi], d)
        return out

    return distances
