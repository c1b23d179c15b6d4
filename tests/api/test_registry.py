"""Facility edits: auth, validation, persistence, audit, and answers that reflect edits at once."""

from __future__ import annotations

import pytest

MONACO = (7.42, 43.735)
# a new AED right beside the query point
NEW_AED = {"type": "aed", "name": "Test lobby AED", "lon": 7.4201, "lat": 43.7349, "access": "yes"}


def _nearest_aed(client, **extra):
    r = client.get("/nearest", params={"lon": MONACO[0], "lat": MONACO[1], "type": "aed", **extra})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _count(client):
    return client.get("/facilities").json()["count"]


@pytest.mark.parametrize(
    "headers,status",
    [
        ({}, 401),
        ({"X-API-Key": "gsk_not-a-key"}, 401),
        ({"Authorization": "Bearer gsk_not-a-key"}, 401),
    ],
)
def test_edit_without_valid_key_is_401_and_changes_nothing(client, headers, status):
    n = _count(client)
    r = client.post("/facilities", json=NEW_AED, headers=headers)
    assert r.status_code == status and r.json()["field"] == "X-API-Key"
    assert client.put("/facilities/osm-node-2475270782", json=NEW_AED, headers=headers).status_code == 401
    assert client.delete("/facilities/osm-node-2475270782", headers=headers).status_code == 401
    assert _count(client) == n


def test_viewer_key_is_403(client, keys):
    n = _count(client)
    h = {"X-API-Key": keys["viewer"]}
    r = client.post("/facilities", json=NEW_AED, headers=h)
    assert r.status_code == 403 and "editor" in r.json()["detail"]
    assert client.delete("/facilities/osm-node-2475270782", headers=h).status_code == 403
    assert _count(client) == n
    assert client.get("/audit", headers=h).json()["count"] == 0


def test_revoked_key_is_401(client, state, keys):
    state.registry.revoke_key("test-editor")
    assert client.post("/facilities", json=NEW_AED, headers={"X-API-Key": keys["editor"]}).status_code == 401


def test_keys_are_stored_hashed(state, keys):
    with state.registry.db.read() as q:
        stored = {r["key_hash"] for r in q.all("SELECT key_hash FROM api_keys")}
    assert keys["editor"] not in stored and len(stored) == 3
    assert all(len(h) == 64 for h in stored)


def test_create_update_delete_reflected_at_once_and_audited(client, state, keys, editor):
    before = _nearest_aed(client)[0]
    assert before["facility"]["id"] != "test-aed-1"

    r = client.post("/facilities", json={**NEW_AED, "id": "test-aed-1"}, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["region"] == "monaco" and r.json()["facility"]["source"] == "api:test-editor"
    now = _nearest_aed(client)[0]
    assert now["facility"]["id"] == "test-aed-1" and now["time_s"] < before["time_s"]
    layer_ids = [f["properties"]["id"] for f in client.get("/layers/aed").json()["features"]]
    assert "test-aed-1" in layer_ids

    # bearer token works the same; admin may edit
    r = client.put(
        "/facilities/test-aed-1",
        json={**NEW_AED, "name": "Renamed AED"},
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["before"]["name"] == "Test lobby AED"
    assert _nearest_aed(client)[0]["facility"]["name"] == "Renamed AED"
    assert client.get("/facilities/test-aed-1").json()["name"] == "Renamed AED"

    r = client.delete("/facilities/test-aed-1", headers=editor)
    assert r.status_code == 200 and r.json()["facility"] is None
    assert _nearest_aed(client)[0]["facility"]["id"] == before["facility"]["id"]
    assert client.get("/facilities/test-aed-1").status_code == 404

    audit = client.get("/audit", headers=editor).json()
    assert audit["count"] == 3
    delete, update, create = audit["entries"]
    assert (create["action"], create["actor"], create["before"]) == ("create", "test-editor", None)
    assert create["after"]["name"] == "Test lobby AED"
    assert (update["actor"], update["role"]) == ("test-admin", "admin")
    assert update["before"]["name"] == "Test lobby AED" and update["after"]["name"] == "Renamed AED"
    assert delete["before"]["name"] == "Renamed AED" and delete["after"] is None
    assert all(e["at"].endswith("Z") for e in audit["entries"])
    only = client.get("/audit", params={"facility_id": "test-aed-1", "limit": 1}, headers=editor).json()
    assert only["count"] == 1 and only["entries"][0]["action"] == "delete"
    assert client.get("/audit").status_code == 401


def test_edits_persist_across_restart(client, state, editor, andorra, monaco, open_reg):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    assert client.post("/facilities", json={**NEW_AED, "id": "persisted-aed"}, headers=editor).status_code == 201
    assert client.delete("/facilities/osm-node-2475270782", headers=editor).status_code == 200
    again = GeoService([andorra, monaco], registry=open_reg())
    with TestClient(create_app(again)) as c2:
        ids = {f["properties"]["id"] for f in c2.get("/layers/aed").json()["features"]}
        assert "persisted-aed" in ids and "osm-node-2475270782" not in ids
        assert (
            c2.get("/nearest", params={"lon": 7.42, "lat": 43.735, "type": "aed"}).json()["results"][0]["facility"][
                "id"
            ]
            == "persisted-aed"
        )


def test_opening_hours_filter_with_at(client, editor):
    aed = {**NEW_AED, "id": "office-aed", "opening_hours": "Mo-Fr 08:00-18:00"}
    assert client.post("/facilities", json=aed, headers=editor).status_code == 201
    # Monday 2026-11-23 10:00: open, and it is the nearest
    assert _nearest_aed(client, at="2026-11-23T10:00")[0]["facility"]["id"] == "office-aed"
    # Sunday: closed, another AED is the answer
    assert _nearest_aed(client, at="2026-11-22T10:00")[0]["facility"]["id"] != "office-aed"
    # no time given: all AEDs count
    assert _nearest_aed(client)[0]["facility"]["id"] == "office-aed"


BAD_BODIES = [
    ({**NEW_AED, "type": "spaceport"}, 422, "type"),
    ({**NEW_AED, "name": ""}, 422, "name"),
    ({k: v for k, v in NEW_AED.items() if k != "name"}, 422, "name"),
    ({**NEW_AED, "level": "standard"}, 422, "level"),
    ({**NEW_AED, "type": "chest_pain_center", "level": "gold"}, 422, "level"),
    ({**NEW_AED, "type": "stroke_center", "level": "center", "capabilities": "evt,teleport"}, 422, "capabilities"),
    ({**NEW_AED, "lon": 181}, 422, "lon"),
    ({**NEW_AED, "lat": "north"}, 422, "lat"),
    ({k: v for k, v in NEW_AED.items() if k != "lon"}, 422, "lon"),
    ({**NEW_AED, "status": "dreaming"}, 422, "status"),
    ({**NEW_AED, "door_to_needle_min": -3}, 422, "door_to_needle_min"),
    ({**NEW_AED, "colour": "red"}, 422, "colour"),
    ({**NEW_AED, "crs": "mars"}, 422, "crs"),
    ({**NEW_AED, "lon": 1.0, "lat": 42.5}, 404, "lon,lat"),
    ({**NEW_AED, "region": "atlantis"}, 404, "region"),
    ({**NEW_AED, "id": "osm-node-2475270782"}, 409, "id"),
]


@pytest.mark.parametrize("body,status,field", BAD_BODIES, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_BODIES)])
def test_bad_facility_bodies(client, editor, body, status, field):
    n = _count(client)
    r = client.post("/facilities", json=body, headers=editor)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.json()
    assert field.split(",")[0] in r.json()["detail"]
    assert _count(client) == n
    assert client.get("/audit", headers=editor).json()["count"] == 0


