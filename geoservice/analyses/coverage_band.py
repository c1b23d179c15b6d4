"""How sure a coverage figure is: people covered on a typical day (P50) and on a bad one (P90),
and the expected share covered, overall and per admin unit.

From each populated node's *median* network time ``t`` to the nearest facility (the traffic's
factors without the percentile's multiplier): covered at percentile p when ``t x m_p <= T``
(``m_p`` the spread's multiplier, ``analyses.travel_spread``), and the expected people covered
``sum(people x P(time <= T))`` with the spread's lognormal. The multiplier scales the whole node
time (the network part; the facility's own snap leg is a few seconds of it). People off the
network count in the totals and are never covered, as in ``analyses.coverage``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bundle.population import load_population
from ..engine.engine import Engine
from .travel_spread import Spread

__all__ = ["coverage_band"]


def coverage_band(
    engine: Engine,
    dist: np.ndarray,
    *,
    profile: str,
    minutes: float,
    spread: Spread,
    hour: int | None = None,
    by_unit: bool = True,
) -> dict[str, Any]:
    net = engine.router_for(profile).net
    layer = load_population(engine.region, net.name)
    pop, off = layer.population, layer.off
    T = minutes * 60.0
    m50, m90 = spread.multiplier(50, hour), spread.multiplier(90, hour)
    d = np.where(np.isfinite(dist), dist, np.inf)
    c50, c90 = d * m50 <= T, d * m90 <= T
    prob = spread.prob_within(np.where(np.isfinite(d), d, np.nan), T, hour)
    total = float(pop.sum() + off.sum())
    people = bool(layer.has_census)

    def fig(p50: float, p90: float, exp: float, tot: float) -> dict[str, Any]:
        if not people:
            return {"population": None, "covered_p50": None, "covered_p90": None, "expected_covered": None}

        def sh(a: float) -> float | None:
            return round(a / tot, 6) if tot > 0 else None

        return {
            "population": round(tot, 1),
            "covered_p50": round(p50, 1),
            "covered_p90": round(p90, 1),
            "expected_covered": round(exp, 1),
            "share_p50": sh(p50),
            "share_p90": sh(p90),
            "expected_share": sh(exp),
        }

    out: dict[str, Any] = {
        "spread": spread.label,
        "calibrated": spread.calibrated,
        "multiplier_p50": round(m50, 4),
        "multiplier_p90": round(m90, 4),
        "method": (
            "each populated node's median network time to the nearest facility x the spread's multiplier: "
            "covered at P50 / P90 when within the target; expected = sum of people x P(time <= target) "
            "(lognormal through the spread's p50 and p90)"
        ),
        "overall": fig(float(pop[c50].sum()), float(pop[c90].sum()), float((pop * prob).sum()), total),
        "by_unit": [],
    }
    if by_unit:
        units, u = layer.units, layer.unit
        nu = len(units)
        ok = u >= 0
        upop = np.bincount(u[ok], pop[ok], minlength=nu) + off
        u50 = np.bincount(u[ok & c50], pop[ok & c50], minlength=nu)
        u90 = np.bincount(u[ok & c90], pop[ok & c90], minlength=nu)
        uexp = np.bincount(u[ok], (pop * prob)[ok], minlength=nu)
        for k in range(nu):
            out["by_unit"].append(
                {
                    "admin_code": str(units.iloc[k]["admin_code"]),
                    "name": str(units.iloc[k]["name"]),
                    **fig(float(u50[k]), float(u90[k]), float(uexp[k]), float(upop[k])),
                }
            )
    return out
