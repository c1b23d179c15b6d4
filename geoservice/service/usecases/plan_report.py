"""The plan report of one region (``geoservice report``, ``GET /plans/report``): every figure the
individual planning questions give, per admin unit and for the region, against the targets
(``analyses.plan_report.DEFAULT_TARGETS``, overridable), the equity of access across units, the
AED week, what changed since a previous report, and what to build next (``service.plan_build``).

The figures come from the same service calls as the commands (``coverage --by admin``,
``grid531``, ``plan-targets``, ``aed-week``), so a report's coverage shares, 531 counts and AED
density are the commands' own."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...analyses.access import AccessResult, UnitAccess, access_report
from ...analyses.coverage import CoverageReport, node_times
from ...analyses.equity import EquityResult, EquityUnits, access_equity, equity
from ...analyses.plan_report import (
    Equity,
    Figure,
    PlanReport,
    Target,
    UnitPage,
    changes,
    parse_targets,
    resolve_targets,
)
from ...analyses.plan_targets import PlanTargetsReport
from ...analyses.standards import StandardRow, StandardTargets, standards_report
from ...bundle.population import load_population
from ...engine.engine import Engine
from ...errors import GeoserviceError
from ...questions import CoverageQuestion
from ...sources.schema import FacilityFilter
from ..core import GeoService, RegionEntry
from ..facility_filter import NoFacilityError
from . import planning, plans, queries
from .plan_build import build_next

__all__ = ["plan_report", "resolve_targets", "parse_targets", "BY_CHOICES", "SOURCES"]

BY_CHOICES = ("admin",)
SOURCES = {
    "cpc_30min_share": "geoservice coverage --type chest_pain_center --minutes 30 --by admin",
    "stroke_60min_share": "geoservice coverage --type stroke_center --minutes 60 --by admin",
    "aed_4min_share": "geoservice coverage --type aed --minutes 4 --by admin (on foot)",
    "aed_per_100k": "standards (GET /access, analyses.standards): AEDs in the unit per 100,000 people inside",
    "aed_fetch_return": "standards (GET /access, analyses.standards): AED fetched and brought back on foot in 4 min",
    "ems_radius": "standards (GET /access, analyses.standards): within the EMS station radius (5 km urban, 20 rural)",
    "ems_time": "standards (GET /access, analyses.standards): ambulance from an EMS station within <ems_minutes>",
    "stroke_centers": "geoservice plan-targets (stroke_centers)",
    "cpc_hospital_share": "geoservice plan-targets (hospitals_with_cpc / hospitals)",
    "grassroots_share": "geoservice plan-targets (institutions_with_unit / grassroots_institutions)",
    "grid531_linked_share": "geoservice grid531 (grassroots->basic: linked / units)",
    "cpc_mean_minutes": "geoservice access --type chest_pain_center (mean_nearest_min, population-weighted)",
    "cpc_access_per_100k": "geoservice access --type chest_pain_center --minutes 30 (E2SFCA, Gaussian decay)",
    "aed_walk_minutes": "walking minutes to the nearest AED (node times, walk network)",
    "aed_week": "geoservice aed-week (AEDs open then, 4 min on foot)",
    "thrombolysis_rate": "geoservice plan-targets --thrombolysis-rates (the rates given; stroke quality tiers)",
}
StdBy = dict[tuple[str | None, str], StandardRow]
"""The rows of ``analyses.standards`` by (admin code or None for the region, measure)."""


def _met(value: float | None, target: Target | None) -> bool | None:
    if value is None or target is None:
        return None
    return bool(value >= target.value - 1e-12)


def _fig(key: str, value: float | None, targets: dict[str, Target], kind: str, **kw: Any) -> Figure:
    t = targets.get(key)
    return Figure(
        key, None if value is None else float(value), t.value if t else None, _met(value, t), kind, SOURCES[key], **kw
    )


def _coverage(
    svc: GeoService, entry: RegionEntry, type: str, minutes: float, profile: str | None = None
) -> CoverageReport | None:
    try:
        ask = CoverageQuestion.of(type=type, minutes=minutes, profile=profile, gaps=False, region=entry.name)
        return queries.coverage(svc, ask)[1]
    except NoFacilityError:
        return None


def _shares(rep: CoverageReport | None) -> dict[str, tuple[float | None, float | None]]:
    """admin_code -> (population share, population) of a coverage report's units."""
    return {} if rep is None else {u.admin_code: (u.population_share, u.population) for u in rep.by_unit}


