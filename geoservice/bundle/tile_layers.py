"""The layers of a region's vector tile set (``bundle.vector_tiles``) and the zooms they start at.

=========  ===========================================================================  ===========
layer      features and properties                                                      from zoom
=========  ===========================================================================  ===========
water      lakes, riverbanks, reservoirs (polygons); rivers, canals, streams (lines):     0 / 8-12
           ``class`` (area, river, canal, stream), ``name``
green      parks, woods, grass: ``class`` (park, forest, grass), ``name``                  10
buildings  building outlines                                                             14
roads      the drive network's ways, one line per OSM way: ``class`` (motorway …            5-13
           living_street, links as their class + ``_link``), ``name``, ``name_en``
admin      administrative boundaries (lines): ``admin_level``, ``name``                    0-10
places     place names (city … locality) and landmarks (station, hospital, mall, school,   3-14
           sight, square, park…): ``name``, ``name_en``, ``kind``, ``rank`` (lower wins
           a collision)
=========  ===========================================================================  ===========

Zooms are those of the data tiles; the pages draw a data tile of zoom z at screen zoom z + 1
(512-px tiles), and the last zoom (14) up to screen zoom 19.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.osm_areas import LANDMARK_KINDS, OsmAreas
from ..sources.osm_names import PLACE_TYPES, OsmNames
from ..sources.osm_water import WaterFeature
from ..sources.speeds import ROAD_CLASSES
from .labels import PLACE_MINZOOM, way_lines
from .mvt_encode import TileProps
from .network import Network, WayNames
from .vector_tiles import TILESET_FILE, TileLayer, signatures, to_mercator, write_tileset

__all__ = ["ROAD_TILE_MINZOOM", "tile_layers", "region_tiles"]

ROAD_TILE_MINZOOM = {
    "motorway": 5,
    "trunk": 5,
    "primary": 7,
    "secondary": 10,
    "tertiary": 11,
    "unclassified": 13,
    "residential": 13,
    "living_street": 13,
    "road": 13,
    "service": 13,
}
"""Data zoom from which a road class is in the tiles (links from two zooms later, at most 12)."""
LANDMARK_MINZOOM = {"airport": 9, "station": 12, "hospital": 12, "sight": 12, "square": 13, "park": 13}
"""Data zoom of a landmark kind's label (others: 14)."""
ADMIN_MINZOOM = {2: 0, 3: 2, 4: 3, 5: 6, 6: 7, 7: 9, 8: 10}


def _road_minzoom(cls: str) -> int:
    base = cls.removesuffix("_link")
    z = ROAD_TILE_MINZOOM.get(base, 13)
    return min(z + 2, 12) if cls.endswith("_link") else z


