"""Facility siting on a network cost matrix: LSCP, MCLP, p-median (spopt + PuLP/CBC).

* Demand: populated nodes of the profile's network (population layer of the bundle); beyond
  ``max_demand`` of them (a province) aggregated to at most that many points
  (``analyses.demand_grid``), which the method says.
* Sites: existing facilities of the type (fixed, ``predefined_facilities_arr``) and candidates:
  grassroots units and hospitals of the registry (``facilities``), a grid of network nodes
  (``grid``: in each ``grid_km`` cell the node with most residential road), or given points.
* Costs: network travel times from every demand node to every site under the scenario
  (``Engine.cost_matrix``: the customised contraction hierarchy, times equal to Dijkstra's),
  never straight-line distances.
* LSCP: fewest new sites so that every demand point is within T (infeasible -> SitingError naming
  the population no site can reach); MCLP: ``add`` new sites maximising the population within T;
  p-median: ``add`` new sites minimising population-weighted time.
* The new sites are reported in greedy order with the population each one adds within T; when
  they add no one (everyone already within T, or no candidate reaches the uncovered) the report's
  ``note`` says so.

The result is a :class:`SiteReport`; ``to_json()`` gives report.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..bundle.population import load_population
from ..engine.engine import Engine
from .demand_grid import aggregate_demand
from .records import JsonRecord
from .site_candidates import CandidateSite, CandidateSpec, SitingError, candidate_sites

if TYPE_CHECKING:
    import pulp

__all__ = [
    "site_report",
    "SitingOptions",
    "CandidateSpec",
    "CandidateSite",
    "SitingError",
    "cost_matrix",
    "candidate_sites",
    "solve_model",
    "MODELS",
    "SiteReport",
    "NewSite",
    "ExistingSite",
]

MODELS = ("lscp", "mclp", "pmedian")
BIG = 1e7
MAX_DEMAND = 20_000  # demand points a model is given at most (more populated nodes are aggregated)


@dataclass(frozen=True)
class SitingOptions:
    """The options of a siting run beyond its question: the existing sites' levels (comma
    separated; None: all) and whether they are kept, the candidates, the demand points' bound."""

    level: str | None = None
    candidates: CandidateSpec = field(default_factory=CandidateSpec)
    keep_existing: bool = True
    max_demand: int = MAX_DEMAND


@dataclass(frozen=True)
class ExistingSite(JsonRecord):
    id: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class NewSite(JsonRecord):
    """A chosen site, with the population it adds within T (in the greedy order of the report)."""

    id: str
    name: str
    lon: float
    lat: float
    source: str
    population_gained: float | None  # None: no population data (demand is road-weighted)


@dataclass(frozen=True)
class SiteReport:
    type: str
    minutes: float
    model: str
    profile: str
    scenario: str | dict[str, float]
    existing: list[ExistingSite]
    candidates: int
    candidate_source: str
    added: list[NewSite]
    population: float | None  # None (and the covered figures, shares): no population data
    covered_before: float | None
    covered_after: float | None
    share_before: float | None
    share_after: float | None
    mean_time_before_s: float | None
    mean_time_after_s: float | None
    method: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("type", "minutes", "model", "profile")}
        out["scenario"] = self.scenario if isinstance(self.scenario, str) else dict(self.scenario)
        out["existing"] = [e.to_json() for e in self.existing]
        out["candidates"] = self.candidates
        out["candidate_source"] = self.candidate_source
        out["added"] = [a.to_json() for a in self.added]
        for k in (
            "population",
            "covered_before",
            "covered_after",
            "share_before",
            "share_after",
            "mean_time_before_s",
            "mean_time_after_s",
            "method",
            "note",
        ):
            out[k] = getattr(self, k)
        return out


def cost_matrix(
    engine: Engine,
    demand_nodes: np.ndarray,
    points: list[tuple[float, float]],
    *,
    profile: str = "drive",
    scenario: str | dict[str, float] = "free_flow",
) -> np.ndarray:
    """(demand nodes x points) travel times under ``scenario`` (inf: unreachable or off the network)."""
    return engine.cost_matrix(demand_nodes, points, profile=profile, scenario=scenario)


