"""Service areas, one facility at a time: each facility's polygon is built, simplified and cached on
its own, and an answer is refused before it grows beyond what one request may produce.

**Cached per facility.** A facility's polygon is cached under a :class:`~.caches.StableKey`: its
position, the travel mode, the minutes, the traffic and the simplification, not its id, its name
or the rest of the facility table. An edit therefore recomputes only the facilities it added or
moved (renaming one recomputes nothing) and every other facility keeps its polygon; the answer's
properties (id, name, level, ...) come from the current table. The region's cache bounds them in
bytes with everything else it holds (``cache_region_bytes``, ``cache_bytes``).

**Simplified to the scale it is drawn at.** Positions are rounded to 1e-6 degrees (about 0.1 m)
and the outline simplified (Douglas-Peucker) to ``area_simplify_cells`` of the isochrone lattice
step: 0.25 is 3.75 m on foot and 25 m by car, well below a screen pixel at the planner's city
zoom (about 16 m at zoom 13). A walking service area keeps about a fifth of its vertices (an
eighth of its bytes); the area changes by about 2% on foot (the outline hugs 22.5 m bands along
the paths) and 0.6% by car. ``area_simplify_cells = 0`` keeps the exact outlines.

**Bounded per request.** Walking is limited to ``max_walk_minutes`` (isochrones too); an answer to
``max_answer_bytes`` of GeoJSON (estimated from each polygon's positions, checked after each
facility; refused as soon as the facilities built so far project to more than twice the limit).
The refusal names the limit and how to narrow the question.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ...engine.engine import Engine
from ...engine.isochrone import CELL_M, M_PER_DEG_LAT
from ...errors import GeoserviceError
from ...sources.cell_values import plain_value
from ...sources.schema import FacilityFilter
from .. import traffic as traffic_
from ..caches import StableKey
from ..core import GeoService, RegionEntry
from ..output_crs import shift_geometry

__all__ = ["Area", "AnswerLimit", "AreaAsk", "check_walk_minutes", "simplify_outline", "region_features", "COMPUTED"]

GRID_DEG = 1e-6
"""Positions of simplified outlines are rounded to this (about 0.1 m)."""
JSON_BYTES_PER_POSITION = 26
"""A position as GeoJSON: ``[121.4584830,31.1861780],`` (GCJ-02, 7 decimals; WGS-84 has 6: 24)."""
PROJECT_FACTOR = 2.0
"""An answer is refused early once the facilities built so far project beyond this times the limit."""


class _Counter:
    """Polygons built (not found in the cache) in this process: tests count them."""

    def __init__(self) -> None:
        self.n = 0


COMPUTED = _Counter()


@dataclass(frozen=True, eq=False)
class Area:
    """One facility's service area: a shapely MultiPolygon (WGS-84) and the engine's properties
    (minutes, profile, direction, snap_m, access_s)."""

    geometry: Any
    props: dict[str, Any]
    n_coords: int
    n_rings: int

    @classmethod
    def of(cls, geometry: Any, props: dict[str, Any]) -> Area:
        n_rings = int(shapely.get_num_interior_rings(list(geometry.geoms)).sum()) + len(geometry.geoms)
        return cls(geometry, dict(props), int(shapely.get_num_coordinates(geometry)), n_rings)

    @property
    def cache_nbytes(self) -> int:
        """Memory it holds (GEOS coordinates, rings, the properties), for the cache's accounting."""
        return 24 * self.n_coords + 64 * self.n_rings + 1200

    @property
    def json_bytes(self) -> int:
        """About the bytes of its GeoJSON geometry."""
        return JSON_BYTES_PER_POSITION * self.n_coords + 4 * self.n_rings + 40

    def geojson(self) -> dict[str, Any]:
        """A GeoJSON MultiPolygon, positions as (lon, lat) tuples (as the engine draws them)."""
        if self.geometry.is_empty:
            return {"type": "MultiPolygon", "coordinates": []}
        _, coords, (ring_end, poly_end, _) = shapely.to_ragged_array([self.geometry])
        pts = list(zip(coords[:, 0].tolist(), coords[:, 1].tolist()))
        rings = [pts[a:b] for a, b in zip(ring_end[:-1].tolist(), ring_end[1:].tolist())]
        polys = [rings[a:b] for a, b in zip(poly_end[:-1].tolist(), poly_end[1:].tolist())]
        return {"type": "MultiPolygon", "coordinates": polys}


