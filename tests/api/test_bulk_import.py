"""POST /facilities/import: many facilities into one region in one transaction, validated like file
rows (rows counted from 1), checked against the roads for a likely wrong coordinate system, all or
nothing with ``strict`` (the default), good rows only without it. Over SQLite and PostgreSQL (the
``state`` fixture) for the demo regions; a small Shanghai/Huangpu bundle for the system check."""

from __future__ import annotations

import numpy as np
import pytest

MONACO = (7.42, 43.735)
URL = "/facilities/import"


def _aed(i: int, **extra):
    # AEDs around the query point, on the Monaco walk network
    return {"type": "aed", "name": f"Import AED {i}", "lon": 7.4201 + i * 1e-4, "lat": 43.7349, **extra}


def _count(client, region="monaco"):
    return client.get("/facilities", params={"region": region}).json()["count"]


def _audit_count(client, editor):
    return client.get("/audit", headers=editor, params={"limit": 1000}).json()["count"]


def test_good_batch_is_written_in_one_go_and_seen_by_nearest(client, editor):
    n = _count(client)
    rows = [_aed(1, id="imp-1"), _aed(2, id="imp-2", opening_hours="24/7"), _aed(3)]  # the third: id generated
    r = client.post(URL, json={"crs": "wgs84", "facilities": rows}, headers=editor)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["region"] == "monaco" and body["written"] == 3 and body["strict"] is True
    assert body["ids"][:2] == ["imp-1", "imp-2"] and body["ids"][2].startswith("aed-")
    assert body["rejected"] == [] and body["warnings"] == [] and body["crs_check"] is None  # outside China
    assert body["audit"]["last"] - body["audit"]["first"] == 2
    # every endpoint sees them at once
    assert _count(client) == n + 3
    near = client.get("/nearest", params={"lon": MONACO[0], "lat": MONACO[1], "type": "aed", "k": 3})
    assert near.status_code == 200
    assert near.json()["results"][0]["facility"]["id"] in body["ids"]
    got = client.get("/facilities/imp-2")
    assert got.status_code == 200 and got.json()["opening_hours"] == "24/7"
    assert got.json()["source"] == "api:test-editor"
    # one audit row each, all creates by this key
    entries = client.get("/audit", headers=editor, params={"region": "monaco"}).json()["entries"]
    mine = [e for e in entries if e["facility_id"] in body["ids"]]
    assert len(mine) == 3 and {e["action"] for e in mine} == {"create"}
    assert {e["id"] for e in mine} == set(range(body["audit"]["first"], body["audit"]["last"] + 1))


