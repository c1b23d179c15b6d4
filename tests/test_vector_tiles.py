"""The vector tile set a build writes (bundle.vector_tiles, issue 21 item 1), read back with the
``pmtiles`` reader and decoded with ``mapbox_vector_tile`` (neither is the code that wrote it):
water polygons and rivers of Andorra where OSM maps them, roads with their OSM name and name:en
on central Shanghai (parsed here from the OSM XML itself), road vertices where the network's
roads are, buildings at z14 only, few and major roads at low zoom; the array MVT encoder against
``mapbox_vector_tile`` on hand-made shapes."""

from __future__ import annotations

import gzip
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from pmtiles.reader import MmapSource, Reader, all_tiles

from geoservice.bundle.mvt_encode import LINESTRING, POINT, POLYGON, encode_geometries, encode_layer
from geoservice.bundle.vector_tiles import EXTENT, tile_bounds_m, to_mercator

pytestmark = pytest.mark.slow


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def read_tile(bundle: Path, z: int, x: int, y: int) -> dict:
    with open(bundle / "tiles.pmtiles", "rb") as f:
        data = Reader(MmapSource(f)).get(z, x, y)
    if not data:
        return {}
    return mapbox_vector_tile.decode(gzip.decompress(data), default_options={"y_coord_down": True})


