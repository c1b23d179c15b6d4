"""Read endpoints: nearest, isochrones, layers, service areas, basemap, pages."""

from __future__ import annotations

import math

import pytest

MONACO = (7.42, 43.735)  # on the street, Monaco
ANDORRA = (1.529, 42.51)  # Andorra la Vella
OFF_NETWORK = (1.60, 42.45)  # inside Andorra's bbox, 5 km from any road
NOWHERE = (1.0, 42.5)  # in no region


def test_health_regions_config_docs(client):
    assert client.get("/health").json() == {"status": "ok", "regions": ["andorra", "monaco"], "preparing": None}
    regions = {r["name"]: r for r in client.get("/regions").json()}
    assert regions["monaco"]["facility_counts"]["aed"] == 5
    assert set(regions["andorra"]["profiles"]) == {"drive", "ambulance", "walk"}
    cfg = client.get("/config").json()
    assert cfg["crs_name"] == "wgs84" and "ODbL" in cfg["attribution"] and "审图号" in cfg["notice"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/nearest",
        "/isochrones",
        "/layers/{type}",
        "/coverage",
        "/whatif",
        "/facilities",
        "/facilities/{id}",
        "/audit",
    ):
        assert p in paths, p


def test_nearest_aed_walks_and_returns_route(client):
    r = client.get("/nearest", params={"lon": MONACO[0], "lat": MONACO[1], "type": "aed", "k": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"] == "walk" and body["origin"]["region"] == "monaco"
    assert len(body["results"]) == 2
    first, second = body["results"]
    assert first["time_s"] <= second["time_s"]
    assert first["facility"]["type"] == "aed"
    assert first["minutes"] == pytest.approx(first["time_s"] / 60, abs=0.06)
    coords = first["route"]["coordinates"]
    assert first["route"]["type"] == "LineString" and len(coords) >= 2
    # route ends near the AED; walking ~5 km/h means distance/time plausible
    fac = first["facility"]
    assert math.dist(coords[-1], [fac["lon"], fac["lat"]]) < 0.005
    assert 0.5 < first["distance_m"] / first["time_s"] < 2.0
    assert body["origin"]["snap_m"] >= 0
    nav = first["nav"]
    assert nav["geo"].startswith(f"geo:{fac['lat']:.6f},{fac['lon']:.6f}")
    assert nav["amap"].startswith("amapuri://route/plan/") and "dev=0" in nav["amap"] and "t=2" in nav["amap"]
    assert "coord_type=bd09ll" in nav["baidu"] and "mode=walking" in nav["baidu"]


def test_nearest_chest_pain_drives_in_andorra(client):
    r = client.get("/nearest", params={"lon": ANDORRA[0], "lat": ANDORRA[1], "type": "chest_pain_center"})
    body = r.json()
    assert r.status_code == 200 and body["profile"] == "drive" and body["origin"]["region"] == "andorra"
    assert body["results"][0]["facility"]["level"] in ("standard", "basic")
    r2 = client.get(
        "/nearest", params={"lon": ANDORRA[0], "lat": ANDORRA[1], "type": "stroke_center", "capability": "evt"}
    )
    assert r2.json()["results"][0]["facility"]["capabilities"] == "evt,ivt"


def test_nearest_none_reachable_says_so(client):
    r = client.get("/nearest", params={"lon": ANDORRA[0], "lat": ANDORRA[1], "type": "aed"})
    assert r.status_code == 200
    assert r.json()["results"] == [] and "no aed" in r.json()["note"]


def test_nearest_max_minutes_limits(client):
    r = client.get("/nearest", params={"lon": MONACO[0], "lat": MONACO[1], "type": "aed", "max_minutes": 1})
    assert r.status_code == 200 and r.json()["results"] == []
    assert "within 1 min" in r.json()["note"]


BAD = [
    ("/nearest", {"lon": 200, "lat": 43.7}, 422, "lon", None),
    ("/nearest", {"lon": -181, "lat": 43.7}, 422, "lon", None),
    ("/nearest", {"lon": 7.42, "lat": 91}, 422, "lat", None),
    ("/nearest", {"lon": "abc", "lat": 43.7}, 422, "lon", None),
    ("/nearest", {"lat": 43.7}, 422, "lon", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "type": "spaceport"}, 422, "type", "spaceport"),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "k": 0}, 422, "k", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "k": "many"}, 422, "k", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "profile": "boat"}, 422, "profile", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "direction": "up"}, 422, "direction", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "type": "aed", "at": "yesterday"}, 422, "at", "ISO"),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "max_minutes": -1}, 422, "max_minutes", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "crs": "mars"}, 422, "crs", None),
    ("/nearest", {"lon": 7.42, "lat": 43.735, "region": "atlantis"}, 404, "region", "atlantis"),
    ("/nearest", {"lon": NOWHERE[0], "lat": NOWHERE[1]}, 404, "lon,lat", "no served region"),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "minutes": "5,x"}, 422, "minutes", "5,x"),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "minutes": "0"}, 422, "minutes", None),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "minutes": "500"}, 422, "minutes", "240"),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "minutes": ""}, 422, "minutes", None),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "minutes": "nan"}, 422, "minutes", None),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "profile": "fly"}, 422, "profile", None),
    ("/isochrones", {"lon": 7.42, "lat": 43.735, "direction": "sideways"}, 422, "direction", None),
    ("/isochrones", {"lon": 370, "lat": 43.735}, 422, "lon", None),
    ("/layers/spaceport", {}, 422, "type", "spaceport"),
    ("/layers/aed", {"bbox": "1,2,3"}, 422, "bbox", None),
    ("/layers/aed", {"bbox": "a,b,c,d"}, 422, "bbox", None),
    ("/layers/aed", {"bbox": "5,5,1,1"}, 422, "bbox", None),
    ("/layers/chest_pain_center", {"level": "gold"}, 422, "level", "gold"),
    ("/layers/aed", {"region": "atlantis"}, 404, "region", None),
    ("/layers/aed", {"demo": "maybe"}, 422, "demo", None),
    ("/service-areas", {"type": "nope"}, 422, "type", None),
    ("/service-areas", {"type": "aed", "minutes": "x"}, 422, "minutes", None),
    ("/coverage", {"type": "chest_pain_center", "minutes": "junk", "region": "andorra"}, 422, "minutes", None),
    ("/coverage", {"type": "chest_pain_center", "minutes": -5, "region": "andorra"}, 422, "minutes", None),
    ("/coverage", {"type": "chest_pain_center", "minutes": 30, "region": "atlantis"}, 404, "region", "served"),
    (
        "/coverage",
        {"type": "chest_pain_center", "region": "andorra", "level": "gold"},
        422,
        "level",
        "valid: standard, basic",
    ),
    (
        "/nearest",
        {"lon": 1.52, "lat": 42.5, "type": "chest_pain_center", "level": "gold"},
        422,
        "level",
        "unknown level of chest_pain_center 'gold'; valid: standard, basic",
    ),
    ("/coverage", {"type": "volcano", "minutes": 30, "region": "andorra"}, 422, "type", None),
    (
        "/coverage",
        {"type": "chest_pain_center", "minutes": 30, "region": "andorra", "scenario": "rush"},
        422,
        "scenario",
        "rush",
    ),
    ("/regions/atlantis/basemap", {}, 404, "region", None),
]


