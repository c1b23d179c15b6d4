"""Water from a local OSM file (rivers as lines, lakes and riverbanks as areas) for offline maps."""

from __future__ import annotations

import logging
from pathlib import Path

import shapely
import shapely.geometry.base

log = logging.getLogger(__name__)

WATERWAYS = ("river", "canal", "stream")
WATER_TAGS = (
    ("natural", "water"),
    ("waterway", "riverbank"),
    ("landuse", "reservoir"),
    ("waterway", "river"),
    ("waterway", "canal"),
    ("waterway", "stream"),
)


def read_osm_water(path: str | Path, *, simplify_deg: float = 2e-5) -> list[dict]:
    """GeoJSON features (WGS-84) with properties kind="water", class (river/stream/canal/area)
    and name. Broken multipolygons are skipped with a log line, never raised."""
    import osmium

    feats: list[dict] = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(osmium.filter.TagFilter(*WATER_TAGS))
    for o in fp:
        name = o.tags.get("name", "")
        try:
            if o.is_area():
                polys = []
                for outer in o.outer_rings():
                    shell = [(n.lon, n.lat) for n in outer]
                    holes = [[(n.lon, n.lat) for n in inner] for inner in o.inner_rings(outer)]
                    polys.append(shapely.Polygon(shell, holes))
                geom: shapely.geometry.base.BaseGeometry | None = (
                    shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else None)
                )
                cls = "area"
            elif o.is_way() and o.tags.get("waterway") in WATERWAYS:
                coords = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
                geom = shapely.LineString(coords) if len(coords) >= 2 else None
                cls = str(o.tags.get("waterway"))
            else:
                continue
        except (osmium.InvalidLocationError, ValueError, shapely.errors.GEOSException) as exc:
            log.info("water feature %s skipped: %s", o.id, exc)
            continue
        if geom is None or geom.is_empty:
            continue
        geom = shapely.simplify(geom, simplify_deg, preserve_topology=True)
        feats.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": {"kind": "water", "class": cls, "name": name},
            }
        )
    return feats
