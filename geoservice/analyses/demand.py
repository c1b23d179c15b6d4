"""Demand for the planning models: the bundle's population on network nodes, or a file of points.

A demand item reaches the network through *seeds* (node, seconds): a populated node is its own
seed at 0 s; a point of a demand file (e.g. the places of past cardiac arrests) is snapped to the
nearest road piece of the profile's network and seeds both ends with the partial time along it,
as the engine does for a query point. The time from an item to a facility set is then
``min(seed cost + node time)`` over its seeds. (A point and a facility on the same road piece are
still routed through the piece's ends, so such a time can be longer by at most one piece.)
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bundle.population import load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError, InputFileError

__all__ = ["Demand", "population_demand", "point_demand", "read_demand_csv"]


@dataclass(frozen=True)
class Demand:
    """Weighted demand items on one network, reached through seeds."""

    weights: np.ndarray  # per item
    seed_item: np.ndarray  # per seed: its item
    seed_node: np.ndarray  # per seed: the network node
    seed_cost: np.ndarray  # per seed: seconds from the item to the node
    people: bool  # True: weights are people (census); False: road weights or a file's weights
    label: str  # what the weights are, for the report
    off_network: int = 0  # file points too far from the network (left out, counted here)
    lon: np.ndarray | None = None  # per item (for layers); None: use the nodes'
    lat: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def nodes(self) -> np.ndarray:
        """The distinct seed nodes (the rows a cost matrix needs)."""
        return np.unique(self.seed_node)

    def item_times(self, node_time: np.ndarray) -> np.ndarray:
        """Per item: min over its seeds of seed cost + ``node_time`` (indexed by network node)."""
        out = np.full(self.n, np.inf)
        np.minimum.at(out, self.seed_item, self.seed_cost + node_time[self.seed_node])
        return out

    def item_matrix(self, node_rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        """(items x sites) times from a (len(node_rows) x sites) matrix over ``node_rows`` (sorted
        network nodes, e.g. ``self.nodes``)."""
        pos = np.searchsorted(node_rows, self.seed_node)
        per_seed = matrix[pos] + self.seed_cost[:, None]
        out = np.full((self.n, matrix.shape[1]), np.inf)
        np.minimum.at(out, self.seed_item, per_seed)
        return out


def population_demand(engine: Engine, profile: str) -> Demand:
    """The bundle's population on the profile's network: one item per populated node (road
    weights, ``people`` False, when the bundle has no census), then one item per admin unit with
    people off this network (``PopulationLayer.off_network``: no seed, never covered, in every
    total, at the unit's representative point)."""
    net = engine.router_for(profile).net
    layer = load_population(engine.region, net.name)
    nodes = np.flatnonzero(layer.population > 0)
    off_units = np.flatnonzero(layer.off > 0) if layer.has_census else np.zeros(0, np.int64)
    geoms = layer.units.geometry.to_numpy()
    at = [
        geoms[u].representative_point() if geoms[u] is not None and not geoms[u].is_empty else None for u in off_units
    ]
    return Demand(
        weights=np.concatenate([layer.population[nodes].astype(float), layer.off[off_units].astype(float)]),
        seed_item=np.arange(len(nodes)),
        seed_node=nodes.astype(np.int64),
        seed_cost=np.zeros(len(nodes)),
        people=bool(layer.has_census),
        label=(
            f"population: {layer.method}; source: {layer.source}"
            if layer.has_census
            else "no population data: demand weighted by residential road length (no people counted)"
        ),
        lon=np.concatenate([np.asarray(net.node_lon[nodes], float), [p.x if p is not None else np.nan for p in at]]),
        lat=np.concatenate([np.asarray(net.node_lat[nodes], float), [p.y if p is not None else np.nan for p in at]]),
    )


def point_demand(
    engine: Engine,
    profile: str,
    points: list[tuple[float, float, float]],
    *,
    label: str,
    scenario: str | dict[str, float] | None = None,
) -> Demand:
    """Demand points (lon, lat, weight) snapped to the profile's network; points beyond the
    network's snapping limit are left out and counted in ``off_network``."""
    router = engine.router_for(profile)
    w = router.weights(profile, scenario)
    snaps = router.snap_many([p[0] for p in points], [p[1] for p in points], strict=False)
    items: list[int] = []
    nodes: list[int] = []
    costs: list[float] = []
    weights: list[float] = []
    lon: list[float] = []
    lat: list[float] = []
    off = 0
    for p, s in zip(points, snaps):
        if s is None:
            off += 1
            continue
        sd = router.seeds(s, profile, "from", weights=w)
        k = len(weights)
        for node, cost in zip(sd.node.tolist(), sd.cost.tolist()):
            items.append(k)
            nodes.append(node)
            costs.append(cost)
        weights.append(float(p[2]))
        lon.append(float(p[0]))
        lat.append(float(p[1]))
    return Demand(
        weights=np.array(weights, float),
        seed_item=np.array(items, np.int64),
        seed_node=np.array(nodes, np.int64),
        seed_cost=np.array(costs, float),
        people=False,
        label=label,
        off_network=off,
        lon=np.array(lon),
        lat=np.array(lat),
    )


def read_demand_csv(path: str | Path, *, field: str = "demand") -> list[tuple[float, float, float]]:
    """Points of a CSV with ``lon``, ``lat`` and an optional non-negative ``weight`` (default 1):
    e.g. past out-of-hospital cardiac arrests, or people per building."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"file not found: {p}")
    out: list[tuple[float, float, float]] = []
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if not {"lon", "lat"} <= cols:
            raise InputFileError(field, f"{p}: needs lon and lat columns (and optionally weight); has {sorted(cols)}")
        for n, row in enumerate(reader, 1):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
                wt = float(row["weight"]) if row.get("weight") not in (None, "") else 1.0
            except (TypeError, ValueError):
                raise InputFileError(field, f"{p} row {n}: lon, lat and weight must be numbers") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InputFileError(field, f"{p} row {n}: ({lon}, {lat}) is not a lon/lat")
            if not (math.isfinite(wt) and wt >= 0):
                raise InputFileError(field, f"{p} row {n}: weight must be a non-negative number, got {wt}")
            out.append((lon, lat, wt))
    if not out:
        raise InputFileError(field, f"{p}: no rows")
    if not sum(w for _, _, w in out) > 0:
        raise GeoserviceError(field, f"{p}: every weight is 0")
    return out
