"""Stroke triage by time of day: today's rule under two traffic scenarios, side by side.

The drip-and-ship vs direct-to-thrombectomy rule (``analyses.triage``) depends on drive times,
and peak traffic slows some roads more than others, so a place may be sent direct at night and to
the nearest IVT center at rush hour. This runs ``triage_report`` under each scenario (default
``free_flow`` and ``peak``), pairs the populated locations (the same nodes in both), and marks
those whose recommendation changes. The changed *area* is the union of the ``cell_m`` grid cells
(in degrees, ~``cell_m`` metres) that hold a changed location, drawn as polygons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry

from ..engine.engine import Engine
from ..errors import GeoserviceError
from .triage import TriageRule, triage_report

__all__ = ["TriageComparison", "triage_compare", "parse_scenarios"]

CELL_M = 300.0


def parse_scenarios(text: str | list[str] | None) -> tuple[str, str]:
    """Two scenario names from ``free_flow,peak`` (or a list of two)."""
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else (text or ["free_flow", "peak"]))]
    parts = [p for p in parts if p]
    if len(parts) != 2 or parts[0] == parts[1]:
        raise GeoserviceError("scenarios", f"give two different scenarios, e.g. 'free_flow,peak'; got {text!r}")
    return parts[0], parts[1]


@dataclass(frozen=True)
class TriageComparison:
    scenarios: tuple[str, str]
    rule: dict[str, float]
    profile: str
    population_data: bool
    locations: int
    changed_locations: int
    population_changed: float | None  # None: no population data
    share_changed: float | None
    transitions: dict[str, float]  # "direct_evt -> drip_and_ship": people (locations without population data)
    population_by_recommendation: dict[str, dict[str, float] | None]  # per scenario
    changed_area_km2: float
    layer: dict[str, Any]  # points: rec per scenario, changed
    changed_area: dict[str, Any]  # polygons of the cells holding a changed location
    method: str

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["scenarios"] = list(self.scenarios)
        return out


def _cells_polygons(points: list[tuple[float, float]], cell_m: float) -> tuple[dict[str, Any], float]:
    """Union of the grid cells (``cell_m`` at the points' mean latitude) that hold a point, and their area."""
    if not points:
        return {"type": "FeatureCollection", "features": []}, 0.0
    lat0 = sum(p[1] for p in points) / len(points)
    dy = cell_m / 111_320.0
    dx = cell_m / (111_320.0 * math.cos(math.radians(lat0)))
    cells = {(math.floor(lon / dx), math.floor(lat / dy)) for lon, lat in points}
    boxes = [shapely.box(i * dx, j * dy, (i + 1) * dx, (j + 1) * dy) for i, j in sorted(cells)]
    union = shapely.union_all(boxes)
    area = len(cells) * cell_m * cell_m / 1e6
    feat = {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(union),
        "properties": {"cells": len(cells), "cell_m": cell_m, "area_km2": round(area, 3)},
    }
    return {"type": "FeatureCollection", "features": [feat]}, area


def triage_compare(
    engine: Engine,
    *,
    scenarios: tuple[str, str] = ("free_flow", "peak"),
    rule: TriageRule = TriageRule(),
    profile: str = "ambulance",
    cell_m: float = CELL_M,
) -> TriageComparison:
    """The triage layer under ``scenarios[0]`` and ``scenarios[1]``, and where it changes."""
    a_name, b_name = scenarios
    a = triage_report(engine, rule=rule, profile=profile, scenario=a_name)
    b = triage_report(engine, rule=rule, profile=profile, scenario=b_name)
    fa, fb = a.layer["features"], b.layer["features"]
    if len(fa) != len(fb):  # the same populated nodes in both runs: a bug otherwise
        raise RuntimeError(f"triage layers differ in size: {len(fa)} vs {len(fb)}")
    people = a.population_by_recommendation is not None
    feats, changed_pts = [], []
    trans: dict[str, float] = {}
    pop_changed: float = 0.0
    pop_total: float = 0.0
    for x, y in zip(fa, fb):
        if x["geometry"]["coordinates"] != y["geometry"]["coordinates"]:
            raise RuntimeError("triage layers are not in the same node order")
        px, py = x["properties"], y["properties"]
        ra, rb = px["recommendation"], py["recommendation"]
        changed = ra != rb
        w = float(px["population"]) if people and px["population"] is not None else 1.0
        pop_total += w
        if changed:
            trans[f"{ra} -> {rb}"] = trans.get(f"{ra} -> {rb}", 0.0) + w
            pop_changed += w
            changed_pts.append(tuple(x["geometry"]["coordinates"]))
        feats.append(
            {
                "type": "Feature",
                "geometry": x["geometry"],
                "properties": {
                    f"recommendation_{a_name}": ra,
                    f"recommendation_{b_name}": rb,
                    "changed": changed,
                    "change": f"{ra} -> {rb}" if changed else "unchanged",
                    "population": px["population"],
                    f"t_ivt_min_{a_name}": px["t_ivt_min"],
                    f"t_evt_min_{a_name}": px["t_evt_min"],
                    f"t_ivt_min_{b_name}": py["t_ivt_min"],
                    f"t_evt_min_{b_name}": py["t_evt_min"],
                },
            }
        )
    area_fc, area_km2 = _cells_polygons(changed_pts, cell_m)
    return TriageComparison(
        scenarios=(a_name, b_name),
        rule=a.rule,
        profile=profile,
        population_data=people,
        locations=len(feats),
        changed_locations=len(changed_pts),
        population_changed=round(pop_changed, 1) if people else None,
        share_changed=round(pop_changed / pop_total, 6) if people and pop_total > 0 else None,
        transitions={k: round(v, 1) for k, v in sorted(trans.items())},
        population_by_recommendation={
            a_name: a.population_by_recommendation,
            b_name: b.population_by_recommendation,
        },
        changed_area_km2=round(area_km2, 3),
        layer={"type": "FeatureCollection", "features": feats},
        changed_area=area_fc,
        method=(
            f"today's triage rule under {a_name} and under {b_name} ({profile} times), per populated node; "
            f"changed area = the {cell_m:g} m cells holding a node whose recommendation changes; "
            f"triage: {a.method}"
        ),
    )
