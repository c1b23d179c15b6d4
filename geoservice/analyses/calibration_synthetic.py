"""SYNTHETIC observed trips from a stated hidden truth, for examples, tests and benchmarks of
calibration: never data about any real trip.

The truth (``Truth``): a travel-time factor per road class for each of six hour bands (night,
early morning, morning peak, day, evening peak, evening), a fixed overhead per trip (turn-out,
parking) and lognormal noise. A trip starts at a random point of the region's drive roads
(moved up to ``jitter_m`` off the road, like a GPS fix beside it), ends at another one between
``min_km`` and ``max_km`` away in a straight line, departs at a random time of a March 2026
week, and takes ``overhead + t * exp(N(0, sigma^2))`` seconds, where ``t`` is the engine's own
travel time (``Engine.matrix``: the fastest route under the truth's factors of that hour, with
the walks between the points and their roads) — exactly the model calibration fits, so the
fitted factors can be held against the truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..engine.engine import Engine
from .calibration_model import FIT_CLASSES, PARENT

__all__ = ["BANDS", "DEFAULT_TRUTH", "Truth", "TripShape", "synthetic_trips"]

BANDS: dict[str, tuple[int, ...]] = {
    "night": (23, 0, 1, 2, 3, 4, 5),
    "early": (6,),
    "am_peak": (7, 8, 9),
    "day": (10, 11, 12, 13, 14, 15),
    "pm_peak": (16, 17, 18, 19),
    "evening": (20, 21, 22),
}
_BY_PARENT: dict[str, tuple[float, ...]] = {  # night, early, am_peak, day, pm_peak, evening
    "motorway": (1.0, 1.1, 1.5, 1.15, 1.6, 1.1),
    "trunk": (1.0, 1.15, 1.7, 1.25, 1.8, 1.15),
    "primary": (1.0, 1.2, 1.9, 1.35, 2.0, 1.2),
    "secondary": (1.0, 1.15, 1.7, 1.3, 1.8, 1.15),
    "tertiary": (1.0, 1.1, 1.5, 1.25, 1.55, 1.1),
    "local": (1.0, 1.05, 1.25, 1.15, 1.3, 1.05),
}


def _default_factors() -> dict[str, dict[str, float]]:
    return {
        band: {c: _BY_PARENT[PARENT[c]][k] for c in FIT_CLASSES if _BY_PARENT[PARENT[c]][k] != 1.0}
        for k, band in enumerate(BANDS)
    }


@dataclass(frozen=True)
class Truth:
    """The hidden truth of a synthetic trip file (see the module)."""

    factors: dict[str, dict[str, float]] = field(default_factory=_default_factors)  # band -> {class: factor}
    overhead_s: float = 45.0
    noise_sigma: float = 0.2

    def table(self, hour: int) -> dict[str, float]:
        """The {road class: factor} table of an hour (classes at 1.0 left out)."""
        band = next(b for b, hours in BANDS.items() if hour in hours)
        return dict(self.factors[band])

    def hourly(self) -> dict[str, tuple[float, ...]]:
        """The truth in the hourly-profile shape: 24 factors per fitted class."""
        return {c: tuple(self.table(h).get(c, 1.0) for h in range(24)) for c in FIT_CLASSES}

    def describe(self) -> str:
        rows = "; ".join(
            f"{b} ({','.join(f'{h:02d}' for h in sorted(BANDS[b]))}): "
            + ", ".join(f"{p} {v[k]:g}" for p, v in _BY_PARENT.items())
            for k, b in enumerate(BANDS)
        )
        return (
            f"factors by parent class (links and local roads as their parent) and hour band: {rows}; "
            f"overhead {self.overhead_s:g} s; lognormal noise sigma {self.noise_sigma:g}"
        )


DEFAULT_TRUTH = Truth()


@dataclass(frozen=True)
class TripShape:
    """The trips drawn: straight-line length from ``min_km`` to ``max_km``, each end moved up to
    ``jitter_m`` off its road vertex."""

    min_km: float = 1.0
    max_km: float = 8.0
    jitter_m: float = 15.0


def _road_points(engine: Engine, n: int, rng: np.random.Generator, jitter_m: float) -> np.ndarray:
    """``n`` random vertices of the drive roads, each moved up to ``jitter_m`` in a random direction."""
    net = engine.router_for("drive").net
    pos = rng.integers(0, len(net.lon), n)
    ang = rng.uniform(0, 2 * np.pi, n)
    r = jitter_m * np.sqrt(rng.uniform(0, 1, n))
    lat = net.lat[pos] + r * np.sin(ang) / 111_320.0
    lon = net.lon[pos] + r * np.cos(ang) / (111_320.0 * np.cos(np.radians(net.lat[pos])))
    return np.column_stack([lon, lat])


def synthetic_trips(
    engine: Engine,
    n: int,
    *,
    truth: Truth = DEFAULT_TRUTH,
    seed: int = 0,
    shape: TripShape = TripShape(),
    profile: str = "drive",
    start: dt.date = dt.date(2026, 3, 2),
) -> list[dict[str, object]]:
    """``n`` synthetic trips as rows of the trip-file format (see the module), with the hidden
    noise-free time in ``true_s`` (leave it out of a file meant for calibration)."""
    rng = np.random.default_rng(seed)
    min_km, max_km, jitter_m = shape.min_km, shape.max_km, shape.jitter_m
    origins = _road_points(engine, n, rng, jitter_m)
    dests = np.empty_like(origins)
    todo = np.arange(n)
    while len(todo):  # a destination for each origin within the distance band
        cand = _road_points(engine, len(todo), rng, jitter_m)
        dx = (cand[:, 0] - origins[todo, 0]) * 111_320.0 * np.cos(np.radians(origins[todo, 1]))
        dy = (cand[:, 1] - origins[todo, 1]) * 111_320.0
        km = np.hypot(dx, dy) / 1000.0
        ok = (km >= min_km) & (km <= max_km)
        dests[todo[ok]] = cand[ok]
        todo = todo[~ok]
    weights = np.array([0.5] * 6 + [1.0] * 17 + [0.5])  # fewer trips at night
    hour = rng.choice(24, n, p=weights / weights.sum())
    minute = rng.integers(0, 60, n)
    day = rng.integers(0, 7, n)
    true_s = np.empty(n)
    for h in range(24):
        sel = np.flatnonzero(hour == h)
        for b in range(0, len(sel), 256):
            part = sel[b : b + 256]
            o = [tuple(p) for p in origins[part]]
            d = [tuple(p) for p in dests[part]]
            rows = engine.matrix(o, d, profile=profile, scenario=truth.table(h) or None)
            for k, times, _ in rows:
                true_s[part[k]] = times[k]
    true_s = truth.overhead_s + true_s
    observed = true_s * np.exp(rng.normal(0.0, truth.noise_sigma, n))
    out = []
    for i in range(n):
        when = dt.datetime.combine(start + dt.timedelta(days=int(day[i])), dt.time(int(hour[i]), int(minute[i])))
        out.append(
            {
                "trip_id": f"synthetic-{i + 1:05d}",
                "origin_lon": round(float(origins[i, 0]), 6),
                "origin_lat": round(float(origins[i, 1]), 6),
                "destination_lon": round(float(dests[i, 0]), 6),
                "destination_lat": round(float(dests[i, 1]), 6),
                "depart": when.isoformat(timespec="minutes"),
                "observed_s": round(float(observed[i]), 1),
                "true_s": float(true_s[i]),
            }
        )
    return out