def plan_report(
    svc: GeoService,
    *,
    region: str | None = None,
    by: str = "admin",
    targets: dict[str, float] | None = None,
    previous: dict[str, Any] | None = None,
    previous_name: str | None = None,
    build: bool = True,
    thrombolysis_rates: list[Any] | None = None,
) -> tuple[RegionEntry, PlanReport]:
    """The report's figures (see the module docstring); ``previous`` is an earlier report.json.
    Without ``previous`` and rates, the report is kept in the region's answer cache (until its
    facilities change)."""
    if by not in BY_CHOICES:
        raise GeoserviceError("by", f"must be one of {', '.join(BY_CHOICES)} (one page per admin unit), got {by!r}")
    resolve_targets(targets)
    if previous is not None and not (isinstance(previous, dict) and isinstance(previous.get("units"), list)):
        raise GeoserviceError("previous", "is not a report.json of geoservice report (no 'units' list)")
    entry = svc.pick(region)

    def run() -> PlanReport:
        return _report(svc, entry, by, targets, previous, previous_name, build, thrombolysis_rates)

    if previous is not None or thrombolysis_rates:
        return entry, run()
    return entry, entry.cache.get_or_compute(("plan_report", by, tuple(sorted((targets or {}).items())), build), run)


def _report(
    svc: GeoService,
    entry: RegionEntry,
    by: str,
    targets: dict[str, float] | None,
    previous: dict[str, Any] | None,
    previous_name: str | None,
    build: bool,
    thrombolysis_rates: list[Any] | None,
) -> PlanReport:
    tg = {t.key: t for t in resolve_targets(targets)}
    eng = svc.engine(entry.name)
    s = svc.settings
    cpc = _coverage(svc, entry, "chest_pain_center", 30)
    stroke = _coverage(svc, entry, "stroke_center", 60)
    aed = _coverage(svc, entry, "aed", 4)
    std = standards_report(
        eng,
        targets=StandardTargets(aed_per_100k=(targets or {}).get("aed_per_100k"), ems_minutes=s.planning.ems_minutes),
    )
    std_by = {(r.admin_code, r.measure): r for r in std.rows}
    tg = _standard_targets(tg, std_by)
    _, pt = plans.plan_targets(svc, region=entry.name)
    _, g531 = planning.grid_531(svc, region=entry.name)
    _, week = plans.aed_week_plan(svc, region=entry.name)
    layer = load_population(eng.region, "drive")
    units = layer.units.reset_index(drop=True)
    codes = [str(c) for c in units["admin_code"]]
    try:
        acc = access_report(eng, type="chest_pain_center", minutes=30)
    except GeoserviceError:  # no chest pain center
        acc = None
    acc_by = {u.admin_code: u for u in acc.units} if acc is not None else {}
    sh = {k: _shares(r) for k, r in (("cpc", cpc), ("stroke", stroke), ("aed", aed))}
    pt_by = {u.admin_code: u for u in pt.units if u.admin_code is not None}
    g_by: dict[str, list[int]] = {}
    for row in g531.summary:
        if row.tier == "grassroots->basic":
            tally = g_by.setdefault(row.county_code, [0, 0])
            tally[0] += row.linked
            tally[1] += row.units
    pop_inside = {c: sh["cpc"].get(c, (None, None))[1] for c in codes}
    if all(v is None for v in pop_inside.values()):
        pop_inside = {c: sh["aed"].get(c, (None, None))[1] for c in codes}
    cap_note = "capacities given" if acc is not None and acc.capacity_used else "no capacities: every center counts 1"
    tiers = {}
    if thrombolysis_rates:
        _, rows, _, _ = plans.thrombolysis_tiers(svc, thrombolysis_rates, region=entry.name)
        tiers = {r.admin_code: r for r in rows}
    pages: list[UnitPage] = []
    for k, code in enumerate(codes):
        p = pt_by.get(code)
        people = pop_inside.get(code)
        linked, n_gu = g_by.get(code, [0, 0])
        figs = [
            _fig("cpc_30min_share", sh["cpc"].get(code, (None,))[0], tg, "share", confidence="free-flow drive times"),
            _fig(
                "stroke_60min_share",
                sh["stroke"].get(code, (None,))[0],
                tg,
                "share",
                confidence="free-flow drive times",
            ),
            _std(std_by, code, "aed_per_100k", "per_100k"),
            _std(std_by, code, "aed_fetch_return", "share"),
            _fig("aed_4min_share", sh["aed"].get(code, (None,))[0], tg, "share", confidence="walking 5 km/h"),
            _std(std_by, code, "ems_radius", "share"),
            _std(std_by, code, "ems_time", "share"),
            _fig("cpc_access_per_100k", _acc(acc_by, code, "score_per_100k"), tg, "per_100k", confidence=cap_note),
            _fig("cpc_mean_minutes", _acc(acc_by, code, "mean_nearest_min"), tg, "minutes"),
        ]
        if p is not None:
            figs += [
                _fig("stroke_centers", p.stroke_centers, tg, "count"),
                _fig(
                    "cpc_hospital_share",
                    p.cpc_share,
                    tg,
                    "share",
                    confidence="proxy: no hospital grades in the data",
                    detail=f"{p.hospitals_with_cpc}/{p.hospitals}",
                ),
                _fig(
                    "grassroots_share",
                    p.grassroots_share,
                    tg,
                    "share",
                    confidence="institutions found by name",
                    detail=f"{p.institutions_with_unit}/{p.grassroots_institutions}",
                ),
            ]
        tier = tiers.get(code)
        if tier is not None:
            figs.append(
                Figure(
                    "thrombolysis_rate",
                    tier.thrombolysis_rate_pct / 100,
                    s.planning.thrombolysis_low_pct / 100,
                    tier.tier != "low",
                    "share",
                    SOURCES["thrombolysis_rate"],
                    "demo value, not a real figure" if tier.demo else None,
                    f"tier {tier.tier}",
                )
            )
        figs.append(
            _fig("grid531_linked_share", linked / n_gu if n_gu else None, tg, "share", detail=f"{linked}/{n_gu}")
        )
        pages.append(UnitPage(code, str(units.iloc[k]["name"]), people, figs))
    province = _province(pages, cpc, stroke, aed, pt, tg, std_by)
    equity = _equity(eng, acc)
    notes = list(pt.notes)
    notes += std.notes
    for name, rep in (("chest_pain_center", cpc), ("stroke_center", stroke), ("aed", aed)):
        if rep is None:
            notes.append(f"no {name} in the facility layers: its coverage figures are empty")
    if previous is not None:
        old = {u.get("admin_code") or u.get("name"): u for u in previous["units"]}
        pages = [
            UnitPage(
                u.admin_code,
                u.name,
                u.population,
                u.figures,
                changes(old.get(u.admin_code or u.name, {}).get("figures", []), u.figures),
            )
            for u in pages
        ]
        province = UnitPage(
            None,
            province.name,
            province.population,
            province.figures,
            changes((previous.get("province") or {}).get("figures", []), province.figures),
        )
    if build:
        pages = build_next(svc, entry, pages, tg, notes)
    return PlanReport(
        region=entry.name,
        region_label=eng.region.meta.get("display_name") or {"zh": entry.name, "en": entry.name},
        by=by,
        targets=list(tg.values()),
        province=province,
        units=pages,
        equity=equity,
        aed_week={
            "matrix": week.matrix("share_open"),
            "minutes": week.minutes,
            "week_of": str(week.week_of),
            "aeds": week.aeds,
            "lost_share_open": week.lost_share_open,
            "source": SOURCES["aed_week"],
        },
        notes=notes,
        sources=dict(SOURCES, population=layer.source, method_cpc=cpc.method if cpc else ""),
        previous=previous_name,
    )