def simplify_outline(geometry: Any, tolerance_deg: float, grid_deg: float = GRID_DEG) -> Any:
    """``geometry`` (a MultiPolygon) with positions on a ``grid_deg`` grid, simplified to
    ``tolerance_deg`` and still valid (a MultiPolygon; the rounded one when nothing would be left)."""
    if tolerance_deg <= 0 or geometry.is_empty:
        return geometry
    decimals = max(0, round(-math.log10(grid_deg)))
    rounded = shapely.transform(geometry, lambda c: np.round(c, decimals))
    # Douglas-Peucker keeps a subset of the (rounded) vertices, unless it had to repair a polygon
    out = shapely.simplify(rounded, tolerance_deg, preserve_topology=False)
    if out.is_empty or not out.is_valid:
        out = shapely.simplify(geometry, tolerance_deg, preserve_topology=True)
    coords = shapely.get_coordinates(out)
    if not np.array_equal(coords, np.round(coords, decimals)):
        out = shapely.set_precision(out, grid_deg)  # on the grid, still valid
    polys = [g for g in shapely.get_parts(out) if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        return rounded
    return shapely.MultiPolygon(polys)


def tolerance_deg(eng: Engine, profile: str, cells: float) -> float:
    """``cells`` lattice steps of the profile's isochrones, in degrees (a degree of latitude:
    never more than that in metres in any direction)."""
    net = eng.router_for(profile).net.name
    return cells * CELL_M.get(net, 100.0) / M_PER_DEG_LAT


def check_walk_minutes(svc: GeoService, eng: Engine, profile: str, minutes: float | list[float]) -> None:
    """Walking at most ``max_walk_minutes`` (a 422 naming ``minutes``); driving has its own 240."""
    most = max(minutes) if isinstance(minutes, list) else minutes
    limit = svc.settings.limits.max_walk_minutes
    if eng.router_for(profile).walks and most > limit:
        raise GeoserviceError(
            "minutes",
            f"on foot at most {limit:g} minutes (setting max_walk_minutes), got {most:g}; "
            "ask for fewer minutes, or drive",
        )


class AnswerLimit:
    """The bytes a service-areas answer may hold (``max_answer_bytes``), counted facility by
    facility over every region asked; refuses with an error naming the limit."""

    def __init__(self, max_bytes: int, n_facilities: int, what: str) -> None:
        self.max_bytes = max_bytes
        self.n = max(n_facilities, 1)
        self.what = what
        self.bytes = 0
        self.seen = 0

    def add(self, nbytes: int) -> None:
        self.bytes += nbytes
        self.seen += 1
        if self.bytes > self.max_bytes:
            self._refuse(self.bytes if self.seen >= self.n else self.projected, exact=self.seen >= self.n)
        if self.seen >= max(5, self.n // 5) and self.projected > PROJECT_FACTOR * self.max_bytes:
            self._refuse(self.projected, exact=False)

    @property
    def projected(self) -> int:
        return int(self.bytes / max(self.seen, 1) * self.n)

    def _refuse(self, nbytes: int, *, exact: bool) -> None:
        size = f"{'' if exact else 'about '}{_mb(nbytes)}"
        raise GeoserviceError(
            "max_answer_bytes",
            f"the answer would be {size} of GeoJSON ({self.what}), over the limit of {_mb(self.max_bytes)} "
            "(setting max_answer_bytes); ask for fewer facilities (a level or capability), fewer minutes, "
            "or one region",
        )


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@dataclass(frozen=True)
class AreaAsk:
    """What every region's service areas answer: the facilities (``where``), the ``minutes``, the
    resolved travel ``profile`` and the output ``crs``."""

    where: FacilityFilter
    minutes: float
    profile: str
    crs: str = "wgs84"


def region_features(
    svc: GeoService,
    entry: RegionEntry,
    eng: Engine,
    ask: AreaAsk,
    tr: traffic_.Traffic,
    limit: AnswerLimit,
) -> list[dict[str, Any]]:
    """The service area of every facility of ``entry`` matching ``ask.where`` (GeoJSON features in
    ``ask.crs``), each from the region's cache or built and cached; ``limit`` counts their bytes."""
    where, minutes, profile, crs = ask.where, ask.minutes, ask.profile, ask.crs
    cells = svc.settings.limits.area_simplify_cells
    tol = tolerance_deg(eng, profile, cells)
    fidx = eng.select(profile, where=where)
    tkey = tr.key(profile)
    feats: list[dict[str, Any]] = []
    for row in fidx.rows:
        rec = eng.facilities.iloc[int(row)]
        x, y = float(rec.geometry.x), float(rec.geometry.y)
        key = StableKey(("service_area", x, y, profile, float(minutes), tkey, cells))

        def build(x: float = x, y: float = y) -> Area:
            f = eng.isochrones(
                x, y, [minutes], profile=profile, direction="to", scenario=tr.scenario, facility=True, shapes=True
            )[0]
            COMPUTED.n += 1
            return Area.of(simplify_outline(f["geometry"], tol), f["properties"])

        area: Area = entry.cache.get_or_compute(key, build)
        props = dict(area.props)
        props.update(
            {
                "id": str(rec["id"]),
                "name": str(rec["name"]),
                "type": rec["type"],
                "level": plain_value(rec.get("level")),
                "capabilities": plain_value(rec.get("capabilities")),
                "region": entry.name,
                "scenario": tr.name,
                "depart": tr.depart,
            }
        )
        limit.add(area.json_bytes + len(json.dumps(props, ensure_ascii=False, default=str).encode()) + 40)
        feats.append({"type": "Feature", "geometry": area.geojson(), "properties": props})
    if crs != "wgs84":
        feats = [dict(f, geometry=shift_geometry(f["geometry"], crs)) for f in feats]
    return feats