def test_put_checks(client, editor):
    r = client.put("/facilities/nope", json=NEW_AED, headers=editor)
    assert r.status_code == 404 and r.json()["field"] == "id"
    r = client.put("/facilities/osm-node-2475270782", json={**NEW_AED, "id": "other"}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "id"
    r = client.put("/facilities/osm-node-2475270782", json={**NEW_AED, "lon": 1.52, "lat": 42.51}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "lon,lat"
    assert client.delete("/facilities/nope", headers=editor).status_code == 404


def test_gcj02_input_is_converted(client, editor):
    """A record sent in GCJ-02 is stored in WGS-84 (identity outside China, so use the converter)."""
    from geoservice.sources.coords import gcj02_to_wgs84

    r = client.post("/facilities", json={**NEW_AED, "id": "gcj-aed", "crs": "gcj02"}, headers=editor)
    assert r.status_code == 201
    x, y = gcj02_to_wgs84(NEW_AED["lon"], NEW_AED["lat"])
    assert r.json()["facility"]["lon"] == pytest.approx(float(x), abs=1e-7)
    assert r.json()["facility"]["lat"] == pytest.approx(float(y), abs=1e-7)


def test_stroke_center_edit_reflected_in_layers_filter(client, editor):
    body = {
        "type": "stroke_center",
        "name": "New EVT center",
        "level": "advanced",
        "capabilities": ["ivt", "evt"],
        "lon": 1.53,
        "lat": 42.51,
        "status": "planned",
    }
    r = client.post("/facilities", json=body, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["facility"]["capabilities"] == "evt,ivt"
    evt = client.get("/layers/stroke_center", params={"capability": "evt", "region": "andorra"}).json()
    assert "New EVT center" in [f["properties"]["name"] for f in evt["features"]]
    planned = client.get("/layers/stroke_center", params={"status": "planned"}).json()["features"]
    assert [f["properties"]["name"] for f in planned] == ["New EVT center"]


def test_edit_in_one_worker_is_seen_by_another(client, state, editor, andorra, monaco, open_reg):
    """Two server processes (uvicorn workers) share the registry; the version counter syncs them."""
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    other = GeoService([andorra, monaco], registry=open_reg())
    with TestClient(create_app(other)) as c2:
        before = c2.get("/nearest", params={"lon": 7.42, "lat": 43.735, "type": "aed"}).json()["results"][0]
        assert before["facility"]["id"] != "worker-aed"
        assert client.post("/facilities", json={**NEW_AED, "id": "worker-aed"}, headers=editor).status_code == 201
        after = c2.get("/nearest", params={"lon": 7.42, "lat": 43.735, "type": "aed"}).json()["results"][0]
        assert after["facility"]["id"] == "worker-aed"
