"""Typed answers of the engine: the k nearest facilities and each one's route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..bundle.network import haversine_m
from ..sources.cell_values import plain_value

__all__ = ["NearestHit", "NearestResult", "route_length_m", "facility_dict"]


@dataclass(frozen=True)
class NearestHit:
    """One facility reached: its record, travel time and route (GeoJSON LineString, WGS-84)."""

    facility: dict[str, Any]
    time_s: float  # the whole trip: both off-network legs and the network between them
    distance_m: float
    snap_m: float
    facility_snap_m: float
    route: dict[str, Any]
    access_s: float = 0.0  # of time_s: the point's own off-network leg (on foot)
    facility_access_s: float = 0.0  # of time_s: the facility's off-network leg (on foot)
    open_at: bool | None = None  # with ``at``: True open then, None hours unknown (never "open")


@dataclass(frozen=True)
class NearestResult:
    """The k nearest facilities from/to a point, nearest first."""

    lon: float
    lat: float
    snap_m: float
    snapped: tuple[float, float]
    profile: str
    direction: str
    hits: list[NearestHit]


def route_length_m(coords: ArrayLike) -> float:
    c = np.asarray(coords, float)
    if len(c) < 2:
        return 0.0
    return float(haversine_m(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum())


def facility_dict(row: Any) -> dict[str, Any]:
    """A facility table row as a plain dict (WGS-84 lon/lat rounded to 7 decimals)."""
    out = {k: plain_value(v) for k, v in row.items() if k != "geometry"}
    out["lon"] = round(float(row.geometry.x), 7)
    out["lat"] = round(float(row.geometry.y), 7)
    return out
