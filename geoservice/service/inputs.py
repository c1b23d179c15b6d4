"""Parsing of the values every face takes as text (minutes lists, times, boxes), with one error."""

from __future__ import annotations

import math
from datetime import datetime

from ..errors import GeoserviceError
from ..questions import MAX_MINUTES, parse_minutes

__all__ = ["parse_minutes", "parse_at", "parse_bbox", "check_lonlat", "MAX_MINUTES"]


def parse_at(text: str | None, field: str = "at") -> datetime | None:
    """An ISO date-time, read as local wall-clock time at the facility (any offset is dropped)."""
    if text is None or not str(text).strip():
        return None
    try:
        when = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise GeoserviceError(
            field, f"must be an ISO date-time such as 2026-11-22T14:30; got {str(text)[:60]!r}"
        ) from None
    return when.replace(tzinfo=None)


def parse_bbox(text: str | None, field: str = "bbox") -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise GeoserviceError(field, f"must be minlon,minlat,maxlon,maxlat; got {text[:80]!r}") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise GeoserviceError(field, f"must be 4 numbers minlon,minlat,maxlon,maxlat; got {text[:80]!r}")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise GeoserviceError(field, "need -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90")
    return x0, y0, x1, y1


def check_lonlat(lon: float, lat: float, lon_field: str = "lon", lat_field: str = "lat") -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise GeoserviceError(lon_field, f"must be within [-180, 180], got {lon}")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise GeoserviceError(lat_field, f"must be within [-90, 90], got {lat}")
