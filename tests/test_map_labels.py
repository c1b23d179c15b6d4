"""Offline map labels: road names placed on their road at its angle, once per stretch, with a
minzoom by class; place names from the extract's OSM place nodes (Chinese / English variants
kept); the renderer (basemap_labels.js) in headless Chromium draws them with zoom and without
overlaps. Checked against the bundle's own road lines and an independent osmium read of the
extracts (real OSM data: Andorra, Monaco, central Shanghai)."""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import shapely

from geoservice.bundle.labels import PLACE_MINZOOM, ROAD_MINZOOM, ROAD_SPACING_M

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
REGIONS = ("andorra", "monaco", "shanghai")
# basemap_labels.js places the labels again in a timer (setTimeout 0) queued on each move or layer
# switch: a timer queued after it runs after it, and the frame after that paints them
REDRAWN = "() => new Promise((done) => setTimeout(() => requestAnimationFrame(() => done(true)), 0))"


def _basemap(regions_dir, name) -> list[dict]:
    return json.loads((regions_dir / name / "basemap.geojson").read_text(encoding="utf-8"))["features"]


def _labels(feats, cls):
    return [f for f in feats if f["properties"]["kind"] == "label" and f["properties"]["class"] == cls]


def _local(lat0: float):
    """Metres east / north around latitude ``lat0`` (conformal enough for angles within a city)."""
    k = math.cos(math.radians(lat0))
    return lambda g: shapely.transform(g, lambda c: np.column_stack([c[:, 0] * k * 111_320, c[:, 1] * 110_540]))


@pytest.mark.parametrize("name", REGIONS)
def test_road_labels_sit_on_their_road_at_its_angle(regions_dir, name):
    feats = _basemap(regions_dir, name)
    labels = _labels(feats, "road")
    assert len(labels) > 50
    local = _local(float(np.mean([f["geometry"]["coordinates"][1] for f in labels])))
    roads = defaultdict(list)
    for f in feats:
        if f["properties"]["kind"] == "road" and f["properties"]["name"]:
            roads[f["properties"]["name"]].append(local(shapely.geometry.shape(f["geometry"])))
    angle_off = []
    for lab in labels:
        p = lab["properties"]
        assert p["minzoom"] in (*ROAD_MINZOOM.values(), 16) and -90 < p["angle"] <= 90
        pt = local(shapely.geometry.shape(lab["geometry"]))
        line = min(roads[p["name"]], key=pt.distance)  # a drawn road of the same name
        assert line.distance(pt) < 8.0, p  # the drawn lines are simplified by 5 m
        s = line.project(pt)
        a, b = line.interpolate(max(s - 15, 0)), line.interpolate(min(s + 15, line.length))
        bearing = math.degrees(math.atan2(-(b.y - a.y), b.x - a.x))  # screen y points down
        angle_off.append(abs((bearing - p["angle"] + 90) % 180 - 90))
    assert np.percentile(angle_off, 90) < 10, np.percentile(angle_off, [50, 90, 99])


@pytest.mark.parametrize("name", REGIONS)
def test_a_road_is_named_once_per_stretch(regions_dir, name):
    """No two labels of one name closer than half the class spacing (a street is many OSM ways,
    a dual road two carriageways); every named road of 300 m or more is named at least once."""
    feats = _basemap(regions_dir, name)
    labels = _labels(feats, "road")
    local = _local(float(np.mean([f["geometry"]["coordinates"][1] for f in labels])))
    by_name = defaultdict(list)
    for lab in labels:
        by_name[lab["properties"]["name"]].append(lab)
    for road, labs in by_name.items():
        pts = [local(shapely.geometry.shape(f["geometry"])) for f in labs]
        sep = min(ROAD_SPACING_M.values()) / 2
        for i in range(len(pts)):
            for j in range(i):
                assert pts[i].distance(pts[j]) >= sep - 1, (road, pts[i], pts[j])
    length = defaultdict(float)
    for f in feats:
        p = f["properties"]
        if p["kind"] == "road" and p["name"] and p["class"].removesuffix("_link") in ROAD_MINZOOM:
            length[p["name"]] += local(shapely.geometry.shape(f["geometry"])).length
    unnamed = [n for n, m in length.items() if m >= 300 and n not in by_name]
    assert unnamed == []
    # a long road is named along its length, not once
    longest = max(length, key=lambda n: length[n])
    assert len(by_name[longest]) >= 3


