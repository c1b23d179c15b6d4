"""Public AED siting on foot with opening hours: a maximal covering model over the hours of a week.

A demand point is covered at hour h only by an AED **open at h** within ``minutes`` walking
(``aed_week`` gives the hours). The objective, chosen here and stated in every report:

* ``week`` (default): maximise the **population-hours** covered over the 168 hours of the week,
  sum_h sum_i w_i [i covered at h], so a night-time gap weighs as much as a day-time one;
* one hour (``objective="Su03"``, day + hour): maximise the population covered at that hour.

Existing AEDs are kept, with their hours (``unknown_hours``: an AED of unknown hours counts as
``closed``, the default, so that no plan relies on an AED that may be locked, or as ``open``).
Candidates keep their own ``opening_hours`` when they have one (a school's AED is reachable when
the school is open), else ``candidate_hours`` (default 24/7: an outdoor cabinet); an hour of
unknown state counts as closed.

The model (:class:`HourlyMCLP`) is spopt's MCLP on rows = (demand point, class of hours): hours
with the same open existing AEDs and the same open candidates form one class, weighted by its
number of hours; rows already covered by an existing AED or reached by no candidate are constant
and left out; rows covered alike are merged (``cover_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.opening_hours import opening_hours_error
from .aed_week import DAYS, HOURS, open_states, week_cells
from .cover_rows import cbc, check_add, merge_rows
from .demand import Demand, population_demand
from .records import JsonRecord

__all__ = [
    "HourlyMCLP",
    "hour_classes",
    "parse_objective",
    "aed_siting",
    "AedHours",
    "AedSitingReport",
    "AedCandidate",
    "ChosenAed",
]

BIG = 1e9


def parse_objective(text: str | None) -> int | None:
    """None for ``week``; else the hour of the week (0..167) of ``Su03`` / ``Su 03`` / ``Su3``."""
    t = (text or "week").strip()
    if t.lower() == "week":
        return None
    day, hour = t[:2].capitalize(), t[2:].strip()
    if day not in DAYS or not hour.isdigit() or not 0 <= int(hour) < HOURS:
        raise GeoserviceError(
            "objective", f"objective must be 'week' or a day and hour like 'Su03' (days {', '.join(DAYS)}), got {t!r}"
        )
    return DAYS.index(day) * HOURS + int(hour)


def hour_classes(
    fixed_open: np.ndarray, cand_open: np.ndarray, hour_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hours (columns) with the same open existing AEDs and open candidates, merged:
    (fixed_open per class, cand_open per class, weight per class) with zero-weight hours dropped."""
    keep = np.flatnonzero(hour_weight > 0)
    both = np.concatenate([fixed_open[:, keep], cand_open[:, keep]], axis=0).T  # hours x sites
    uniq, inverse = np.unique(both, axis=0, return_inverse=True)
    w = np.zeros(len(uniq))
    np.add.at(w, inverse.ravel(), hour_weight[keep])
    nf = fixed_open.shape[0]
    return uniq[:, :nf].T, uniq[:, nf:].T, w


