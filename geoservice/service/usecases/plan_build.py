"""The plan report's last section: per admin unit, the smallest set of new sites that meets its
unmet targets, with the people each gains. Candidates are the siting model's
(``analyses.siting.candidate_sites``: registry hospitals and grassroots units); each candidate
costs one network search (``node_times`` with it added), the choice is greedy
(``analyses.plan_report.greedy_sites``), so the section takes seconds, not a solver run per target.

* Coverage targets (chest pain 30 min, stroke 60 min, EMS stations by ambulance time): the
  fewest candidates, most people brought within the time first, after which the unit's share
  meets the target (the sums of ``analyses.coverage``), up to ``MAX_NEW``.
* Designation targets (stroke centers >= n, chest pain centers in a share of hospitals,
  grassroots units in a share of township / community health centers, 531 links): the number
  missing is exact; which hospitals (institutions) of the unit: most person-minutes saved first.
* AED density: the AEDs missing to reach the target per 100,000, and up to ``MAX_AED``
  candidates inside the unit, most people brought within 4 minutes on foot first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ...analyses.coverage import node_times
from ...analyses.plan_report import BuildSite, BuildStep, Figure, Target, UnitPage, greedy_sites, unit_shares
from ...analyses.plan_targets import _GRASSROOTS_INSTITUTION, _SUB_STATION, _links, _unit_of
from ...analyses.siting import CandidateSite, candidate_sites
from ...bundle.population import load_population
from ...errors import GeoserviceError
from ...sources.schema import FacilityFilter
from ..core import GeoService, RegionEntry

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["build_next", "MAX_NEW", "MAX_AED", "GRASSROOTS_MIN"]

MAX_NEW = 5  # new chest pain / stroke centers / EMS stations proposed per unit at most
MAX_AED = 12  # AED sites listed per unit at most (the count missing is always given)
GRASSROOTS_MIN = 15.0  # people brought within this many minutes of a grassroots unit (report assumption)
MAX_DESIGNATIONS = 20  # listed per target and unit (the count needed is always given)


def _fig(page: UnitPage, key: str) -> Figure | None:
    return next((f for f in page.figures if f.key == key), None)


class _Ctx:
    """What every step of one region needs once: units, facility tables, node populations."""

    def __init__(self, svc: GeoService, entry: RegionEntry):
        self.svc, self.entry = svc, entry
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

    def network(self, profile: str) -> tuple[np.ndarray, np.ndarray]:
        """(people per node, unit per node) of the profile's network."""
        layer = load_population(self.eng.region, self.eng.router_for(profile).net.name)
        return layer.population, layer.unit

    def layer_off(self, profile: str) -> np.ndarray:
        return load_population(self.eng.region, self.eng.router_for(profile).net.name).off

    def times(
        self,
        type: str,
        sites: list[tuple[float, float]] | None = None,
        level: str | None = None,
        profile: str = "drive",
    ) -> np.ndarray:
        """Time from every node of the profile's network to the nearest ``type`` (with ``sites``
        added); a site that cannot be placed on the network adds nothing; no facility: inf."""
        try:
            d, _ = node_times(
                self.eng, FacilityFilter.parse(type=type, level=level), profile=profile, add_sites=sites or ()
            )
        except GeoserviceError:
            if sites:
                return self.times(type, None, level, profile)
            d = np.full(len(self.network(profile)[0]), np.inf)
        return d

    def unit_of_point(self, lon: float, lat: float) -> str | None:
        for u, g in enumerate(self.units.geometry):
            if g is not None and shapely.contains_xy(g, lon, lat):
                return str(self.units.iloc[u]["admin_code"])
        return None


def _designate(
    ctx: _Ctx,
    k: int,
    table: gpd.GeoDataFrame,
    rows: Sequence[int | np.intp],
    type: str,
    minutes: float,
    code: str,
    level: str | None = None,
) -> list[BuildSite]:
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


def _candidates(ctx: _Ctx, type: str, profile: str) -> list[CandidateSite]:
    """The siting model's candidates for ``type`` (``analyses.siting.candidate_sites``: registry
    hospitals and grassroots units not already a facility of the type)."""
    return candidate_sites(ctx.eng, "facilities", type=type, profile=profile)


