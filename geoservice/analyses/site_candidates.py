"""Candidate sites of a siting run (``analyses.siting``, ``analyses.ems_models``): registry
hospitals and grassroots units not already a facility of the type, a grid of network nodes (in each
``grid_km`` cell the node with most residential road), or given points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from ..bundle.population import node_weights
from ..engine.engine import Engine
from ..errors import GeoserviceError

__all__ = ["CandidateSite", "CandidateSpec", "SitingError", "candidate_sites"]


class SitingError(GeoserviceError):
    """Bad input to this analysis; ``field`` names it."""


class CandidateSite(TypedDict):
    """A candidate site (``candidate_sites``)."""

    id: str
    name: str
    lon: float
    lat: float
    source: str


@dataclass(frozen=True)
class CandidateSpec:
    """Where a run's candidate sites come from: ``kind`` facilities, grid, both or points; the
    given ``points`` (lon, lat; when there are any, they are the candidates); the grid's cell."""

    kind: str = "facilities"
    points: Sequence[tuple[float, float]] | None = None
    grid_km: float = 2.0


def candidate_sites(
    engine: Engine,
    kind: str = "facilities",
    *,
    type: str,
    profile: str = "drive",
    grid_km: float = 2.0,
    points: Sequence[tuple[float, float]] | None = None,
) -> list[CandidateSite]:
    """Candidate sites as dicts (id, name, lon, lat, source)."""
    fac = engine.facilities
    out: list[CandidateSite] = []
    if kind in ("facilities", "both"):
        sel = fac[fac["type"].isin(["grassroots_unit", "hospital"])]
        existing = fac[fac["type"] == type]
        seen = {(round(g.x, 5), round(g.y, 5)) for g in existing.geometry}
        for _, r in sel.iterrows():
            key = (round(r.geometry.x, 5), round(r.geometry.y, 5))
            if key in seen:
                continue
            seen.add(key)
            out.append(
                {
                    "id": str(r["id"]),
                    "name": str(r["name"]),
                    "lon": float(r.geometry.x),
                    "lat": float(r.geometry.y),
                    "source": f"registry {r['type']}",
                }
            )
    if kind in ("grid", "both"):
        net = engine.router_for(profile).net
        w = node_weights(net)
        cell = grid_km * 1000.0
        cells = np.floor(net.node_x / cell).astype(np.int64) * 1_000_003 + np.floor(net.node_y / cell).astype(np.int64)
        order = np.lexsort((-w, cells))
        first = np.ones(len(order), bool)
        first[1:] = cells[order][1:] != cells[order][:-1]
        for n in order[first]:
            if w[n] <= 0:
                continue
            out.append(
                {
                    "id": f"grid-node-{int(n)}",
                    "name": f"network node {int(n)} ({grid_km:g} km grid)",
                    "lon": float(net.node_lon[n]),
                    "lat": float(net.node_lat[n]),
                    "source": "grid of network nodes",
                }
            )
    if kind == "points":
        for i, (lon, lat) in enumerate(points or []):
            out.append(
                {"id": f"point-{i + 1}", "name": f"given point {i + 1}", "lon": lon, "lat": lat, "source": "given"}
            )
    if kind not in ("facilities", "grid", "both", "points"):
        raise SitingError("candidates", f"candidates must be facilities, grid, both or a points file; got {kind!r}")
    return out
