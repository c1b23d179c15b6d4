"""What a basemap draws besides roads, from a local OSM file in one pass: water (as
``osm_water``), green areas (parks, woods, grass), buildings, administrative boundaries and
landmarks (stations, hospitals, malls, schools, sights, squares) with their Chinese and English
names. Everything in WGS-84; broken multipolygons are skipped with a log line, never raised."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import osmium
import osmium.osm
import shapely
import shapely.geometry.base

from .osm_landmarks import Landmark
from .osm_water import WATER_TAGS, OsmObject, WaterFeature, area_geometry, water_feature

if TYPE_CHECKING:
    from osmium.osm import TagList

log = logging.getLogger(__name__)

__all__ = ["GREEN", "LANDMARK_KINDS", "OsmAreas", "read_osm_areas"]

GREEN: dict[tuple[str, str], str] = {
    ("leisure", "park"): "park",
    ("leisure", "garden"): "park",
    ("leisure", "nature_reserve"): "forest",
    ("leisure", "golf_course"): "grass",
    ("leisure", "pitch"): "grass",
    ("landuse", "forest"): "forest",
    ("natural", "wood"): "forest",
    ("natural", "scrub"): "forest",
    ("landuse", "grass"): "grass",
    ("landuse", "meadow"): "grass",
    ("landuse", "recreation_ground"): "park",
    ("landuse", "village_green"): "grass",
    ("landuse", "cemetery"): "grass",
    ("natural", "grassland"): "grass",
    ("natural", "heath"): "grass",
}
"""(key, value) of OSM areas drawn green, and their class (park, forest, grass)."""

# landmark kind per (key, value); the order of LANDMARK_KINDS ranks labels (first wins a collision)
_LANDMARK_TAGS: dict[tuple[str, str], str] = {
    ("aeroway", "aerodrome"): "airport",
    ("railway", "station"): "station",
    ("public_transport", "station"): "station",
    ("amenity", "hospital"): "hospital",
    ("tourism", "attraction"): "sight",
    ("tourism", "museum"): "sight",
    ("tourism", "zoo"): "sight",
    ("tourism", "theme_park"): "sight",
    ("place", "square"): "square",
    ("amenity", "university"): "school",
    ("amenity", "college"): "school",
    ("amenity", "school"): "school",
    ("shop", "mall"): "mall",
    ("shop", "department_store"): "mall",
    ("amenity", "townhall"): "government",
    ("leisure", "park"): "park",
    ("leisure", "stadium"): "sight",
}
LANDMARK_KINDS: tuple[str, ...] = (
    "airport",
    "station",
    "hospital",
    "sight",
    "square",
    "school",
    "mall",
    "park",
    "government",
)
_KEYS = sorted({k for k, _ in (*GREEN, *_LANDMARK_TAGS, *WATER_TAGS)} | {"building", "boundary"})


@dataclass
class OsmAreas:
    """What :func:`read_osm_areas` found. ``water``: GeoJSON features as ``osm_water`` writes them;
    ``green``: (polygon, class, name); ``buildings``: polygons; ``admin``: (boundary line,
    admin_level, name); ``landmarks``: :class:`Landmark`."""

    water: list[WaterFeature] = field(default_factory=list)
    green: list[tuple[shapely.geometry.base.BaseGeometry, str, str]] = field(default_factory=list)
    buildings: list[shapely.geometry.base.BaseGeometry] = field(default_factory=list)
    admin: list[tuple[shapely.geometry.base.BaseGeometry, int, str]] = field(default_factory=list)
    landmarks: list[Landmark] = field(default_factory=list)


def _admin_level(tags: TagList) -> int | None:
    v = tags.get("admin_level") or ""
    return int(v) if v.isdigit() else None


def read_osm_areas(path: str | Path, *, simplify_deg: float = 1e-5, buildings: bool = True) -> OsmAreas:
    """Water, green areas, buildings (unless ``buildings=False``), administrative boundaries
    (levels 2-8: boundary ways, and the outlines of boundary relations that close) and landmarks
    (nodes, and areas at a point inside them) of the OSM file ``path``. Areas are simplified by
    ``simplify_deg`` (1e-5 degrees is about a metre)."""
    out = OsmAreas()
    seen_landmarks: set[tuple[str, str, float, float]] = set()
    fp = osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(osmium.filter.KeyFilter(*_KEYS))
    o: Any
    for o in fp:
        tags = o.tags
        try:
            water = water_feature(o, simplify_deg=2e-5)
            if water is not None:
                out.water.append(water)
            area = o.is_area()
            geom = area_geometry(o) if area and not water else None
            if geom is not None and not geom.is_empty:
                geom = shapely.simplify(geom, simplify_deg, preserve_topology=True)
                green = next((GREEN[(k, tags[k])] for k, _ in GREEN if (k, tags.get(k)) in GREEN), None)
                if green:
                    out.green.append((geom, green, str(tags.get("name", ""))))
                elif buildings and tags.get("building", "no") != "no":
                    out.buildings.append(geom)
            if tags.get("boundary") == "administrative":
                level = _admin_level(tags)
                if level is not None and 2 <= level <= 8:
                    if area and geom is None:
                        geom = area_geometry(o)
                    if area and geom is not None:
                        out.admin.append((shapely.boundary(geom), level, str(tags.get("name", ""))))
                    elif o.is_way():
                        coords = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
                        if len(coords) >= 2:
                            out.admin.append((shapely.LineString(coords), level, str(tags.get("name", ""))))
            _landmark(o, tags, geom if area else None, out, seen_landmarks)
        except (osmium.InvalidLocationError, ValueError, shapely.errors.GEOSException) as exc:
            log.info("OSM object %s skipped for the basemap: %s", o.id, exc)
    return out


def _landmark(
    o: OsmObject,
    tags: TagList,
    geom: shapely.geometry.base.BaseGeometry | None,
    out: OsmAreas,
    seen: set[tuple[str, str, float, float]],
) -> None:
    """A landmark of ``o`` when it is one and has a name (an area's at a point inside it; a way is
    skipped, its area comes too)."""
    kind = next((_LANDMARK_TAGS[(k, v)] for k, v in tags if (k, v) in _LANDMARK_TAGS), None)
    if kind is None:
        return
    zh, en = tags.get("name:zh") or None, tags.get("name:en") or None
    name = tags.get("name") or zh or en
    if not name:
        return
    if isinstance(o, osmium.osm.Node):
        if not o.location.valid():
            return
        lon, lat, oid = o.location.lon, o.location.lat, f"osm-node-{o.id}"
    elif isinstance(o, osmium.osm.Area) and geom is not None and not geom.is_empty:
        p = geom.representative_point()
        lon, lat = p.x, p.y
        oid = f"osm-{'way' if o.from_way() else 'relation'}-{o.orig_id()}"
    else:
        return
    key = (kind, str(name), round(lon, 2), round(lat, 2))
    if key in seen:  # a station is often a node and an area, or one per line; a mall a node and a building
        return
    seen.add(key)
    out.landmarks.append(Landmark(oid, kind, str(name), zh, en, float(lon), float(lat)))