class HourlyMCLP:
    """MCLP whose coverage depends on the hour class (see the module docstring).

    ``cost``: demand x (n_fixed existing, then candidates) times; ``site_open``: sites x classes
    (bool); ``class_weight``: hours per class. ``solve()`` sets ``chosen`` (candidate indices,
    from 0) and ``covered`` (weighted demand-hours with the existing and chosen AEDs)."""

    def __init__(
        self,
        cost: np.ndarray,
        weights: np.ndarray,
        service_s: float,
        add: int,
        site_open: np.ndarray,
        class_weight: np.ndarray,
        n_fixed: int,
    ) -> None:
        self.cost = np.asarray(cost, float)
        self.weights = np.asarray(weights, float)
        self.service_s = float(service_s)
        self.add = add
        self.site_open = np.asarray(site_open, bool)
        self.class_weight = np.asarray(class_weight, float)
        self.n_fixed = n_fixed
        check_add(add, self.cost.shape[1] - n_fixed)
        self.chosen: list[int] = []
        self.covered: float | None = None

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        weights: np.ndarray,
        service_s: float,
        add: int,
        *,
        site_open: np.ndarray,
        class_weight: np.ndarray,
        n_fixed: int = 0,
    ) -> HourlyMCLP:
        return cls(cost, weights, service_s, add, site_open, class_weight, n_fixed)

    def value(self, cand: list[int]) -> float:
        """Weighted demand-hours covered with the existing AEDs and candidates ``cand``."""
        reach = self.cost <= self.service_s
        cols = list(range(self.n_fixed)) + [self.n_fixed + j for j in cand]
        cov = reach[:, cols].astype(np.int32) @ self.site_open[cols].astype(np.int32) > 0  # demand x classes
        return float((self.weights[:, None] * cov * self.class_weight[None, :]).sum())

    def solve(self) -> HourlyMCLP:
        from spopt.locate import MCLP  # lazy: spopt is heavy, loaded only when a model is solved

        nf = self.n_fixed
        reach = self.cost <= self.service_s
        fixed_cov = (reach[:, :nf].astype(np.int32) @ self.site_open[:nf].astype(np.int32)) > 0  # demand x classes
        pats: list[np.ndarray] = []
        ws: list[np.ndarray] = []
        for c in range(self.site_open.shape[1]):
            pat = reach[:, nf:] & self.site_open[nf:, c][None, :]
            live = ~fixed_cov[:, c] & pat.any(axis=1)
            pats.append(pat[live])
            ws.append(self.weights[live] * self.class_weight[c])
        n_c = self.cost.shape[1] - nf
        pat, w, _ = merge_rows(
            np.concatenate(pats) if pats else np.zeros((0, n_c), bool), np.concatenate(ws) if ws else np.zeros(0)
        )
        if len(w) == 0 or not w.sum() > 0:
            self.chosen = []  # no candidate reaches anyone not already covered: every choice adds nothing
        else:
            m = MCLP.from_cost_matrix(np.where(pat, 0.0, BIG), w, 1.0, self.add)
            try:
                m = m.solve(cbc())
            except RuntimeError:  # spopt: the solver ended without an optimal solution
                raise GeoserviceError(
                    "add", f"AED siting found no optimal choice of {self.add} among {n_c} candidates"
                ) from None
            self.chosen = [j for j in range(n_c) if (m.fac_vars[j].value() or 0) > 0.5]
        self.covered = self.value(self.chosen)
        return self


@dataclass(frozen=True)
class AedCandidate:
    """A candidate AED place, with its hours (None: unknown, use the default)."""

    id: str
    name: str
    lon: float
    lat: float
    source: str  # e.g. "OSM school", "file"
    opening_hours: str | None = None


@dataclass(frozen=True)
class ChosenAed(JsonRecord):
    id: str
    name: str
    lon: float
    lat: float
    source: str
    opening_hours: str  # the hours assumed for it
    gain: float  # demand-hours (or people at the objective hour) it adds, in greedy order


@dataclass(frozen=True)
class AedSitingReport:
    minutes: float
    objective: str  # "week" or e.g. "Su03"
    objective_unit: str  # "population-hours over the week" / "people at Su03" / shares without people
    profile: str
    week_of: str
    unknown_hours: str
    candidate_hours: str
    existing: int
    candidates: int
    candidate_source: str
    added: list[ChosenAed]
    population_data: bool
    covered_before: float  # in objective_unit
    covered_after: float
    possible: float  # everyone at every hour counted (the objective's upper bound)
    share_before: float
    share_after: float
    method: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["added"] = [a.to_json() for a in self.added]
        return out


@dataclass(frozen=True)
class AedHours:
    """The hours of an AED siting run: the ``objective`` (``week`` or an hour like ``Su03``), the
    week (``week_of``; None: this week), how existing AEDs of unknown hours count (``closed`` /
    ``open``) and the hours assumed for a candidate that has none."""

    objective: str = "week"
    week_of: date | None = None
    unknown_hours: str = "closed"
    candidate_hours: str = "24/7"


def _states(hours: Sequence[str | None], cells: list[datetime], *, unknown_open: bool) -> np.ndarray:
    s = open_states(hours, cells)
    out: np.ndarray = (s == 1) | ((s == -1) & unknown_open)
    return out


