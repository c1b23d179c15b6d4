"""Landmarks in the place search (``sources.osm_landmarks``, ``bundle.landmarks``, ``service.places``):
read from the real OSM extracts, found by Chinese name, English name and pinyin, ranked by distance
from ``near``; and facilities OSM maps without a name shown by a readable name, never a raw OSM id.

What central Shanghai's extract (geoservice/data/shanghai/shanghai-center.osm.gz, an Overpass export
of the roads) has for 人民广场: eleven ``public_transport=stop_position`` bus stops named 人民广场,
none with a ``name:en``, and no square, metro station or ``name:en`` "People's Square" at all (its
only station is 江苏路 / Jiangsu Road). So 人民广场 is found as bus stops, by Chinese name and
pinyin; English search is checked on what the extracts do name in English (Jiangsu Road, Middle
Huaihai Road, Monaco's Oceanographic Museum)."""

from __future__ import annotations

import json
import math
import re

import osmium
import pytest
from fastapi.testclient import TestClient

from geoservice.bundle.facility_names import readable_name
from geoservice.faces.api.app import create_app
from geoservice.questions import NearestQuestion
from geoservice.service.core import GeoService
from geoservice.service.usecases import queries
from geoservice.service.usecases.places import search_places
from geoservice.sources.name_keys import pinyin_keys
from geoservice.sources.osm_landmarks import GROUP_M, read_osm_landmarks

RAW_ID = re.compile(r"osm-(node|way|relation)-\d+|unnamed (hospital|clinic)", re.I)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon1 - lon2) * k, lat1 - lat2) * 111_195.0


def osm_nodes(path, **tags) -> list[tuple[int, float, float, dict]]:
    """Nodes with all of ``tags``, read with pyosmium apart from the code under test."""
    out = []
    for o in osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter(*tags)):
        t = {x.k: x.v for x in o.tags}
        if o.is_node() and all(t.get(k) == v for k, v in tags.items()):
            out.append((o.id, o.location.lon, o.location.lat, t))
    return out


@pytest.fixture(scope="module")
def shanghai_svc(regions_dir):
    if not (regions_dir / "shanghai" / "meta.json").is_file():
        pytest.skip("the Shanghai demo region is not built (geoservice/data/shanghai)")
    s = GeoService([regions_dir / "shanghai", regions_dir / "monaco", regions_dir / "andorra"])
    yield s
    s.close()


# --------------------------------------------------------------------------- reading


def test_pinyin_keys_hand_checked():
    assert pinyin_keys("人民广场") == ("renminguangchang", "rmgc")
    assert pinyin_keys("长乐路") == ("changlelu", "cll")  # 长 read cháng in this name, not zhǎng
    assert pinyin_keys("重庆南路") == ("chongqingnanlu", "cqnl")  # 重 read chóng
    assert pinyin_keys("3号线") == ("3haoxian", "3hx")
    assert pinyin_keys("Avenue Pasteur") is None


def test_shanghai_renmin_guangchang_bus_stops_grouped(demo_data):
    osm = demo_data / "shanghai" / "shanghai-center.osm.gz"
    stops = [n for n in osm_nodes(osm, name="人民广场") if n[3].get("public_transport") == "stop_position"]
    assert len(stops) == 11 and not any("name:en" in n[3] for n in stops)  # what the extract has
    found = read_osm_landmarks(osm)
    groups = [lm for lm in found.landmarks if lm.name == "人民广场"]
    assert {g.kind for g in groups} == {"bus_stop"}
    assert sum(g.count for g in groups) == 11  # every stop in one group
    for _, lon, lat, _ in stops:  # each stop near a group point
        assert min(metres(lon, lat, g.lon, g.lat) for g in groups) < 2 * GROUP_M
    points = {(round(lon, 7), round(lat, 7)) for _, lon, lat, _ in stops}
    assert {(round(g.lon, 7), round(g.lat, 7)) for g in groups} <= points  # a real stop on its road
    # the one metro station of the extract, with its English name
    (jiangsu,) = [lm for lm in found.landmarks if lm.kind == "station"]
    assert (jiangsu.name, jiangsu.name_en, jiangsu.id) == ("江苏路", "Jiangsu Road", "osm-node-11216978072")
    assert found.road_names_en["淮海中路"] == "Middle Huaihai Road"