def _solver() -> pulp.LpSolver:
    import pulp  # lazy: the solvers load only when a model is solved (spopt and PuLP are heavy)

    return pulp.PULP_CBC_CMD(msg=False)


def solve_model(
    model: str, cost: np.ndarray, weights: np.ndarray, T: float, *, n_fixed: int = 0, add: int | None = None
) -> list[int]:
    """Chosen new columns (indices >= n_fixed) of ``cost`` (demand x sites; first n_fixed fixed)."""
    import pulp  # lazy: heavy solver packages, loaded only when a model is solved
    from spopt.locate import LSCP, MCLP, PMedian

    n_sites = cost.shape[1]
    c = np.where(np.isfinite(cost), cost, BIG)
    pre = np.zeros(n_sites, int)
    pre[:n_fixed] = 1
    pre_arg = pre if n_fixed else None
    if model == "lscp":
        reach = (c <= T).any(axis=1)
        if not reach.all():
            raise SitingError(
                "minutes",
                f"LSCP is infeasible: {int((~reach).sum())} demand point(s) with "
                f"{float(weights[~reach].sum()):,.0f} people are farther than {T / 60:g} min from "
                f"every existing and candidate site; add candidates or raise --minutes",
            )
        m = LSCP.from_cost_matrix(c, T, predefined_facilities_arr=pre_arg)
    elif model == "mclp":
        if add is None or add < 1:
            raise SitingError("add", "MCLP needs --add >= 1")
        m = MCLP.from_cost_matrix(c, weights, T, n_fixed + add, predefined_facilities_arr=pre_arg)
    elif model == "pmedian":
        if add is None or add < 1:
            raise SitingError("add", "p-median needs --add >= 1")
        m = PMedian.from_cost_matrix(c, weights, n_fixed + add, predefined_facilities_arr=pre_arg)
    else:
        raise SitingError("model", f"model must be one of {MODELS}, got {model!r}")
    if model != "lscp" and add > n_sites - n_fixed:
        raise SitingError("add", f"--add {add} exceeds the {n_sites - n_fixed} candidate sites")
    try:
        m = m.solve(_solver())
    except RuntimeError:
        # spopt's check_status: the solver ended without an optimal solution
        status = pulp.LpStatus.get(m.problem.status, str(m.problem.status)).lower()
        if model == "lscp":
            raise SitingError(
                "minutes",
                f"LSCP is {status}: no set of existing and candidate sites reaches "
                f"every populated point within {T / 60:g} min; add candidates or raise "
                "--minutes",
            ) from None
        raise SitingError(
            "add",
            f"{model.upper()} is {status} with {add} new site(s) among "
            f"{n_sites - n_fixed} candidates (and {n_fixed} existing); change --add or the "
            "candidates",
        ) from None
    chosen = [j for j in range(n_sites) if m.fac_vars[j].value() is not None and m.fac_vars[j].value() > 0.5]
    return [j for j in chosen if j >= n_fixed]


def _greedy_order(
    cost: np.ndarray, weights: np.ndarray, T: float, fixed_cols: list[int], new_cols: list[int]
) -> tuple[float, list[int], list[float]]:
    covered = (cost[:, fixed_cols] <= T).any(axis=1) if fixed_cols else np.zeros(cost.shape[0], bool)
    base = float(weights[covered].sum())
    order: list[int] = []
    gains: list[float] = []
    left = list(new_cols)
    while left:
        best = max(left, key=lambda j: (float(weights[~covered & (cost[:, j] <= T)].sum()), -j))
        g = float(weights[~covered & (cost[:, best] <= T)].sum())
        order.append(best)
        gains.append(g)
        covered |= cost[:, best] <= T
        left.remove(best)
    return base, order, gains


