"""Planning questions over one region of the service (its engine: bundle + registry): siting,
the 531 grid, stroke triage and the 3 x 1-hour timeline. The faces call these, never the
analyses directly, so every face plans on the same facilities with the same travel modes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...analyses.grid531 import Grid531Report, grid531
from ...analyses.siting import CandidateSpec, SiteReport, SitingOptions, site_report
from ...analyses.timeline import TimelineParams, TimelineReport, timeline_report
from ...analyses.triage import TriageReport, TriageRule, triage_report
from ...questions import TrafficAsk
from ...sources.schema import FacilityFilter, travel_profile
from ..core import GeoService, RegionEntry
from ..facility_filter import require_facilities
from .queries import default_minutes, traffic_of

__all__ = ["SiteAsk", "site", "grid_531", "triage", "timeline", "TriageRule", "TimelineParams"]


@dataclass(frozen=True)
class SiteAsk:
    """The siting question: new sites for ``type`` (and ``level``) within ``minutes`` (default: the
    type's target), ``model`` LSCP / MCLP / p-median adding ``add``, travel ``profile`` (default:
    AEDs on foot, the rest by car), where the ``candidates`` come from, and the ``traffic``."""

    type: str
    minutes: float | None = None
    model: str = "mclp"
    add: int | None = 3
    profile: str | None = None
    level: str | None = None
    candidates: CandidateSpec = CandidateSpec()
    traffic: TrafficAsk = TrafficAsk()


def site(svc: GeoService, ask: SiteAsk, *, region: str | None = None) -> tuple[RegionEntry, SiteReport]:
    """New sites for ``ask`` (:class:`SiteAsk`) in one region; under the traffic's scenario or the
    hour of its ``depart`` (the report's ``scenario`` is then ``hour_HH``)."""
    where = FacilityFilter.parse(type=ask.type, level=ask.level)
    entry = svc.pick(region)
    eng = svc.engine(entry.name)
    prof = travel_profile(ask.type, ask.profile)
    # siting around facilities that do not exist would report 0% before: the filter is wrong
    require_facilities(eng, where, prof, entry.name)
    t = ask.traffic
    tr = traffic_of(svc, eng, prof, t.scenario, t.depart, t.percentile)
    rep = site_report(
        eng,
        type=ask.type,
        minutes=default_minutes(ask.type, ask.minutes),
        model=ask.model,
        add=ask.add,
        profile=prof,
        scenario=tr.scenario,
        options=SitingOptions(level=ask.level, candidates=ask.candidates),
    )
    if tr.depart is not None or t.percentile is not None:  # the analysis saw a table ("custom"): say which
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
