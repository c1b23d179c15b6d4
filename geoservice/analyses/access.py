"""Capacity-aware spatial access: the enhanced two-step floating catchment area (E2SFCA).

Luo & Qi (2009), on network travel times, as PySAL's ``access`` package computes it
(``Access.enhanced_two_stage_fca``; ``tests/analyses/test_access.py`` checks our figures against it):

1. for every facility *j*: ``R_j = S_j / sum_i P_i W(t_ij)`` over the demand points *i* with
   ``t_ij <= d0`` (the catchment, minutes); ``S_j`` is the facility's ``capacity`` (beds, cath
   labs, stroke unit beds ...) or 1 when the table gives none; ``P_i`` the people at point *i*;
2. for every demand point *i*: ``A_i = sum_j R_j W(t_ij)`` over the facilities within ``d0``.

``A_i`` is capacity per person (reported per 100,000 people: ``score_per_100k``). When no
facility carries a capacity every one counts 1 and the answer says so (``capacity_note``).

Distance decay ``W`` (:class:`Decay`):

* ``gaussian`` (default): the Gaussian kernel of Dai (2010), 1 at 0 min and 0 at the catchment:
  ``W(t) = (exp(-(t/d0)^2 / 2) - exp(-1/2)) / (1 - exp(-1/2))``;
* ``zones``: stepwise weights per travel-time zone, by default 0-10 / 10-20 / 20-30 min with
  weights 1 / 0.68 / 0.22 (Luo & Qi 2009); a time on a zone's upper bound belongs to that zone.

Demand: the bundle's population on the profile's network (one point per populated node, see
``bundle.population``); people off the network (``PopulationLayer.off``) are counted with access
0 and no travel time. Times: ``Engine.cost_matrix`` (node to facility, the customised hierarchy,
equal to Dijkstra's), computed in blocks so a province stays in bounded memory. Admin-unit figures
are population-weighted means over the unit's demand points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..bundle.population import load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.schema import FacilityFilter
from .equity import unit_types
from .records import JsonRecord

__all__ = [
    "DECAYS",
    "DEFAULT_ZONES",
    "NO_CAPACITY_NOTE",
    "AccessError",
    "AccessResult",
    "Decay",
    "FacilityRatio",
    "UnitAccess",
    "access_report",
    "e2sfca",
]

DECAYS = ("gaussian", "zones")
DEFAULT_ZONES: tuple[tuple[float, float], ...] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))
NO_CAPACITY_NOTE = "no capacities given: every facility counts 1"
PER = 100_000.0
BLOCK = 4096  # demand nodes per cost-matrix block
MAX_CELLS = 4_000_000  # at most this many times in one block (32 MB)


class AccessError(GeoserviceError):
    """Bad input to this analysis; ``field`` names it."""


@dataclass(frozen=True)
class Decay:
    """The distance decay: ``kind`` ``gaussian`` (Dai 2010 kernel, 0 at the catchment) or
    ``zones`` (``zones``: (upper bound in minutes, weight) pairs, bounds increasing)."""

    kind: str = "gaussian"
    zones: tuple[tuple[float, float], ...] = DEFAULT_ZONES

    def __post_init__(self) -> None:
        if self.kind not in DECAYS:
            raise AccessError("decay", f"decay must be one of {', '.join(DECAYS)}, got {self.kind!r}")
        if self.kind == "zones":
            bounds = [b for b, _ in self.zones]
            if not self.zones or any(not (math.isfinite(b) and b > 0) for b in bounds):
                raise AccessError("zones", "zones need positive upper bounds in minutes")
            if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
                raise AccessError("zones", f"zone bounds must increase, got {bounds}")
            if any(not (math.isfinite(w) and 0 <= w <= 1) for _, w in self.zones):
                raise AccessError("zones", "zone weights must be in [0, 1]")

    @classmethod
    def parse(cls, kind: str = "gaussian", zones: str | None = None) -> Decay:
        """From text: ``zones`` as ``10:1,20:0.68,30:0.22`` (upper bound in minutes: weight)."""
        if zones is None or not zones.strip():
            return cls(kind)
        pairs: list[tuple[float, float]] = []
        for part in zones.split(","):
            try:
                b, w = part.split(":")
                pairs.append((float(b), float(w)))
            except ValueError:
                raise AccessError("zones", f"zones are MINUTES:WEIGHT pairs like 10:1,20:0.68; got {part!r}") from None
        return cls(kind, tuple(pairs))

    def weights(self, minutes: np.ndarray, catchment: float) -> np.ndarray:
        """W(t) for travel times in minutes; 0 beyond the catchment (and beyond the last zone)."""
        t = np.asarray(minutes, float)
        inside = t <= catchment
        if self.kind == "gaussian":
            e = math.exp(-0.5)
            with np.errstate(invalid="ignore", over="ignore"):
                w = (np.exp(-0.5 * (t / catchment) ** 2) - e) / (1 - e)
        else:
            w = np.zeros(t.shape)
            for b, wt in reversed(self.zones):
                w = np.where(t <= b, wt, w)
        return np.where(inside, w, 0.0)

    def describe(self, catchment: float) -> str:
        if self.kind == "gaussian":
            return (
                f"Gaussian decay (Dai 2010): W(t) = (exp(-(t/{catchment:g})^2/2) - exp(-1/2)) / (1 - exp(-1/2)), "
                f"0 beyond {catchment:g} min"
            )
        lo = 0.0
        parts = []
        for b, w in self.zones:
            parts.append(f"{lo:g}-{b:g} min: {w:g}")
            lo = b
        return f"zones (Luo & Qi 2009): {', '.join(parts)}; 0 beyond {min(catchment, lo):g} min"


@dataclass(frozen=True)
class FacilityRatio(JsonRecord):
    """Step 1 for one facility: its capacity, the decay-weighted people in its catchment and
    the supply ratio (capacity per 100,000 of them; None: no one within the catchment)."""

    id: str
    name: str
    lon: float
    lat: float
    capacity: float
    capacity_given: bool  # False: the table had none, counted 1
    weighted_demand: float  # sum of P_i W(t_ij) within the catchment
    ratio_per_100k: float | None


@dataclass(frozen=True)
class UnitAccess(JsonRecord):
    """One admin unit: population-weighted mean access (per 100,000 people), the people with no
    facility within the catchment, and the population-weighted mean time to the nearest facility
    (minutes, over the people who reach one)."""

    admin_code: str
    name: str
    population: float
    score_per_100k: float | None  # None: no people in the unit
    people_without_access: float
    mean_nearest_min: float | None
    unreachable: float  # people who reach no facility at all (off the network included)


@dataclass(frozen=True)
class AccessResult:
    """What :func:`access_report` answers. Per demand point the arrays ``point_*`` (same length):
    position, people, admin unit (index into ``units``, -1 none), access score (capacity per
    person, raw E2SFCA ``A_i``) and time to the nearest facility in seconds (inf: none)."""

    type: str
    profile: str
    scenario: str | dict[str, float]
    minutes: float  # the catchment d0
    decay: str  # "gaussian" | "zones"
    decay_text: str
    capacity_used: bool  # some facility had a capacity; else every facility counted 1
    capacity_note: str
    population_data: bool  # False: demand is road-weighted, no people (per-100k figures None)
    population: float
    score_per_100k: float | None  # population-weighted mean over everyone counted
    facilities: list[FacilityRatio]
    units: list[UnitAccess]
    point_lon: np.ndarray = field(repr=False)
    point_lat: np.ndarray = field(repr=False)
    point_population: np.ndarray = field(repr=False)
    point_unit: np.ndarray = field(repr=False)
    point_score: np.ndarray = field(repr=False)
    point_nearest_s: np.ndarray = field(repr=False)
    unit_types: dict[str, str] = field(default_factory=dict)  # admin_code -> "urban" | "rural" when known
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def points_frame(self) -> pd.DataFrame:
        """The demand points as a table (``score_per_100k`` = 100,000 x ``A_i``)."""
        codes = [self.units[u].admin_code if u >= 0 else None for u in self.point_unit.tolist()]
        t = np.where(np.isfinite(self.point_nearest_s), self.point_nearest_s / 60.0, np.nan)
        return pd.DataFrame(
            {
                "lon": self.point_lon,
                "lat": self.point_lat,
                "population": self.point_population,
                "admin_code": codes,
                "score_per_100k": self.point_score * PER,
                "nearest_min": t,
            }
        )

    def to_json(self, *, points: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "type",
                "profile",
                "minutes",
                "decay",
                "decay_text",
                "capacity_used",
                "capacity_note",
                "population_data",
                "population",
                "score_per_100k",
            )
        }
        out["scenario"] = self.scenario if isinstance(self.scenario, str) else dict(self.scenario)
        out["facilities"] = [f.to_json() for f in self.facilities]
        out["units"] = [u.to_json() for u in self.units]
        out["method"] = self.method
        out["notes"] = list(self.notes)
        if points:
            df = self.points_frame()
            out["points"] = [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                for r in df.round(6).to_dict("records")
            ]
        return out


def e2sfca(
    times_min: np.ndarray, population: np.ndarray, supply: np.ndarray, *, catchment: float, decay: Decay = Decay()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E2SFCA on a dense (points x facilities) matrix of minutes (inf: unreachable): (``A_i`` per
    point, ``R_j`` per facility (nan: no one within the catchment), weighted demand per facility)."""
    w = decay.weights(times_min, catchment)
    demand = (np.asarray(population, float)[:, None] * w).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, np.asarray(supply, float) / demand, np.nan)
    score = (w * np.nan_to_num(ratio)).sum(axis=1)
    return score, ratio, demand


