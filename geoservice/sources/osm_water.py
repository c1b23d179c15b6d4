"""Water from a local OSM file (rivers as lines, lakes and riverbanks as areas) for offline maps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypedDict

import osmium
import osmium.osm
import shapely
import shapely.geometry.base

log = logging.getLogger(__name__)

OsmObject = osmium.osm.Node | osmium.osm.Way | osmium.osm.Relation | osmium.osm.Area | osmium.osm.Changeset
"""What pyosmium's ``FileProcessor`` yields (told apart with ``isinstance``)."""

WaterProps = TypedDict("WaterProps", {"kind": str, "class": str, "name": str})


class WaterFeature(TypedDict):
    """A water feature as GeoJSON (WGS-84): its ``properties`` kind "water", class and name."""

    type: str
    geometry: dict[str, object]
    properties: WaterProps


WATERWAYS = ("river", "canal", "stream")
WATER_TAGS = (
    ("natural", "water"),
    ("waterway", "riverbank"),
    ("landuse", "reservoir"),
    ("waterway", "river"),
    ("waterway", "canal"),
    ("waterway", "stream"),
)


def read_osm_water(path: str | Path, *, simplify_deg: float = 2e-5) -> list[WaterFeature]:
    """GeoJSON features (WGS-84) with properties kind="water", class (river/stream/canal/area)
    and name. Broken multipolygons are skipped with a log line, never raised."""
    feats: list[WaterFeature] = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(osmium.filter.TagFilter(*WATER_TAGS))
    for o in fp:
        try:
            feat = water_feature(o, simplify_deg=simplify_deg)
        except (osmium.InvalidLocationError, ValueError, shapely.errors.GEOSException) as exc:
            log.info("water feature %s skipped: %s", o.id, exc)
            continue
        if feat is not None:
            feats.append(feat)
    return feats


def water_feature(o: OsmObject, *, simplify_deg: float = 2e-5) -> WaterFeature | None:
    """The GeoJSON feature of the osmium object ``o`` (an area, or a way of ``WATERWAYS``) when
    it is water (see ``read_osm_water``), else None. Raises osmium's and shapely's errors of a
    broken geometry."""
    tags = o.tags
    if not any(tags.get(k) == v for k, v in WATER_TAGS):
        return None
    name = str(tags.get("name", ""))
    geom: shapely.geometry.base.BaseGeometry | None
    if isinstance(o, osmium.osm.Area):
        geom, cls = area_geometry(o), "area"
    elif isinstance(o, osmium.osm.Way) and tags.get("waterway") in WATERWAYS:
        coords = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
        geom = shapely.LineString(coords) if len(coords) >= 2 else None
        cls = str(tags.get("waterway"))
    else:
        return None
    if geom is None or geom.is_empty:
        return None
    geom = shapely.simplify(geom, simplify_deg, preserve_topology=True)
    feat: WaterFeature = {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(geom),
        "properties": {"kind": "water", "class": cls, "name": name},
    }
    return feat


def area_geometry(o: osmium.osm.Area) -> shapely.geometry.base.BaseGeometry | None:
    """The (multi)polygon of the osmium area ``o`` (WGS-84), None without rings."""
    polys = []
    for outer in o.outer_rings():
        shell = [(n.lon, n.lat) for n in outer]
        holes = [[(n.lon, n.lat) for n in inner] for inner in o.inner_rings(outer)]
        polys.append(shapely.Polygon(shell, holes))
    if not polys:
        return None
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
