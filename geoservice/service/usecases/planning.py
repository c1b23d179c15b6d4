"""Planning questions over one region of the service (its engine: bundle + registry): siting,
the 531 grid, stroke triage and the 3 x 1-hour timeline. The faces call these, never the
analyses directly, so every face plans on the same facilities with the same travel modes."""

from __future__ import annotations

from dataclasses import replace

from ...analyses.grid531 import Grid531Report, grid531
from ...analyses.siting import CandidateSpec, SiteReport, SitingOptions, site_report
from ...analyses.timeline import TimelineParams, TimelineReport, timeline_report
from ...analyses.triage import TriageReport, TriageRule, triage_report
from ...sources.schema import FacilityFilter, travel_profile
from ..core import GeoService, RegionEntry
from ..facility_filter import require_facilities
from .queries import default_minutes, traffic_of

__all__ = ["site", "grid_531", "triage", "timeline", "TriageRule", "TimelineParams"]


def site(
    svc: GeoService,
    *,
    type: str,
    minutes: float | None = None,
    model: str = "mclp",
    add: int | None = 3,
    profile: str | None = None,
    level: str | None = None,
    scenario: str | dict[str, float] | None = None,
    candidates: str = "facilities",
    candidate_points: list[tuple[float, float]] | None = None,
    grid_km: float = 2.0,
    region: str | None = None,
    depart: str | None = None,
    percentile: int | None = None,
) -> tuple[RegionEntry, SiteReport]:
    """New sites for ``type`` (LSCP / MCLP / p-median); AEDs on foot, the rest by car; under
    ``scenario`` or the hour of ``depart`` (the report's ``scenario`` is then ``hour_HH``)."""
    where = FacilityFilter.parse(type=type, level=level)
    entry = svc.pick(region)
    eng = svc.engine(entry.name)
    prof = travel_profile(type, profile)
    # siting around facilities that do not exist would report 0% before: the filter is wrong
    require_facilities(eng, where, prof, entry.name)
    tr = traffic_of(svc, eng, prof, scenario, depart, percentile)
    rep = site_report(
        eng,
        type=type,
        minutes=default_minutes(type, minutes),
        model=model,
        add=add,
        profile=prof,
        scenario=tr.scenario,
        options=SitingOptions(
            level=level,
            candidates=CandidateSpec(candidates if candidate_points is None else "points", candidate_points, grid_km),
        ),
    )
    if tr.depart is not None or percentile is not None:  # the analysis saw a table ("custom"): say which
        rep = replace(rep, scenario=tr.name, method=rep.method.replace("scenario custom)", f"{tr.label()})", 1))
    return entry, rep


def grid_531(
    svc: GeoService,
    *,
    threshold_min: float = 60.0,
    scope: str = "county",
    capacities: tuple[int, int] = (5, 3),
    region: str | None = None,
) -> tuple[RegionEntry, Grid531Report]:
    """The "531" links of one region: grassroots units → basic centers → standard centers."""
    entry = svc.pick(region)
    return entry, grid531(svc.engine(entry.name), threshold_min=threshold_min, scope=scope, capacities=capacities)


def triage(
    svc: GeoService,
    *,
    rule: TriageRule,
    profile: str | None = None,
    scenario: str | dict[str, float] = "free_flow",
    region: str | None = None,
) -> tuple[RegionEntry, TriageReport]:
    """Drip-and-ship or direct-to-EVT per location (ambulance times unless a profile is given)."""
    entry = svc.pick(region)
    return entry, triage_report(svc.engine(entry.name), rule=rule, profile=profile or "ambulance", scenario=scenario)


def timeline(
    svc: GeoService,
    *,
    params: TimelineParams,
    profile: str | None = None,
    scenario: str | dict[str, float] = "free_flow",
    region: str | None = None,
) -> tuple[RegionEntry, TimelineReport]:
    """The 3 x 1-hour stroke chain per location (ambulance times unless a profile is given)."""
    entry = svc.pick(region)
    return entry, timeline_report(
        svc.engine(entry.name), params=params, profile=profile or "ambulance", scenario=scenario
    )
