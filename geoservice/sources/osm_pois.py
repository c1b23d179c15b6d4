"""Facilities taken from OpenStreetMap: AEDs and hospitals/clinics, validated like file rows.

An AED also says where it is on site, which a bystander needs more than its coordinates:
``location`` from ``defibrillator:location`` (else ``description``), ``floor`` from ``level``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import shapely

from .facility_files import FacilityFileError
from .facility_rows import TEXT_LIMITS, RowError, validate_records
from .opening_hours import opening_hours_error

__all__ = ["OSM_SOURCE", "OSM_ATTRIBUTION", "osm_attribution", "read_osm_pois"]

log = logging.getLogger(__name__)

OSM_SOURCE: Final = "OpenStreetMap (ODbL)"
OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors, ODbL 1.0"


def osm_attribution(sources: Iterable[object]) -> str | None:
    """The OpenStreetMap attribution when any row's ``source`` says it comes from OSM, else None."""
    return OSM_ATTRIBUTION if any("openstreetmap" in str(s).lower() for s in sources if s) else None


def _osm_address(tags: Mapping[str, str]) -> str | None:
    if tags.get("addr:full"):
        return tags["addr:full"]
    street = " ".join(x for x in (tags.get("addr:housenumber"), tags.get("addr:street")) if x)
    parts = [x for x in (street, tags.get("addr:postcode"), tags.get("addr:city")) if x]
    return ", ".join(parts) or None


# Where to find an AED on site, in the order OSM mappers are asked to use them.
_LOCATION_TAGS: Final = (
    "defibrillator:location",
    "defibrillator:location:zh",
    "defibrillator:location:en",
    "description",
    "description:zh",
    "description:en",
)
_FLOOR_TAGS: Final = ("level", "addr:floor")


def _osm_text(
    tags: Mapping[str, str], keys: tuple[str, ...], column: str, osm_id: str, notes: list[RowError]
) -> str | None:
    """The first non-empty tag of ``keys``, cut to the column's limit (with a note) rather than
    losing a real AED over a long description."""
    value = next((tags[k].strip() for k in keys if tags.get(k, "").strip()), None)
    return _cut(value, column, osm_id, notes)


def _cut(value: str | None, column: str, osm_id: str, notes: list[RowError]) -> str | None:
    """``value`` cut to the column's limit, with a note (the API caps the column there too)."""
    limit = TEXT_LIMITS[column]
    if value is not None and len(value) > limit:
        notes.append(RowError(0, column, f"{osm_id}: {len(value)} characters, cut to {limit}"))
        value = value[: limit - 1] + "…"
    return value


def _osm_records(
    tags: Mapping[str, str], osm_id: str, lon: float, lat: float, notes: list[RowError]
) -> list[dict[str, Any]]:
    hours = tags.get("opening_hours")
    problem = opening_hours_error(hours) if hours else None
    if problem:  # a real AED with garbled hours is kept, its hours unknown
        notes.append(RowError(0, "opening_hours", f"{osm_id}: {problem}; hours treated as unknown"))
        hours = None
    out: list[dict[str, Any]] = []
    base = {
        "lon": lon,
        "lat": lat,
        "address": _osm_address(tags),
        "source": OSM_SOURCE,
        "opening_hours": hours,
        "access": tags.get("access"),
    }
    amenity = tags.get("amenity")
    if amenity in ("hospital", "clinic"):
        out.append(
            dict(
                base,
                id=osm_id,
                type="hospital",
                level=amenity,
                name=_cut(tags.get("name") or tags.get("name:zh") or f"unnamed {amenity}", "name", osm_id, notes),
            )
        )
    if tags.get("emergency") == "defibrillator":
        name = tags.get("name") or tags.get("defibrillator:location") or tags.get("description") or "AED"
        name = _cut(name, "name", osm_id, notes) or name
        where = {
            "location": _osm_text(tags, _LOCATION_TAGS, "location", osm_id, notes),
            "floor": _osm_text(tags, _FLOOR_TAGS, "floor", osm_id, notes),
        }
        out.append(dict(base, **where, id=osm_id + ("-aed" if out else ""), type="aed", name=name))
    return out


