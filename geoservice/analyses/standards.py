"""Standards as configurable targets, per admin unit and for the whole region, each naming its source.

Measures (:class:`StandardTargets` holds every target; each is overridable):

* ``aed_per_100k``: public AEDs per 100,000 people (AEDs in the unit's polygon / its people inside
  the road extract). Default target by province, from the admin codes (:data:`AED_DENSITY`):
  Shanghai (31) more than 50 by the end of 2025, Zhejiang (33) 45, Shenzhen (4403) 300 (long-range);
  elsewhere no default (the row says so) until one is given.
* ``aed_fetch_return``: share of people whose nearest AED can be fetched and brought back on foot
  within N minutes (Guangzhou's 3-5 minute rule; default N = 4): the round trip is twice the
  walking time to the nearest AED (the walking network is two-way); people off the walking
  network are never within it.
* ``ems_radius``: share of people within the EMS station service radius of the national
  pre-hospital guidance: 5 km in urban units, 20 km (the upper end of 10-20 km) in rural ones
  (``equity.unit_types``; a unit of unknown type is held to the urban radius), straight-line
  distance to the nearest ``ems_station``.
* ``ems_time``: share of people an ambulance reaches from an EMS station within T minutes
  (ambulance profile, station to patient; default 12, a local choice: no national figure).
* ``cpc_time`` / ``stroke_time``: share of people within 30 min by car of a chest pain center and
  60 min of a stroke center (the plan's circles, as ``coverage`` counts them).

A share target is everyone (1.0, the standard as written) unless ``share_target`` is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from ..bundle.network import Network
from ..bundle.population import PopulationLayer, load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.schema import FacilityFilter
from .equity import unit_types
from .plan_targets import _unit_of
from .records import JsonRecord

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "AED_DENSITY",
    "MEASURES",
    "SOURCES",
    "StandardRow",
    "StandardTargets",
    "StandardsResult",
    "standards_report",
]

# admin-code prefix -> (AEDs per 100,000 people, where the figure comes from)
AED_DENSITY: dict[str, tuple[float, str]] = {
    "4403": (300.0, "Shenzhen long-range public AED plan: 300 AEDs per 100,000 people (深圳)"),
    "31": (50.0, "Shanghai public AED plan: more than 50 AEDs per 100,000 people by the end of 2025 (上海)"),
    "33": (45.0, "Zhejiang public AED plan: 45 AEDs per 100,000 people (浙江)"),
}
SOURCES = {
    "aed_fetch_return": "Guangzhou public AED rule: an AED fetched and brought back on foot within 3-5 minutes (广州)",
    "ems_radius": (
        "National Health Commission et al., Guiding Opinions on Further Improving Pre-hospital Emergency Medical "
        "Services (国卫医发〔2020〕19号): EMS station service radius at most 5 km in cities, 10-20 km in rural areas"
    ),
    "ems_time": "local target: ambulance from an EMS station within the minutes set (no national figure; set yours)",
    "cpc_time": "chest pain center within 30 minutes by car (the plan's 30-minute circle; coverage default)",
    "stroke_time": "stroke center within 60 minutes by car (the 1-hour stroke transport circle; coverage default)",
}
MEASURES = ("aed_per_100k", "aed_fetch_return", "ems_radius", "ems_time", "cpc_time", "stroke_time")
PER = 100_000.0


class StandardsError(GeoserviceError):
    """Bad input to this analysis; ``field`` names it."""


@dataclass(frozen=True)
class StandardTargets:
    """Every target; ``aed_per_100k`` None: the province's default (:data:`AED_DENSITY`)."""

    aed_per_100k: float | None = None
    fetch_minutes: float = 4.0
    ems_urban_km: float = 5.0
    ems_rural_km: float = 20.0
    ems_minutes: float = 12.0
    cpc_minutes: float = 30.0
    stroke_minutes: float = 60.0
    share_target: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise StandardsError(f.name, f"must be a positive number, got {v!r}")
        if self.share_target > 1:
            raise StandardsError("share_target", f"is a share in (0, 1], got {self.share_target!r}")


