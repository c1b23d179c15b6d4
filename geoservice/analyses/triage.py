"""Stroke triage: drip-and-ship (nearest IVT center first) vs. direct to an EVT center.

Decision rule (thresholds configurable, :class:`TriageRule`), per location, with network times
``t_ivt`` (to the nearest IVT-capable center) and ``t_evt`` (to the nearest EVT-capable center):

1. no EVT center reachable -> ``ivt_only``; no IVT center reachable but EVT -> ``direct_evt``;
2. extra = t_evt - t_ivt (the delay to thrombolysis caused by bypassing the IVT center);
   extra <= ``max_extra_min`` -> ``direct_evt`` (the nearest IVT center may itself be the EVT one);
3. otherwise ``drip_and_ship``. The report gives both chains for every location:
   needle time = transport + door-to-needle (facility attribute, default ``default_dtn_min``);
   groin/EVT arrival via drip-and-ship = t_ivt + ``door_in_door_out_min`` + transfer IVT->EVT,
   direct = t_evt; and ``evt_gain_min`` = how much earlier EVT starts when going direct.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..bundle.population import load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.schema import FacilityFilter

__all__ = ["TriageRule", "TriageReport", "triage_rule", "triage_report"]


@dataclass(frozen=True)
class TriageRule:
    max_extra_min: float = 15.0  # extra minutes acceptable to go straight to EVT
    door_in_door_out_min: float = 60.0  # stay at the IVT center before transfer (DIDO)
    default_dtn_min: float = 60.0  # door-to-needle when the center has none recorded

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise GeoserviceError(k, f"triage threshold {k} must be a non-negative number, got {v!r}")


@dataclass(frozen=True)
class TriageReport:
    """The triage per populated location; ``to_json()`` gives report.json (with the layer)."""

    rule: dict[str, float]
    profile: str
    scenario: str | dict[str, float]
    population_by_recommendation: dict[str, float] | None  # None: no population data
    layer: dict[str, Any]  # GeoJSON points: the recommendation and both chains per location
    method: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def triage_rule(t_ivt_s: ArrayLike, t_evt_s: ArrayLike, rule: TriageRule = TriageRule()) -> np.ndarray:
    """Recommendation per location (vectorised) from times in seconds."""
    ti = np.asarray(t_ivt_s, float)
    te = np.asarray(t_evt_s, float)
    out = np.full(ti.shape, "drip_and_ship", dtype=object)
    with np.errstate(invalid="ignore"):  # inf - inf where neither is reachable: handled below
        extra = te - ti
    out[np.isfinite(te) & (extra <= rule.max_extra_min * 60.0 + 1e-9)] = "direct_evt"
    out[np.isfinite(te) & ~np.isfinite(ti)] = "direct_evt"
    out[~np.isfinite(te)] = "ivt_only"
    out[~np.isfinite(te) & ~np.isfinite(ti)] = "unreachable"
    return out


def _dtn(engine: Engine, labels: np.ndarray, default: float) -> np.ndarray:
    col = engine.facilities.get("door_to_needle_min")
    vals = np.full(len(labels), float(default))
    if col is not None:
        v = np.array([float(x) if x not in (None, "") and x == x else np.nan for x in col])
        ok = labels >= 0
        got = v[labels[ok]]
        vals[ok] = np.where(np.isfinite(got), got, default)
    return vals


def triage_report(
    engine: Engine,
    *,
    rule: TriageRule = TriageRule(),
    profile: str = "ambulance",
    scenario: str | dict[str, float] = "free_flow",
    max_points: int = 20000,
) -> TriageReport:
    router = engine.router_for(profile)
    net = router.net
    t_ivt, l_ivt = engine.all_nearest(
        profile=profile, where=FacilityFilter.parse(type="stroke_center", capability="ivt"), scenario=scenario
    )
    t_evt, l_evt = engine.all_nearest(
        profile=profile, where=FacilityFilter.parse(type="stroke_center", capability="evt"), scenario=scenario
    )
    # transfer from each IVT center to its nearest EVT center: time at the IVT center's node
    fac = engine.facilities
    transfer: dict[int, float] = {}
    ivt_rows = sorted({int(x) for x in l_ivt if x >= 0})
    if ivt_rows:
        t_from, _ = engine.all_nearest(
            profile=profile, where=FacilityFilter.parse(type="stroke_center", capability="evt"), scenario=scenario
        )
        snaps = router.snap_many(
            fac.geometry.x.to_numpy()[ivt_rows],
            fac.geometry.y.to_numpy()[ivt_rows],
            strict=False,
            max_snap_m=router.facility_max_snap_m,
        )
        for r, s in zip(ivt_rows, snaps):
            if s is None:
                transfer[r] = np.inf
                continue
            sd = router.seeds(s, profile, "from")
            transfer[r] = float(np.min(sd.cost + t_from[sd.node])) if len(sd.node) else np.inf
    rec = triage_rule(t_ivt, t_evt, rule)
    dtn_ivt = _dtn(engine, l_ivt, rule.default_dtn_min)
    dtn_evt = _dtn(engine, l_evt, rule.default_dtn_min)
    tr = np.array([transfer.get(int(x), np.inf) for x in l_ivt])
    evt_rows = {int(x) for x in l_evt if x >= 0}
    same = np.array([int(x) in evt_rows for x in l_ivt])  # the nearest IVT center does EVT itself
    evt_ds = np.where(same, t_ivt, t_ivt + rule.door_in_door_out_min * 60 + tr)
    layer = load_population(engine.region, net.name)
    pop = layer.population
    people = layer.has_census  # else pop holds road weights: points kept, no population reported
    idx = np.flatnonzero(pop > 0)
    if len(idx) > max_points:
        idx = idx[np.argsort(-pop[idx])[:max_points]]

    def r1(x: float) -> float | None:
        return round(float(x) / 60, 1) if np.isfinite(x) else None

    feats = []
    for n in idx:
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(net.node_lon[n]), 6), round(float(net.node_lat[n]), 6)],
                },
                "properties": {
                    "recommendation": str(rec[n]),
                    "population": float(pop[n]) if people else None,
                    "ivt_center": str(fac.iloc[l_ivt[n]]["id"]) if l_ivt[n] >= 0 else None,
                    "evt_center": str(fac.iloc[l_evt[n]]["id"]) if l_evt[n] >= 0 else None,
                    "t_ivt_min": r1(t_ivt[n]),
                    "t_evt_min": r1(t_evt[n]),
                    "extra_min": r1(t_evt[n] - t_ivt[n]) if np.isfinite(t_evt[n] - t_ivt[n]) else None,
                    "needle_ds_min": r1(t_ivt[n] + dtn_ivt[n] * 60),
                    "needle_direct_min": r1(t_evt[n] + dtn_evt[n] * 60),
                    "evt_arrival_ds_min": r1(evt_ds[n]),
                    "evt_arrival_direct_min": r1(t_evt[n]),
                    "evt_gain_min": r1(evt_ds[n] - t_evt[n]) if np.isfinite(evt_ds[n] - t_evt[n]) else None,
                },
            }
        )
    summary = (
        {k: round(float(pop[rec == k].sum()), 1) for k in ("direct_evt", "drip_and_ship", "ivt_only", "unreachable")}
        if people
        else None  # no population data
    )
    return TriageReport(
        rule=asdict(rule),
        profile=profile,
        scenario=scenario if isinstance(scenario, str) else dict(scenario),
        population_by_recommendation=summary,
        layer={"type": "FeatureCollection", "features": feats},
        method=(
            f"per populated network node: extra = t_evt - t_ivt; direct_evt if extra <= "
            f"{rule.max_extra_min:g} min (or no IVT center reachable), ivt_only if no EVT center is "
            f"reachable, else drip_and_ship; drip-and-ship EVT arrival = t_ivt + {rule.door_in_door_out_min:g} "
            f"min door-in-door-out + transfer; door-to-needle from the facility (default "
            f"{rule.default_dtn_min:g} min); network times ({profile}); "
            f"population: {layer.source if people else 'no population data'}; "
            "roads © OpenStreetMap contributors (ODbL)"
        ),
    )
