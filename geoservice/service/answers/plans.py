"""Typed answers of the emergency response planning questions (service/usecases/plans.py), the same for
every face: the API returns them, the CLI writes their JSON as report.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "HourCoverageOut",
    "CoverageLevelOut",
    "AedWeekAnswer",
    "ChosenAedOut",
    "AedSitingAnswer",
    "EmsSiteOut",
    "EmsSitingAnswer",
    "PlanTargetsOut",
    "UnitTargetsOut",
    "PlanTargetsAnswer",
    "TierOut",
    "StrokeTiersAnswer",
    "TriageCompareAnswer",
]

_PEOPLE = "people (null: the region has no population data)"


# ---------------------------------------------------------------------- AED coverage through the week
class HourCoverageOut(BaseModel):
    day: str = Field(description="Mo..Su")
    hour: int = Field(description="0..23 (the AEDs' state at hh:30)")
    aeds_open: int
    aeds_unknown: int = Field(description="AEDs whose state at that hour is unknown (no or unreadable hours)")
    covered_open: float | None = Field(description=f"within reach of an AED open then: {_PEOPLE}")
    covered_open_or_unknown: float | None = Field(
        description=f"within reach of an AED open or of unknown hours: {_PEOPLE}"
    )
    share_open: float
    share_open_or_unknown: float


class CoverageLevelOut(BaseModel):
    share_open: float
    covered_open: float | None
    hours: int = Field(description="hours of the week at this level")
    when: str = Field(description='e.g. "Mo-Fr 00-07,18-23; Su 00-23"')


class AedWeekAnswer(BaseModel):
    region: str
    minutes: float
    profile: str
    week_of: str = Field(description="the Monday of the week evaluated")
    demand: str = Field(description="what is counted: the population layer (method, source) or a demand file")
    population_data: bool
    demand_total: float | None
    aeds: int
    aeds_24_7: int
    aeds_limited: int = Field(description="AEDs closed in some hour of the week")
    aeds_unknown_hours: int
    aeds_off_network: list[str]
    baseline_covered: float | None = Field(description=f"within reach if every AED were open 24/7: {_PEOPLE}")
    baseline_share: float
    demand_hours_24_7: float = Field(description="person-hours (share-hours without population data)")
    demand_hours_open: float
    demand_hours_open_or_unknown: float
    lost_share_open: float | None = Field(description="share of the 24/7 person-hours lost to opening hours")
    lost_share_open_or_unknown: float | None
    hours: list[HourCoverageOut] = Field(description="168 hours, Monday 00 first")
    worst: list[CoverageLevelOut] = Field(description="the lowest levels of coverage and when they occur")
    by_period: dict[str, float] = Field(description="mean share_open: weekdays 08-18 vs evenings, nights, weekends")
    demand_off_network: int = 0
    note: str | None = None
    method: str


# ---------------------------------------------------------------------- AED siting
class ChosenAedOut(BaseModel):
    id: str
    name: str
    lon: float
    lat: float
    source: str
    opening_hours: str = Field(description="the hours assumed for it")
    gain: float = Field(description="what it adds to the objective, in greedy order")


class AedSitingAnswer(BaseModel):
    region: str
    minutes: float
    objective: str = Field(description='"week" (population-hours) or a day and hour, e.g. "Su03"')
    objective_unit: str
    profile: str
    week_of: str
    unknown_hours: str = Field(description="how existing AEDs of unknown hours were counted: closed or open")
    candidate_hours: str
    existing: int
    candidates: int
    candidate_source: str
    added: list[ChosenAedOut]
    population_data: bool
    covered_before: float
    covered_after: float
    possible: float
    share_before: float
    share_after: float
    note: str | None = None
    method: str


# ---------------------------------------------------------------------- EMS stations
class EmsSiteOut(BaseModel):
    id: str
    name: str
    lon: float
    lat: float
    source: str


class EmsSitingAnswer(BaseModel):
    region: str
    model: str = Field(description="mexclp or backup")
    minutes: float
    busy_fraction: float
    profile: str
    scenario: str | dict[str, float]
    existing: list[EmsSiteOut]
    added: list[EmsSiteOut]
    candidates: int
    population_data: bool
    population: float | None
    expected_before: float | None = Field(description=f"sum of w (1 - q^k): {_PEOPLE}")
    expected_after: float | None
    covered_once_before: float | None
    covered_once_after: float | None
    covered_twice_before: float | None
    covered_twice_after: float | None
    share_expected_after: float | None
    share_twice_after: float | None
    note: str | None = None
    method: str


# ---------------------------------------------------------------------- the plan's targets
class PlanTargetsOut(BaseModel):
    stroke_centers_min: int
    cpc_share: float
    grassroots_share: float


class UnitTargetsOut(BaseModel):
    admin_code: str | None
    name: str
    stroke_centers: int
    stroke_met: bool | None
    hospitals: int = Field(description="facilities of type hospital, level 'hospital' (no grades in the data)")
    hospitals_with_cpc: int
    cpc_share: float | None
    cpc_met: bool | None
    cpc_not_in_layer: int
    grassroots_institutions: int = Field(description="township / community health service centers, by name")
    institutions_with_unit: int
    grassroots_share: float | None
    grassroots_met: bool | None
    units_not_in_layer: int
    targets_met: int
    targets_applicable: int


class PlanTargetsAnswer(BaseModel):
    region: str
    targets: PlanTargetsOut
    units: list[UnitTargetsOut]
    notes: list[str]
    method: str
    layer: dict[str, Any] | None = Field(None, description="GeoJSON of the admin units with their figures")


class TierOut(BaseModel):
    name: str
    admin_code: str | None
    thrombolysis_rate_pct: float
    tier: str = Field(description="high / middle / low")
    tier_label: str
    action: str
    action_zh: str
    color: str
    demo: bool = Field(description="true: the rate is a demo value, not a real figure")
    note: str | None = None


class StrokeTiersAnswer(BaseModel):
    region: str
    tiers: list[TierOut]
    unmatched: list[str] = Field(description="rows (name or code) that match no admin unit of the region")
    method: str


# ---------------------------------------------------------------------- triage by time of day
class TriageCompareAnswer(BaseModel):
    region: str
    scenarios: list[str]
    rule: dict[str, float]
    profile: str
    population_data: bool
    locations: int
    changed_locations: int
    population_changed: float | None
    share_changed: float | None
    transitions: dict[str, float]
    population_by_recommendation: dict[str, dict[str, float] | None]
    changed_area_km2: float
    changed_area: dict[str, Any]
    layer: dict[str, Any] | None = None
    method: str
