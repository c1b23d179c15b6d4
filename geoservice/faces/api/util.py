"""Helpers shared by routers: engine error mapping, facility features, navigation links."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import quote

from ...engine.engine import QueryError
from ...engine.router import SnapError
from ...sources import coords as _coords
from ...sources.facilities import plain_value
from .errors import ApiError
from .state import shift_point


@contextmanager
def engine_errors(point_field: str = "lon,lat"):
    """SnapError → 422 naming the point and its snap distance; QueryError → 422 naming its field."""
    try:
        yield
    except SnapError as exc:
        d = None if exc.distance_m is None else round(float(exc.distance_m), 1)
        raise ApiError(422, point_field, f"{point_field}: {exc}", snap_m=d) from None
    except QueryError as exc:
        raise ApiError(422, exc.field, f"{exc.field}: {exc}") from None


clean = plain_value


def facility_props(rec: dict, region: str, crs: str) -> dict:
    out = {k: clean(v) for k, v in rec.items() if k != "geometry"}
    out["lon"], out["lat"] = shift_point(float(rec["lon"]), float(rec["lat"]), crs)
    out["region"] = region
    return out


def nav_links(lon: float, lat: float, name: str, profile: str) -> dict:
    """Hand-off to phone navigation. AMap wants GCJ-02, Baidu BD-09, geo: WGS-84."""
    glon, glat = (float(v) for v in _coords.wgs84_to_gcj02(lon, lat))
    blon, blat = (float(v) for v in _coords.wgs84_to_bd09(lon, lat))
    walk = profile == "walk"
    n = quote(name or "destination")
    return {
        "geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({n})",
        "amap": (f"amapuri://route/plan/?dlat={glat:.6f}&dlon={glon:.6f}&dname={n}&dev=0"
                 f"&t={2 if walk else 0}&sourceApplication=geoservice"),
        "amap_web": (f"https://uri.amap.com/navigation?to={glon:.6f},{glat:.6f},{n}"
                     f"&mode={'walk' if walk else 'car'}&coordinate=gaode&callnative=1&src=geoservice"),
        "baidu": (f"baidumap://map/direction?destination=latlng:{blat:.6f},{blon:.6f}|name:{n}"
                  f"&coord_type=bd09ll&mode={'walking' if walk else 'driving'}&src=geoservice"),
    }
