"""Coverage, what-if, and the GCJ-02 shift of every coordinate."""

from __future__ import annotations

import math

import pytest


def test_coverage_report(client):
    """The API's coverage figures are the brute-force ones: people at road junctions within 10
    min by networkx times, and each road piece in the part of it in reach (sampled)."""
    from analyses.test_coverage import brute_force_times, brute_road_share_by_unit

    from geoservice.bundle.population import load_population

    r = client.get("/v1/coverage", params={"type": "chest_pain_center", "minutes": 10, "region": "andorra"})
    assert r.status_code == 200, r.text
    body = r.json()
    ov = body["overall"]
    for k in ("area_share", "road_share", "population_share"):
        assert 0 < ov[k] < 1, (k, ov)
    eng = client.app.state.geo.engine("andorra")
    t = brute_force_times(eng, type="chest_pain_center")
    layer = load_population(eng.region, "drive")
    covered = float(layer.population[t <= 600 + 1e-6].sum())
    assert ov["population_covered"] == pytest.approx(covered, abs=0.5)
    assert ov["population_share"] == pytest.approx(covered / (layer.population.sum() + layer.off.sum()), abs=1e-5)
    cov, tot = brute_road_share_by_unit(eng, t, 10)
    by_code = {u["admin_code"]: u for u in body["by_unit"]}
    for k, code in enumerate(layer.units["admin_code"].astype(str)):
        if tot.get(k):
            assert by_code[code]["road_share"] == pytest.approx(cov[k] / tot[k], abs=0.003), code
    assert body["by_unit"] and body["gaps"]["type"] == "FeatureCollection" and body["gaps"]["features"]
    longer = client.get("/coverage", params={"type": "chest_pain_center", "minutes": 20, "region": "andorra"}).json()
    assert longer["overall"]["road_share"] > ov["road_share"]


