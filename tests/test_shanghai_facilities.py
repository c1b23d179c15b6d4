"""The facilities of the central Shanghai demo (geoservice/data/shanghai/facilities.csv), checked
against the OpenStreetMap rows they come from (tests/data/shanghai/shanghai_hospitals_osm.csv,
read here with the csv module) and against the rules of geoservice/data/shanghai/FACILITIES.md."""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from geoservice.sources.facility_files import read_facilities
from geoservice.sources.hospital_names import clean_name, name_key
from geoservice.sources.opening_hours import opening_hours_error

REPO = Path(__file__).resolve().parents[1]
FACILITIES = REPO / "geoservice" / "data" / "shanghai" / "facilities.csv"
SHARED = REPO.parent / "shared" / "data"
BOX = (121.40, 31.17, 121.54, 31.29)
MERGE_M = 600.0
# amenity=hospital features inside the box that are no place of care (FACILITIES.md)
NOT_CARE = {
    "node/3024010876": "江宁路",
    "node/13819915103": "艾香堂寇式减肥",
    "way/1283088203": "上海市杨浦区疾病预防控制中心",
}
OSM_ID = re.compile(r"(?:node|way|relation)/\d+")
OSM_REF = re.compile(r"OpenStreetMap ((?:node|way|relation)/\d+) \(ODbL\)")


