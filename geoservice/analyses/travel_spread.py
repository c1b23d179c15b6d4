"""How sure a travel time is: the spread of observed / predicted times, as multipliers of the
network time, for answers at a percentile (``percentile=50|80|90``).

A calibrated profile predicts the *median* time of a trip; real trips scatter around it. The
spread is read from ``geoservice calibrate``'s report.json (``evaluation.time_multipliers``: the
held-out quantiles p10..p95 of observed / predicted, overall and per departure-hour band when the
report has them). A band with fewer than ``MIN_BAND_TRIPS`` held-out trips uses the overall figures.

Without a calibrated profile the spread is ``DEFAULT_SIGMA``: a lognormal multiplier with median 1
and sigma 0.25 in logs (P80 x1.23, P90 x1.38). **An assumption**, not a measurement: it is of the
size of the noise the SYNTHETIC Shanghai example was drawn with (0.2) plus a margin, and the
published comparisons quoted in the README (taxi traces vs network times in Beijing, ambulance runs
in Multnomah County) only motivate that network times are optimistic and scattered; they do not
give this figure. Calibrate with a city's own trips to replace it.

The probability that a trip whose median network time is ``t`` arrives within ``T`` is that of a
lognormal with the band's median and its spread (``sigma = ln(p90 / p50) / z90``):
``Phi((ln(T / t) - mu) / sigma)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

__all__ = [
    "DEFAULT_SIGMA",
    "PERCENTILES",
    "HOUR_BANDS",
    "Spread",
    "default_spread",
    "hour_band",
    "spread_from_report",
]

DEFAULT_SIGMA = 0.25
PERCENTILES = (50, 80, 90)
MIN_BAND_TRIPS = 30
Z = {10: -1.2815516, 25: -0.6744898, 50: 0.0, 75: 0.6744898, 80: 0.8416212, 90: 1.2815516, 95: 1.6448536}
HOUR_BANDS: dict[str, tuple[int, ...]] = {
    "night": tuple(range(0, 7)),
    "am_peak": (7, 8, 9),
    "day": tuple(range(10, 17)),
    "pm_peak": (17, 18, 19),
    "evening": (20, 21, 22, 23),
}
DEFAULT_SOURCE = (
    f"default spread (an assumption: lognormal around 1, sigma {DEFAULT_SIGMA} in logs; calibrate the region "
    "with observed trips to replace it)"
)


def hour_band(hour: int) -> str:
    return next(name for name, hours in HOUR_BANDS.items() if hour in hours)


def _lognormal(q: dict[str, Any]) -> tuple[float, float]:
    p50, p90 = q.get("p50"), q.get("p90")
    if not p50 or not p90 or p50 <= 0 or p90 <= 0:
        return 0.0, DEFAULT_SIGMA
    return math.log(p50), max(math.log(p90 / p50) / Z[90], 1e-3)


@dataclass(frozen=True)
class Spread:
    """Multiplier quantiles (``{"p50": …, "p90": …}``) overall and per hour band; ``label`` is what
    answers say (``calibrated from 1,499 trips`` or the default's sentence)."""

    calibrated: bool
    label: str
    overall: dict[str, float]
    by_hour_band: dict[str, dict[str, float]] = field(default_factory=dict)
    trips: int | None = None

    def quantiles(self, hour: int | None = None) -> dict[str, float]:
        if hour is not None:
            band = self.by_hour_band.get(hour_band(hour))
            if band and (band.get("trips") or 0) >= MIN_BAND_TRIPS:
                return band
        return self.overall

    def lognormal(self, hour: int | None = None) -> tuple[float, float]:
        """(mu, sigma) of the log multiplier."""
        return _lognormal(self.quantiles(hour))

    def multiplier(self, percentile: int, hour: int | None = None) -> float:
        """The factor a median network time is multiplied by at ``percentile`` (the empirical
        quantile when the report has it, else the lognormal through p50 and p90)."""
        q = self.quantiles(hour)
        v = q.get(f"p{percentile}")
        if v:
            return float(v)
        mu, sigma = _lognormal(q)
        return math.exp(mu + sigma * Z[percentile])

    def prob_within(self, times_s: np.ndarray, target_s: float, hour: int | None = None) -> np.ndarray:
        """Per median time, the probability of arriving within ``target_s`` (0 where unreachable)."""
        mu, sigma = self.lognormal(hour)
        t = np.asarray(times_s, dtype=float)
        out = np.zeros(t.shape)
        ok = np.isfinite(t) & (t > 0)
        out[ok] = ndtr((np.log(target_s / t[ok]) - mu) / sigma)
        out[np.isfinite(t) & (t <= 0)] = 1.0
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "calibrated": self.calibrated,
            "label": self.label,
            "trips": self.trips,
            "overall": self.overall,
            "by_hour_band": self.by_hour_band,
        }


def default_spread() -> Spread:
    q = {f"p{p}": round(math.exp(DEFAULT_SIGMA * z), 3) for p, z in Z.items()}
    return Spread(False, DEFAULT_SOURCE, q)


def spread_from_report(report: dict[str, Any]) -> Spread:
    """The spread of a calibrate report.json (its held-out multipliers), else the default."""
    ev = report.get("evaluation") or {}
    overall = ev.get("time_multipliers") or {}
    if not overall.get("p50") or not overall.get("p90"):
        return default_spread()
    n = ev.get("trips_scored") or (report.get("trips") or {}).get("used")
    bands = {k: v for k, v in (ev.get("time_multipliers_by_hour_band") or {}).items() if isinstance(v, dict)}
    label = f"calibrated from {n:,} held-out trips" if n else "calibrated (held-out trips)"
    return Spread(True, label, overall, bands, int(n) if n else None)


def spread_from_json(data: dict[str, Any] | None) -> Spread:
    """A spread saved by ``Spread.to_json``; the default when there is none."""
    if not data or not data.get("calibrated"):
        return default_spread()
    return Spread(True, data["label"], data["overall"], data.get("by_hour_band") or {}, data.get("trips"))