def test_monaco_landmarks_of_several_kinds(demo_data):
    found = read_osm_landmarks(demo_data / "monaco" / "monaco.osm.pbf")
    kinds = {lm.kind for lm in found.landmarks}
    assert {"station", "school", "park", "attraction", "hospital", "bus_stop"} <= kinds
    museum = next(lm for lm in found.landmarks if lm.name == "Musée Océanographique")
    assert museum.name_en == "Oceanographic Museum" and museum.kind == "attraction"
    # the station's subway entrances: "Monaco-Monte Carlo", 180 m from the station node, is part of it;
    # the two "Monaco - Monte Carlo" 560 m south (the station runs underground) are one more point of it
    osm = demo_data / "monaco" / "monaco.osm.pbf"
    (station,) = [n for n in osm_nodes(osm, railway="station") if n[3]["name"] == "Monaco - Monte Carlo"]
    entrances = {n[0]: n for n in osm_nodes(osm, railway="subway_entrance")}
    assert metres(*entrances[1281068038][1:3], *station[1:3]) < GROUP_M
    assert "Monaco-Monte Carlo" not in {lm.name for lm in found.landmarks}
    south = [lm for lm in found.landmarks if lm.id == "osm-node-4029620773"]
    assert [(lm.kind, lm.name, lm.count) for lm in south] == [("station", "Monaco - Monte Carlo", 2)]
    assert metres(south[0].lon, south[0].lat, *station[1:3]) > GROUP_M


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize("q", ["人民广场", "rmgc", "RMGC", "ｒｍｇｃ", "renminguangchang", "Ren Min Guang Chang"])
def test_renmin_guangchang_first_by_name_and_pinyin(shanghai_svc, q):
    p = search_places(shanghai_svc, q).places[0]
    assert (p.name, p.kind, p.category, p.region) == ("人民广场", "landmark", "bus_stop", "shanghai")
    assert p.district == "黄浦区"
    # a search can start from it: it snaps to the walk network within a few metres
    assert queries.nearest(shanghai_svc, NearestQuestion.of(p.lon, p.lat, type="aed", k=1)).origin.snap_m < 30


def test_english_names_find_the_chinese_place(shanghai_svc):
    st = search_places(shanghai_svc, "Jiangsu Road").places
    assert (st[0].name, st[0].name_en, st[0].category) == ("江苏路", "Jiangsu Road", "station")
    assert ("江苏路", "road") in [(p.name, p.kind) for p in st]
    road = search_places(shanghai_svc, "middle huaihai road").places[0]
    assert (road.name, road.kind, road.name_en) == ("淮海中路", "road", "Middle Huaihai Road")
    museum = search_places(shanghai_svc, "oceanographic museum").places[0]
    assert (museum.name, museum.region) == ("Musée Océanographique", "monaco")


def test_near_ranks_two_places_of_one_name_by_distance(shanghai_svc):
    """The two 人民广场 stop groups, ~0.4 km apart: from near each, that one comes first, with the
    distance computed here by hand."""
    a, b = search_places(shanghai_svc, "人民广场").places[:2]
    assert a.name == b.name == "人民广场" and metres(a.lon, a.lat, b.lon, b.lat) > 300
    for mine, other in ((a, b), (b, a)):
        at = (mine.lon + 0.0003, mine.lat + 0.0002)  # ~35 m off
        got = search_places(shanghai_svc, "人民广场", near=f"{at[0]},{at[1]}").places[:2]
        assert [(p.lon, p.lat) for p in got] == [(mine.lon, mine.lat), (other.lon, other.lat)]
        assert got[0].distance_m == pytest.approx(metres(mine.lon, mine.lat, *at), rel=0.01)
        assert got[1].distance_m == pytest.approx(metres(other.lon, other.lat, *at), rel=0.01)
    # without near, the same two in a stable order and no distance
    assert all(p.distance_m is None for p in search_places(shanghai_svc, "人民广场").places)


def test_exact_name_first_then_kind(shanghai_svc):
    names = [(p.name, p.kind, p.category) for p in search_places(shanghai_svc, "淮海中路", limit=10).places]
    assert names[0] == ("淮海中路", "road", None)  # the only exact name
    assert all(n.startswith("淮海中路") for n, _, _ in names[1:])  # then prefixes: bus stops at it


@pytest.mark.parametrize(
    "params, field",
    [
        ({"q": "人民广场", "near": "abc"}, "near"),
        ({"q": "人民广场", "near": "121.47"}, "near"),
        ({"q": "人民广场", "near": "121.47,31.23,5"}, "near"),
        ({"q": "人民广场", "near": "200,31.23"}, "near"),
        ({"q": "人民广场", "near": "nan,31.23"}, "near"),
        ({"q": "人民广场", "near": "1" * 61}, "near"),
        ({"q": "·"}, "q"),
        ({"q": ""}, "q"),
    ],
)
def test_bad_q_and_near_are_422_naming_the_field(shanghai_svc, params, field):
    with TestClient(create_app(shanghai_svc)) as client:
        r = client.get("/places", params=params)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field


