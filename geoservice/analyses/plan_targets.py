"""The plan's county targets, per admin unit, from the facility layers' own attributes.

Hubei's plan asks, per county: (1) at least one stroke center; (2) chest pain centers in 70% of
the grade II+ general hospitals; (3) grassroots chest-pain units in 70% of the township health
centers (乡镇卫生院) and community health service centers (社区卫生服务中心). Targets are settings
(``plan_*`` in ``service.settings``). What our data can and cannot say:

1. stroke centers: the ``stroke_center`` facilities in the unit, any level.
2. **No hospital grades**: OpenStreetMap and our facility files carry no 等级 (grade II / III)
   and no general / specialised distinction. The denominator is therefore every facility of
   type ``hospital`` with level ``hospital`` (OSM ``amenity=hospital``, not ``clinic``): a proxy,
   named as such in every answer; no grade is invented.
3. township / community health centers: facilities (of any layer but AEDs and EMS stations)
   whose name says so: 社区卫生服务中心 / 社区卫生中心 / 卫生院, not a 服务站 (a sub-station).

A role facility (chest pain center, grassroots unit) *is* a hospital of the hospital layer when
both name the same OpenStreetMap object (``source`` / ``id``), else when their names compare
equal (``sources.hospital_names.name_key``, the ``[DEMO designation]`` tag and a trailing
``(OSM …)`` dropped) within ``SAME_SITE_M``. A role facility that is no hospital of the layer is
counted apart (``*_not_in_layer``): the layer is then incomplete, which the table shows.

A facility belongs to the admin unit whose polygon contains it (the bundle's admin units); one
in none is in the row ``outside``; a bundle without admin units has one row for the region.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely
import shapely.geometry

from ..bundle.population import load_population
from ..errors import GeoserviceError
from ..sources.hospital_names import name_key
from .records import JsonRecord

if TYPE_CHECKING:
    import geopandas as gpd

    from ..bundle.store import Region

__all__ = [
    "PlanTargets",
    "UnitTargets",
    "TargetsEngine",
    "plan_targets",
    "plan_targets_report",
    "osm_refs",
    "same_site_key",
]

SAME_SITE_M = 1000.0
_OSM_REF = re.compile(r"(node|way|relation)[ /-](\d+)", re.I)
_DEMO = re.compile(r"\s*\[DEMO designation\]\s*$", re.I)
_OSM_SUFFIX = re.compile(r"\s*\((?:OSM|osm-)[^)]*\)\s*$")
_GRASSROOTS_INSTITUTION = re.compile(r"社区卫生(服务)?中心|卫生院")
_SUB_STATION = re.compile(r"服务站$|站$")


@dataclass(frozen=True)
class PlanTargets:
    """The plan's targets (settings ``plan_stroke_centers_min``, ``plan_cpc_share``,
    ``plan_grassroots_share``)."""

    stroke_centers_min: int = 1
    cpc_share: float = 0.7
    grassroots_share: float = 0.7

    def __post_init__(self) -> None:
        if not (isinstance(self.stroke_centers_min, int) and self.stroke_centers_min >= 0):
            raise GeoserviceError("stroke_centers_min", f"must be a whole number >= 0, got {self.stroke_centers_min!r}")
        for k in ("cpc_share", "grassroots_share"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= 1):
                raise GeoserviceError(k, f"must be a share in [0, 1], got {v!r}")


@dataclass(frozen=True)
class UnitTargets(JsonRecord):
    admin_code: str | None
    name: str
    stroke_centers: int
    stroke_met: bool | None  # None: the row of facilities outside every unit (no target applies)
    hospitals: int  # level "hospital" of the hospital layer: the proxy for grade II+ general hospitals
    hospitals_with_cpc: int
    cpc_share: float | None  # None: no hospital in the unit
    cpc_met: bool | None
    cpc_not_in_layer: int  # chest pain centers matching no hospital of the layer
    grassroots_institutions: int  # township / community health service centers (by name)
    institutions_with_unit: int
    grassroots_share: float | None
    grassroots_met: bool | None
    units_not_in_layer: int  # grassroots units matching no such institution
    targets_met: int  # of the targets that apply
    targets_applicable: int


@dataclass(frozen=True)
class PlanTargetsReport:
    targets: PlanTargets
    units: list[UnitTargets]
    layer: dict[str, Any] = field(default_factory=dict)  # GeoJSON of the units with their figures
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self, *, with_layer: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "targets": JsonRecord.to_json(self.targets),  # type: ignore[arg-type]
            "units": [u.to_json() for u in self.units],
            "method": self.method,
            "notes": list(self.notes),
        }
        if with_layer:
            out["layer"] = self.layer
        return out


def osm_refs(*texts: object) -> set[str]:
    """The OpenStreetMap objects named in ``texts`` (``way/123``, ``node 4``, ``osm-way-5``)."""
    out: set[str] = set()
    for t in texts:
        if isinstance(t, str):
            out |= {f"{k.lower()}/{n}" for k, n in _OSM_REF.findall(t)}
    return out


def same_site_key(name: str) -> str:
    """The comparison key of a facility name without our demo tag and OSM suffix."""
    return name_key(_OSM_SUFFIX.sub("", _DEMO.sub("", str(name or ""))))


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dy = (lat1 - lat2) * 111_320.0
    dx = (lon1 - lon2) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def _links(roles: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> dict[int, int]:
    """role row -> place row it is (see the module docstring), by position in the two tables."""
    out: dict[int, int] = {}
    p_refs = [osm_refs(r["id"], r.get("source")) for _, r in places.iterrows()]
    p_keys = [same_site_key(r["name"]) for _, r in places.iterrows()]
    p_xy = [(g.x, g.y) for g in places.geometry]
    by_ref: dict[str, int] = {}
    for j, refs in enumerate(p_refs):
        for ref in refs:
            by_ref.setdefault(ref, j)
    for i, (_, r) in enumerate(roles.iterrows()):
        hit = next((by_ref[ref] for ref in sorted(osm_refs(r["id"], r.get("source"))) if ref in by_ref), None)
        if hit is None:
            key, x, y = same_site_key(r["name"]), r.geometry.x, r.geometry.y
            near = [(_metres(x, y, *p_xy[j]), j) for j in range(len(p_keys)) if key and p_keys[j] == key]
            near = [t for t in near if t[0] <= SAME_SITE_M]
            hit = min(near)[1] if near else None
        if hit is not None:
            out[i] = hit
    return out


def _unit_of(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """Index into ``units`` of the polygon containing each point, -1 for none."""
    out = np.full(len(points), -1, np.int64)
    geoms = list(units.geometry)
    if not len(points) or all(g is None for g in geoms):
        return np.zeros(len(points), np.int64) if geoms and all(g is None for g in geoms) else out
    pts = np.array(list(points.geometry), dtype=object)
    for u, g in enumerate(geoms):
        if g is None:
            continue
        inside = shapely.contains_xy(g, np.array([p.x for p in pts]), np.array([p.y for p in pts])) & (out < 0)
        out[inside] = u
    return out


class TargetsEngine(Protocol):
    """What ``plan_targets_report`` reads of an engine (an ``Engine``; tests pass a stub)."""

    @property
    def facilities(self) -> gpd.GeoDataFrame: ...

    @property
    def region(self) -> Region: ...


def plan_targets_report(engine: TargetsEngine, *, targets: PlanTargets = PlanTargets()) -> PlanTargetsReport:
    """The plan's targets per admin unit of the engine's region (see the module docstring)."""
    fac = engine.facilities.reset_index(drop=True)
    units = load_population(engine.region, "drive").units.reset_index(drop=True)
    hosp = fac[(fac["type"] == "hospital") & (fac["level"] == "hospital")].reset_index(drop=True)
    cpc = fac[fac["type"] == "chest_pain_center"].reset_index(drop=True)
    stroke = fac[fac["type"] == "stroke_center"].reset_index(drop=True)
    gu = fac[fac["type"] == "grassroots_unit"].reset_index(drop=True)
    named = fac[
        ~fac["type"].isin(["aed", "ems_station", "grassroots_unit", "chest_pain_center", "stroke_center"])
        & fac["name"].map(lambda n: bool(_GRASSROOTS_INSTITUTION.search(str(n))) and not _SUB_STATION.search(str(n)))
    ].reset_index(drop=True)
    cpc_link = _links(cpc, hosp)
    gu_link = _links(gu, named)
    gu_is_inst = [bool(_GRASSROOTS_INSTITUTION.search(_DEMO.sub("", str(n)))) for n in gu["name"]]
    n_units = len(units)
    u_h, u_cpc, u_st = _unit_of(hosp, units), _unit_of(cpc, units), _unit_of(stroke, units)
    u_named, u_gu = _unit_of(named, units), _unit_of(gu, units)
    rows: list[UnitTargets] = []
    names = list(units["name"].astype(str))
    codes = [None if str(c) == "all" else str(c) for c in units["admin_code"]]
    outside = any((u < 0).any() for u in (u_h, u_cpc, u_st, u_named, u_gu))
    for u in range(n_units + (1 if outside else 0)):
        uu = u if u < n_units else -1
        h_rows = np.flatnonzero(u_h == uu)
        with_cpc = {cpc_link[i] for i in cpc_link if cpc_link[i] in set(h_rows)}
        cpc_out = sum(1 for i in np.flatnonzero(u_cpc == uu) if i not in cpc_link)
        inst = np.flatnonzero(u_named == uu)
        with_unit = {gu_link[i] for i in gu_link if gu_link[i] in set(inst)}
        extra = [i for i in np.flatnonzero(u_gu == uu) if i not in gu_link]
        extra_inst = sum(1 for i in extra if gu_is_inst[i])  # a unit named as such an institution
        n_inst = len(inst) + extra_inst
        n_with = len(with_unit) + extra_inst
        n_st = int((u_st == uu).sum())
        cpc_share = round(len(with_cpc) / len(h_rows), 4) if len(h_rows) else None
        g_share = round(n_with / n_inst, 4) if n_inst else None
        is_unit = u < n_units  # the row "outside" is no county: no target applies to it
        cpc_met = None if cpc_share is None or not is_unit else cpc_share >= targets.cpc_share - 1e-12
        g_met = None if g_share is None or not is_unit else g_share >= targets.grassroots_share - 1e-12
        st_met = n_st >= targets.stroke_centers_min if is_unit else None
        checks = [c for c in (st_met, cpc_met, g_met) if c is not None]
        rows.append(
            UnitTargets(
                admin_code=codes[u] if u < n_units else None,
                name=names[u] if u < n_units else "outside the admin units",
                stroke_centers=n_st,
                stroke_met=st_met,
                hospitals=len(h_rows),
                hospitals_with_cpc=len(with_cpc),
                cpc_share=cpc_share,
                cpc_met=cpc_met,
                cpc_not_in_layer=cpc_out,
                grassroots_institutions=n_inst,
                institutions_with_unit=n_with,
                grassroots_share=g_share,
                grassroots_met=g_met,
                units_not_in_layer=len(extra) - extra_inst,
                targets_met=int(sum(checks)),
                targets_applicable=len(checks),
            )
        )
    feats = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(g) if g is not None else None,
            "properties": rows[u].to_json(),
        }
        for u, g in enumerate(units.geometry)
    ]
    notes = [
        "no hospital grades in the data: the chest pain target is measured against every facility of "
        "type hospital with level 'hospital' (OSM amenity=hospital), a proxy for grade II+ general hospitals"
    ]
    if any(r.cpc_not_in_layer for r in rows):
        notes.append("some chest pain centers match no hospital of the hospital layer (cpc_not_in_layer)")
    if not len(named) and not any(gu_is_inst):
        notes.append("no township or community health service center (by name) in the facility layers")
    if all(g is None for g in units.geometry):
        notes.append("this region has no admin units: one row for the whole region")
    return PlanTargetsReport(
        targets=targets,
        units=rows,
        layer={"type": "FeatureCollection", "features": feats},
        notes=notes,
        method=(
            f"per admin unit (point in polygon): stroke centers >= {targets.stroke_centers_min}; share of "
            f"hospitals (level 'hospital', no grades in the data) that are chest pain centers >= "
            f"{targets.cpc_share:.0%}; share of township health centers and community health service "
            f"centers (卫生院, 社区卫生(服务)中心 in the name) that are grassroots units >= "
            f"{targets.grassroots_share:.0%}; a role is linked to its hospital by the OSM object both name, "
            f"else by name within {SAME_SITE_M:g} m; admin units: {engine.region.name} bundle"
        ),
    )


plan_targets = plan_targets_report