@dataclass(frozen=True)
class StandardRow(JsonRecord):
    """One measure for one admin unit (``admin_code`` None: the whole region)."""

    admin_code: str | None
    name: str
    unit_type: str | None  # "urban" | "rural" | None (unknown)
    measure: str
    value: float | None  # None: no people (or no data) to measure
    target: float | None  # None: no target known for this region
    met: bool | None
    source: str
    value_unit: str
    detail: str = ""


@dataclass(frozen=True)
class StandardsResult:
    targets: StandardTargets
    rows: list[StandardRow]
    population_data: bool = True
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": {f.name: getattr(self.targets, f.name) for f in fields(self.targets)},
            "population_data": self.population_data,
            "rows": [r.to_json() for r in self.rows],
            "method": self.method,
            "notes": list(self.notes),
        }

    def table(self, measure: str) -> list[StandardRow]:
        return [r for r in self.rows if r.measure == measure]


def aed_density_default(codes: list[str]) -> tuple[float, str] | None:
    """The AED density target of the province (or city) the admin codes belong to, if any."""
    for prefix in sorted(AED_DENSITY, key=len, reverse=True):
        if codes and all(c.startswith(prefix) for c in codes):
            return AED_DENSITY[prefix]
    return None


def _share_rows(
    measure: str,
    layer: PopulationLayer,
    ok: np.ndarray,
    units: gpd.GeoDataFrame,
    types: dict[str, str],
    target: float,
    detail: str,
) -> list[StandardRow]:
    """Per unit and overall: the share of people (the ``layer``'s nodes + off its network) for whom
    ``ok``, against ``target``, with the measure's source (``SOURCES``)."""
    unit_of_node, pop, off, source = layer.unit, layer.population, layer.off, SOURCES[measure]
    rows = []
    n = len(units)
    codes = units["admin_code"].astype(str).tolist()
    names = units["name"].astype(str).tolist()
    tot = np.bincount(np.where(unit_of_node >= 0, unit_of_node, n), pop, minlength=n + 1)[:n] + off
    good = np.bincount(np.where(unit_of_node >= 0, unit_of_node, n), pop * ok, minlength=n + 1)[:n]
    for u in [*range(n), -1]:
        t = float(tot.sum()) if u < 0 else float(tot[u])
        g = float(good.sum()) if u < 0 else float(good[u])
        value = g / t if t > 0 else None
        rows.append(
            StandardRow(
                admin_code=None if u < 0 else codes[u],
                name="all" if u < 0 else names[u],
                unit_type=None if u < 0 else types.get(codes[u]),
                measure=measure,
                value=None if value is None else round(value, 6),
                target=target,
                met=None if value is None else value >= target - 1e-9,
                source=source,
                value_unit="share of people",
                detail=f"{g:,.0f} of {t:,.0f} people {detail}",
            )
        )
    return rows


def _radius_ok(
    net: Network,
    unit_of_node: np.ndarray,
    codes: list[str],
    types: dict[str, str],
    stations: gpd.GeoDataFrame,
    targets: StandardTargets,
) -> np.ndarray:
    """Per node: within the urban or rural radius (by its unit's type) of the nearest station."""
    if not len(stations):
        return np.zeros(net.n_nodes, bool)

    tr = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    sx, sy = tr.transform(np.array([g.x for g in stations.geometry]), np.array([g.y for g in stations.geometry]))
    d, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([net.node_x, net.node_y]))
    rural = np.array([types.get(codes[u]) == "rural" if u >= 0 else False for u in unit_of_node])
    within: np.ndarray = d <= np.where(rural, targets.ems_rural_km, targets.ems_urban_km) * 1000.0
    return within


