"""Population coverage within a travel-time threshold, by admin unit, with gap polygons.

One multi-source network search (``Engine.all_nearest``) gives every graph node its time to the
nearest selected facility. Then:

* population covered = sum of the node populations (bundle population layer, see
  ``bundle.population``) whose time is <= T;
* road km covered = the reachable part of every road piece (partly reached pieces cut at the
  exact fraction: from its ends the piece is covered for (T - t_end) / piece time);
* area = the road extent (within 150 m of a road, walk 22.5 m, contoured on a ``cell``-metre lattice, see
  ``engine.contours``), covered where the isochrone's reach field of T covers it (every junction
  *not* reached within T kept out, so every uncovered node lies in a gap); gaps = the rest;
* farthest = populated nodes with the longest times (unreachable first), one per 1 km.

Population figures are those of the part of each admin unit inside the road extract (see
``bundle.population_inside``): per unit ``census_population`` (the whole unit's count),
``share_inside`` (its area share inside the extract) and ``population`` (its people inside,
which add up to the overall ``population``); ``population_outside_extract`` counts the rest.
Every network counts the same people: on foot, those living along roads the walking network
does not connect (central Shanghai's 浦东新区 across the Huangpu) are in ``population`` and never
covered (``population_off_network``), so AED coverage on foot and coverage by car share a total.
A bundle without census counts has **no population data**: ``population_data`` is false and
every population figure and population share is null (gap and farthest populations too); area
and road shares are still given. A share of road-weighted space is never reported as people.

The result is a :class:`CoverageReport`; ``to_json()`` gives the JSON of the API and report.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bundle.network import Network
from ..bundle.population import load_population
from ..engine.engine import Engine
from ..engine.isochrone import CELL_M
from ..engine.router import SnapError
from ..errors import GeoserviceError
from ..questions import CoverageQuestion, Scenario
from ..sources.schema import DEFAULT_MINUTES, FacilityFilter
from .coverage_area import UNREACHED, cover_grid, gap_features
from .records import JsonRecord

__all__ = [
    "coverage_report",
    "node_times",
    "CoverageError",
    "DEFAULT_MINUTES",
    "CoverageReport",
    "CoverageFigures",
    "UnitCoverage",
    "FarthestPoint",
]


class CoverageError(GeoserviceError):
    """Bad input to this analysis; ``field`` names it."""


@dataclass(frozen=True)
class CoverageFigures(JsonRecord):
    """Overall shares. Population figures are None when the bundle has no census counts;
    ``population`` is the people inside the road extract, ``population_outside_extract`` those
    of the same admin units living outside it (None when unknown)."""

    population: float | None
    population_covered: float | None
    population_share: float | None
    area_km2: float
    area_covered_km2: float
    area_share: float | None
    road_km: float
    road_km_covered: float
    road_share: float | None
    population_outside_extract: float | None = None
    population_off_network: float | None = None  # of ``population``: off this network, never covered


@dataclass(frozen=True)
class UnitCoverage(JsonRecord):
    """Shares of one admin unit (road pieces belong to the unit of their first end node)."""

    admin_code: str
    name: str
    population: float | None
    population_covered: float | None
    population_share: float | None
    road_share: float | None
    census_population: float | None = None  # the whole unit's census count
    share_inside: float | None = None  # area share of the unit inside the road extract
    population_off_network: float | None = None  # of ``population``: off this network, never covered


@dataclass(frozen=True)
class FarthestPoint(JsonRecord):
    """A populated node among the farthest from the facilities (``time_s`` None: unreachable)."""

    lon: float
    lat: float
    time_s: float | None
    population: float | None  # None: no population data in this bundle


@dataclass(frozen=True)
class CoverageReport:
    """What ``coverage_report`` answers; ``gaps`` is a GeoJSON FeatureCollection (WGS-84) whose
    features carry ``gap_id``, ``area_km2``, ``population`` and ``max_time_s``."""

    type: str
    minutes: float
    profile: str
    scenario: str | dict[str, float]
    method: str
    overall: CoverageFigures
    population_data: bool = True
    by_unit: list[UnitCoverage] = field(default_factory=list)
    gaps: dict[str, Any] = field(default_factory=lambda: {"type": "FeatureCollection", "features": []})
    farthest: list[FarthestPoint] = field(default_factory=list)

    @property
    def scenario_name(self) -> str:
        return self.scenario if isinstance(self.scenario, str) else "custom"

    @property
    def shown_scenario(self) -> str:
        """The scenario as the report's JSON names it when it is text (a table of factors: "custom")."""
        return self.scenario_name

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (the API's ``CoverageResponse`` without region/crs, report.json)."""
        return {
            "type": self.type,
            "minutes": self.minutes,
            "profile": self.profile,
            "scenario": self.scenario if isinstance(self.scenario, str) else dict(self.scenario),
            "method": self.method,
            "population_data": self.population_data,
            "overall": self.overall.to_json(),
            "by_unit": [u.to_json() for u in self.by_unit],
            "gaps": self.gaps,
            "farthest": [p.to_json() for p in self.farthest],
        }


def node_times(
    engine: Engine,
    where: FacilityFilter,
    *,
    profile: str = "drive",
    scenario: Scenario = "free_flow",
    add_sites: Sequence[tuple[float, float]] = (),
    remove_ids: Sequence[str] = (),
    limit: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Time (s) from every node of the profile's network to the nearest facility ``where`` selects
    (plus ``add_sites``, less ``remove_ids``)."""
    try:
        dist, label = engine.all_nearest(
            profile=profile,
            direction="to",
            where=where,
            extra_points=list(add_sites) or None,
            exclude_ids=list(remove_ids) or None,
            scenario=scenario,
            limit=limit,
        )
    except SnapError as exc:
        raise exc.with_field("add_sites") from None
    return dist, label


def _road_covered(
    net: Network, dist: np.ndarray, profile: str, weights: np.ndarray, T: float
) -> tuple[float, float, np.ndarray]:
    """(total road km, covered road km) with partial pieces."""
    ef, eb = net.geom_fwd, net.geom_bwd
    du, dv = dist[net.geom_u], dist[net.geom_v]
    # travel towards the facility: leave the piece at v (forward edge) or u (backward edge)
    tf = np.where(ef >= 0, weights[np.maximum(ef, 0)], np.inf)
    tb = np.where(eb >= 0, weights[np.maximum(eb, 0)], np.inf)
    # point at fraction f: via v if forward usable: dv + (1-f) tf; via u if backward: du + f tb
    with np.errstate(invalid="ignore", divide="ignore"):
        from_v = np.where(np.isfinite(tf) & np.isfinite(dv), np.clip((T - dv) / tf, 0, 1), 0.0)
        from_u = np.where(np.isfinite(tb) & np.isfinite(du), np.clip((T - du) / tb, 0, 1), 0.0)
    frac = np.minimum(from_u + from_v, 1.0)
    return float(net.geom_len.sum() / 1000), float((frac * net.geom_len).sum() / 1000), frac


def _farthest(
    net: Network,
    dist: np.ndarray,
    pop: np.ndarray,
    n: int = 10,
    spacing_m: float = 1000.0,
    *,
    has_census: bool = True,
) -> list[FarthestPoint]:
    cand = np.flatnonzero(pop > 0)
    if not len(cand):
        return []
    t = np.where(np.isfinite(dist[cand]), dist[cand], UNREACHED)
    order = cand[np.lexsort((cand, -t))]
    picked: list[int] = []
    for i in order:
        if len(picked) >= n:
            break
        if any(math.hypot(net.node_x[i] - net.node_x[j], net.node_y[i] - net.node_y[j]) < spacing_m for j in picked):
            continue
        picked.append(int(i))
    return [
        FarthestPoint(
            lon=round(float(net.node_lon[i]), 6),
            lat=round(float(net.node_lat[i]), 6),
            time_s=round(float(dist[i]), 1) if np.isfinite(dist[i]) else None,
            population=round(float(pop[i]), 1) if has_census else None,
        )
        for i in picked
    ]


def coverage_report(engine: Engine, q: CoverageQuestion, *, scenario: Scenario = None) -> CoverageReport:
    """Population, area and road share within ``q.threshold`` minutes of the nearest facility ``q.where``
    selects (with its added sites, less its removed ones); ``scenario`` is its traffic resolved to edge
    factors (default: the question's named scenario, else free flow)."""
    if scenario is None:
        scenario = q.traffic.scenario or "free_flow"
    ftype, minutes, profile, by = q.type, q.threshold, q.mode, q.by
    add_sites, remove_ids = q.add_sites, q.remove_ids
    if remove_ids:
        known = set(engine.facilities["id"].astype(str))
        unknown = [r for r in remove_ids if str(r) not in known]
        if unknown:
            raise CoverageError("remove_ids", f"unknown facility id(s): {', '.join(map(str, unknown[:5]))}")
    router = engine.router_for(profile)
    net = router.net
    weights = router.weights(profile, scenario)
    T = minutes * 60.0
    dist, _ = node_times(
        engine, q.where, profile=profile, scenario=scenario, add_sites=add_sites, remove_ids=remove_ids
    )
    layer = load_population(engine.region, net.name)
    pop = layer.population
    off = layer.off  # per unit: people off this network (walking: across a river it cannot cross)
    covered = dist <= T
    total = float(pop.sum() + off.sum())
    cov_pop = float(pop[covered].sum())
    road_total, road_cov, road_frac = _road_covered(net, dist, profile, weights, T)
    cell = CELL_M.get(net.name, 100.0)
    gx0, gy0, ext, cov = cover_grid(router, dist, profile, weights, T, cell)
    area_total = float(ext.sum()) * cell * cell / 1e6
    area_cov = float(cov.sum()) * cell * cell / 1e6

    def share(a: float, b: float) -> float | None:
        return round(a / b, 6) if b > 0 else None

    people = layer.has_census  # without census counts: no population figure at all (module docstring)

    def pop_share(a: float, b: float) -> float | None:
        return share(a, b) if people else None

    overall = CoverageFigures(
        population=round(total, 1) if people else None,
        population_covered=round(cov_pop, 1) if people else None,
        population_share=pop_share(cov_pop, total),
        area_km2=round(area_total, 3),
        area_covered_km2=round(area_cov, 3),
        area_share=share(area_cov, area_total),
        road_km=round(road_total, 3),
        road_km_covered=round(road_cov, 3),
        road_share=share(road_cov, road_total),
        population_outside_extract=float(layer.total_outside) if people and layer.total_outside is not None else None,
        population_off_network=round(float(off.sum()), 1) if people else None,
    )
    by_unit: list[UnitCoverage] = []
    if by != "none":
        units = layer.units
        nu = len(units)
        u = layer.unit
        ok = u >= 0
        upop = np.bincount(u[ok], pop[ok], minlength=nu) + off
        ucov = np.bincount(u[ok & covered], pop[ok & covered], minlength=nu)
        # road share per unit: each piece belongs to the unit of its u-end node
        gunit = u[net.geom_u]
        gok = gunit >= 0
        rlen = np.bincount(gunit[gok], net.geom_len[gok], minlength=nu)
        rcov = np.bincount(gunit[gok], (road_frac * net.geom_len)[gok], minlength=nu)
        census = units["population"].to_numpy(float) if people and "population" in units else np.full(nu, np.nan)
        inside = units["share_inside"].to_numpy(float) if people and "share_inside" in units else np.full(nu, np.nan)
        for k in range(nu):
            by_unit.append(
                UnitCoverage(
                    admin_code=str(units.iloc[k]["admin_code"]),
                    name=str(units.iloc[k]["name"]),
                    population=round(float(upop[k]), 1) if people else None,
                    population_covered=round(float(ucov[k]), 1) if people else None,
                    population_share=pop_share(float(ucov[k]), float(upop[k])),
                    road_share=share(float(rcov[k]), float(rlen[k])),
                    census_population=float(census[k]) if np.isfinite(census[k]) else None,
                    share_inside=float(inside[k]) if np.isfinite(inside[k]) else None,
                    population_off_network=round(float(off[k]), 1) if people else None,
                )
            )
    gap_fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [],
        "attribution": "Road data © OpenStreetMap contributors, ODbL 1.0",
    }
    if q.gaps:
        gap_fc["features"] = gap_features(router, ext, pop, dist, T)
        if not people:  # their "population" would be road weights
            for f in gap_fc["features"]:
                f["properties"]["population"] = None
    method = (
        f"network travel time to the nearest {ftype}"
        + (f" (level {','.join(sorted(q.where.levels))})" if q.where.levels else "")
        + (f" (capability {','.join(sorted(q.where.capabilities))})" if q.where.capabilities else "")
        + f", profile {profile}, scenario {scenario if isinstance(scenario, str) else 'custom'}; "
        + (
            f"population: {layer.method}; population source: {layer.source}; "
            if people
            else "no population data in this bundle (population figures and shares are null); "
        )
        + f"area: road extent and reach contoured on a {cell:.0f} m lattice; roads © OpenStreetMap contributors (ODbL)"
    )
    return CoverageReport(
        type=ftype,
        minutes=minutes,
        profile=profile,
        scenario=scenario if isinstance(scenario, str) else dict(scenario),
        method=method,
        overall=overall,
        population_data=people,
        by_unit=by_unit,
        gaps=gap_fc,
        farthest=_farthest(net, dist, pop, has_census=people),
    )
