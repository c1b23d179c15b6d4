"""Capacity-aware access (E2SFCA), its equity and the standards, over one region of the service.

The faces (``geoservice access``, ``GET /access``, the planner's access layer, the plan report)
call these, never the analyses directly, so they answer on the same facilities (the registry's,
edits included) with the same travel modes and traffic."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...analyses.access import AccessResult, Decay, access_report
from ...analyses.equity import EquityResult, access_equity
from ...analyses.standards import StandardsResult, StandardTargets, standards_report
from ...sources.schema import FacilityFilter, travel_profile
from ..core import GeoService, RegionEntry
from ..facility_filter import require_facilities
from .queries import traffic_of

__all__ = ["AccessAnswer", "AccessAsk", "access", "access_answer", "default_catchment", "standards"]


def default_catchment(ftype: str, minutes: float | None) -> float:
    """The catchment asked for, else 30 min (the zones of Luo & Qi; the chest pain circle); AEDs 4 min."""
    if minutes is not None:
        return float(minutes)
    return 4.0 if ftype == "aed" else 30.0


@dataclass(frozen=True)
class AccessAnswer:
    """One question's answer: the region, the E2SFCA result, its equity (access, travel time)
    and, when asked, the standards."""

    region: str
    result: AccessResult
    equity: tuple[EquityResult, EquityResult] | None
    standards: StandardsResult | None

    def to_json(self, *, points: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, **self.result.to_json(points=points)}
        out["equity"] = (
            {"access": self.equity[0].to_json(), "travel_time": self.equity[1].to_json()} if self.equity else None
        )
        out["standards"] = self.standards.to_json() if self.standards else None
        return out


@dataclass(frozen=True)
class AccessAsk:
    """The E2SFCA question: facility ``type`` (and ``level``), catchment ``minutes`` (default
    :func:`default_catchment`), decay ``gaussian`` or ``zones`` (``10:1,20:0.68,30:0.22``), travel
    ``profile`` (default: AEDs on foot, the rest by car) and traffic (``scenario`` or ``depart``)."""

    type: str
    minutes: float | None = None
    decay: str = "gaussian"
    zones: str | None = None
    profile: str | None = None
    level: str | None = None
    scenario: str | dict[str, float] | None = None
    depart: str | None = None


def access(svc: GeoService, ask: AccessAsk, *, region: str | None = None) -> tuple[RegionEntry, AccessResult]:
    """E2SFCA for ``ask`` (:class:`AccessAsk`) in one region (default: the first served)."""
    where = FacilityFilter.parse(type=ask.type, level=ask.level)
    dec = Decay.parse(ask.decay, ask.zones)
    entry = svc.pick(region)
    eng = svc.engine(entry.name)
    prof = travel_profile(ask.type, ask.profile)
    require_facilities(eng, where, prof, entry.name)
    tr = traffic_of(svc, eng, prof, ask.scenario, ask.depart)
    res = access_report(
        eng,
        type=ask.type,
        minutes=default_catchment(ask.type, ask.minutes),
        decay=dec,
        profile=prof,
        level=ask.level,
        scenario=tr.scenario,
    )
    if tr.depart is not None:  # the analysis saw a table ("custom"): say which hour
        res = replace(res, scenario=tr.name)
    return entry, res


def standards(
    svc: GeoService, *, targets: StandardTargets = StandardTargets(), region: str | None = None
) -> tuple[RegionEntry, StandardsResult]:
    """Every standard (AED density, fetch and return, EMS radius and time, 30/60-min circles) per admin unit."""
    entry = svc.pick(region)
    return entry, standards_report(svc.engine(entry.name), targets=targets)


def access_answer(
    svc: GeoService,
    entry: RegionEntry,
    res: AccessResult,
    *,
    equity: bool = True,
    targets: StandardTargets | None = None,
) -> AccessAnswer:
    """The E2SFCA result with its equity and (``targets`` given) the standards of the same region."""
    std = standards(svc, targets=targets, region=entry.name)[1] if targets is not None else None
    return AccessAnswer(entry.name, res, access_equity(res) if equity else None, std)