def standards_report(engine: Engine, *, targets: StandardTargets = StandardTargets()) -> StandardsResult:
    """Every standard per admin unit of the engine's region (see the module docstring)."""
    fac = engine.facilities
    profiles = engine.profiles
    drive = load_population(engine.region, "drive")
    units = drive.units.reset_index(drop=True)
    codes = units["admin_code"].astype(str).tolist()
    types = unit_types(units)
    people = bool(drive.has_census)
    rows: list[StandardRow] = []
    notes: list[str] = []
    # AED density
    aeds = fac[fac["type"] == "aed"].reset_index(drop=True)
    per_unit = np.bincount(_unit_of(aeds, units) + 1, minlength=len(units) + 1)  # [0]: outside every unit
    default = aed_density_default([c for c in codes if c != "all"])
    if targets.aed_per_100k is not None:
        target, src = float(targets.aed_per_100k), "given target (--aed-per-100k)"
    elif default is not None:
        target, src = default
    else:
        target, src = None, "no default target for this region: give one (--aed-per-100k)"
        notes.append("no AED density target known for this region's province: the density is reported, not judged")
    pop_in = units["population_inside"].astype(float).to_numpy() if "population_inside" in units else None
    for u in [*range(len(units)), -1]:
        n_aed = int(per_unit[1:].sum()) if u < 0 else int(per_unit[u + 1])
        p = None if pop_in is None or not people else float(pop_in.sum() if u < 0 else pop_in[u])
        value = n_aed / p * PER if p else None
        rows.append(
            StandardRow(
                admin_code=None if u < 0 else codes[u],
                name="all" if u < 0 else str(units["name"].iloc[u]),
                unit_type=None if u < 0 else types.get(codes[u]),
                measure="aed_per_100k",
                value=None if value is None else round(value, 4),
                target=target,
                met=None if value is None or target is None else value >= target - 1e-9,
                source=src,
                value_unit="AEDs per 100,000 people",
                detail=f"{n_aed} AEDs for {p:,.0f} people" if p else f"{n_aed} AEDs; no population data",
            )
        )
    if per_unit[0]:
        notes.append(f"{int(per_unit[0])} AEDs lie outside every admin unit (in the region total only)")
    # AED fetch and return on foot
    if "walk" in profiles:
        walk = load_population(engine.region, "walk")
        t, _ = engine.all_nearest(profile="walk", direction="to", where=FacilityFilter.parse(type="aed"))
        ok = 2 * t <= targets.fetch_minutes * 60.0
        rows += _share_rows(
            "aed_fetch_return",
            walk,
            ok,
            units,
            types,
            targets.share_target,
            f"can fetch an AED and bring it back on foot within {targets.fetch_minutes:g} min",
        )
    # EMS: radius and ambulance time
    net = engine.router_for("drive").net
    stations = fac[fac["type"] == "ems_station"]
    ok = _radius_ok(net, drive.unit, codes, types, stations, targets)
    rows += _share_rows(
        "ems_radius",
        drive,
        ok,
        units,
        types,
        targets.share_target,
        f"within {targets.ems_urban_km:g} km (urban) / {targets.ems_rural_km:g} km (rural) of an EMS station",
    )
    amb = "ambulance" if "ambulance" in profiles else "drive"
    t, _ = engine.all_nearest(profile=amb, direction="from", where=FacilityFilter.parse(type="ems_station"))
    rows += _share_rows(
        "ems_time",
        drive,
        t <= targets.ems_minutes * 60.0,
        units,
        types,
        targets.share_target,
        f"reached by an ambulance ({amb} profile) from an EMS station within {targets.ems_minutes:g} min",
    )
    for measure, ftype, minutes in (
        ("cpc_time", "chest_pain_center", targets.cpc_minutes),
        ("stroke_time", "stroke_center", targets.stroke_minutes),
    ):
        t, _ = engine.all_nearest(profile="drive", direction="to", where=FacilityFilter.parse(type=ftype))
        rows += _share_rows(
            measure,
            drive,
            t <= minutes * 60.0,
            units,
            types,
            targets.share_target,
            f"within {minutes:g} min by car of a {ftype.replace('_', ' ')}",
        )
    if not people:
        notes.append("no population data: shares are of road-weighted space, not people; no AED density")
    return StandardsResult(
        targets=targets,
        rows=rows,
        population_data=people,
        notes=notes,
        method=(
            "per admin unit (AEDs by point in polygon; people on the network nodes of each unit, people off a "
            "network never within a standard) and for the whole region ('all'); each row names its source; "
            "a share target is met when the share reaches it; roads © OpenStreetMap contributors (ODbL)"
        ),
    )
