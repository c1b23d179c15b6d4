"""AED coverage through a typical week: who is within N minutes on foot of an AED open *then*.

An AED locked in an office at night covers no one at night (Copenhagen: limited opening hours
cut AED coverage of arrests by 53% on evenings, nights and weekends). For each of the 7 x 24
hours of a week:

* each AED's state comes from its OSM ``opening_hours`` (``sources.opening_hours``) evaluated at
  the middle of the hour (``hh:30``) of the given week (public-holiday rules never match): open,
  closed, or unknown (no hours, or rules whose state is unknown);
* the demand (population on walk-network nodes, or a file of points) within ``minutes`` on foot
  of an AED **open** then, and of an AED **open or of unknown hours** then (both are reported:
  unknown hours are neither counted on nor written off);
* the 24/7 baseline: the same AEDs all open all week.

The cost of limited hours is the demand-hours lost against the baseline (sum over the 168 hours
of baseline minus covered), in absolute terms and as a share of the baseline's demand-hours, and
the worst hours. Hours with the same set of open AEDs share one multi-source walking search
(``Engine.all_nearest`` with a time limit), so a week costs a handful of searches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.opening_hours import is_open
from ..sources.schema import FacilityFilter
from .demand import Demand, population_demand
from .records import JsonRecord

__all__ = [
    "DAYS",
    "HOURS",
    "week_cells",
    "open_states",
    "aed_week",
    "AedWeekReport",
    "HourCoverage",
    "CoverageLevel",
    "hour_spans",
    "monday_of",
]

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HOURS = 24
EPS_S = 1e-6


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_cells(week_of: date, *, minute: int = 30) -> list[datetime]:
    """The 168 instants of the week starting on the Monday of ``week_of``: Monday 00:30 first,
    Sunday 23:30 last (``minute`` past each hour)."""
    mon = monday_of(week_of)
    return [datetime.combine(mon + timedelta(days=d), time(h, minute)) for d in range(7) for h in range(HOURS)]


def open_states(hours: Sequence[str | None], cells: list[datetime]) -> np.ndarray:
    """(n AEDs x len(cells)) int8: 1 open, 0 closed, -1 unknown."""
    out = np.full((len(hours), len(cells)), -1, np.int8)
    for i, spec in enumerate(hours):
        for j, when in enumerate(cells):
            s = is_open(spec, when)
            out[i, j] = -1 if s is None else int(s)
    return out


@dataclass(frozen=True)
class HourCoverage(JsonRecord):
    """One hour of the week. ``*_covered`` are people (None without population data); the shares
    are of the demand (people, or the demand file's weights)."""

    day: str
    hour: int
    aeds_open: int
    aeds_unknown: int
    covered_open: float | None
    covered_open_or_unknown: float | None
    share_open: float
    share_open_or_unknown: float


@dataclass(frozen=True)
class CoverageLevel(JsonRecord):
    """The hours of the week at one level of coverage by open AEDs (lowest levels first)."""

    share_open: float
    covered_open: float | None
    hours: int  # how many hours of the week are at this level
    when: str  # e.g. "Mo-Fr 00-07,18-23; Sa 00-07,12-23; Su 00-23"


def hour_spans(cells: list[int]) -> str:
    """Hours of the week (0..167) as text: consecutive hours joined per day, equal days joined."""
    by_day: dict[int, list[int]] = {}
    for j in sorted(cells):
        by_day.setdefault(j // HOURS, []).append(j % HOURS)
    text_of: dict[int, str] = {}
    for d, hs in by_day.items():
        runs: list[list[int]] = []
        for h in hs:
            if runs and h == runs[-1][1] + 1:
                runs[-1][1] = h
            else:
                runs.append([h, h])
        text_of[d] = ",".join(f"{a:02d}" if a == b else f"{a:02d}-{b:02d}" for a, b in runs)
    parts: list[str] = []
    days = sorted(text_of)
    i = 0
    while i < len(days):
        k = i
        while k + 1 < len(days) and days[k + 1] == days[k] + 1 and text_of[days[k + 1]] == text_of[days[i]]:
            k += 1
        span = DAYS[days[i]] if k == i else f"{DAYS[days[i]]}-{DAYS[days[k]]}"
        parts.append(f"{span} {text_of[days[i]]}")
        i = k + 1
    return "; ".join(parts)


@dataclass(frozen=True)
class AedWeekReport:
    minutes: float
    profile: str
    week_of: str  # the Monday of the week evaluated (ISO date)
    demand: str  # what the demand is
    population_data: bool  # False: figures in people are None, shares are of the demand weights
    demand_total: float | None
    aeds: int  # on the walking network
    aeds_24_7: int
    aeds_limited: int  # closed in some hour of the week
    aeds_unknown_hours: int  # state unknown in every hour
    aeds_off_network: list[str]  # ids too far from the walking network (not counted)
    baseline_covered: float | None  # within reach of any AED, all of them open 24/7
    baseline_share: float
    demand_hours_24_7: float  # shares x 168 when there is no population data
    demand_hours_open: float
    demand_hours_open_or_unknown: float
    lost_share_open: float | None  # 1 - open / baseline demand-hours (None: baseline covers no one)
    lost_share_open_or_unknown: float | None
    hours: list[HourCoverage]
    worst: list[CoverageLevel]  # the lowest levels of coverage by open AEDs, and when
    method: str
    demand_off_network: int = 0
    note: str | None = None
    by_period: dict[str, float] = field(default_factory=dict)  # mean share_open per period

    def hour(self, day: str, hour: int) -> HourCoverage:
        return self.hours[DAYS.index(day) * HOURS + hour]

    def matrix(self, key: str = "share_open") -> list[list[float]]:
        """7 rows (Mo..Su) x 24 hours of one share (``share_open`` or ``share_open_or_unknown``)."""
        return [[getattr(self.hours[d * HOURS + h], key) for h in range(HOURS)] for d in range(7)]

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("hours", "worst")}
        out["hours"] = [h.to_json() for h in self.hours]
        out["worst"] = [w.to_json() for w in self.worst]
        return out


def _covered_mask(
    engine: Engine, demand: Demand, profile: str, ids: frozenset[str], T: float, cache: dict[frozenset[str], np.ndarray]
) -> np.ndarray:
    """Demand items within T of any AED of ``ids`` (one multi-source search per distinct set)."""
    hit = cache.get(ids)
    if hit is None:
        if not ids:
            hit = np.zeros(demand.n, bool)
        else:
            dist, _ = engine.all_nearest(
                profile=profile, where=FacilityFilter.parse(type="aed"), ids=sorted(ids), limit=T + 1.0
            )
            hit = demand.item_times(dist) <= T + EPS_S
        cache[ids] = hit
    return hit


def aed_week(
    engine: Engine,
    *,
    minutes: float = 4.0,
    profile: str = "walk",
    week_of: date | None = None,
    demand: Demand | None = None,
    worst: int = 3,
) -> AedWeekReport:
    """Coverage of ``demand`` (default: the population on the walking network) by AEDs open at
    each hour of the week of ``week_of`` (default: this week); see the module docstring."""
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 60):
        raise GeoserviceError("minutes", f"minutes must be in (0, 60] on foot, got {minutes!r}")
    week_of = week_of or date.today()
    T = float(minutes) * 60.0
    demand = demand or population_demand(engine, profile)
    idx = engine.select(profile, type="aed")
    fac = engine.facilities
    rows = [int(r) for r in idx.rows]
    ids = [str(fac.iloc[r]["id"]) for r in rows]
    on_net = set(rows)
    off = [str(fac.iloc[i]["id"]) for i in np.flatnonzero((fac["type"] == "aed").to_numpy()) if int(i) not in on_net]
    hours_col = fac.get("opening_hours")
    specs = [
        (hours_col.iloc[r] if hours_col is not None and isinstance(hours_col.iloc[r], str) else None) for r in rows
    ]
    cells = week_cells(week_of)
    state = open_states(specs, cells)
    total = float(demand.weights.sum())
    cache: dict[frozenset[str], np.ndarray] = {}
    base_mask = _covered_mask(engine, demand, profile, frozenset(ids), T, cache)
    base = float(demand.weights[base_mask].sum())
    people = demand.people

    def share(x: float) -> float:
        return round(x / total, 6) if total > 0 else 0.0

    hours: list[HourCoverage] = []
    sums_open = sums_maybe = 0.0  # demand-hours from the exact sums (hour figures are rounded)
    for j in range(len(cells)):
        open_ids = frozenset(i for i, s in zip(ids, state[:, j]) if s == 1)
        maybe_ids = frozenset(i for i, s in zip(ids, state[:, j]) if s != 0)
        c_open = float(demand.weights[_covered_mask(engine, demand, profile, open_ids, T, cache)].sum())
        c_maybe = float(demand.weights[_covered_mask(engine, demand, profile, maybe_ids, T, cache)].sum())
        sums_open += c_open
        sums_maybe += c_maybe
        hours.append(
            HourCoverage(
                day=DAYS[j // HOURS],
                hour=j % HOURS,
                aeds_open=len(open_ids),
                aeds_unknown=len(maybe_ids) - len(open_ids),
                covered_open=round(c_open, 1) if people else None,
                covered_open_or_unknown=round(c_maybe, 1) if people else None,
                share_open=share(c_open),
                share_open_or_unknown=share(c_maybe),
            )
        )
    base_hours = base * len(cells)
    scale = 1.0 if people else (1.0 / total if total > 0 else 0.0)  # no people: in share-hours
    all_open = (state == 1).all(axis=1)
    all_unknown = (state == -1).all(axis=1)
    limited = (state == 0).any(axis=1)
    levels: dict[float, list[int]] = {}
    for j, hc in enumerate(hours):
        levels.setdefault(hc.share_open, []).append(j)
    lowest = [
        CoverageLevel(
            share_open=v,
            covered_open=hours[levels[v][0]].covered_open,
            hours=len(levels[v]),
            when=hour_spans(levels[v]),
        )
        for v in sorted(levels)[:worst]
    ]
    weekday_day = [j for j in range(len(cells)) if j // HOURS < 5 and 8 <= j % HOURS < 18]
    rest = [j for j in range(len(cells)) if j not in set(weekday_day)]
    note = None
    if not ids:
        note = "no AED on the walking network: nothing is covered in any hour"
    elif all_unknown.all():
        note = (
            "no AED has known opening hours: 'open' covers no one; see 'open or unknown' and add "
            "opening_hours to the AEDs (OSM opening_hours syntax)"
        )
    return AedWeekReport(
        minutes=float(minutes),
        profile=profile,
        week_of=monday_of(week_of).isoformat(),
        demand=demand.label,
        population_data=people,
        demand_total=round(total, 1) if people else None,
        aeds=len(ids),
        aeds_24_7=int(all_open.sum()),
        aeds_limited=int(limited.sum()),
        aeds_unknown_hours=int(all_unknown.sum()),
        aeds_off_network=off,
        baseline_covered=round(base, 1) if people else None,
        baseline_share=share(base),
        demand_hours_24_7=round(base_hours * scale, 3),
        demand_hours_open=round(sums_open * scale, 3),
        demand_hours_open_or_unknown=round(sums_maybe * scale, 3),
        lost_share_open=round(1 - sums_open / base_hours, 6) if base_hours > 0 else None,
        lost_share_open_or_unknown=round(1 - sums_maybe / base_hours, 6) if base_hours > 0 else None,
        hours=hours,
        worst=lowest,
        by_period={
            "weekdays_08_18": round(float(np.mean([hours[j].share_open for j in weekday_day])), 6),
            "evenings_nights_weekends": round(float(np.mean([hours[j].share_open for j in rest])), 6),
        },
        demand_off_network=demand.off_network,
        note=note,
        method=(
            f"per hour of the week of {monday_of(week_of).isoformat()} (state at hh:30, OSM opening_hours, "
            f"public-holiday rules ignored): demand within {minutes:g} min on foot ({profile} network, "
            "multi-source search from the AEDs open then) of an AED open, and of one open or of unknown "
            f"hours; baseline: every AED open 24/7; {demand.label}; roads © OpenStreetMap contributors (ODbL)"
        ),
    )