def test_whatif_add_and_remove(client):
    far = [1.70, 42.54]  # east of Encamp, far from the demo chest pain centers
    r = client.post(
        "/whatif", json={"type": "chest_pain_center", "minutes": 10, "add": [{"lon": far[0], "lat": far[1]}]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"] == "andorra"
    assert body["after"]["overall"]["road_share"] > body["before"]["overall"]["road_share"]
    assert body["delta"]["road_share"] == pytest.approx(
        body["after"]["overall"]["road_share"] - body["before"]["overall"]["road_share"], abs=1e-5
    )
    r = client.post(
        "/whatif",
        json={"type": "chest_pain_center", "minutes": 10, "region": "andorra", "remove": ["demo-chest_pain_center-1"]},
    )
    assert r.status_code == 200
    assert r.json()["delta"]["road_share"] < 0
    # nothing was saved
    assert len(client.get("/layers/chest_pain_center", params={"region": "andorra"}).json()["features"]) == 3


@pytest.mark.parametrize(
    "body,status,field",
    [
        ({"type": "chest_pain_center", "minutes": 10, "add": [{"lon": 1.60, "lat": 42.45}]}, 422, "add"),
        ({"type": "chest_pain_center", "minutes": 10, "add": [{"lon": 999, "lat": 42.45}]}, 422, "add.0.lon"),
        ({"type": "chest_pain_center", "minutes": "soon", "region": "andorra"}, 422, "minutes"),
        ({"type": "chest_pain_center", "minutes": 10, "region": "andorra", "remove": ["ghost"]}, 422, "remove"),
        ({"type": "chest_pain_center", "minutes": 10, "region": "atlantis"}, 404, "region"),
        ({"type": "ufo", "minutes": 10, "region": "andorra"}, 422, "type"),
        ({"type": "chest_pain_center", "minutes": 10, "add": [{"lon": 1.0, "lat": 42.5}]}, 404, "add"),
        ({"type": "chest_pain_center", "minutes": 10, "level": "gold", "region": "andorra"}, 422, "level"),
    ],
)
def test_whatif_bad_input(client, body, status, field):
    r = client.post("/whatif", json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field


@pytest.fixture
def fake_gcj(monkeypatch):
    """Demo regions lie outside China, where GCJ-02 is the identity; fake a visible shift."""
    from geoservice.sources import coords

    dx, dy = 0.001, 0.002
    monkeypatch.setattr(coords, "wgs84_to_gcj02", lambda lon, lat: (lon + dx, lat + dy))
    monkeypatch.setattr(coords, "gcj02_to_wgs84", lambda lon, lat: (lon - dx, lat - dy))
    return dx, dy


def _first_xy(c):
    while isinstance(c[0], list):
        c = c[0]
    return c


def test_gcj02_shift_applies_to_every_output(client, fake_gcj):
    dx, dy = fake_gcj
    w = client.get("/layers/aed").json()["features"]
    g = client.get("/layers/aed", params={"crs": "gcj02"}).json()
    assert g["crs_name"] == "gcj02"
    assert len(w) == len(g["features"]) >= 5  # Monaco's five real AEDs at least
    for a, b in zip(w, g["features"], strict=True):
        assert b["geometry"]["coordinates"][0] == pytest.approx(a["geometry"]["coordinates"][0] + dx)
        assert b["geometry"]["coordinates"][1] == pytest.approx(a["geometry"]["coordinates"][1] + dy)
        assert b["properties"]["lat"] == pytest.approx(a["properties"]["lat"] + dy)

    q = {"lon": 7.42, "lat": 43.735, "type": "aed"}
    nw = client.get("/nearest", params=q).json()
    # the same place given in GCJ-02 gives the same answer, with GCJ-02 coordinates
    ng = client.get("/nearest", params={**q, "lon": 7.42 + dx, "lat": 43.735 + dy, "crs": "gcj02"}).json()
    rw, rg = nw["results"][0], ng["results"][0]
    assert rg["facility"]["id"] == rw["facility"]["id"] and rg["time_s"] == rw["time_s"]
    assert len(rw["route"]["coordinates"]) == len(rg["route"]["coordinates"]) >= 2
    for p, s in zip(rw["route"]["coordinates"], rg["route"]["coordinates"], strict=True):
        assert s == pytest.approx([p[0] + dx, p[1] + dy])
    assert ng["origin"]["snapped"] == pytest.approx([nw["origin"]["snapped"][0] + dx, nw["origin"]["snapped"][1] + dy])

    iw = client.get("/isochrones", params={"lon": 7.42, "lat": 43.735, "minutes": "5", "profile": "walk"}).json()
    ig = client.get(
        "/isochrones", params={"lon": 7.42 + dx, "lat": 43.735 + dy, "minutes": "5", "profile": "walk", "crs": "gcj02"}
    ).json()
    pw, pg = (
        _first_xy(iw["features"][0]["geometry"]["coordinates"]),
        _first_xy(ig["features"][0]["geometry"]["coordinates"]),
    )
    assert pg == pytest.approx([pw[0] + dx, pw[1] + dy])

    bw = client.get("/regions/monaco/basemap").json()["features"][0]["geometry"]["coordinates"]
    bg = client.get("/regions/monaco/basemap", params={"crs": "gcj02"}).json()["features"][0]["geometry"]["coordinates"]
    assert bg[0] == pytest.approx([bw[0][0] + dx, bw[0][1] + dy])


def test_shift_geometry_real_gcj02_in_china():
    from geoservice.service.output_crs import shift_geometry
    from geoservice.sources.coords import wgs84_to_gcj02

    wuhan = [114.3055, 30.5928]
    line = {"type": "LineString", "coordinates": [wuhan, [114.31, 30.60]]}
    out = shift_geometry(line, "gcj02")
    x, y = wgs84_to_gcj02(*wuhan)
    assert out["coordinates"][0] == pytest.approx([float(x), float(y)], abs=1e-7)
    # the GCJ-02 offset in Wuhan is hundreds of metres
    dx_m = (out["coordinates"][0][0] - wuhan[0]) * 111320 * math.cos(math.radians(30.6))
    dy_m = (out["coordinates"][0][1] - wuhan[1]) * 110540
    assert 100 < math.hypot(dx_m, dy_m) < 1000
    assert shift_geometry(line, "wgs84") is line


def test_nav_links_use_app_coordinate_systems():
    from geoservice.service.output_crs import nav_links
    from geoservice.sources.coords import wgs84_to_bd09, wgs84_to_gcj02

    lon, lat = 114.3055, 30.5928
    links = nav_links(lon, lat, "武汉亚洲心脏病医院", "drive")
    gx, gy = (float(v) for v in wgs84_to_gcj02(lon, lat))
    bx, by = (float(v) for v in wgs84_to_bd09(lon, lat))
    assert f"dlat={gy:.6f}&dlon={gx:.6f}" in links["amap"] and "t=0" in links["amap"]
    assert f"latlng:{by:.6f},{bx:.6f}" in links["baidu"] and "mode=driving" in links["baidu"]
    assert links["geo"].startswith(f"geo:{lat:.6f},{lon:.6f}")
    assert f"to={gx:.6f},{gy:.6f}" in links["amap_web"]