@pytest.mark.parametrize("path,params,status,field,text", BAD, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD)])
def test_bad_parameters_are_4xx_naming_the_field(client, path, params, status, field, text):
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["field"] == field, body
    assert field.split(",")[0] in body["detail"]
    if text:
        assert text in body["detail"], body
    assert "Traceback" not in r.text


def test_point_off_network_gives_snap_distance(client):
    r = client.get("/nearest", params={"lon": OFF_NETWORK[0], "lat": OFF_NETWORK[1], "type": "chest_pain_center"})
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "lon,lat"
    assert body["snap_m"] > 1000
    assert f"{body['snap_m']:.0f} m" in body["detail"] and "limit" in body["detail"]
    r = client.get("/isochrones", params={"lon": OFF_NETWORK[0], "lat": OFF_NETWORK[1], "minutes": "10"})
    assert r.status_code == 422 and r.json()["snap_m"] > 1000


def test_isochrones_nested_and_sorted(client):
    r = client.get("/isochrones", params={"lon": MONACO[0], "lat": MONACO[1], "minutes": "10,5", "profile": "walk"})
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert [f["properties"]["minutes"] for f in feats] == [5, 10]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in feats)
    from shapely.geometry import shape

    small, big = shape(feats[0]["geometry"]), shape(feats[1]["geometry"])
    assert big.area > small.area > 0
    assert small.difference(big).area < 0.02 * small.area


def test_layers_filters(client):
    all_stroke = client.get("/layers/stroke_center").json()["features"]
    assert len(all_stroke) == 5
    assert {f["properties"]["region"] for f in all_stroke} == {"andorra", "monaco"}
    evt = client.get("/layers/stroke_center", params={"capability": "evt"}).json()["features"]
    assert len(evt) == 2 and all("evt" in f["properties"]["capabilities"] for f in evt)
    basic = client.get("/layers/chest_pain_center", params={"level": "basic"}).json()["features"]
    assert {f["properties"]["level"] for f in basic} == {"basic"}
    box = client.get("/layers/all", params={"bbox": "7.3,43.7,7.5,43.8"}).json()["features"]
    assert box and all(f["properties"]["region"] == "monaco" for f in box)
    assert client.get("/layers/aed", params={"region": "andorra"}).json()["features"] == []
    named = client.get("/layers/hospital", params={"q": "cardio"}).json()["features"]
    assert [f["properties"]["name"] for f in named] == ["Centre Cardio Thoracique de Monaco"]
    f = box[0]
    assert f["geometry"]["coordinates"] == [f["properties"]["lon"], f["properties"]["lat"]]


