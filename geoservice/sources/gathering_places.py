"""Places where people gather, read from an OpenStreetMap extract: candidate sites for public AEDs.

Plans put AEDs where crowds are (Hainan: every school; Hangzhou: over 4,200 public places). Kinds
and their OSM tags:

* ``school``: ``amenity=school|college|university``
* ``station``: ``railway=station|halt``, ``station=subway``, ``public_transport=station``,
  ``amenity=bus_station``
* ``mall``: ``shop=mall|department_store``, ``amenity=marketplace``
* ``sports``: ``leisure=sports_centre|stadium|fitness_centre|ice_rink``

Nodes give points; ways and multipolygons their centroid. One place mapped twice (a station as
node and as area) is kept once: same kind and name within ``SAME_PLACE_M``. Its
``opening_hours`` is kept when valid (an AED inside is reachable only then).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import InputFileError
from .opening_hours import opening_hours_error

__all__ = ["GatheringPlace", "KINDS", "read_gathering_places"]

KINDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "school": (("amenity", "school"), ("amenity", "college"), ("amenity", "university")),
    "station": (
        ("railway", "station"),
        ("railway", "halt"),
        ("station", "subway"),
        ("public_transport", "station"),
        ("amenity", "bus_station"),
    ),
    "mall": (("shop", "mall"), ("shop", "department_store"), ("amenity", "marketplace")),
    "sports": (
        ("leisure", "sports_centre"),
        ("leisure", "stadium"),
        ("leisure", "fitness_centre"),
        ("leisure", "ice_rink"),
    ),
}
SAME_PLACE_M: Final = 300.0


@dataclass(frozen=True)
class GatheringPlace:
    id: str  # osm-node-1, osm-way-2, osm-relation-3
    kind: str
    name: str
    lon: float
    lat: float
    opening_hours: str | None


def _kind(tags: dict[str, str]) -> str | None:
    for kind, pairs in KINDS.items():
        if any(tags.get(k) == v for k, v in pairs):
            return kind
    return None


def _metres(a: GatheringPlace, b: GatheringPlace) -> float:
    dy = (a.lat - b.lat) * 111_320.0
    dx = (a.lon - b.lon) * 111_320.0 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def read_gathering_places(path: str | os.PathLike[str], *, field: str = "candidates") -> list[GatheringPlace]:
    """The gathering places of an OSM file (.osm, .osm.pbf, .osm.gz, .osm.bz2), in file order."""
    import osmium
    import shapely

    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"{p}: file not found")
    wanted = tuple(pair for pairs in KINDS.values() for pair in pairs)
    found: list[GatheringPlace] = []
    try:
        fp = (
            osmium.FileProcessor(p)
            .with_locations()
            .with_areas(osmium.filter.TagFilter(*wanted))
            .with_filter(osmium.filter.TagFilter(*wanted))
        )
        obj: Any  # pyosmium's Node | Way | Relation | Area, told apart by is_node() / is_way() / is_area()
        for obj in fp:
            tags = {t.k: t.v for t in obj.tags}
            kind = _kind(tags)
            if kind is None:
                continue
            if obj.is_node():
                if not obj.location.valid():
                    continue
                oid, lon, lat = f"osm-node-{obj.id}", obj.location.lon, obj.location.lat
            elif obj.is_way():
                pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                if not pts:
                    continue
                c = shapely.LineString(pts).centroid if len(pts) > 1 else shapely.Point(pts[0])
                if len(pts) >= 4 and pts[0] == pts[-1]:
                    c = shapely.Polygon(pts).centroid
                oid, lon, lat = f"osm-way-{obj.id}", c.x, c.y
            elif obj.is_area() and not obj.from_way():
                rings = [shapely.Polygon([(n.lon, n.lat) for n in r]) for r in obj.outer_rings()]
                if not rings:
                    continue
                c = shapely.MultiPolygon(rings).centroid
                oid, lon, lat = f"osm-relation-{obj.orig_id()}", c.x, c.y
            else:
                continue
            hours = tags.get("opening_hours")
            if hours and opening_hours_error(hours):
                hours = None
            name = tags.get("name:zh") or tags.get("name") or f"unnamed {kind} ({oid})"
            found.append(GatheringPlace(oid, kind, name, round(float(lon), 7), round(float(lat), 7), hours or None))
    except RuntimeError as exc:
        raise InputFileError(field, f"{p}: cannot be read as an OSM file ({exc})") from exc
    kept: list[GatheringPlace] = []
    for g in found:
        if any(k.kind == g.kind and k.name == g.name and _metres(k, g) < SAME_PLACE_M for k in kept):
            continue
        kept.append(g)
    return kept
