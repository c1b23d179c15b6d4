"""Coordinate systems used by Chinese map sources, converted explicitly.

* WGS-84: GPS, OpenStreetMap, TianDiTu (CGCS2000 is within centimetres of it).
* GCJ-02 ("Mars coordinates"): AMap/Gaode, Tencent, DataV, Apple/Google maps inside China.
* BD-09: Baidu maps (GCJ-02 with a second offset on top).

The GCJ-02 offset (hundreds of metres) is a published-but-unofficial algorithm applied only
inside China; outside the usual bounding box it is the identity (``out_of_china``).
All functions take scalars or array-likes (broadcast together) and return float64 results of
the broadcast shape (numpy scalars for scalar input).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import GeoserviceError

__all__ = [
    "CRS_CHOICES",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "to_wgs84",
    "out_of_china",
]

CRS_CHOICES: Final = ("wgs84", "gcj02", "bd09")

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE: Final = 0.00669342162296594323  # its first eccentricity squared
_X_PI: Final = math.pi * 3000.0 / 180.0
_TOL: Final = 1e-9  # degrees; iterative inverses stop below this (~0.1 mm)
_MAX_ITER: Final = 30

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]


def _prep(lon: ArrayLike, lat: ArrayLike) -> Coords:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.copy(), y.copy()


def _out(x: NDArray[np.float64], y: NDArray[np.float64]) -> Coords:
    # 0-d arrays become numpy scalars (float subclasses) so scalar callers get plain numbers.
    return x[()], y[()]


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where GCJ-02 does not apply (the standard rectangular rule, not a border test)."""
    x, y = _prep(lon, lat)
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def _gcj_delta(x: NDArray[np.float64], y: NDArray[np.float64]) -> Coords:
    """GCJ-02 minus WGS-84 (degrees) at WGS-84 position (x, y), ignoring the China test."""
    dx, dy = x - 105.0, y - 35.0
    sq = np.sqrt(np.abs(dx))
    t_lat = (
        -100.0
        + 2.0 * dx
        + 3.0 * dy
        + 0.2 * dy * dy
        + 0.1 * dx * dy
        + 0.2 * sq
        + (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(dy / 12.0 * np.pi) + 320.0 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0
    )
    t_lon = (
        300.0
        + dx
        + 2.0 * dy
        + 0.1 * dx * dx
        + 0.1 * dx * dy
        + 0.1 * sq
        + (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS-84 → GCJ-02 (the forward algorithm; identity outside China)."""
    x, y = _prep(lon, lat)
    inside = ~out_of_china(x, y)
    d_lon, d_lat = _gcj_delta(x, y)
    x[inside] += d_lon[inside]
    y[inside] += d_lat[inside]
    return _out(x, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 → WGS-84, exact inverse by fixed-point iteration (converges to < 1e-9 deg).

    The one-step approximation (subtract the offset evaluated at the GCJ point) is off by
    up to a few metres; iterating ``w ← w − (gcj(w) − g)`` removes that.
    """
    gx, gy = _prep(lon, lat)
    inside = ~out_of_china(gx, gy)
    wx, wy = gx.copy(), gy.copy()
    if not inside.any():
        return _out(wx, wy)
    tx, ty = gx[inside], gy[inside]
    ex, ey = tx.copy(), ty.copy()
    for _ in range(_MAX_ITER):
        d_lon, d_lat = _gcj_delta(ex, ey)
        rx, ry = ex + d_lon - tx, ey + d_lat - ty
        ex, ey = ex - rx, ey - ry
        err = np.maximum(np.abs(rx), np.abs(ry))
        if not np.any(err > _TOL):  # NaN inputs compare False and simply stay NaN
            break
    wx[inside], wy[inside] = ex, ey
    return _out(wx, wy)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    x, y = _prep(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 → GCJ-02: the usual closed-form inverse, refined by iteration to < 1e-9 deg."""
    bx, by = _prep(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        fx, fy = gcj02_to_bd09(gx, gy)
        rx, ry = np.asarray(fx) - bx, np.asarray(fy) - by
        gx, gy = gx - rx, gy - ry
        if not np.any(np.maximum(np.abs(rx), np.abs(ry)) > _TOL):
            break
    return _out(np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 → WGS-84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS-84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> Coords:
    """Convert from ``crs`` (one of CRS_CHOICES, case-insensitive) to WGS-84."""
    key = crs.strip().lower().replace("-", "").replace("_", "") if isinstance(crs, str) else crs
    if key == "wgs84":
        return _out(*_prep(lon, lat))
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise GeoserviceError("crs", f"unknown coordinate system {crs!r}; allowed: {', '.join(CRS_CHOICES)}")