def _province(
    pages: list[UnitPage],
    cpc: CoverageReport | None,
    stroke: CoverageReport | None,
    aed: CoverageReport | None,
    pt: PlanTargetsReport,
    tg: dict[str, Target],
    std_by: StdBy,
) -> UnitPage:
    pop = cpc.overall.population if cpc else (aed.overall.population if aed else None)
    hosp = sum(u.hospitals for u in pt.units if u.admin_code is not None)
    with_cpc = sum(u.hospitals_with_cpc for u in pt.units if u.admin_code is not None)
    inst = sum(u.grassroots_institutions for u in pt.units if u.admin_code is not None)
    with_u = sum(u.institutions_with_unit for u in pt.units if u.admin_code is not None)

    def units_meeting(key: str) -> str:
        got = [f.met for p in pages for f in p.figures if f.key == key and f.met is not None]
        return f"{sum(got)}/{len(got)} units"

    g = [f for p in pages for f in p.figures if f.key == "grid531_linked_share" and f.detail]
    linked = sum(int(f.detail.split("/")[0]) for f in g if f.detail)
    n_gu = sum(int(f.detail.split("/")[1]) for f in g if f.detail)
    figs = [
        _fig(
            "cpc_30min_share",
            cpc.overall.population_share if cpc else None,
            tg,
            "share",
            detail=units_meeting("cpc_30min_share"),
        ),
        _fig(
            "stroke_60min_share",
            stroke.overall.population_share if stroke else None,
            tg,
            "share",
            detail=units_meeting("stroke_60min_share"),
        ),
        _std(std_by, None, "aed_per_100k", "per_100k"),
        _std(std_by, None, "aed_fetch_return", "share"),
        _fig("aed_4min_share", aed.overall.population_share if aed else None, tg, "share"),
        _std(std_by, None, "ems_radius", "share"),
        _std(std_by, None, "ems_time", "share"),
        _fig(
            "stroke_centers",
            sum(u.stroke_centers for u in pt.units),
            {},
            "count",
            detail=units_meeting("stroke_centers"),
        ),
        _fig("cpc_hospital_share", with_cpc / hosp if hosp else None, tg, "share", detail=f"{with_cpc}/{hosp}"),
        _fig("grassroots_share", with_u / inst if inst else None, tg, "share", detail=f"{with_u}/{inst}"),
        _fig("grid531_linked_share", linked / n_gu if n_gu else None, tg, "share", detail=f"{linked}/{n_gu}"),
    ]
    return UnitPage(None, "province", pop, figs)


