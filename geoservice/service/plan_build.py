"""The plan report's last section: per admin unit, the smallest set of new sites that meets its
unmet targets, with the people each gains.

* Coverage targets (chest pain 30 min, stroke 60 min, EMS stations by ambulance time): the
  region's maximal covering model
  (``planning.site``, MCLP, up to ``MAX_NEW`` sites) gives sites in greedy order; a unit needs
  the shortest prefix of that order after which its share meets the target (measured with one
  network search per prefix, the coverage sums of ``analyses.coverage``).
* Designation targets (stroke centers >= n, chest pain centers in a share of hospitals,
  grassroots units in a share of township / community health centers, 531 links): the number
  missing is exact; which hospitals (institutions) of the unit to designate is the greedy choice
  of ``analyses.plan_report.greedy_sites`` (most person-minutes saved first).
* AED density: the AEDs missing to reach the target per 100,000; the sites are the region's AED
  maximal covering model on foot (``planning.site --type aed``, up to ``MAX_AED``), those inside
  the unit listed with the people each brings within 4 minutes.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..analyses.coverage import node_times
from ..analyses.plan_report import BuildSite, BuildStep, Figure, Target, UnitPage, greedy_sites, unit_shares
from ..analyses.plan_targets import _GRASSROOTS_INSTITUTION, _SUB_STATION, _links, _unit_of
from ..bundle.population import load_population
from ..errors import GeoserviceError
from . import planning
from .core import GeoService, RegionEntry

__all__ = ["build_next", "MAX_NEW", "MAX_AED", "GRASSROOTS_MIN"]

MAX_NEW = 5  # new chest pain / stroke centers the region's covering model may add
MAX_AED = 12  # AED sites the region's AED covering model proposes (the rest is a count)
GRASSROOTS_MIN = 15.0  # people brought within this many minutes of a grassroots unit (report assumption)
MAX_DESIGNATIONS = 20  # listed per target and unit (the count needed is always given)


def _fig(page: UnitPage, key: str) -> Figure | None:
    return next((f for f in page.figures if f.key == key), None)


class _Ctx:
    """What every step of one region needs once: units, facility tables, node populations."""

    def __init__(self, svc: GeoService, entry: RegionEntry):
        self.svc, self.entry = svc, entry
        self.notes: list[str] = []
        self.eng = eng = svc.engine(entry.name)
        self.layer = load_population(eng.region, "drive")
        self.units = self.layer.units.reset_index(drop=True)
        self.code_idx = {str(c): i for i, c in enumerate(self.units["admin_code"])}
        fac = eng.facilities.reset_index(drop=True)
        self.hosp = fac[(fac["type"] == "hospital") & (fac["level"] == "hospital")].reset_index(drop=True)
        self.h_unit = _unit_of(self.hosp, self.units)
        named = fac[
            ~fac["type"].isin(["aed", "ems_station", "grassroots_unit", "chest_pain_center", "stroke_center"])
            & fac["name"].map(
                lambda n: bool(_GRASSROOTS_INSTITUTION.search(str(n))) and not _SUB_STATION.search(str(n))
            )
        ].reset_index(drop=True)
        self.inst, self.i_unit = named, _unit_of(named, self.units)
        self.role_of = {
            t: set(_links(fac[fac["type"] == t].reset_index(drop=True), self.hosp).values())
            for t in ("chest_pain_center", "stroke_center")
        }
        self.gu_of = set(_links(fac[fac["type"] == "grassroots_unit"].reset_index(drop=True), named).values())
        self.node_unit = self.layer.unit
        self.pop = self.layer.population

    def times(self, type: str, sites=None, level: str | None = None, profile: str = "drive") -> np.ndarray:
        try:
            d, _ = node_times(self.eng, type=type, profile=profile, level=level, add_sites=sites or None)
        except GeoserviceError:
            d = np.full(len(self.pop), np.inf)
        return d

    def unit_of_point(self, lon: float, lat: float) -> str | None:
        import geopandas as gpd
        import shapely

        u = _unit_of(gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326), self.units)[0]
        return str(self.units.iloc[u]["admin_code"]) if u >= 0 else None


def _designate(ctx: _Ctx, k: int, table, rows, type: str, minutes: float, code: str, level=None) -> list[BuildSite]:
    """The greedy choice of ``k`` among ``rows`` of ``table`` for the people of unit ``code``."""
    if k <= 0 or not len(rows):
        return []
    base = ctx.times(type, level=level)
    pts = [(float(table.geometry.iloc[r].x), float(table.geometry.iloc[r].y)) for r in rows]
    cands = [ctx.times(type, [p], level=level) for p in pts]
    mask = ctx.node_unit == ctx.code_idx[code]
    chosen = greedy_sites(base, cands, ctx.pop, mask, minutes * 60, min(k, MAX_DESIGNATIONS))
    taken = {i for i, _, _ in chosen}  # none left saves anyone a minute: the rest in table order, gaining 0
    chosen += [(i, 0.0, 0.0) for i in range(len(rows)) if i not in taken][: min(k, MAX_DESIGNATIONS) - len(chosen)]
    return [
        BuildSite(
            str(table.iloc[rows[i]]["name"]),
            round(pts[i][0], 6),
            round(pts[i][1], 6),
            code,
            round(within, 1),
            round(closer, 1),
            f"{table.iloc[rows[i]]['type']} {table.iloc[rows[i]]['id']}",
        )
        for i, within, closer in chosen
    ]


def _site(ctx: _Ctx, *, type: str, minutes: float | None, add: int, profile: str | None):
    """The region's MCLP for ``type`` with up to ``add`` new sites (fewer when there are fewer
    candidates); None without any candidate or facility to site around."""
    for _ in range(2):
        try:
            return planning.site(
                ctx.svc, type=type, minutes=minutes, model="mclp", add=add, profile=profile, region=ctx.entry.name
            )[1]
        except GeoserviceError as exc:
            fewer = re.search(r"exceeds the (\d+) candidate", exc.message) if exc.field == "add" else None
            if fewer is None or int(fewer.group(1)) < 1:
                ctx.notes.append(f"siting: no {type} sites proposed: {exc.message}")
                return None
            add = int(fewer.group(1))
    return None


def _covering(
    ctx: _Ctx, pages: list[UnitPage], key: str, type: str, minutes: float, t: Target, profile: str = "drive"
) -> dict[str, BuildStep]:
    """Per failing unit: the shortest prefix of the region's MCLP sites that meets ``t``."""
    failing = [p for p in pages if (f := _fig(p, key)) is not None and f.met is False]
    if not failing:
        return {}
    rep = _site(ctx, type=type, minutes=minutes, add=MAX_NEW, profile=profile)
    if rep is None:
        return {}
    sites = [(a.lon, a.lat) for a in rep.added]
    shares = []
    for k in range(len(sites) + 1):
        upop, ucov = unit_shares(
            ctx.pop, ctx.node_unit, ctx.layer.off, ctx.times(type, sites[:k], profile=profile), minutes * 60
        )
        shares.append(np.where(upop > 0, ucov / np.maximum(upop, 1e-12), np.nan))
    out = {}
    for p in failing:
        u = ctx.code_idx[str(p.admin_code)]
        first = next((j for j in range(len(shares)) if shares[j][u] >= t.value - 1e-12), None)
        use = rep.added[: (first if first is not None else len(sites))]
        out[str(p.admin_code)] = BuildStep(
            key,
            type,
            "new",
            len(use),
            [
                BuildSite(a.name, a.lon, a.lat, ctx.unit_of_point(a.lon, a.lat), a.population_gained, None, a.source)
                for a in use
            ],
            first is not None,
            f"MCLP over the region ({rep.model}, {minutes:g} min, up to {MAX_NEW} sites), shortest prefix of its "
            "greedy order meeting the unit's target; people: each site's gain in the region, in that order",
        )
    return out