def test_region_named_and_every_point_must_lie_in_it(client, editor):
    andorra_point = {"type": "aed", "name": "Far away", "lon": 1.5212, "lat": 42.5069}
    n = _count(client)
    r = client.post(URL, json={"region": "monaco", "facilities": [_aed(1), andorra_point]}, headers=editor)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "facilities[2].lon,lat" and "outside region 'monaco'" in r.json()["detail"]
    assert _count(client) == n
    # the region of the first point when none is named: Andorra here, so the Monaco point is out
    r = client.post(URL, json={"facilities": [andorra_point, _aed(1)]}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "facilities[2].lon,lat"
    assert "outside region 'andorra'" in r.json()["detail"]
    r = client.post(URL, json={"region": "atlantis", "facilities": [_aed(1)]}, headers=editor)
    assert r.status_code == 404 and r.json()["field"] == "region"


def test_one_bad_row_rejects_the_batch_when_strict_and_is_left_out_otherwise(client, editor):
    n, audits = _count(client), _audit_count(client, editor)
    rows = [_aed(1, id="ok-1"), _aed(2, id="bad-2", opening_hours="whenever"), _aed(3, id="ok-3")]
    r = client.post(URL, json={"facilities": rows}, headers=editor)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["field"] == "facilities[2].opening_hours"
    assert err["detail"].startswith("facilities[2].opening_hours: ") and "(row 2)" in err["detail"]
    assert err["detail"].endswith("1 bad row of 3, nothing written")
    assert [e["field"] for e in err["errors"]] == ["facilities[2].opening_hours"]
    assert _count(client) == n and _audit_count(client, editor) == audits  # nothing written, nothing audited

    r = client.post(URL, json={"strict": False, "facilities": rows}, headers=editor)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["written"] == 2 and body["ids"] == ["ok-1", "ok-3"] and body["strict"] is False
    (rej,) = body["rejected"]
    assert rej["row"] == 2 and rej["id"] == "bad-2" and [e["field"] for e in rej["errors"]] == ["opening_hours"]
    assert _count(client) == n + 2
    assert client.get("/facilities/bad-2").status_code == 404


def test_request_limits_are_row_errors_too(client, editor):
    """A facility breaking the request limits (unknown type, too long a name, a per-row crs) is a
    bad row, named and counted from 1 like the others, not a rejected request."""
    rows = [
        _aed(1, id="fine-1"),
        {"type": "spaceport", "name": "X", "lon": 7.42, "lat": 43.735},
        _aed(3, name="N" * 201),
        _aed(4, crs="gcj02"),
        "not an object",
    ]
    r = client.post(URL, json={"facilities": rows}, headers=editor)
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == [
        "facilities[2].type",
        "facilities[3].name",
        "facilities[4].crs",
        "facilities[5].row",
    ]
    assert "give crs once for the whole batch" in r.json()["errors"][2]["message"]
    r = client.post(URL, json={"strict": False, "facilities": rows}, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["ids"] == ["fine-1"] and [x["row"] for x in r.json()["rejected"]] == [2, 3, 4, 5]


def test_zero_zero_rows(client, editor):
    n = _count(client)
    zero = {"type": "aed", "name": "Exported without a position", "lon": 0, "lat": 0}
    r = client.post(URL, json={"facilities": [_aed(1), zero, _aed(3)]}, headers=editor)
    assert r.status_code == 422
    assert r.json()["field"] == "facilities[2].lon" and "(0, 0) is not a real location" in r.json()["detail"]
    assert _count(client) == n
    # first row at (0, 0): the region comes from the first good point
    r = client.post(URL, json={"strict": False, "facilities": [zero, _aed(2), zero]}, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["region"] == "monaco" and r.json()["written"] == 1
    assert [x["row"] for x in r.json()["rejected"]] == [1, 3]
    # nothing good at all: refused even without strict
    r = client.post(URL, json={"strict": False, "facilities": [zero]}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "facilities[1].lon"
    assert _count(client) == n + 1


def test_duplicate_ids(client, editor):
    existing = client.get("/facilities", params={"region": "monaco"}).json()["facilities"][0]["id"]
    n = _count(client)
    # an id already in the region: 409 naming the row, nothing written
    r = client.post(URL, json={"facilities": [_aed(1, id="new-1"), _aed(2, id=existing)]}, headers=editor)
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "facilities[2].id" and "already exists" in r.json()["detail"]
    assert _count(client) == n and client.get("/facilities/new-1").status_code == 404
    # the same id twice in the batch: a row error naming the first
    r = client.post(URL, json={"facilities": [_aed(1, id="twice"), _aed(2, id="twice")]}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "facilities[2].id"
    assert "duplicate id 'twice' (first at row 1)" in r.json()["detail"]
    # without strict both are left out and the rest is written
    rows = [_aed(1, id="new-1"), _aed(2, id=existing), _aed(3, id="new-1")]
    r = client.post(URL, json={"strict": False, "facilities": rows}, headers=editor)
    assert r.status_code == 201 and r.json()["ids"] == ["new-1"]
    assert [(x["row"], x["errors"][0]["field"]) for x in r.json()["rejected"]] == [(2, "id"), (3, "id")]
    # importing the same batch again: every id exists now
    r = client.post(URL, json={"facilities": [_aed(1, id="new-1")]}, headers=editor)
    assert r.status_code == 409 and r.json()["field"] == "facilities[1].id"
    assert _count(client) == n + 1


def test_too_many_or_no_rows_is_422(client, editor):
    n = _count(client)
    rows = [{"type": "aed", "name": "A", "lon": 7.42, "lat": 43.735}] * 5001
    r = client.post(URL, json={"facilities": rows}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "facilities" and "5000" in r.json()["detail"]
    r = client.post(URL, json={"facilities": []}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "facilities"
    assert _count(client) == n


def test_needs_an_editor_key(client, keys):
    n = _count(client)
    body = {"facilities": [_aed(1)]}
    r = client.post(URL, json=body, headers={"X-API-Key": keys["viewer"]})
    assert r.status_code == 403 and r.json()["field"] == "X-API-Key"
    assert client.post(URL, json=body).status_code == 401
    assert _count(client) == n


def test_documented_in_openapi(client):
    op = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert {"201", "401", "403", "404", "409", "413", "415", "422", "429"} <= set(op["responses"])


# --------------------------------------------------------------------------- the coordinate system


@pytest.fixture(scope="module")
def huangpu(real_data, tmp_path_factory):
    """A Chinese region (Shanghai/Huangpu roads, no facility file) and 10 real road points."""
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import load_region

    out = build_region(real_data / "osm" / "shanghai-huangpu.osm", tmp_path_factory.mktemp("hp") / "hp", quiet=True)
    net = load_region(out).networks["drive"]
    idx = np.linspace(0, net.n_nodes - 1, 10).astype(int)  # nodes are in Z-order: spread over the district
    return out, net.node_lon[idx].copy(), net.node_lat[idx].copy()


@pytest.fixture
def hp_client(huangpu, tmp_path):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    registry = Registry(tmp_path / "registry.sqlite")
    svc = GeoService([huangpu[0]], registry=registry)
    _, token = registry.create_key("hp-editor", "editor")
    with TestClient(create_app(svc)) as c:
        yield c, {"X-API-Key": token}, svc.pick(None).name
    svc.close()


def _hospitals(lon, lat):
    return [
        {"id": f"h{i}", "type": "hospital", "name": f"Hospital {i}", "lon": float(x), "lat": float(y)}
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]


def test_gcj02_declared_wgs84_is_refused_naming_gcj02(hp_client, huangpu):
    from geoservice.sources.coords import wgs84_to_gcj02

    client, editor, region = hp_client
    _, lon, lat = huangpu
    n = _count(client, region)
    rows = _hospitals(*wgs84_to_gcj02(lon, lat))  # AMap numbers, declared WGS-84

    r = client.post(URL, json={"crs": "wgs84", "facilities": rows}, headers=editor)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["field"] == "crs" and err["detail"].startswith("crs: declared wgs84: median ")
    assert "probably GCJ-02" in err["detail"] and '"crs": "gcj02"' in err["detail"]
    assert "nothing written" in err["detail"]
    assert _count(client, region) == n

    # without strict: written as declared, with the warning and the figures
    r = client.post(URL, json={"crs": "wgs84", "strict": False, "facilities": rows}, headers=editor)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["region"] == region and body["written"] == 10
    (warning,) = body["warnings"]
    assert warning.startswith("declared wgs84: median ") and "read as gcj02: " in warning and "GCJ-02" in warning
    check = body["crs_check"]
    assert check["likely"] == "gcj02" and check["points_checked"] == 10
    assert check["median_m"]["gcj02"] < 1.0 and check["median_m"]["wgs84"] >= 30.0


def test_gcj02_declared_as_such_lands_on_the_roads(hp_client, huangpu):
    from geoservice.sources.coords import wgs84_to_gcj02

    client, editor, region = hp_client
    _, lon, lat = huangpu
    r = client.post(URL, json={"crs": "gcj02", "facilities": _hospitals(*wgs84_to_gcj02(lon, lat))}, headers=editor)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["warnings"] == [] and body["crs_check"]["likely"] is None and body["written"] == 10
    got = client.get("/facilities/h3").json()
    assert got["lon"] == pytest.approx(lon[3], abs=1e-6) and got["lat"] == pytest.approx(lat[3], abs=1e-6)
    # the road points as WGS-84: no warning either
    rows = [dict(h, id=f"w{i}") for i, h in enumerate(_hospitals(lon, lat))]
    r = client.post(URL, json={"facilities": rows}, headers=editor)
    assert r.status_code == 201 and r.json()["warnings"] == []
