"""What every coordinate-system check shares (``sources.crs_check``): its thresholds, the
figures of a check (``CrsCheck``) and the readings of a file's numbers in each system."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .coords import CRS_CHOICES, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02

__all__ = [
    "CHECK_RADIUS_M",
    "CLEAR",
    "CONSISTENT",
    "FIT_M",
    "MAX_NAMESAKES",
    "MIN_DECLARED_M",
    "MIN_MATCHES",
    "MIN_POINTS",
    "NAMES",
    "RATIO",
    "SEPARATION_M",
    "M_PER_DEG",
    "CrsCheck",
    "DistanceFn",
    "as_declared",
    "crs_key",
    "fix_hint",
    "fmt_m",
    "read_as_wgs",
    "readings_of",
]

CHECK_RADIUS_M: Final = 2000.0
RATIO: Final = 3.0
MIN_DECLARED_M: Final = 30.0
MIN_POINTS: Final = 5
FIT_M: Final = 300.0
CLEAR: Final = 0.5
SEPARATION_M: Final = 100.0
MIN_MATCHES: Final = 5
CONSISTENT: Final = 2.0 / 3.0
MAX_NAMESAKES: Final = 3
NAMES: Final = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
M_PER_DEG: Final = 111_320.0  # metres per degree of latitude (and of longitude at the equator)

DistanceFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
"""WGS-84 lon, lat → metres from each point to the nearest road (inf beyond the search radius)."""


def crs_key(crs: str) -> str:
    return crs.strip().lower().replace("-", "").replace("_", "")


def fmt_m(m: float) -> str:
    return f"over {CHECK_RADIUS_M:.0f} m" if not math.isfinite(m) else f"{m:.0f} m"


def fix_hint(fix: str, crs: str) -> str:
    return fix.format(crs=crs)


@dataclass(frozen=True)
class CrsCheck:
    """The figures of one check: what they come from (``evidence``: ``names`` or ``roads``),
    ``median_m`` per reading (the declared one first: metres to the same-named OSM facility, or
    to a road; inf: farther than ``CHECK_RADIUS_M``), the points they come from, and
    ``likely``/``warning`` when another system fits much better (else None). ``matched`` is how
    many points have a namesake in the region and ``votes`` which reading each of those that
    could tell puts on it; ``offset_m`` the median (east, north) of the declared points from their
    namesakes when the names named another system."""

    declared: str
    points: int
    median_m: dict[str, float]
    likely: str | None = None
    warning: str | None = None
    evidence: str = "roads"
    matched: int = 0
    votes: dict[str, int] = field(default_factory=dict)
    offset_m: tuple[float, float] | None = None

    def to_meta(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "evidence": self.evidence,
            "points_checked": self.points,
            "median_m": {k: (round(v, 1) if math.isfinite(v) else None) for k, v in self.median_m.items()},
            "names_matched": self.matched,
            "votes": dict(self.votes),
            "likely": self.likely,
            "warning": self.warning,
        }


def as_declared(lon: ArrayLike, lat: ArrayLike, declared: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 points (as loaded) back to the numbers the file held in its ``declared`` system."""
    key = crs_key(declared)
    forward = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(key)
    x, y = forward(lon, lat) if forward else (np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    return np.atleast_1d(np.asarray(x, np.float64)), np.atleast_1d(np.asarray(y, np.float64))


def readings_of(decl: str) -> list[str]:
    return [decl, *(c for c in CRS_CHOICES if c != decl)]


def read_as_wgs(
    rx: NDArray[np.float64], ry: NDArray[np.float64], crs: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    wx, wy = to_wgs84(rx, ry, crs)
    return np.atleast_1d(np.asarray(wx, np.float64)), np.atleast_1d(np.asarray(wy, np.float64))