def aed_siting(
    engine: Engine,
    candidates: list[AedCandidate],
    *,
    add: int = 3,
    minutes: float = 4.0,
    profile: str = "walk",
    hours: AedHours = AedHours(),
    candidate_source: str = "file",
    demand: Demand | None = None,
) -> AedSitingReport:
    """``add`` new public AEDs among ``candidates``; see the module docstring."""
    objective, unknown_hours, candidate_hours = hours.objective, hours.unknown_hours, hours.candidate_hours
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 60):
        raise GeoserviceError("minutes", f"minutes must be in (0, 60] on foot, got {minutes!r}")
    if unknown_hours not in ("closed", "open"):
        raise GeoserviceError("unknown_hours", f"unknown_hours must be 'closed' or 'open', got {unknown_hours!r}")
    problem = opening_hours_error(candidate_hours)
    if problem:
        raise GeoserviceError("candidate_hours", problem)
    if not candidates:
        raise GeoserviceError("candidates", "no candidate sites")
    if isinstance(add, int) and add > len(candidates):
        raise GeoserviceError(
            "add", f"{add} new AED(s) asked but {candidate_source} gives only {len(candidates)} candidate site(s)"
        )
    check_add(add, len(candidates))
    target = parse_objective(objective)
    week_of = hours.week_of or date.today()
    cells = week_cells(week_of)
    hour_weight = np.ones(len(cells)) if target is None else np.eye(len(cells))[target]
    demand = demand or population_demand(engine, profile)
    fac = engine.facilities
    ex = fac[fac["type"] == "aed"]
    ex_hours = [h if isinstance(h, str) else None for h in ex.get("opening_hours", [None] * len(ex))]
    cand_hours = [c.opening_hours or candidate_hours for c in candidates]
    fixed_open = _states(ex_hours, cells, unknown_open=unknown_hours == "open")
    cand_open = _states(cand_hours, cells, unknown_open=False)
    f_cls, c_cls, cls_w = hour_classes(fixed_open, cand_open, hour_weight)
    pts = [(float(g.x), float(g.y)) for g in ex.geometry] + [(c.lon, c.lat) for c in candidates]
    node_cost = engine.cost_matrix(demand.nodes, pts, profile=profile)
    cost = demand.item_matrix(demand.nodes, node_cost)
    T = float(minutes) * 60.0
    nf = len(ex)
    model = HourlyMCLP.from_cost_matrix(
        cost, demand.weights, T, add, site_open=np.concatenate([f_cls, c_cls]), class_weight=cls_w, n_fixed=nf
    ).solve()
    before = model.value([])
    # greedy order of the chosen sites, each with what it adds
    order: list[int] = []
    gains: list[float] = []
    acc: list[int] = []
    left = list(model.chosen)
    while left:
        best = max(left, key=lambda j: (model.value(acc + [j]), -j))
        gains.append(model.value(acc + [best]) - model.value(acc))
        acc.append(best)
        order.append(best)
        left.remove(best)
    people = demand.people
    total = float(demand.weights.sum())
    possible = total * float(cls_w.sum())
    scale = 1.0 if people else (1.0 / total if total > 0 else 0.0)
    unit = (
        ("population-hours over the week" if target is None else f"people at {objective.strip()}")
        if people
        else ("share-hours of the demand over the week" if target is None else f"share of the demand at {objective}")
    )
    added = [
        ChosenAed(
            id=candidates[j].id,
            name=candidates[j].name,
            lon=candidates[j].lon,
            lat=candidates[j].lat,
            source=candidates[j].source,
            opening_hours=cand_hours[j],
            gain=round(g * scale, 3),
        )
        for j, g in zip(order, gains)
    ]
    after = float(model.covered or 0.0)
    note = None
    if after - before <= 0:
        note = "no candidate reaches people not already covered when it is open: the new AEDs add nothing"
    return AedSitingReport(
        minutes=float(minutes),
        objective="week" if target is None else f"{DAYS[target // HOURS]}{target % HOURS:02d}",
        objective_unit=unit,
        profile=profile,
        week_of=cells[0].date().isoformat(),
        unknown_hours=unknown_hours,
        candidate_hours=candidate_hours,
        existing=nf,
        candidates=len(candidates),
        candidate_source=candidate_source,
        added=added,
        population_data=people,
        covered_before=round(before * scale, 3),
        covered_after=round(after * scale, 3),
        possible=round(possible * scale, 3),
        share_before=round(before / possible, 6) if possible > 0 else 0.0,
        share_after=round(after / possible, 6) if possible > 0 else 0.0,
        note=note,
        method=(
            f"maximal covering on the walking network ({profile}) within {minutes:g} min, opening hours "
            f"respected hour by hour (week of {cells[0].date().isoformat()}, state at hh:30); objective: "
            f"{unit}; {nf} existing AED(s) kept (unknown hours counted {unknown_hours}), candidates from "
            f"{candidate_source} with their own hours else {candidate_hours!r}; spopt MCLP over (demand, hour "
            f"class) rows with PuLP/CBC; {demand.label}; roads © OpenStreetMap contributors (ODbL)"
        ),
    )
