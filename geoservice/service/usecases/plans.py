"""Emergency response planning over one region of the service: AED coverage through the week, AED
siting on foot, ambulance station models, the plan's county targets and stroke tiers, and triage
by time of day. The faces call these, never the analyses directly, so the CLI and the API plan on
the same facilities (registry edits included) with the same settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ...analyses.aed_candidates import aed_candidates
from ...analyses.aed_siting import AedCandidate, AedHours, AedSitingReport, aed_siting, parse_objective
from ...analyses.aed_week import AedWeekReport, aed_week
from ...analyses.demand import point_demand, read_demand_csv
from ...analyses.ems_models import EmsReport, ems_report
from ...analyses.plan_targets import PlanTargets, PlanTargetsReport, plan_targets_report
from ...analyses.siting import CandidateSpec
from ...analyses.stroke_tiers import RateRow, TierRow, read_rates, stroke_tiers
from ...analyses.triage import TriageRule
from ...analyses.triage_compare import TriageComparison, parse_scenarios, triage_compare
from ...bundle.population import load_population
from ...errors import GeoserviceError
from ...sources.schema import DEFAULT_MINUTES
from ..answers.plans import (
    AedSitingAnswer,
    AedWeekAnswer,
    EmsSitingAnswer,
    PlanTargetsAnswer,
    StrokeTiersAnswer,
    TierOut,
    TriageCompareAnswer,
)
from ..core import GeoService, RegionEntry

__all__ = [
    "aed_week_plan",
    "aed_siting_plan",
    "ems_plan",
    "plan_targets",
    "thrombolysis_tiers",
    "triage_by_time",
    "targets_of",
    "AedCandidate",
    "AedHours",
    "CandidateSpec",
    "EmsAssumptions",
    "TriageRule",
    "read_rates",
    "read_demand_csv",
    "RateRow",
]

AED_PROFILE = "walk"


def _minutes(minutes: float | None, default: float) -> float:
    return float(default if minutes is None else minutes)


def aed_week_plan(
    svc: GeoService,
    *,
    minutes: float | None = None,
    week_of: date | None = None,
    demand_points: list[tuple[float, float, float]] | None = None,
    demand_label: str | None = None,
    region: str | None = None,
) -> tuple[RegionEntry, AedWeekReport]:
    """AED coverage on foot for each hour of the week (default 4 min; the population, or the
    demand points given as (lon, lat, weight))."""
    entry = svc.pick(region)
    eng = svc.engine(entry.name)
    demand = (
        point_demand(eng, AED_PROFILE, demand_points, label=demand_label or "demand points (their weights)")
        if demand_points
        else None
    )
    rep = aed_week(eng, minutes=_minutes(minutes, DEFAULT_MINUTES["aed"]), week_of=week_of, demand=demand)
    return entry, rep


def aed_week_answer(entry: RegionEntry, rep: AedWeekReport) -> AedWeekAnswer:
    return AedWeekAnswer.model_validate(dict(rep.to_json(), region=entry.name))


def aed_siting_plan(
    svc: GeoService,
    *,
    add: int = 3,
    minutes: float | None = None,
    candidates: str | list[AedCandidate] = "osm",
    hours: AedHours = AedHours(),
    region: str | None = None,
) -> tuple[RegionEntry, AedSitingReport]:
    """New public AEDs on foot with opening hours; ``candidates`` is ``osm`` (the bundle's
    gathering places), ``facilities``, a CSV path, or a list given by the caller; ``hours``: the
    objective, the week and the hours assumed (``analyses.aed_siting.AedHours``, carried unchanged)."""
    parse_objective(hours.objective)  # the cheap checks before reading candidates
    entry = svc.pick(region)
    eng = svc.engine(entry.name)
    if isinstance(candidates, str):
        cands, source = aed_candidates(eng, candidates, look_in=[svc.settings.paths.data_dir])
    else:
        cands, source = list(candidates), "given points"
    rep = aed_siting(
        eng,
        cands,
        add=add,
        minutes=_minutes(minutes, DEFAULT_MINUTES["aed"]),
        hours=hours,
        candidate_source=source,
    )
    return entry, rep


def aed_siting_answer(entry: RegionEntry, rep: AedSitingReport) -> AedSitingAnswer:
    return AedSitingAnswer.model_validate(dict(rep.to_json(), region=entry.name))


@dataclass(frozen=True)
class EmsAssumptions:
    """The EMS models' assumptions for one run: the drive-time target (minutes) and the share of
    time an ambulance is busy; None: the settings ``ems_minutes`` / ``ems_busy_fraction``."""

    minutes: float | None = None
    busy_fraction: float | None = None


def ems_plan(
    svc: GeoService,
    *,
    model: str = "mexclp",
    add: int = 2,
    assume: EmsAssumptions = EmsAssumptions(),
    profile: str | None = None,
    scenario: str | dict[str, float] = "free_flow",
    candidates: CandidateSpec = CandidateSpec(),
    region: str | None = None,
) -> tuple[RegionEntry, EmsReport]:
    """New EMS stations by MEXCLP or backup coverage (ambulance drive times, station to patient)
    among ``candidates`` (facilities, a grid, both or given points), under ``assume``."""
    entry = svc.pick(region)
    s = svc.settings.planning
    rep = ems_report(
        svc.engine(entry.name),
        model=model,
        add=add,
        minutes=_minutes(assume.minutes, s.ems_minutes),
        busy_fraction=s.ems_busy_fraction if assume.busy_fraction is None else assume.busy_fraction,
        profile=profile or "ambulance",
        scenario=scenario,
        candidates=candidates,
    )
    return entry, rep


def ems_answer(entry: RegionEntry, rep: EmsReport) -> EmsSitingAnswer:
    return EmsSitingAnswer.model_validate(dict(rep.to_json(), region=entry.name))


def targets_of(svc: GeoService) -> PlanTargets:
    """The plan's targets from the settings."""
    s = svc.settings.planning
    return PlanTargets(s.plan_stroke_centers_min, s.plan_cpc_share, s.plan_grassroots_share)