def _aeds(ctx: _Ctx, pages: list[UnitPage], t: Target) -> dict[str, BuildStep]:
    need = {}
    for p in pages:
        f = _fig(p, "aed_per_100k")
        if f is None or f.met is not False or not p.population:
            continue
        n = int(f.detail.split()[0]) if f.detail else 0
        need[str(p.admin_code)] = max(0, math.ceil(t.value * p.population / 1e5 - 1e-9) - n)
    if not need:
        return {}
    rep = _site(ctx, type="aed", minutes=None, add=min(sum(need.values()), MAX_AED), profile=None)
    if rep is None:
        return {}
    by_unit: dict[str | None, list[BuildSite]] = {}
    for a in rep.added:
        code = ctx.unit_of_point(a.lon, a.lat)
        by_unit.setdefault(code, []).append(BuildSite(a.name, a.lon, a.lat, code, a.population_gained, None, a.source))
    return {
        code: BuildStep(
            "aed_per_100k",
            "aed",
            "new",
            n,
            by_unit.get(code, []),
            len(by_unit.get(code, [])) >= n,
            f"{n} AEDs missing for {t.value:g} per 100,000; sites: the region's AED MCLP on foot "
            f"({rep.minutes:g} min, {len(rep.added)} sites, candidates: {rep.candidate_source}), those inside "
            "the unit; people: each one's gain",
        )
        for code, n in need.items()
    }