def _standard_targets(tg: dict[str, Target], std_by: StdBy) -> dict[str, Target]:
    """The targets with those of ``analyses.standards`` (its figures, targets and sources): the
    AED density of the province (or the one given), fetch-and-return, EMS radius and time."""
    out = dict(tg)
    for measure, kind in (
        ("aed_per_100k", "per_100k"),
        ("aed_fetch_return", "share"),
        ("ems_radius", "share"),
        ("ems_time", "share"),
    ):
        row = std_by.get((None, measure))
        if row is None or row.target is None:
            out.pop(measure, None)
            continue
        given = tg.get(measure)
        src = given.source if given is not None and given.source.startswith("given:") else row.source
        out[measure] = Target(measure, float(row.target), kind, src)
    return out


def _std(std_by: StdBy, code: str | None, measure: str, kind: str) -> Figure:
    """A figure of ``analyses.standards`` (its value, target and verdict)."""
    row = std_by.get((code, measure))
    if row is None:
        return Figure(measure, None, None, None, kind, SOURCES[measure])
    detail = None
    if measure == "aed_per_100k" and row.detail:
        detail = row.detail.split(" for ")[0]  # "4 AEDs"
    return Figure(measure, row.value, row.target, row.met, kind, SOURCES[measure], None, detail)


def _acc(acc_by: dict[str, UnitAccess], code: str, key: str) -> float | None:
    u = acc_by.get(code)
    v = getattr(u, key, None) if u is not None else None
    return None if v is None else float(v)


def _eq(res: EquityResult, key: str) -> Equity:
    units = [u.to_json() for u in res.worst_decile_units]
    return Equity(
        key,
        res.higher_is_better,
        res.gini,
        res.theil_t,
        [[p.population_share, p.value_share] for p in res.lorenz],
        units[0]["name"] if units else None,
        res.worst_decile_people,
        [{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in u.items()} for u in units],
        f"analyses.equity over {SOURCES.get(key, key)}: {res.method}",
    )


def _equity(eng: Engine, acc: AccessResult | None) -> list[Equity]:
    """Equity across units (``analyses.equity``) of E2SFCA access to chest pain centers, of the
    drive time to the nearest one and of the walk to the nearest AED."""
    out = []
    if acc is not None:
        a, tt = access_equity(acc)
        out += [_eq(a, "cpc_access_per_100k"), _eq(tt, "cpc_mean_minutes")]
    walk = load_population(eng.region, "walk")
    try:
        dist, _ = node_times(eng, FacilityFilter(type="aed"), profile="walk")
    except GeoserviceError:
        return out
    units = walk.units.reset_index(drop=True)
    res = equity(
        dist / 60.0,
        walk.population,
        walk.unit,
        units=EquityUnits([str(c) for c in units["admin_code"]], [str(n) for n in units["name"]]),
        measure="travel_time",
        value_unit="minutes on foot to the nearest AED",
        higher_is_better=False,
    )
    out.append(_eq(res, "aed_walk_minutes"))
    return out