def _capacities(sel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    col = sel["capacity"] if "capacity" in sel.columns else pd.Series(np.nan, index=sel.index)
    cap = pd.to_numeric(col, errors="coerce").to_numpy(float)
    given = np.isfinite(cap) & (cap > 0)
    return np.where(given, cap, 1.0), given


def access_report(
    engine: Engine,
    *,
    type: str,
    minutes: float = 30.0,
    decay: Decay | None = None,
    profile: str = "drive",
    level: str | None = None,
    scenario: str | dict[str, float] = "free_flow",
    block: int = BLOCK,
) -> AccessResult:
    """E2SFCA for the facilities of ``type`` (and ``level``) of the engine's region; see the module
    docstring."""
    decay = decay or Decay()
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 240):
        raise AccessError("minutes", f"minutes must be in (0, 240], got {minutes!r}")
    where = FacilityFilter.parse(type=type, level=level)
    fac = engine.facilities
    sel = fac[where.mask(fac)]
    if not len(sel):
        raise AccessError("type", f"no {type} facilities{' of level ' + level if level else ''} in this region")
    supply, given = _capacities(sel)
    pts = [(float(g.x), float(g.y)) for g in sel.geometry]
    router = engine.router_for(profile)
    router.weights(profile, scenario)  # validates the scenario
    net = router.net
    layer = load_population(engine.region, net.name)
    nodes = np.flatnonzero(layer.population > 0)
    pop = layer.population[nodes].astype(float)
    m = len(pts)
    nearest = np.full(len(nodes), np.inf)
    rows_i: list[np.ndarray] = []
    rows_j: list[np.ndarray] = []
    rows_w: list[np.ndarray] = []
    catch = float(minutes)
    block = max(16, min(block, MAX_CELLS // max(m, 1)))  # a province's AEDs: bounded memory per block
    for start in range(0, len(nodes), block):
        part = nodes[start : start + block]
        t = engine.cost_matrix(part, pts, profile=profile, scenario=scenario) / 60.0
        nearest[start : start + len(part)] = t.min(axis=1) * 60.0 if m else np.inf
        w = decay.weights(t, catch)
        i, j = np.nonzero(w > 0)
        rows_i.append(i + start)
        rows_j.append(j)
        rows_w.append(w[i, j])
    ii = np.concatenate(rows_i) if rows_i else np.zeros(0, np.int64)
    jj = np.concatenate(rows_j) if rows_j else np.zeros(0, np.int64)
    ww = np.concatenate(rows_w) if rows_w else np.zeros(0)
    wdemand = np.bincount(jj, pop[ii] * ww, minlength=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(wdemand > 0, supply / wdemand, np.nan)
    score = np.bincount(ii, np.nan_to_num(ratio)[jj] * ww, minlength=len(nodes))
    # people off this network: counted, no access, no time
    off_units = np.flatnonzero(layer.off > 0) if layer.has_census else np.zeros(0, np.int64)
    geoms = layer.units.geometry.to_numpy()
    at = [
        geoms[u].representative_point() if geoms[u] is not None and not geoms[u].is_empty else None for u in off_units
    ]
    p_lon = np.concatenate([np.asarray(net.node_lon[nodes], float), [p.x if p else np.nan for p in at]])
    p_lat = np.concatenate([np.asarray(net.node_lat[nodes], float), [p.y if p else np.nan for p in at]])
    p_pop = np.concatenate([pop, layer.off[off_units].astype(float)])
    p_unit = np.concatenate([layer.unit[nodes].astype(np.int64), off_units.astype(np.int64)])
    p_score = np.concatenate([score, np.zeros(len(off_units))])
    p_near = np.concatenate([nearest, np.full(len(off_units), np.inf)])
    people = bool(layer.has_census)
    units = _units(layer.units, p_unit, p_pop, p_score, p_near)
    total = float(p_pop.sum())
    ids, names = sel["id"].astype(str).tolist(), sel["name"].astype(str).tolist()
    facilities = [
        FacilityRatio(
            id=ids[j],
            name=names[j],
            lon=pts[j][0],
            lat=pts[j][1],
            capacity=float(supply[j]),
            capacity_given=bool(given[j]),
            weighted_demand=round(float(wdemand[j]), 3),
            ratio_per_100k=None if not np.isfinite(ratio[j]) else float(ratio[j] * PER),
        )
        for j in range(m)
    ]
    n_given = int(given.sum())
    cap_note = (
        NO_CAPACITY_NOTE
        if n_given == 0
        else f"capacity from the facility table for {n_given} of {m} facilities"
        + (f"; the other {m - n_given} count 1" if n_given < m else "")
    )
    notes = [cap_note]
    if not people:
        notes.append("no population data: demand weighted by residential road length; no per-100k figure")
    if len(off_units):
        notes.append(f"{float(layer.off.sum()):,.0f} people off the {net.name} network: access 0, no time")
    if np.isnan(ratio).any():
        notes.append(f"{int(np.isnan(ratio).sum())} facilities reach no one within {minutes:g} min (no ratio)")
    scen = scenario if isinstance(scenario, str) else "custom"
    return AccessResult(
        type=type,
        profile=profile,
        scenario=scenario if isinstance(scenario, str) else dict(scenario),
        minutes=float(minutes),
        decay=decay.kind,
        decay_text=decay.describe(catch),
        capacity_used=n_given > 0,
        capacity_note=cap_note,
        population_data=people,
        population=round(total, 1),
        score_per_100k=float((p_pop * p_score).sum() / total * PER) if people and total > 0 else None,
        facilities=facilities,
        units=units if people else [replace(u, score_per_100k=None) for u in units],
        point_lon=p_lon,
        point_lat=p_lat,
        point_population=p_pop,
        point_unit=p_unit,
        point_score=p_score,
        point_nearest_s=p_near,
        unit_types=unit_types(layer.units),
        method=(
            f"E2SFCA (Luo & Qi 2009) on network travel times ({len(nodes)} populated nodes x {m} facilities, "
            f"profile {profile}, scenario {scen}); catchment {minutes:g} min; {decay.describe(catch)}; "
            f"{cap_note}; "
            + (f"population: {layer.method}; source: {layer.source}; " if people else "")
            + "roads © OpenStreetMap contributors (ODbL)"
        ),
        notes=notes,
    )


def _units(
    units: pd.DataFrame, p_unit: np.ndarray, p_pop: np.ndarray, p_score: np.ndarray, p_near: np.ndarray
) -> list[UnitAccess]:
    out = []
    codes = units["admin_code"].astype(str).tolist()
    names = units["name"].astype(str).tolist()
    for u in range(len(units)):
        k = p_unit == u
        pop = p_pop[k]
        tot = float(pop.sum())
        reach = np.isfinite(p_near[k])
        rp = float(pop[reach].sum())
        out.append(
            UnitAccess(
                admin_code=codes[u],
                name=names[u],
                population=round(tot, 1),
                score_per_100k=float((pop * p_score[k]).sum() / tot * PER) if tot > 0 else None,
                people_without_access=round(float(pop[p_score[k] <= 0].sum()), 1),
                mean_nearest_min=round(float((pop[reach] * p_near[k][reach]).sum() / rp / 60.0), 3) if rp > 0 else None,
                unreachable=round(tot - rp, 1),
            )
        )
    return out