def local(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Tile units (y down) of a WGS-84 point in tile z/x/y."""
    mx, my = to_mercator(np.array([lon]), np.array([lat]))
    x0, _, x1, y1 = tile_bounds_m(z, x, y)
    return float((mx[0] - x0) / (x1 - x0) * EXTENT), float((y1 - my[0]) / (x1 - x0) * EXTENT)


def shape(geom: dict):
    return shapely.geometry.shape(geom)


def test_andorra_lake_and_river_are_water(andorra):
    # Estany Primer de Juclar (a lake near 42.6101 N, 1.7188 E) and the Valira river at Sant Julià
    z = 14
    x, y = tile_of(1.7188, 42.6101, z)
    layers = read_tile(andorra.path, z, x, y)
    here = shapely.Point(local(1.7188, 42.6101, z, x, y))
    lakes = [f for f in layers["water"]["features"] if shape(f["geometry"]).buffer(0).contains(here)]
    assert [f["properties"].get("name") for f in lakes] == ["Estany Primer de Juclar"]
    z = 12
    x, y = tile_of(1.4730, 42.4360, z)
    names = {f["properties"].get("name") for f in read_tile(andorra.path, z, x, y)["waterway"]["features"]}
    assert "Valira" in names


def osm_english_names(path: Path) -> dict[str, set[str]]:
    """name -> name:en of the highway ways of an OSM XML file, parsed here on its own."""
    out: dict[str, set[str]] = {}
    with gzip.open(path) as f:
        for _, el in ET.iterparse(f):
            if el.tag == "way":
                t = {str(k.get("k")): str(k.get("v")) for k in el.findall("tag")}
                if "highway" in t and t.get("name") and t.get("name:en"):
                    out.setdefault(t["name"], set()).add(t["name:en"])
                el.clear()
    return out


def test_shanghai_roads_carry_osm_names_in_both_languages(shanghai, demo_data):
    english = osm_english_names(demo_data / "shanghai" / "shanghai-center.osm.gz")
    z = 14
    x, y = tile_of(121.4755, 31.2335, z)  # 人民广场
    feats = read_tile(shanghai.path, z, x, y)["roads"]["features"]
    props = [f["properties"] for f in feats]
    assert {"class", "name"} <= set().union(*props)
    pairs = {(p["name"], p["name_en"]) for p in props if "name_en" in p}
    assert ("延安东路", "East Yan'an Road") in pairs or ("西藏南路", "South Xizang Road") in pairs, pairs
    assert pairs and all(en in english.get(zh, set()) for zh, en in pairs)  # every English name is OSM's
    # one feature per road (name, English name, class) in a tile: its ways are merged
    assert len(props) == len({json.dumps(p, sort_keys=True) for p in props})
    unnamed_class = {p["class"] for p in props if "name" not in p}
    assert unnamed_class  # roads without a name are drawn too


def test_road_vertices_lie_on_the_network_roads(shanghai):
    from geoservice.bundle.labels import way_lines
    from geoservice.sources.speeds import ROAD_CLASSES

    z = 14
    x, y = tile_of(121.4755, 31.2335, z)
    feats = read_tile(shanghai.path, z, x, y)["roads"]["features"]
    net = shanghai.networks["drive"]
    ways, lines = way_lines(net, list(ROAD_CLASSES), coords="lonlat")
    x0, y0, x1, y1 = tile_bounds_m(z, x, y)
    merc = shapely.transform(lines, lambda c: np.column_stack(to_mercator(c[:, 0], c[:, 1])))
    truth = shapely.union_all(shapely.clip_by_rect(merc, x0 - 200, y0 - 200, x1 + 200, y1 + 200))
    unit = (x1 - x0) / EXTENT
    pts = np.concatenate([shapely.get_coordinates(shape(f["geometry"])) for f in feats])
    world = shapely.points(x0 + pts[:, 0] * unit, y1 - pts[:, 1] * unit)
    d = shapely.distance(world, truth)
    assert len(pts) > 500
    assert float(np.max(d)) < 2.0  # metres (Web Mercator): rounding to a tile unit and simplification


def test_buildings_only_at_z14_and_few_major_roads_at_low_zoom(monaco, shanghai):
    with open(monaco.path / "tiles.pmtiles", "rb") as f:
        tiles = list(all_tiles(MmapSource(f)))
    by_zoom: dict[int, list[dict]] = {}
    for (z, _, _), data in tiles:
        by_zoom.setdefault(z, []).append(mapbox_vector_tile.decode(gzip.decompress(data)))
    assert max(by_zoom) == 14
    assert any("buildings" in t for t in by_zoom[14])
    assert not any("buildings" in t for z, ts in by_zoom.items() if z < 14 for t in ts)
    z = 8
    x, y = tile_of(121.4755, 31.2335, z)
    low = read_tile(shanghai.path, z, x, y)["roads"]["features"]
    high = read_tile(shanghai.path, 12, *tile_of(121.4755, 31.2335, 12))["roads"]["features"]
    classes = {f["properties"]["class"] for f in low}
    assert classes <= {"motorway", "trunk", "primary", "motorway_link", "trunk_link"}, classes
    assert 0 < len(low) < len(high)


def test_array_encoder_matches_mapbox_vector_tile_decoding():
    square = shapely.Polygon([(0, 0), (0, 100), (100, 100), (100, 0)], [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    other = shapely.Polygon([(200, 200), (300, 200), (300, 300)])
    lines = [shapely.LineString([(0, 0), (50, 50), (50, 50), (90, 10)]), shapely.LineString([(5, 5), (6, 6)])]
    points = [shapely.Point(1, 2), shapely.Point(3000, 4000)]
    poly_geoms = encode_geometries(np.array([square, other], dtype=object), np.array([0, 0]), 1, POLYGON)
    line_geoms = encode_geometries(np.array(lines, dtype=object), np.array([0, 1]), 2, LINESTRING)
    point_geoms = encode_geometries(np.array(points, dtype=object), np.array([0, 0]), 1, POINT)
    tile = b"".join(
        [
            encode_layer("a", [({"kind": "park", "n": 3}, POLYGON, poly_geoms[0])]),
            encode_layer(
                "b", [({"name": "人民路"}, LINESTRING, line_geoms[0]), ({"x": 1.5}, LINESTRING, line_geoms[1])]
            ),
            encode_layer("c", [({"rank": -2, "ok": True}, POINT, point_geoms[0])]),
        ]
    )
    d = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    got = shape(d["a"]["features"][0]["geometry"])
    assert d["a"]["features"][0]["properties"] == {"kind": "park", "n": 3}
    assert got.equals(shapely.MultiPolygon([square, other]))
    ring = shapely.get_exterior_ring(shapely.get_geometry(got, 0))
    assert shapely.is_ccw(ring)  # positive area in tile units (y down): clockwise on screen
    b = d["b"]["features"]
    assert b[0]["properties"] == {"name": "人民路"} and b[1]["properties"] == {"x": 1.5}
    assert shape(b[0]["geometry"]).equals(shapely.LineString([(0, 0), (50, 50), (90, 10)]))
    assert shape(b[1]["geometry"]).equals(lines[1])
    c = d["c"]["features"][0]
    assert c["properties"] == {"rank": -2, "ok": True}
    assert shape(c["geometry"]).equals(shapely.MultiPoint(points))


def test_build_writes_the_tile_set_unless_no_tiles(monaco, demo_data, tmp_path):
    from geoservice.faces.cli import main

    assert (monaco.path / "tiles.pmtiles").is_file() and monaco.meta["tiles"]["tiles"] > 0
    out = tmp_path / "monaco"
    osm = demo_data / "monaco" / "monaco.osm.pbf"
    assert main(["build", "--osm", str(osm), "--out", str(out), "--no-tiles", "--ch", "none", "--quiet"]) == 0
    assert (out / "basemap.geojson").is_file() and not (out / "tiles.pmtiles").exists()
    assert "tiles" not in json.loads((out / "meta.json").read_text(encoding="utf-8"))