def test_road_minzoom_by_class(regions_dir):
    labels = _labels(_basemap(regions_dir, "shanghai"), "road")
    for lab in labels:
        p = lab["properties"]
        assert p["minzoom"] in (ROAD_MINZOOM[p["sub"]], 16), p
    assert {p["properties"]["sub"] for p in labels} >= {"primary", "secondary", "tertiary"}


def test_shanghai_road_labels_keep_chinese_and_english(regions_dir):
    """Names as in OSM: 世纪大道 is tagged name:en=Century Avenue, 南京西路 West Nanjing Road
    (hand-checked in the extract), kept for the language switch."""
    labels = _labels(_basemap(regions_dir, "shanghai"), "road")
    by_name = {f["properties"]["name"]: f["properties"] for f in labels}
    assert by_name["世纪大道"]["name_en"] == "Century Avenue"
    assert by_name["南京西路"]["name_en"] == "West Nanjing Road"
    assert sum(1 for f in labels if f["properties"].get("name_en")) > 0.8 * len(labels)


def _osm_places(osm: Path) -> dict[int, dict]:
    """Named place nodes of an extract, read independently of geoservice.sources.osm_names."""
    import osmium

    class H(osmium.SimpleHandler):
        def __init__(self):
            super().__init__()
            self.places: dict[int, dict] = {}

        def node(self, n):
            if "place" in n.tags and "name" in n.tags:
                self.places[n.id] = {"place": n.tags["place"], "name": n.tags["name"], "lon": n.location.lon}
                self.places[n.id]["lat"] = n.location.lat
                self.places[n.id]["zh"] = n.tags.get("name:zh")

    h = H()
    h.apply_file(str(osm))
    return h.places


@pytest.mark.parametrize("name", ["andorra", "monaco"])
def test_place_labels_are_the_extracts_place_nodes(regions_dir, demo_data, name):
    feats = _basemap(regions_dir, name)
    labels = _labels(feats, "place")
    places = _osm_places(demo_data / name / f"{name}.osm.pbf")
    outline = next(shapely.geometry.shape(f["geometry"]) for f in feats if f["properties"]["kind"] == "outline")
    by_pos = {(round(p["lon"], 6), round(p["lat"], 6)): p for p in places.values()}
    for lab in labels:
        p = lab["properties"]
        osm = by_pos[tuple(lab["geometry"]["coordinates"])]
        assert osm["name"] == p["name"] and osm["place"] == p["sub"]
        assert p["minzoom"] <= PLACE_MINZOOM[p["sub"]]
    # every named town / village near the roads is labelled; places far from any road are not
    near = [
        p
        for p in places.values()
        if p["place"] in ("town", "village") and outline.buffer(0.004).contains(shapely.Point(p["lon"], p["lat"]))
    ]
    assert {p["name"] for p in near} <= {f["properties"]["name"] for f in labels}
    far = [p for p in places.values() if outline.distance(shapely.Point(p["lon"], p["lat"])) > 0.02]
    assert not {p["name"] for p in far} & {f["properties"]["name"] for f in labels}


def test_places_away_from_the_roads_are_left_out(regions_dir, demo_data):
    """Places are labelled only within the road network's outline: Andorra's places against
    Monaco's outline give none, against their own all that lie inside it."""
    from geoservice.bundle.labels import place_labels
    from geoservice.sources.osm_names import read_osm_names

    places = read_osm_names(demo_data / "andorra" / "andorra.osm.pbf").places

    def outline(name):
        feats = _basemap(regions_dir, name)
        return next(shapely.geometry.shape(f["geometry"]) for f in feats if f["properties"]["kind"] == "outline")

    assert place_labels(places, within=outline("monaco")) == []
    own = outline("andorra")
    inside = [p for p in places if own.contains(shapely.Point(p.lon, p.lat))]
    assert len(place_labels(places, within=own)) >= len(inside) > 40