def test_service_areas_one_per_facility(client):
    """One area per chest pain center, each where a patient reaches THAT center within 10 min:
    checked against networkx times to it alone (road junctions well inside its reach lie in its
    area, junctions well beyond it lie outside)."""
    import numpy as np
    import shapely
    from analyses.test_coverage import brute_force_times
    from shapely.geometry import shape

    r = client.get("/v1/service-areas", params={"type": "chest_pain_center", "minutes": 10, "region": "andorra"})
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    eng = client.app.state.geo.engine("andorra")
    ids = [f["properties"]["id"] for f in feats]
    assert sorted(ids) == [f"demo-chest_pain_center-{i}" for i in (1, 2, 3)]
    assert all(f["properties"]["minutes"] == 10 for f in feats)
    net = eng.router_for("drive").net
    for f in feats:
        t = brute_force_times(eng, type="chest_pain_center", exclude=set(ids) - {f["properties"]["id"]})
        area = shape(f["geometry"]).buffer(0.0005)  # ~50 m: the outline is drawn around the roads
        inside = shapely.contains_xy(area, net.node_lon, net.node_lat)
        well_in, well_out = t <= 0.8 * 600, t > 1.25 * 600
        assert well_in.sum() >= 5 and well_out.sum() >= 50, f["properties"]["id"]
        assert inside[well_in].mean() >= 0.99, (f["properties"]["id"], inside[well_in].mean())
        assert inside[well_out].mean() <= 0.02, (f["properties"]["id"], inside[well_out].mean())
        others = [g for g in feats if g is not f]
        assert not all(shape(g["geometry"]).equals(shape(f["geometry"])) for g in others)
        assert np.isfinite(t).any()


def test_basemap_offline_layer(client):
    fc = client.get("/regions/andorra/basemap").json()
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert kinds == {"road", "outline", "water", "label"}
    assert "OpenStreetMap" in fc["attribution"]


def test_pages_served_without_cdn(client):
    import re

    for path in ("/", "/planner", "/docs"):
        r = client.get(path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        srcs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert srcs, path
        for s in srcs:
            assert not s.startswith(("http:", "https:", "//")), (path, s)
            if s.startswith("/static/"):
                assert client.get(s).status_code == 200, s
    assert client.get("/static/leaflet.js").status_code == 200


def test_admin_units_layer(client):
    fc = client.get("/regions/andorra/admin-units").json()
    names = {f["properties"]["name"] for f in fc["features"]}
    assert "Andorra la Vella" in names and len(names) == 7
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])
    assert client.get("/regions/atlantis/admin-units").status_code == 404


def test_layers_at_says_open_closed_or_unknown(client, editor):
    """/layers/aed?at= flags each AED open (true), closed (false) or hours unknown (null)."""
    aed = {
        "type": "aed",
        "name": "Office AED",
        "lon": 7.4236,
        "lat": 43.7386,
        "opening_hours": "Mo-Fr 08:00-18:00",
        "source": "test",
        "id": "office-aed",
    }
    assert client.post("/facilities", json=aed, headers=editor).status_code == 201

    def state(at):
        feats = client.get("/layers/aed", params={"region": "monaco", "at": at}).json()["features"]
        return {f["properties"]["id"]: f["properties"]["open_at"] for f in feats}

    monday, sunday = state("2026-11-23T10:00"), state("2026-11-22T03:00")
    assert monday["office-aed"] is True and sunday["office-aed"] is False
    others = [k for k in monday if k != "office-aed"]
    assert others and all(monday[k] is None and sunday[k] is None for k in others)  # OSM AEDs: no hours
    plain = client.get("/layers/aed", params={"region": "monaco"}).json()["features"]
    assert all("open_at" not in f["properties"] for f in plain)
    r = client.get("/layers/aed", params={"at": "teatime"})
    assert r.status_code == 422 and r.json()["field"] == "at"


def test_config_notice_in_both_languages(client):
    cfg = client.get("/config").json()
    assert "审图号" in cfg["notice"] and "审图号" in cfg["notice_zh"] and "OpenStreetMap" in cfg["notice_zh"]


def test_aed_questions_are_on_foot_everywhere(client):
    """/service-areas, /coverage and /whatif take AEDs on foot unless a profile is given."""
    sa = client.get("/service-areas", params={"type": "aed", "region": "monaco"}).json()["features"]
    assert (
        sa and {f["properties"]["profile"] for f in sa} == {"walk"} and {f["properties"]["minutes"] for f in sa} == {4}
    )
    cov = client.get("/coverage", params={"type": "aed", "region": "monaco", "gaps": False}).json()
    assert cov["profile"] == "walk" and cov["minutes"] == 4
    wi = client.post("/whatif", json={"type": "aed", "region": "monaco", "add": [{"lon": 7.4236, "lat": 43.7386}]})
    assert wi.status_code == 200, wi.text
    assert wi.json()["before"]["profile"] == "walk" and wi.json()["delta"]["road_share"] > 0
    drive = client.get("/coverage", params={"type": "aed", "region": "monaco", "profile": "drive", "gaps": False})
    assert drive.json()["profile"] == "drive" and drive.json()["overall"]["road_share"] > cov["overall"]["road_share"]


def test_audit_offset_beyond_sqlite_range_is_422(client, editor):
    r = client.get("/audit", params={"offset": 9223372036854775808}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "offset"