def _merc(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 geometries to Web Mercator, in place (in chunks: never two copies of them all)."""
    geoms = np.asarray(geoms, dtype=object)
    for lo in range(0, len(geoms), 100_000):
        part = geoms[lo : lo + 100_000]
        geoms[lo : lo + 100_000] = shapely.transform(part, lambda c: np.column_stack(to_mercator(c[:, 0], c[:, 1])))
    return geoms


def road_layer(net: Network, names: OsmNames | None, classes: Sequence[str] | None = None) -> TileLayer:
    """The ``roads`` layer: every OSM way of ``net`` (of ``classes``, default all) as its line."""
    classes = [c for c in (classes or ROAD_CLASSES) if c in ROAD_CLASSES]
    ways, lines = way_lines(net, classes, coords="lonlat")
    wn = net.way_name if isinstance(net.way_name, WayNames) else WayNames.of(net.way_name)
    wid = np.asarray(net.way_id)[ways]
    # the English names OSM has (few ways): an index into ``en_names`` per way, -1 without
    way_names = names.way_names if names else {}
    en_of: dict[str, int] = {}
    en_idx = np.full(len(ways), -1, np.int64)
    for i in np.flatnonzero(np.isin(wid, np.fromiter(way_names, np.int64, len(way_names)))):
        en = way_names[int(wid[i])][1]
        if en:
            en_idx[i] = en_of.setdefault(en, len(en_of))
    en_names = list(en_of)
    cls = np.asarray(net.way_class)[ways].astype(np.int64)
    name_id = np.asarray(wn.ids)[ways].astype(np.int64)
    combos, inv = np.unique(np.column_stack((cls, name_id, en_idx)), axis=0, return_inverse=True)
    uniq = []
    for c, n, e in combos.tolist():
        p = {"class": ROAD_CLASSES[c]}
        name = wn.names[n].strip()
        if name:
            p["name"] = name
            if e >= 0:
                p["name_en"] = en_names[e]
        uniq.append(p)
    minzoom = np.array([_road_minzoom(c) for c in ROAD_CLASSES], np.int16)[cls]
    fields = {"class": "String", "name": "String", "name_en": "String"}
    # combinations that read the same (a name with spaces around it, an English name without a name) are one
    same, distinct = signatures(uniq)
    return TileLayer("roads", "line", _merc(lines), minzoom, None, fields, sig=same[inv.ravel()], sig_props=distinct)


def _water_layer(water: list[WaterFeature]) -> TileLayer:
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in water], dtype=object)
    props, zooms = [], []
    for f in water:
        cls = f["properties"].get("class", "area")
        p = {"class": cls}
        if f["properties"].get("name"):
            p["name"] = f["properties"]["name"]
        props.append(p)
        zooms.append({"area": 0, "river": 8, "canal": 10}.get(cls, 12))
    # rivers are lines, areas polygons: two layers would need two names; lines go to "waterway"
    return TileLayer("water", "polygon", _merc(geoms), np.array(zooms), props, {"class": "String", "name": "String"})


def tile_layers(
    net: Network, names: OsmNames | None, areas: OsmAreas | None, *, within: BaseGeometry | None = None
) -> list[TileLayer]:
    """Every layer of the tile set of a region: roads of ``net`` (English names from ``names``),
    places of ``names`` (within ``within``, a WGS-84 polygon, when given) and the water, green
    areas, buildings, boundaries and landmarks of ``areas``."""
    layers = [road_layer(net, names)]
    areas = areas or OsmAreas()
    water_polys = [f for f in areas.water if f["properties"].get("class") == "area"]
    water_lines = [f for f in areas.water if f["properties"].get("class") != "area"]
    layers.append(_water_layer(water_polys))
    lines = _water_layer(water_lines)
    layers.append(
        TileLayer("waterway", "line", lines.geoms, lines.minzoom, None, lines.fields, lines.sig, lines.sig_props)
    )
    green = np.array([g for g, _, _ in areas.green], dtype=object)
    layers.append(
        TileLayer(
            "green",
            "polygon",
            _merc(green),
            np.full(len(green), 10),
            [{"class": c, **({"name": n} if n else {})} for _, c, n in areas.green],
            {"class": "String", "name": "String"},
        )
    )
    bld = np.array(areas.buildings, dtype=object)
    empty: dict[str, str] = {}
    layers.append(TileLayer("buildings", "polygon", _merc(bld), np.full(len(bld), 14), [empty] * len(bld)))
    adm = np.array([g for g, _, _ in areas.admin], dtype=object)
    layers.append(
        TileLayer(
            "admin",
            "line",
            _merc(adm),
            np.array([ADMIN_MINZOOM.get(lv, 10) for _, lv, _ in areas.admin], dtype=np.int16),
            [{"admin_level": lv} for _, lv, _ in areas.admin],
            {"admin_level": "Number"},
        )
    )
    layers.append(_places_layer(names, areas, within))
    return layers


def _places_layer(names: OsmNames | None, areas: OsmAreas, within: BaseGeometry | None) -> TileLayer:
    lon: list[float] = []
    lat: list[float] = []
    props: list[TileProps] = []
    zooms: list[int] = []
    for p in names.places if names else []:
        if within is not None and not within.contains(shapely.Point(p.lon, p.lat)):
            continue
        z = PLACE_MINZOOM.get(p.place, 15) - 1 - (1 if p.population and p.population >= 100_000 else 0)
        rank = PLACE_TYPES.index(p.place) if p.place in PLACE_TYPES else len(PLACE_TYPES)
        lon.append(p.lon)
        lat.append(p.lat)
        zooms.append(max(z, 3))
        props.append(_label(p.name_zh or p.name, p.name_en, p.place, rank))
    for m in areas.landmarks:
        lon.append(m.lon)
        lat.append(m.lat)
        zooms.append(LANDMARK_MINZOOM.get(m.kind, 14))
        props.append(_label(m.name_zh or m.name, m.name_en, m.kind, 10 + LANDMARK_KINDS.index(m.kind)))
    x, y = to_mercator(np.asarray(lon, float), np.asarray(lat, float))
    points: np.ndarray = np.empty(len(x), dtype=object)
    points[:] = shapely.points(x, y) if len(x) else []
    return TileLayer(
        "places",
        "point",
        points,
        np.asarray(zooms, np.int16),
        props,
        {"name": "String", "name_en": "String", "kind": "String", "rank": "Number"},
    )


def _label(name: str, en: str | None, kind: str, rank: int) -> dict[str, str | int]:
    p: dict[str, str | int] = {"name": name, "kind": kind, "rank": rank}
    if en:
        p["name_en"] = en
    return p


def region_tiles(
    drive: Network, names: OsmNames, areas: OsmAreas, stage: Path, bbox: list[float], progress: Callable[[str], None]
) -> dict[str, object]:
    """The region's vector tile set written to ``stage`` (``bundle.vector_tiles``); its summary."""
    progress("cutting the vector tiles")
    layers = tile_layers(drive, names, areas)
    summary = write_tileset(
        layers, stage / TILESET_FILE, bounds=bbox, attribution="© OpenStreetMap contributors, ODbL", progress=progress
    )
    del layers
    progress(f"  {summary['tiles']:,} tiles, {summary['bytes'] / 1e6:.1f} MB")
    return {"file": TILESET_FILE, **summary}