def plan_targets(svc: GeoService, *, region: str | None = None) -> tuple[RegionEntry, PlanTargetsReport]:
    """The plan's targets per admin unit (stroke centers, chest pain share, grassroots share)."""
    entry = svc.pick(region)
    return entry, plan_targets_report(svc.engine(entry.name), targets=targets_of(svc))


def plan_targets_answer(entry: RegionEntry, rep: PlanTargetsReport, *, layer: bool = True) -> PlanTargetsAnswer:
    return PlanTargetsAnswer.model_validate(dict(rep.to_json(with_layer=layer), region=entry.name))


def thrombolysis_tiers(
    svc: GeoService, rows: list[RateRow], *, region: str | None = None, require: bool = True
) -> tuple[RegionEntry, list[TierRow], list[RateRow], list[Any]]:
    """Stroke quality tiers of the rates ``rows`` matched to the region's admin units (thresholds
    from the settings): (entry, tiers, rows matching no unit, the tiers' unit geometries); with
    ``require``, a file of which no row matches a unit of the region is an error."""
    entry = svc.pick(region)
    s = svc.settings.planning
    units = load_population(svc.engine(entry.name).region, "drive").units
    tiers, unmatched, geoms = stroke_tiers(
        units, rows, high=s.thrombolysis_high_pct, low=s.thrombolysis_low_pct, require=require
    )
    return entry, tiers, unmatched, geoms


def tiers_answer(
    svc: GeoService, entry: RegionEntry, tiers: list[TierRow], unmatched: list[RateRow]
) -> StrokeTiersAnswer:
    s = svc.settings.planning
    return StrokeTiersAnswer(
        region=entry.name,
        tiers=[TierOut.model_validate(t.to_json()) for t in tiers],
        unmatched=[r.name or r.admin_code or f"row {r.row}" for r in unmatched],
        method=(
            f"thrombolysis rate (user input) > {s.thrombolysis_high_pct:g}%: advanced training and quality-control "
            f"plan; {s.thrombolysis_low_pct:g}-{s.thrombolysis_high_pct:g}%: basic training; < "
            f"{s.thrombolysis_low_pct:g}%: inspection tours; matched to admin units by code, else name"
        ),
    )


def triage_by_time(
    svc: GeoService,
    *,
    scenarios: str | tuple[str, str] = "free_flow,peak",
    rule: TriageRule = TriageRule(),
    profile: str | None = None,
    region: str | None = None,
) -> tuple[RegionEntry, TriageComparison]:
    """Today's triage rule under two scenarios, and where the recommendation changes."""
    entry = svc.pick(region)
    pair = parse_scenarios(list(scenarios) if isinstance(scenarios, tuple) else scenarios)
    try:
        rep = triage_compare(svc.engine(entry.name), scenarios=pair, rule=rule, profile=profile or "ambulance")
    except GeoserviceError as exc:
        if exc.field == "scenario":
            exc.field = "scenarios"
        raise
    return entry, rep


def triage_answer(entry: RegionEntry, rep: TriageComparison, *, layer: bool = True) -> TriageCompareAnswer:
    doc = rep.to_json()
    if not layer:
        doc["layer"] = None
    return TriageCompareAnswer.model_validate(dict(doc, region=entry.name))