def build_next(
    svc: GeoService, entry: RegionEntry, pages: list[UnitPage], tg: dict[str, Target], notes: list[str]
) -> list[UnitPage]:
    """``pages`` with their ``build`` steps (see the module docstring)."""
    ctx = _Ctx(svc, entry)
    ctx.notes = notes
    steps: dict[str, list[BuildStep]] = {}

    def add(found: dict[str, BuildStep]) -> None:
        for code, st in found.items():
            steps.setdefault(code, []).append(st)

    add(_covering(ctx, pages, "cpc_30min_share", "chest_pain_center", 30, tg["cpc_30min_share"]))
    add(_covering(ctx, pages, "stroke_60min_share", "stroke_center", 60, tg["stroke_60min_share"]))
    if "ems_time" in tg:
        ems_min = ctx.svc.settings.ems_minutes
        add(_covering(ctx, pages, "ems_time", "ems_station", ems_min, tg["ems_time"], profile="ambulance"))
    if "aed_per_100k" in tg:
        add(_aeds(ctx, pages, tg["aed_per_100k"]))
    for p in pages:
        code = str(p.admin_code)
        if code not in ctx.code_idx:
            continue
        u = ctx.code_idx[code]
        free_h = [r for r in np.flatnonzero(ctx.h_unit == u) if r not in ctx.role_of["chest_pain_center"]]
        f = _fig(p, "stroke_centers")
        if f is not None and f.met is False and f.value is not None:
            n = math.ceil(tg["stroke_centers"].value - f.value - 1e-9)
            rows = [r for r in np.flatnonzero(ctx.h_unit == u) if r not in ctx.role_of["stroke_center"]]
            got = _designate(ctx, n, ctx.hosp, rows, "stroke_center", 60, code)
            add({code: BuildStep("stroke_centers", "stroke_center", "designate", n, got, len(got) >= n, _GREEDY)})
        f = _fig(p, "cpc_hospital_share")
        if f is not None and f.met is False and f.detail:
            have, total = map(int, f.detail.split("/"))
            n = math.ceil(tg["cpc_hospital_share"].value * total - 1e-9) - have
            got = _designate(ctx, n, ctx.hosp, free_h, "chest_pain_center", 30, code)
            add(
                {
                    code: BuildStep(
                        "cpc_hospital_share", "chest_pain_center", "designate", n, got, len(got) >= n, _GREEDY
                    )
                }
            )
        f = _fig(p, "grassroots_share")
        if f is not None and f.met is False and f.detail:
            have, total = map(int, f.detail.split("/"))
            n = math.ceil(tg["grassroots_share"].value * total - 1e-9) - have
            rows = [r for r in np.flatnonzero(ctx.i_unit == u) if r not in ctx.gu_of]
            got = _designate(ctx, n, ctx.inst, rows, "grassroots_unit", GRASSROOTS_MIN, code)
            add({code: BuildStep("grassroots_share", "grassroots_unit", "designate", n, got, len(got) >= n, _GREEDY)})
        f = _fig(p, "grid531_linked_share")
        if f is not None and f.met is False and f.detail:
            linked, total = map(int, f.detail.split("/"))
            n = math.ceil((total - linked) / 5)  # a basic center takes 5 grassroots units
            got = _designate(ctx, n, ctx.hosp, free_h, "chest_pain_center", 60, code, level="basic")
            add(
                {
                    code: BuildStep(
                        "grid531_linked_share", "chest_pain_center", "designate", n, got, len(got) >= n, _GREEDY_531
                    )
                }
            )
    if any(not st.met_after for v in steps.values() for st in v):
        notes.append("some units' targets are not met by the sites listed (too few candidates or sites): see met_after")
    return [replace(p, build=steps.get(str(p.admin_code), [])) for p in pages]


_GREEDY = (
    "the number missing is exact; which ones: hospitals (institutions) of the unit not yet designated, chosen one "
    "by one for the most person-minutes saved to the nearest such facility; people: brought within the target "
    "time / closer"
)
_GREEDY_531 = (
    "basic chest pain centers missing for the unlinked grassroots units (5 per center); which hospitals: "
    "most person-minutes saved to the nearest basic center, people brought within 60 min / closer"
)
