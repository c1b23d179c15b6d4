"""Names for offline map labels from a local OSM file: ``place=*`` nodes and the ``name:zh`` /
``name:en`` of highway ways (the road network keeps only ``name``), so a map can switch language
without tiles."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["PLACE_TYPES", "Place", "OsmNames", "read_osm_names"]

# place=* values worth a label, most important first (the order ranks labels that collide)
PLACE_TYPES: tuple[str, ...] = (
    "city",
    "town",
    "borough",
    "suburb",
    "quarter",
    "village",
    "neighbourhood",
    "hamlet",
    "locality",
)


@dataclass(frozen=True)
class Place:
    """One named ``place=*`` node (WGS-84)."""

    osm_id: int
    place: str
    name: str
    name_zh: str | None
    name_en: str | None
    lon: float
    lat: float
    population: int | None


@dataclass
class OsmNames:
    """What :func:`read_osm_names` found: place nodes, and per OSM way id its (name:zh, name:en)."""

    places: list[Place] = field(default_factory=list)
    way_names: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)


def _population(v: str | None) -> int | None:
    """``population`` tag as an int (``24678``, ``24 678``, ``24,678``); None when it is not one."""
    if not v:
        return None
    digits = v.replace(" ", "").replace(",", "").replace("\u202f", "")
    return int(digits) if digits.isdigit() else None


def read_osm_names(path: str | Path, *, highways: Collection[str] | None = None) -> OsmNames:
    """Place nodes with a name (types in :data:`PLACE_TYPES`) and the Chinese / English name
    variants of highway ways (only of the ``highway`` values in ``highways`` when given: a map
    labels a few classes, and a province has millions of ways). Place areas without a node are
    not read: OSM maps a settlement's label position as a node, and the extracts we use all
    have them."""
    import osmium

    out = OsmNames()
    fp = osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter("place", "name:zh", "name:en"))
    for o in fp:
        tags = o.tags
        zh, en = tags.get("name:zh") or None, tags.get("name:en") or None
        if isinstance(o, osmium.osm.Way) and "highway" in tags and (zh or en):
            if highways is None or tags.get("highway") in highways:
                out.way_names[o.id] = (zh, en)
        elif isinstance(o, osmium.osm.Node) and tags.get("place") in PLACE_TYPES:
            name = tags.get("name") or zh or en
            if not name:
                continue
            if not o.location.valid():
                log.info("place node %s has no valid location; skipped", o.id)
                continue
            out.places.append(
                Place(
                    osm_id=o.id,
                    place=str(tags.get("place")),
                    name=str(name),
                    name_zh=zh,
                    name_en=en,
                    lon=o.location.lon,
                    lat=o.location.lat,
                    population=_population(tags.get("population")),
                )
            )
    return out