def _centroid(pts: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not pts:
        return None
    if len(pts) >= 4 and pts[0] == pts[-1]:
        c = shapely.Polygon(pts).centroid
        if not c.is_empty:
            return c.x, c.y
    c = shapely.LineString(pts).centroid if len(pts) > 1 else shapely.Point(pts[0])
    return c.x, c.y


def read_osm_pois(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """AEDs (``emergency=defibrillator``) and hospitals/clinics (``amenity=hospital|clinic``).

    Streams .osm/.osm.pbf/.osm.gz/.osm.bz2 with pyosmium. Nodes give points; ways (hospital
    buildings or grounds) and multipolygon relations give the centroid of their outline.
    Ids are ``osm-node-<id>``, ``osm-way-<id>``, ``osm-relation-<id>``. Rows that fail
    validation are logged and kept in ``gdf.attrs["errors"]`` rather than dropped silently
    (row 0 for features without locations and for unreadable opening hours, set to unknown).
    """
    import osmium  # heavy C++ extension; only needed here
    import osmium.osm

    p = Path(path)
    if not p.is_file():
        raise FacilityFileError(f"{p}: file not found; check the path")
    names = p.name.lower()
    if not names.endswith((".osm", ".osm.pbf", ".pbf", ".osm.gz", ".osm.bz2")):
        raise FacilityFileError(f"{p}: unsupported file type; use .osm, .osm.pbf, .osm.gz or .osm.bz2")
    wanted = (("emergency", "defibrillator"), ("amenity", "hospital"), ("amenity", "clinic"))
    records: list[dict[str, Any]] = []
    notes: list[RowError] = []
    skipped: list[str] = []
    try:
        fp = (
            osmium.FileProcessor(p)
            .with_locations()
            .with_areas(osmium.filter.TagFilter(*wanted))
            .with_filter(osmium.filter.TagFilter(*wanted))
        )
        for obj in fp:
            tags = {t.k: t.v for t in obj.tags}
            if isinstance(obj, osmium.osm.Node):
                if not obj.location.valid():
                    skipped.append(f"osm-node-{obj.id}")
                    continue
                records += _osm_records(tags, f"osm-node-{obj.id}", obj.location.lon, obj.location.lat, notes)
            elif isinstance(obj, osmium.osm.Way):
                pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                c = _centroid(pts)
                if c is None:
                    skipped.append(f"osm-way-{obj.id}")
                    continue
                records += _osm_records(tags, f"osm-way-{obj.id}", *c, notes)
            elif isinstance(obj, osmium.osm.Area) and not obj.from_way():
                rings = [shapely.Polygon([(n.lon, n.lat) for n in ring]) for ring in obj.outer_rings()]
                geom = shapely.MultiPolygon(rings) if rings else None
                if geom is None or geom.is_empty:
                    skipped.append(f"osm-relation-{obj.orig_id()}")
                    continue
                pt = geom.centroid
                records += _osm_records(tags, f"osm-relation-{obj.orig_id()}", pt.x, pt.y, notes)
    except RuntimeError as exc:
        raise FacilityFileError(
            f"{p}: cannot be read as an OSM file ({exc}); check that it is a complete .osm/.osm.pbf extract"
        ) from exc
    result = validate_records(records, source=OSM_SOURCE)
    errors = list(result.errors) + notes + [RowError(0, "geometry", f"{i}: no node locations in file") for i in skipped]
    if errors:
        log.warning("%s: %d OSM features not loaded or not fully: %s", p, len(errors), "; ".join(map(str, errors[:5])))
    result.layer.attrs["errors"] = errors
    return result.layer