def _new_sites(
    ctx: _Ctx, cands: list[CandidateSite], code: str, type: str, minutes: float, profile: str, k: int
) -> list[tuple[CandidateSite, float, float]]:
    """Up to ``k`` of ``cands`` for the people of unit ``code``, most people brought within
    ``minutes`` first: [(candidate, people within, people closer)]."""
    pop, node_unit = ctx.network(profile)
    base = ctx.times(type, profile=profile)
    dists = [ctx.times(type, [(c["lon"], c["lat"])], profile=profile) for c in cands]
    mask = node_unit == ctx.code_idx[code]
    got = greedy_sites(base, dists, pop, mask, minutes * 60, k, objective="within")
    return [(cands[i], within, closer) for i, within, closer in got]


def _site_row(c: CandidateSite, code: str | None, within: float, closer: float) -> BuildSite:
    return BuildSite(
        c["name"], round(c["lon"], 6), round(c["lat"], 6), code, round(within, 1), round(closer, 1), c["source"]
    )


def _covering(
    ctx: _Ctx, pages: list[UnitPage], key: str, type: str, minutes: float, t: Target, profile: str = "drive"
) -> dict[str, BuildStep]:
    """Per failing unit: the fewest candidates (greedy, most people brought within ``minutes``
    first, anywhere in the region) after which its share meets ``t``."""
    failing = [p for p in pages if (f := _fig(p, key)) is not None and f.met is False]
    if not failing:
        return {}
    cands = _candidates(ctx, type, profile)
    pop, node_unit = ctx.network(profile)
    upop, ucov = unit_shares(pop, node_unit, ctx.layer_off(profile), ctx.times(type, profile=profile), minutes * 60)
    out = {}
    for p in failing:
        code = str(p.admin_code)
        u = ctx.code_idx[code]
        got = _new_sites(ctx, cands, code, type, minutes, profile, MAX_NEW)
        reach = ucov[u] + np.cumsum([w for _, w, _ in got]) if got else np.zeros(0)
        first = next((j + 1 for j, r in enumerate(reach) if r >= t.value * upop[u] - 1e-9), None)
        use = got[: first or len(got)]
        out[code] = BuildStep(
            key,
            type,
            "new",
            len(use),
            [_site_row(c, ctx.unit_of_point(c["lon"], c["lat"]), w, cl) for c, w, cl in use],
            first is not None,
            f"greedy maximal covering ({minutes:g} min, {profile}) over the siting model's candidates "
            f"({len(cands)}: registry hospitals and grassroots units), up to {MAX_NEW}: the fewest whose people "
            "brought within the time meet the unit's target",
        )
    return out


def _aeds(ctx: _Ctx, pages: list[UnitPage], t: Target) -> dict[str, BuildStep]:
    """Per unit under the AED density target: the AEDs missing, and up to ``MAX_AED`` sites in
    the unit (greedy, most people brought within 4 min on foot first)."""
    cands = _candidates(ctx, "aed", "walk")
    out = {}
    for p in pages:
        f = _fig(p, "aed_per_100k")
        if f is None or f.met is not False or not p.population:
            continue
        code = str(p.admin_code)
        n = max(0, math.ceil(t.value * p.population / 1e5 - 1e-9) - (int(f.detail.split()[0]) if f.detail else 0))
        inside = [c for c in cands if ctx.unit_of_point(c["lon"], c["lat"]) == code]
        got = _new_sites(ctx, inside, code, "aed", 4.0, "walk", min(n, MAX_AED))
        out[code] = BuildStep(
            "aed_per_100k",
            "aed",
            "new",
            n,
            [_site_row(c, code, w, cl) for c, w, cl in got],
            len(got) >= n,
            f"{n} AEDs missing for {t.value:g} per 100,000; sites: the siting model's candidates inside the unit "
            f"(registry hospitals and grassroots units without an AED), greedy, most people brought within 4 min on "
            f"foot first, up to {MAX_AED}",
        )
    return out


def build_next(
    svc: GeoService, entry: RegionEntry, pages: list[UnitPage], tg: dict[str, Target], notes: list[str]
) -> list[UnitPage]:
    """``pages`` with their ``build`` steps (see the module docstring)."""
    ctx = _Ctx(svc, entry)
    steps: dict[str, list[BuildStep]] = {}

    def add(found: dict[str, BuildStep]) -> None:
        for code, st in found.items():
            steps.setdefault(code, []).append(st)

    add(_covering(ctx, pages, "cpc_30min_share", "chest_pain_center", 30, tg["cpc_30min_share"]))
    add(_covering(ctx, pages, "stroke_60min_share", "stroke_center", 60, tg["stroke_60min_share"]))
    if "ems_time" in tg:
        ems_min = ctx.svc.settings.planning.ems_minutes
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
