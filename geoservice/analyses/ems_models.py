"""Ambulance station models: expected coverage with busy ambulances (MEXCLP) and backup coverage.

An ambulance is sometimes out on a call, so a place reached by one station within T is not
always served in time; a place reached by two is safer. Both models add ``add`` new stations to
the existing ones (kept) on **network drive times from station to patient** (the ``ambulance``
profile by default, under a scenario), demand = the population on drive-network nodes:

* **MEXCLP** (Daskin 1983, maximum expected covering location): each station is busy with
  probability ``q`` (the busy fraction, independent of the others); a point covered by k
  stations is served in time with probability 1 - q^k. Maximise sum_i w_i (1 - q^k_i). Here one
  ambulance per station (the original also allows several per site). With q = 0 it is the MCLP.
* **Backup coverage** (after Hogan & ReVelle 1986, BACOP): maximise the population covered at
  least **twice**; among the solutions that do, the one covering the most people at least once.

Both are integer programmes solved with PuLP/CBC (rows with the same coverage merged,
``cover_rows``); the coverage variables may be continuous since, for whole x, their optimum is
whole. Each model is a class with ``from_cost_matrix(...)`` and ``solve()``, which raises a
:class:`GeoserviceError` when there is no optimal solution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.engine import Engine
from ..errors import GeoserviceError
from .cover_rows import cbc, check_add, merge_rows
from .demand import population_demand
from .records import JsonRecord
from .site_candidates import CandidateSpec, candidate_sites

if TYPE_CHECKING:
    import pulp

__all__ = [
    "MEXCLP",
    "BackupCoverage",
    "expected_coverage",
    "coverage_counts",
    "station_times",
    "ems_report",
    "EmsReport",
    "EmsSite",
    "EMS_MODELS",
]

EMS_MODELS = ("mexclp", "backup")


def coverage_counts(cost: np.ndarray, service_s: float, cols: Iterable[int]) -> np.ndarray:
    """Per demand row: how many of the columns ``cols`` reach it within ``service_s``."""
    use = list(cols)
    if not use:
        return np.zeros(cost.shape[0], np.int64)
    counts: np.ndarray = (cost[:, use] <= service_s).sum(axis=1)
    return counts


def expected_coverage(cost: np.ndarray, weights: np.ndarray, service_s: float, cols: Iterable[int], q: float) -> float:
    """sum_i w_i (1 - q^k_i), k_i = the stations of ``cols`` within ``service_s`` of i."""
    k = coverage_counts(cost, service_s, cols)
    return float((weights * (1.0 - q**k)).sum())


def _status_error(model: str, problem: pulp.LpProblem) -> GeoserviceError:
    import pulp  # lazy: PuLP is loaded only when a model is solved

    status = pulp.LpStatus.get(problem.status, str(problem.status)).lower()
    return GeoserviceError(
        "add", f"{model} is {status}: no optimal choice of new stations; change --add or the candidates"
    )


class _StationModel:
    """What both models share: the matrix split into existing (first ``n_fixed`` columns) and
    candidate columns, and the result (``chosen``: candidate column indices, >= n_fixed)."""

    name = "model"

    def __init__(self, cost: np.ndarray, weights: np.ndarray, service_s: float, add: int, n_fixed: int):
        self.cost = np.asarray(cost, float)
        self.weights = np.asarray(weights, float)
        self.service_s = float(service_s)
        self.add = add
        self.n_fixed = n_fixed
        self.chosen: list[int] = []
        check_add(add, self.cost.shape[1] - n_fixed)
        reach = self.cost <= self.service_s
        self.fixed_k = reach[:, :n_fixed].sum(axis=1).astype(np.int64)
        self.cand = reach[:, n_fixed:]

    def _chosen_from(self, x: list[pulp.LpVariable]) -> list[int]:
        return [self.n_fixed + j for j, v in enumerate(x) if (v.value() or 0) > 0.5]


class MEXCLP(_StationModel):
    """Maximum expected covering location with busy fraction ``q``; ``solve()`` sets ``chosen``
    and ``expected`` (sum of w (1 - q^k) with the existing and chosen stations)."""

    name = "MEXCLP"

    def __init__(
        self, cost: np.ndarray, weights: np.ndarray, service_s: float, add: int, n_fixed: int, q: float
    ) -> None:
        super().__init__(cost, weights, service_s, add, n_fixed)
        if not (isinstance(q, (int, float)) and math.isfinite(q) and 0 <= q < 1):
            raise GeoserviceError("busy_fraction", f"the busy fraction must be in [0, 1), got {q!r}")
        self.q = float(q)
        self.expected: float | None = None

    @classmethod
    def from_cost_matrix(
        cls, cost: np.ndarray, weights: np.ndarray, service_s: float, add: int, *, n_fixed: int = 0, q: float = 0.3
    ) -> MEXCLP:
        return cls(cost, weights, service_s, add, n_fixed, q)

    def solve(self) -> MEXCLP:
        import pulp  # lazy: PuLP is loaded only when a model is solved

        live = self.cand.any(axis=1)  # the others' coverage cannot change
        pat, w, fixed = merge_rows(self.cand[live], self.weights[live], self.fixed_k[live])
        n_c = self.cand.shape[1]
        prob = pulp.LpProblem("mexclp", pulp.LpMaximize)
        x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_c)]
        terms: list[pulp.LpAffineExpression] = []
        for r in range(len(w)):
            cover = [x[j] for j in np.flatnonzero(pat[r])]
            ys: list[pulp.LpVariable] = []
            # at most ``add`` of the chosen stations can cover the row: no more levels needed
            for k in range(int(fixed[r]) + 1, int(fixed[r]) + min(len(cover), self.add) + 1):
                y = pulp.LpVariable(f"y{r}_{k}", 0, 1)
                ys.append(y)
                terms.append(w[r] * (1 - self.q) * self.q ** (k - 1) * y)
            prob += pulp.lpSum(ys) <= pulp.lpSum(cover)
        prob += pulp.lpSum(terms) if terms else pulp.lpSum(x) * 0
        prob += pulp.lpSum(x) == self.add
        prob.solve(cbc())
        if prob.status != pulp.LpStatusOptimal:
            raise _status_error(self.name, prob)
        self.chosen = self._chosen_from(x)
        cols = list(range(self.n_fixed)) + self.chosen
        self.expected = expected_coverage(self.cost, self.weights, self.service_s, cols, self.q)
        return self


class BackupCoverage(_StationModel):
    """Most population covered at least twice, then the most covered at least once; ``solve()``
    sets ``chosen``, ``twice`` and ``once`` (with the existing and chosen stations)."""

    name = "backup coverage"

    def __init__(self, cost: np.ndarray, weights: np.ndarray, service_s: float, add: int, n_fixed: int) -> None:
        super().__init__(cost, weights, service_s, add, n_fixed)
        self.twice: float | None = None
        self.once: float | None = None

    @classmethod
    def from_cost_matrix(
        cls, cost: np.ndarray, weights: np.ndarray, service_s: float, add: int, *, n_fixed: int = 0
    ) -> BackupCoverage:
        return cls(cost, weights, service_s, add, n_fixed)

    def solve(self) -> BackupCoverage:
        import pulp  # lazy: PuLP is loaded only when a model is solved

        live = self.cand.any(axis=1) & (self.fixed_k < 2)  # the others cannot change
        pat, w, fixed = merge_rows(self.cand[live], self.weights[live], self.fixed_k[live])
        n_c = self.cand.shape[1]
        prob = pulp.LpProblem("backup", pulp.LpMaximize)
        x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_c)]
        y1 = [pulp.LpVariable(f"a{r}", 0, 1) for r in range(len(w))]
        y2 = [pulp.LpVariable(f"b{r}", 0, 1) for r in range(len(w))]
        for r in range(len(w)):
            count = int(fixed[r]) + pulp.lpSum(x[j] for j in np.flatnonzero(pat[r]))
            prob += y1[r] <= count
            prob += y1[r] + y2[r] <= count
            prob += y2[r] <= y1[r]
        prob += pulp.lpSum(x) == self.add
        twice = pulp.lpSum(w[r] * y2[r] for r in range(len(w)))
        prob.setObjective(twice if len(w) else pulp.lpSum(x) * 0)
        prob.solve(cbc())
        if prob.status != pulp.LpStatusOptimal:
            raise _status_error(self.name, prob)
        best = float(pulp.value(twice) or 0.0) if len(w) else 0.0
        # second stage: keep the twice-covered optimum, cover the most people once
        if len(w):
            prob += twice >= best - 1e-6 * max(1.0, best)
            prob.setObjective(pulp.lpSum(w[r] * y1[r] for r in range(len(w))))
            prob.solve(cbc())
            if prob.status != pulp.LpStatusOptimal:
                raise _status_error(self.name, prob)
        self.chosen = self._chosen_from(x)
        k = coverage_counts(self.cost, self.service_s, list(range(self.n_fixed)) + self.chosen)
        self.twice = float(self.weights[k >= 2].sum())
        self.once = float(self.weights[k >= 1].sum())
        return self


def station_times(
    engine: Engine,
    points: list[tuple[float, float]],
    demand_nodes: np.ndarray,
    *,
    profile: str,
    scenario: str | dict[str, float] | None,
) -> np.ndarray:
    """(len(demand_nodes) x len(points)) drive times **from** each point (a station) to each
    demand node (the ambulance's direction: one-way streets matter), inf for a point off the
    network; one forward search per point."""
    router = engine.router_for(profile)
    w = router.weights(profile, scenario)
    snaps = router.snap_many(
        [p[0] for p in points], [p[1] for p in points], strict=False, max_snap_m=router.facility_max_snap_m
    )
    out = np.full((len(demand_nodes), len(points)), np.inf)
    for j, s in enumerate(snaps):
        if s is None:
            continue
        sd = router.seeds(s, profile, "from", weights=w)
        dist, *_ = router.search(sd.node, sd.cost, profile=profile, direction="from", weights=w)
        out[:, j] = dist[demand_nodes]
    return out


@dataclass(frozen=True)
class EmsSite(JsonRecord):
    id: str
    name: str
    lon: float
    lat: float
    source: str  # "existing" or where the candidate came from


@dataclass(frozen=True)
class EmsReport:
    model: str
    minutes: float
    busy_fraction: float
    profile: str
    scenario: str | dict[str, float]
    existing: list[EmsSite]
    added: list[EmsSite]
    candidates: int
    population_data: bool
    population: float | None
    expected_before: float | None  # sum w (1 - q^k): people expected to be reached in time
    expected_after: float | None
    covered_once_before: float | None
    covered_once_after: float | None
    covered_twice_before: float | None
    covered_twice_after: float | None
    share_expected_after: float | None
    share_twice_after: float | None
    method: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["existing"] = [s.to_json() for s in self.existing]
        out["added"] = [s.to_json() for s in self.added]
        out["scenario"] = self.scenario if isinstance(self.scenario, str) else dict(self.scenario)
        return out


def ems_report(
    engine: Engine,
    *,
    model: str = "mexclp",
    add: int = 2,
    minutes: float = 12.0,
    busy_fraction: float = 0.3,
    profile: str = "ambulance",
    scenario: str | dict[str, float] = "free_flow",
    candidates: CandidateSpec = CandidateSpec(),
) -> EmsReport:
    """New EMS stations by MEXCLP or backup coverage; see the module docstring."""
    if model not in EMS_MODELS:
        raise GeoserviceError("model", f"model must be one of {', '.join(EMS_MODELS)}, got {model!r}")
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 240):
        raise GeoserviceError("minutes", f"minutes must be in (0, 240], got {minutes!r}")
    if not (isinstance(busy_fraction, (int, float)) and math.isfinite(busy_fraction) and 0 <= busy_fraction < 1):
        raise GeoserviceError("busy_fraction", f"the busy fraction must be in [0, 1), got {busy_fraction!r}")
    engine.router_for(profile).weights(profile, scenario)  # validates both before any work
    demand = population_demand(engine, profile)
    fac = engine.facilities
    ex = fac[fac["type"] == "ems_station"]
    existing = [
        EmsSite(str(r["id"]), str(r["name"]), float(r.geometry.x), float(r.geometry.y), "existing")
        for _, r in ex.iterrows()
    ]
    cands = candidate_sites(
        engine,
        "points" if candidates.points else candidates.kind,
        type="ems_station",
        profile=profile,
        grid_km=candidates.grid_km,
        points=candidates.points,
    )
    if not cands:
        raise GeoserviceError("candidates", "no candidate sites")
    pts = [(s.lon, s.lat) for s in existing] + [(c["lon"], c["lat"]) for c in cands]
    node_cost = station_times(engine, pts, demand.nodes, profile=profile, scenario=scenario)
    cost = demand.item_matrix(demand.nodes, node_cost)
    T = float(minutes) * 60.0
    nf = len(existing)
    q = float(busy_fraction)
    solver: MEXCLP | BackupCoverage
    if model == "mexclp":
        solver = MEXCLP.from_cost_matrix(cost, demand.weights, T, add, n_fixed=nf, q=q).solve()
    else:
        solver = BackupCoverage.from_cost_matrix(cost, demand.weights, T, add, n_fixed=nf).solve()
    before, after = list(range(nf)), list(range(nf)) + solver.chosen
    k0, k1 = coverage_counts(cost, T, before), coverage_counts(cost, T, after)
    w = demand.weights
    total = float(w.sum())
    people = demand.people

    def ppl(x: float) -> float | None:
        return round(x, 1) if people else None

    exp0 = expected_coverage(cost, w, T, before, q)
    exp1 = expected_coverage(cost, w, T, after, q)
    added = [
        EmsSite(
            cands[j - nf]["id"],
            cands[j - nf]["name"],
            cands[j - nf]["lon"],
            cands[j - nf]["lat"],
            cands[j - nf]["source"],
        )
        for j in solver.chosen
    ]
    gain = (exp1 - exp0) if model == "mexclp" else float(w[k1 >= 2].sum() - w[k0 >= 2].sum())
    note = None
    if gain <= 0:
        note = (
            f"the {len(added)} new station(s) add nothing to the {'expected' if model == 'mexclp' else 'twice-'}"
            f"covered population within {minutes:g} min: no candidate reaches the people who would gain"
        )
    return EmsReport(
        model=model,
        minutes=float(minutes),
        busy_fraction=q,
        profile=profile,
        scenario=scenario if isinstance(scenario, str) else dict(scenario),
        existing=existing,
        added=added,
        candidates=len(cands),
        population_data=people,
        population=ppl(total),
        expected_before=ppl(exp0),
        expected_after=ppl(exp1),
        covered_once_before=ppl(float(w[k0 >= 1].sum())),
        covered_once_after=ppl(float(w[k1 >= 1].sum())),
        covered_twice_before=ppl(float(w[k0 >= 2].sum())),
        covered_twice_after=ppl(float(w[k1 >= 2].sum())),
        share_expected_after=round(exp1 / total, 6) if total > 0 and people else None,
        share_twice_after=round(float(w[k1 >= 2].sum()) / total, 6) if total > 0 and people else None,
        note=note,
        method=(
            (
                f"MEXCLP (expected coverage, busy fraction {q:g})"
                if model == "mexclp"
                else "backup coverage (most covered twice, then most covered once)"
            )
            + f" on network drive times from station to patient ({profile}, scenario "
            f"{scenario if isinstance(scenario, str) else 'custom'}) within {minutes:g} min; {nf} existing "
            f"station(s) kept, {add} added among {len(cands)} candidates; PuLP/CBC; {demand.label}; "
            "roads © OpenStreetMap contributors (ODbL)"
        ),
    )
