"""The traffic a question is answered under: a named scenario, a congestion table, or the hour of a
departure time, resolved once for every face so that each answer can say which one it used.

Why one place: ``scenario`` and ``depart`` exclude each other, walking ignores traffic, and the
hourly factors may come from the user's own file (``GEOSERVICE_HOURLY_PROFILES`` or the CLI's
``--hourly-profiles``); the API, the CLI and the pages must agree on all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..analyses.travel_spread import PERCENTILES, Spread, default_spread
from ..bundle.traffic_profile import stored_profile
from ..errors import GeoserviceError
from ..sources.speeds import (
    HOURLY_SOURCE,
    ROAD_CLASSES,
    SCENARIOS,
    default_hourly_profiles,
    parse_depart,
    scenario_for_depart,
    scenario_key,
)
from .hourly_file import Table, hourly_profiles
from .settings import Settings

__all__ = ["BUILT_IN", "Traffic", "in_force", "resolve", "hourly_profiles", "depart_hours", "DepartHours", "DepartHour"]

BUILT_IN = "assumption (built-in curve)"
"""What answers say when the built-in hourly curve is in force (no file, no calibrated profile)."""


@dataclass(frozen=True)
class Traffic:
    """What the engine gets (``scenario``: a name or a {road class: factor} table) and what the
    answer says: ``name`` (free_flow, off_peak, peak, custom, or ``hour_HH`` for a departure),
    ``depart`` as asked (``HH:MM``) and the hour, and where hourly factors came from."""

    scenario: str | dict[str, float]
    name: str
    depart: str | None = None
    hour: int | None = None
    source: str | None = None
    percentile: int | None = None
    multiplier: float | None = None
    spread: Spread | None = None
    median: str | dict[str, float] | None = None  # the scenario before the percentile's multiplier

    def key(self, profile: str) -> tuple[Any, ...]:
        """A hashable key for answer caches: the weights and the labels the answer carries."""
        return (scenario_key(profile, self.scenario)[1], self.name, self.depart, self.source, self.percentile)

    def label(self) -> str:
        """One phrase for CLI lines and methods: ``peak``, ``depart 08:30 (hour 08 factors:
        calibrated 2026-03 (1,499 trips))``, then ``; P90: network times x1.30 (spread: …)``."""
        text = (
            self.name if self.depart is None else f"depart {self.depart} (hour {self.hour:02d} factors: {self.source})"
        )
        return text + self.percentile_label()

    def percentile_label(self) -> str:
        if self.percentile is None or self.spread is None:
            return ""
        return f"; P{self.percentile}: network times x{self.multiplier:.2f} (spread: {self.spread.label})"

    def to_json(self) -> dict[str, Any]:
        """What answers add: ``traffic`` (the label), ``percentile``, ``time_multiplier``, ``spread``."""
        out: dict[str, Any] = {"traffic": self.label()}
        if self.percentile is not None and self.spread is not None:
            out.update(
                percentile=self.percentile, time_multiplier=round(self.multiplier or 1.0, 4), spread=self.spread.label
            )
        return out


def in_force(settings: Settings, region_path: Path | str | None = None) -> tuple[Table | None, str, Spread]:
    """(hourly factors, what answers call them, spread of times) for a region: the user's file
    (``--hourly-profiles`` / ``hourly_profiles``) wins, else the profile stored in the region's
    bundle (``geoservice attach-profile``), else the built-in curve (None: an assumption)."""
    stored = stored_profile(region_path)
    if settings.planning.hourly_profiles:
        spread = stored.spread if stored is not None else default_spread()
        return hourly_profiles(settings.planning.hourly_profiles), str(settings.planning.hourly_profiles), spread
    if stored is not None:
        return stored.table, stored.label, stored.spread
    return None, BUILT_IN, default_spread()


def _scaled(scenario: str | dict[str, float], m: float) -> dict[str, float]:
    base = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    return {c: round(float(base.get(c, 1.0)) * m, 6) for c in ROAD_CLASSES}


def resolve(
    settings: Settings,
    *,
    walking: bool,
    scenario: str | dict[str, float] | None = None,
    depart: str | None = None,
    region_path: Path | str | None = None,
    percentile: int | None = None,
) -> Traffic:
    """The traffic of a question. ``scenario`` None means not given (free flow unless ``depart``).
    ``region_path``: the bundle whose stored profile ``depart`` uses (``in_force``).
    ``percentile`` (50, 80, 90): every road's factor times the spread's multiplier of that
    percentile (the hour band's with ``depart``); walking is an error naming ``percentile``.

    Both given: an error naming ``depart``. Walking (``walking``): a scenario other than free
    flow is an error naming ``scenario`` (as ``Router.weights`` says), a departure time one naming
    ``depart``; walking times do not depend on traffic."""
    tr = _resolve(settings, walking=walking, scenario=scenario, depart=depart, region_path=region_path)
    if percentile is None:
        return tr
    if percentile not in PERCENTILES:
        raise GeoserviceError(
            "percentile", f"percentile must be one of {', '.join(map(str, PERCENTILES))}, got {percentile}"
        )
    if walking:
        raise GeoserviceError(
            "percentile", "walking times have no traffic spread: percentile applies to driving (drive, ambulance)"
        )
    spread = in_force(settings, region_path)[2]
    m = spread.multiplier(percentile, tr.hour)
    return Traffic(
        _scaled(tr.scenario, m), tr.name, tr.depart, tr.hour, tr.source, percentile, m, spread, median=tr.scenario
    )


def _resolve(
    settings: Settings,
    *,
    walking: bool,
    scenario: str | dict[str, float] | None,
    depart: str | None,
    region_path: Path | str | None,
) -> Traffic:
    if depart is not None and scenario is not None:
        raise GeoserviceError(
            "depart", "give a departure time or a scenario, not both (depart picks the hour's traffic)"
        )
    if depart is not None:
        hour = parse_depart(depart)  # a bad time names depart
        if walking:
            raise GeoserviceError(
                "depart", "walking ignores traffic: depart applies to driving (drive, ambulance), not on foot"
            )
        factors, source, _ = in_force(settings, region_path)
        table = scenario_for_depart(hour, factors)
        text = depart.strip() if isinstance(depart, str) else f"{hour:02d}:00"
        return Traffic(table, f"hour_{hour:02d}", text.zfill(5), hour, source)
    if scenario is None or scenario == "free_flow":
        return Traffic("free_flow", "free_flow")
    scenario_key("drive", scenario)  # an unknown name or a bad table names scenario
    if walking:
        what = f"scenario {scenario!r}" if isinstance(scenario, str) else "a congestion table"
        raise GeoserviceError(
            "scenario", f"walking ignores traffic: {what} applies to driving (drive, ambulance), not on foot"
        )
    return Traffic(scenario, scenario if isinstance(scenario, str) else "custom")


class DepartHour(BaseModel):
    """One hour of the day as the planner's selector offers it: the named scenario its factors
    equal (``level``: free_flow, off_peak, peak, else ``mixed``) and its largest factor."""

    hour: int
    depart: str = Field(description="HH:00, the value to send as depart")
    level: str
    max_factor: float = Field(description="largest travel-time factor of the hour (main roads)")


class DepartHours(BaseModel):
    source: str = Field(description="where the hourly factors come from")
    hours: list[DepartHour]


def depart_hours(settings: Settings, region_path: Path | str | None = None) -> DepartHours:
    """The 24 hours of the hourly factors in force (the user's file, else the region's stored
    profile, else the default curve)."""
    factors, source, _ = in_force(settings, region_path)
    table = factors or default_hourly_profiles()
    named = {name: {c: f for c, f in t.items() if f != 1.0} for name, t in SCENARIOS.items()}
    hours = []
    for h in range(24):
        sc = scenario_for_depart(h, table)
        level = next((name for name, t in named.items() if t == sc), "mixed")
        hours.append(
            DepartHour(hour=h, depart=f"{h:02d}:00", level=level, max_factor=round(max(sc.values(), default=1.0), 3))
        )
    return DepartHours(source=f"{BUILT_IN}: {HOURLY_SOURCE}" if factors is None else source, hours=hours)