@pytest.fixture(scope="module")
def rows():
    with open(FACILITIES, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def osm(real_data):
    with open(real_data / "shanghai" / "shanghai_hospitals_osm.csv", encoding="utf-8") as f:
        return {r["osm_id"]: r for r in csv.DictReader(f)}


def haversine_m(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def test_file_loads_without_row_errors(rows):
    res = read_facilities(FACILITIES)
    assert res.ok, res.errors[:5]
    assert len(res.layer) == len(rows)
    assert all(re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", r["id"]) for r in rows)


def test_every_row_sits_at_its_osm_feature_inside_the_road_box(rows, osm):
    for r in rows:
        lon, lat = float(r["lon"]), float(r["lat"])
        assert BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3], r["id"]
        ref = OSM_REF.search(r["source"])
        assert ref, r["source"]
        o = osm[ref.group(1)]
        assert o["in_central_bbox"] == "1" and o["amenity"] == "hospital" and o["name"].strip()
        assert haversine_m(lon, lat, float(o["lon"]), float(o["lat"])) < 0.05  # same point (7 decimals)
        assert r["name"].startswith(o["name"].strip()) or o["name"].strip() in r["name"]


def test_demo_rows_are_labelled_and_real_rows_are_not(rows):
    for r in rows:
        demo = r["demo"] == "true"
        assert demo == ("[DEMO designation]" in r["name"]), r["id"]
        assert demo == r["source"].startswith("demo designation of OpenStreetMap "), r["id"]
    assert {r["type"] for r in rows if r["demo"] == "false"} == {"hospital", "chest_pain_center"}


def test_the_one_real_certification_is_the_chest_hospital_from_the_batch_1_list(rows, osm):
    real = [r for r in rows if r["type"] == "chest_pain_center" and r["demo"] == "false"]
    assert len(real) == 1
    (cpc,) = real
    assert (cpc["name"], cpc["level"], cpc["status"]) == ("上海市胸科医院", "standard", "certified")
    assert "batch 1" in cpc["source"] and "decision date 2014-02-12" in cpc["source"]
    assert "published name 上海交通大学附属胸科医院" in cpc["source"]
    assert "OpenStreetMap way/1100831002 (ODbL)" in cpc["source"]
    o = osm["way/1100831002"]
    assert (float(cpc["lon"]), float(cpc["lat"])) == (float(o["lon"]), float(o["lat"]))


def test_hospitals_are_the_named_osm_hospitals_in_the_box_each_once(rows, osm):
    hospitals = [r for r in rows if r["type"] == "hospital"]
    kept = [OSM_REF.search(r["source"]).group(1) for r in hospitals]
    merged = [m for r in hospitals for m in OSM_ID.findall(r["source"].partition("merged with")[2])]
    expected = {
        k
        for k, o in osm.items()
        if o["in_central_bbox"] == "1" and o["amenity"] == "hospital" and o["name"].strip() and k not in NOT_CARE
    }
    assert len(kept) == len(set(kept)) and not set(kept) & set(merged)
    assert set(kept) | set(merged) == expected
    unnamed = sum(
        o["in_central_bbox"] == "1" and o["amenity"] == "hospital" and not o["name"].strip() for o in osm.values()
    )
    assert (len(expected), unnamed, len(merged), len(hospitals)) == (136, 9, 5, 131)
    # community health centres are clinics, hospitals are hospitals
    for r in hospitals:
        if "社区卫生服务中心" in r["name"]:
            assert r["level"] == "clinic", r["name"]
        if r["name"].endswith("人民医院"):
            assert r["level"] == "hospital", r["name"]


def test_no_two_hospitals_share_a_name_within_the_merge_distance(rows):
    hospitals = [r for r in rows if r["type"] == "hospital"]
    assert len({r["name"] for r in hospitals}) == len(hospitals)  # same names far apart carry a suffix

    def base(name):  # the name outside brackets and without the distinguishing suffix
        return name_key(re.sub(r"\([^()]*\)", "", clean_name(name)))

    for i, a in enumerate(hospitals):
        for b in hospitals[i + 1 :]:
            if base(a["name"]) == base(b["name"]):
                d = haversine_m(float(a["lon"]), float(a["lat"]), float(b["lon"]), float(b["lat"]))
                assert d > MERGE_M, (a["name"], b["name"], d)


def test_demo_roles_cover_every_tier(rows):
    demo = [r for r in rows if r["demo"] == "true"]
    tiers = Counter((r["type"], r["level"]) for r in demo)
    assert tiers[("chest_pain_center", "standard")] >= 2 and tiers[("chest_pain_center", "basic")] >= 2
    assert tiers[("grassroots_unit", "")] >= 5
    assert all(tiers[("stroke_center", lv)] >= 2 for lv in ("advanced", "center", "station"))
    assert 3 <= tiers[("ems_station", "")] <= 5
    assert 10 <= tiers[("aed", "")] <= 20
    for r in demo:
        if r["type"] == "stroke_center":
            caps = {"advanced": "evt,ivt", "center": "ivt", "station": ""}[r["level"]]
            assert r["capabilities"] == caps
            assert (r["door_to_needle_min"] != "") == (r["level"] != "station")
        if r["type"] == "grassroots_unit":
            assert "卫生" in r["name"]  # at a community health centre
    aeds = [r for r in demo if r["type"] == "aed"]
    assert all(r["access"] == "yes" for r in aeds)
    hours = Counter(r["opening_hours"] for r in aeds)
    assert hours["24/7"] >= 2 and hours[""] >= 2 and hours["Mo-Fr 08:00-18:00"] >= 1
    assert all(opening_hours_error(h) is None for h in hours if h)
    # no role given twice to one place, and the real chest hospital gets no demo role
    assert len({(r["type"], r["level"], OSM_REF.search(r["source"]).group(1)) for r in demo}) == len(demo)
    assert not any("way/1100831002" in r["source"] for r in demo)


@pytest.mark.skipif(not (SHARED / "shanghai" / "shanghai_hospitals_osm.csv").is_file(), reason="needs ../shared/data")
def test_script_regenerates_the_file_byte_for_byte(tmp_path):
    out = tmp_path / "facilities.csv"
    script = REPO / "scripts" / "make_shanghai_facilities.py"
    subprocess.run([sys.executable, script, "--shared", SHARED, "--out", out], check=True, capture_output=True)
    assert out.read_bytes() == FACILITIES.read_bytes()


ROADS = [
    p
    for p in (REPO / "geoservice/data/shanghai/shanghai-center.osm.gz", SHARED / "osm/shanghai-center.osm")
    if p.is_file()
]


@pytest.mark.skipif(not ROADS, reason="needs the central Shanghai road extract")
def test_every_role_can_be_routed_to(rows):
    from geoservice.bundle.network import build_network
    from geoservice.engine.router import Router
    from geoservice.sources.osm_roads import read_osm_roads
    from geoservice.sources.speeds import DEFAULT_PROFILES

    raw = read_osm_roads(ROADS[0])
    roles = [r for r in rows if r["type"] != "hospital"]
    lon, lat = [float(r["lon"]) for r in roles], [float(r["lat"]) for r in roles]
    for kind in ("drive", "walk"):
        snaps = Router(build_network(raw, kind, DEFAULT_PROFILES)).snap_many(lon, lat, max_snap_m=1e5, strict=False)
        for r, s in zip(roles, snaps, strict=True):
            if r["demo"] == "true":
                assert s is not None and s.dist_m <= 250.0, (kind, r["name"], s)
            elif kind == "drive":  # 上海市胸科医院, 750 m beyond the disc of roads: still reached by car
                assert s is not None and 700 < s.dist_m < 1000.0, s
