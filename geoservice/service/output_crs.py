"""Answers in WGS-84 or, for overlays on an AMap (GCJ-02) basemap, in GCJ-02.

Inside geoservice everything is WGS-84; a face that asks for ``crs="gcj02"`` gets its input
points read as GCJ-02 and every coordinate of the answer shifted to GCJ-02.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from ..sources import coords

__all__ = ["OutputCrs", "OUTPUT_CRS", "to_wgs84", "shift_point", "shift_geometry", "nav_links"]

OutputCrs = Literal["wgs84", "gcj02"]
OUTPUT_CRS: tuple[str, ...] = ("wgs84", "gcj02")


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A query point given in ``crs`` as WGS-84."""
    if crs == "gcj02":
        x, y = coords.gcj02_to_wgs84(lon, lat)
        return float(x), float(y)
    return float(lon), float(lat)


def shift_point(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A WGS-84 point in ``crs``, rounded to 7 decimals (about 1 cm)."""
    if crs == "wgs84":
        return round(float(lon), 7), round(float(lat), 7)
    x, y = coords.wgs84_to_gcj02(lon, lat)
    return round(float(x), 7), round(float(y), 7)


def _map_coords(obj: Any, fn: Callable[[float, float], Any]) -> Any:
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (int, float)):
        x, y = fn(obj[0], obj[1])
        return [round(float(x), 7), round(float(y), 7), *obj[2:]]
    if isinstance(obj, (list, tuple)):
        return [_map_coords(o, fn) for o in obj]
    return obj


def shift_geometry(geom: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """A GeoJSON geometry in WGS-84 → the same in ``crs`` (gcj02 shifts it; wgs84 returns it)."""
    if geom is None or crs == "wgs84":
        return geom
    if geom.get("type") == "GeometryCollection":
        return dict(geom, geometries=[shift_geometry(g, crs) for g in geom["geometries"]])
    return dict(geom, coordinates=_map_coords(geom["coordinates"], coords.wgs84_to_gcj02))


def nav_links(lon: float, lat: float, name: str, profile: str) -> dict[str, str]:
    """Hand-off to phone navigation. AMap wants GCJ-02, Baidu BD-09, geo: WGS-84."""
    glon, glat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    blon, blat = (float(v) for v in coords.wgs84_to_bd09(lon, lat))
    walk = profile == "walk"
    n = quote(name or "destination")
    return {
        "geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({n})",
        "amap": (
            f"amapuri://route/plan/?dlat={glat:.6f}&dlon={glon:.6f}&dname={n}&dev=0"
            f"&t={2 if walk else 0}&sourceApplication=geoservice"
        ),
        "amap_web": (
            f"https://uri.amap.com/navigation?to={glon:.6f},{glat:.6f},{n}"
            f"&mode={'walk' if walk else 'car'}&coordinate=gaode&callnative=1&src=geoservice"
        ),
        "baidu": (
            f"baidumap://map/direction?destination=latlng:{blat:.6f},{blon:.6f}|name:{n}"
            f"&coord_type=bd09ll&mode={'walking' if walk else 'driving'}&src=geoservice"
        ),
    }