def site_report(
    engine: Engine,
    *,
    type: str,
    minutes: float,
    model: str = "mclp",
    add: int | None = 3,
    profile: str = "drive",
    scenario: str | dict[str, float] = "free_flow",
    options: SitingOptions = SitingOptions(),
) -> SiteReport:
    """Choose new sites for ``type``; see the module docstring."""
    level, spec = options.level, options.candidates
    if model not in MODELS:
        raise SitingError("model", f"model must be one of {MODELS}, got {model!r}")
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 240):
        raise SitingError("minutes", f"minutes must be in (0, 240], got {minutes!r}")
    router = engine.router_for(profile)
    router.weights(profile, scenario)
    net = router.net
    layer = load_population(engine.region, net.name)
    people = layer.has_census  # else the weights are road lengths: no population figure is reported
    populated = np.flatnonzero(layer.population > 0)
    agg = aggregate_demand(
        populated, layer.population[populated], net.node_x, net.node_y, max_points=options.max_demand
    )
    demand, weights = agg.nodes, agg.weights
    fac = engine.facilities
    ex = fac[fac["type"] == type]
    if level:
        ex = ex[ex["level"].isin([s.strip() for s in level.split(",")])]
    existing = (
        [
            ExistingSite(id=str(r["id"]), name=str(r["name"]), lon=float(r.geometry.x), lat=float(r.geometry.y))
            for _, r in ex.iterrows()
        ]
        if options.keep_existing
        else []
    )
    cands = candidate_sites(
        engine,
        "points" if spec.points else spec.kind,
        type=type,
        profile=profile,
        grid_km=spec.grid_km,
        points=spec.points,
    )
    if not cands:
        raise SitingError("candidates", "no candidate sites")
    pts = [(s.lon, s.lat) for s in existing] + [(s["lon"], s["lat"]) for s in cands]
    cost = cost_matrix(engine, demand, pts, profile=profile, scenario=scenario)
    T = minutes * 60.0
    nf = len(existing)
    new = solve_model(model, cost, weights, T, n_fixed=nf, add=add)
    base, order, gains = _greedy_order(cost, weights, T, list(range(nf)), new)
    added: list[NewSite] = []
    for j, g in zip(order, gains):
        c = cands[j - nf]
        added.append(
            NewSite(
                id=c["id"],
                name=c["name"],
                lon=c["lon"],
                lat=c["lat"],
                source=c["source"],
                population_gained=round(g, 1) if people else None,
            )
        )
    allc = list(range(nf)) + order
    best = (
        np.where(np.isfinite(cost[:, allc]), cost[:, allc], np.inf).min(axis=1)
        if allc
        else np.full(len(demand), np.inf)
    )
    before = cost[:, :nf].min(axis=1) if nf else np.full(len(demand), np.inf)
    total = float(weights.sum()) + (float(layer.off.sum()) if people else 0.0)  # off the network: never covered

    def wmean(t: np.ndarray) -> float | None:
        ok = np.isfinite(t)
        return round(float((weights[ok] * t[ok]).sum() / weights[ok].sum()), 1) if ok.any() else None

    note = None
    if sum(gains) <= 0:
        n = len(added)
        what = (
            "no new site needed"
            if n == 0
            else f"the {n} site{'s' if n != 1 else ''} proposed add{'s' if n == 1 else ''} no one"
        )
        if total and base >= total:
            note = f"already 100% covered within {minutes:g} min: {what}"
        elif n:
            note = f"no candidate site reaches the people farther than {minutes:g} min: {what}" + (
                " (p-median lowers the mean time only)" if model == "pmedian" else ""
            )
    return SiteReport(
        type=type,
        minutes=minutes,
        model=model,
        profile=profile,
        scenario=scenario if isinstance(scenario, str) else dict(scenario),
        existing=existing,
        candidates=len(cands),
        candidate_source="given" if spec.points else spec.kind,
        added=added,
        population=round(total, 1) if people else None,
        covered_before=round(base, 1) if people else None,
        covered_after=round(base + sum(gains), 1) if people else None,
        share_before=round(base / total, 6) if total and people else None,
        share_after=round((base + sum(gains)) / total, 6) if total and people else None,
        mean_time_before_s=wmean(before),
        mean_time_after_s=wmean(best),
        method=(
            f"{model.upper()} on a network travel-time matrix ({agg.describe()} x "
            f"{len(pts)} sites, profile {profile}, scenario {scenario if isinstance(scenario, str) else 'custom'}) "
            "solved by spopt with PuLP/CBC; existing sites fixed; "
            + (
                f"population: {layer.method}; source: {layer.source}; "
                if people
                else "no population data: demand weighted by residential road length, no population reported; "
            )
            + "roads © OpenStreetMap contributors (ODbL)"
        ),
        note=note,
    )