def test_andorra_la_vella_keeps_its_chinese_name(regions_dir):
    """OSM tags Andorra la Vella (a town) with name:zh=安道尔城: both names are kept."""
    labels = {f["properties"]["name"]: f["properties"] for f in _labels(_basemap(regions_dir, "andorra"), "place")}
    assert labels["Andorra la Vella"]["name_zh"] == "安道尔城"
    assert labels["Andorra la Vella"]["minzoom"] == PLACE_MINZOOM["town"]


def test_read_osm_names_matches_an_independent_read(demo_data):
    from geoservice.sources.osm_names import PLACE_TYPES, read_osm_names

    osm = demo_data / "andorra" / "andorra.osm.pbf"
    names = read_osm_names(osm)
    expected = {i for i, p in _osm_places(osm).items() if p["place"] in PLACE_TYPES}
    assert {p.osm_id for p in names.places} == expected and len(expected) > 50


# ------------------------------------------------------------------- the renderer, in a browser
@pytest.fixture(scope="module")
def andorra_map(regions_dir, tmp_path_factory):
    from geoservice.faces.maps.publish import publish
    from geoservice.service.core import GeoService

    out = tmp_path_factory.mktemp("labelmaps")
    publish(GeoService([regions_dir / "andorra"]), "andorra", out, png=False, lang="zh")
    return out / "andorra_chest_pain_centers.html"


def test_labels_appear_with_zoom_without_overlapping(andorra_map):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # own thread: another module may hold a sync Playwright
        seen, errors = pool.submit(_labels_at_zooms, andorra_map, (11, 13, 17)).result()
    assert errors == []
    z11, z13, z17, basemap_off = seen[:4]
    assert {c for c, _, _ in basemap_off} == {"facility"}
    seen = seen[:3]
    assert not any(c == "road" for c, _, _ in z11)  # no road is named at zoom 11
    assert any(c == "facility" for c, _, _ in z11)  # facility names are
    assert any(c == "road" and t == "CG-1" for c, t, _ in z13)  # a primary road from 13
    z17_roads = [t for c, t, _ in z17 if c == "road"]
    assert len(z17_roads) >= 5 and "Avinguda Meritxell" in z17_roads  # tertiary and secondary streets at 17
    for shown in seen:
        flat = [b for c, _, b in shown if c in ("place", "facility", "admin")]  # unrotated boxes
        for i in range(len(flat)):
            for j in range(i):
                a, b = flat[i], flat[j]
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def _labels_at_zooms(path: Path, zooms):
    from playwright.sync_api import sync_playwright

    out, errors = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(path.as_uri())
            page.wait_for_selector(".gs-bl", state="attached", timeout=10000)  # a 0×0 anchor
            name = page.evaluate("Object.keys(window).find((k) => k.startsWith('map_'))")
            for z in zooms:
                # the centre of Andorra la Vella / Escaldes, where the CG-1 and Avinguda Meritxell run
                page.evaluate(f"() => {{ {name}.setView([42.5075, 1.5280], {z}, {{animate: false}}); }}")
                page.evaluate(REDRAWN)
                out.append(
                    page.evaluate("""() => Array.from(document.querySelectorAll('.gs-bl')).map((el) => {
                        const r = el.firstElementChild.getBoundingClientRect();
                        const cls = Array.from(el.classList).find((c) => c.startsWith('gs-bl-')).slice(6);
                        const text = el.firstElementChild.innerText.split('\\n')[0];
                        return [cls, text, [r.left, r.top, r.right, r.bottom]];
                    })""")
                )
            # switching a layer off hides its labels: the basemap's names go, the facilities' stay
            page.evaluate(f"() => {{ {name}.setView([42.5075, 1.5280], 13, {{animate: false}}); }}")
            page.locator(".leaflet-control-layers-overlays input").first.uncheck()
            page.evaluate(REDRAWN)
            out.append(
                page.evaluate(
                    "() => Array.from(document.querySelectorAll('.gs-bl')).map((el) => "
                    "[Array.from(el.classList).find((c) => c.startsWith('gs-bl-')).slice(6), '', []])"
                )
            )
        finally:
            b.close()
    return out, errors