def test_api_carries_english_name_category_and_distance(shanghai_svc):
    with TestClient(create_app(shanghai_svc)) as client:
        r = client.get("/places", params={"q": "rmgc", "near": "121.4725,31.2308", "limit": 3})
        assert r.status_code == 200
        first = r.json()["places"][0]
        assert first["name"] == "人民广场" and first["category"] == "bus_stop" and first["distance_m"] < 100
        assert first["id"].startswith("osm-node-")  # the OSM id is a data field
        jiangsu = client.get("/places", params={"q": "Jiangsu Road", "limit": 1}).json()["places"][0]
        assert jiangsu["name_en"] == "Jiangsu Road"


# --------------------------------------------------------------------------- no raw OSM ids for citizens


def test_readable_name_forms():
    assert readable_name("hospital", "淮海中路") == "医院（淮海中路）"
    assert readable_name("hospital", "淮海中路", "near") == "医院（淮海中路附近）"
    assert readable_name("hospital", "Avenue Pasteur") == "Hospital on Avenue Pasteur"
    assert readable_name("clinic", "Canillo", "in") == "Clinic in Canillo"
    assert readable_name("hospital", None) == "Hospital"


def test_monaco_unnamed_hospital_named_by_its_street(monaco, demo_data):
    """OSM node 25237989 (amenity=hospital, no name) is 25 m from Avenue Pasteur in the OSM file."""
    (node,) = [n for n in osm_nodes(demo_data / "monaco" / "monaco.osm.pbf", amenity="hospital") if n[0] == 25237989]
    assert "name" not in node[3]
    fac = monaco.facilities.set_index("id")
    assert fac.loc["osm-node-25237989", "name"] == "Hospital on Avenue Pasteur"
    assert fac.loc["demo-stroke_center-2", "name"] == "Hospital on Avenue Pasteur [DEMO designation]"


def test_no_citizen_visible_name_holds_a_raw_osm_id(shanghai_svc):
    """Every facility name of every demo bundle, and what search and nearest answer, is readable."""
    for name, entry in shanghai_svc.regions.items():
        bad = [n for n in entry.region.facilities["name"].astype(str) if RAW_ID.search(n)]
        assert bad == [], (name, bad[:5])
    for q in ("hospital", "医院", "AED", "EMS", "osm"):
        for p in search_places(shanghai_svc, q, limit=50).places:
            assert not RAW_ID.search(p.name) and not RAW_ID.search(p.name_en or ""), p
    for lon, lat in ((7.4114, 43.7304), (1.4929, 42.4693), (121.4713, 31.2309)):
        for t in ("hospital", "chest_pain_center", "stroke_center", "ems_station", "aed"):
            try:
                ans = queries.nearest(shanghai_svc, NearestQuestion.of(lon, lat, type=t, k=3))
            except Exception:  # a type the region has none of
                continue
            text = json.dumps([r.facility.model_dump() for r in ans.results], ensure_ascii=False)
            names = [r.facility.name for r in ans.results]
            assert not any(RAW_ID.search(n) for n in names), names
            assert "unnamed" not in text


# --------------------------------------------------------------------------- the manual's example


def test_manual_page_examples_run(regions_dir, capsys):
    """The commands of docs/howto/find-a-place (the same in zh and en) answer as the page says."""
    import shlex
    from pathlib import Path

    from geoservice.faces.cli import main

    docs = Path(__file__).resolve().parents[1] / "docs" / "howto"
    blocks = {
        lang: re.findall(r"```sh\n(.*?)```", (docs / f"find-a-place.{lang}.md").read_text(encoding="utf-8"), re.S)
        for lang in ("zh", "en")
    }
    assert blocks["zh"] == blocks["en"] and blocks["en"]
    lines = [ln for ln in blocks["en"][0].splitlines() if ln.strip()]
    firsts = []
    for line in lines:
        argv = shlex.split(line)
        assert argv[:2] == ["geoservice", "places"]
        code = main([*argv[1:], "--region", str(regions_dir / "shanghai")])
        out, err = capsys.readouterr()
        assert code == 0, err
        firsts.append(json.loads(out)["places"][0])
    assert [p["name"] for p in firsts] == ["人民广场", "人民广场", "江苏路"]
    assert firsts[1]["distance_m"] < 50 and firsts[2]["name_en"] == "Jiangsu Road"
    assert main(["places", "--q", "rmgc", "--near", "x,y", "--region", str(regions_dir / "shanghai")]) == 2
    assert "geoservice: error: --near:" in capsys.readouterr().err


def test_openapi_documents_near_and_the_new_fields(shanghai_svc):
    schema = create_app(shanghai_svc).openapi()
    params = {p["name"]: p for p in schema["paths"]["/places"]["get"]["parameters"]}
    assert "map's centre" in params["near"]["description"] and "rmgc" in params["q"]["description"]
    place = schema["components"]["schemas"]["Place"]["properties"]
    assert {"name_en", "category", "id", "distance_m"} <= set(place)
