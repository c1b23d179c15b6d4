"""Registry integrity: versions and If-Match, coherent processes, append-only hash-chained audit,
owner-only file, key expiry / rotation / names."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest
from fastapi.testclient import TestClient

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.registry import Registry

AED = {"id": "etag-aed", "type": "aed", "name": "Station AED", "lon": 7.4236, "lat": 43.7386, "source": "test"}


def test_etag_and_if_match(client, editor):
    r = client.post("/facilities", json=AED, headers=editor)
    assert r.status_code == 201 and r.headers["ETag"] == '"1"' and r.json()["version"] == 1
    assert client.get("/facilities/etag-aed").headers["ETag"] == '"1"'
    r = client.put("/facilities/etag-aed", json={**AED, "name": "Renamed"}, headers={**editor, "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    # a stale version changes nothing
    stale = client.put("/facilities/etag-aed", json={**AED, "name": "Lost"}, headers={**editor, "If-Match": '"1"'})
    assert (
        stale.status_code == 412
        and stale.json()["field"] == "If-Match"
        and "version 2, not 1" in stale.json()["detail"]
    )
    assert client.get("/facilities/etag-aed").json()["name"] == "Renamed"
    gone = client.delete("/facilities/etag-aed", headers={**editor, "If-Match": 'W/"1"'})
    assert gone.status_code == 412 and client.get("/facilities/etag-aed").status_code == 200
    bad = client.delete("/facilities/etag-aed", headers={**editor, "If-Match": "yesterday"})
    assert bad.status_code == 422 and bad.json()["field"] == "If-Match"
    ok = client.delete("/facilities/etag-aed", headers={**editor, "If-Match": '"2"'})
    assert ok.status_code == 200 and client.get("/facilities/etag-aed").status_code == 404


def test_two_processes_agree_after_concurrent_edits_to_two_regions(andorra, monaco, tmp_path):
    """Two services on one registry file (as uvicorn workers or a CLI beside the server): after
    concurrent edits to both regions, every read from either one reflects all of them."""
    db = tmp_path / "shared.sqlite"
    a = GeoService([andorra, monaco], registry=Registry(db))
    b = GeoService([andorra, monaco], registry=Registry(db))
    ka = a.registry.create_key("worker-a", "editor")[1]
    with TestClient(create_app(a)) as ca, TestClient(create_app(b)) as cb:
        for c in (ca, cb):  # both have loaded both regions before the edits
            assert c.get("/nearest", params={"lon": 7.4236, "lat": 43.7384, "type": "aed"}).status_code == 200
            assert (
                c.get("/nearest", params={"lon": 1.5836, "lat": 42.5359, "type": "chest_pain_center"}).status_code
                == 200
            )
        edits = [("monaco", {**AED, "id": f"m-{i}", "lon": 7.4236 + 0.0001 * i}) for i in range(4)] + [
            (
                "andorra",
                {
                    "id": f"a-{i}",
                    "type": "chest_pain_center",
                    "level": "basic",
                    "name": f"CPC {i}",
                    "lon": 1.5836 + 0.0001 * i,
                    "lat": 42.5359,
                    "source": "test",
                    "demo": True,
                },
            )
            for i in range(4)
        ]
        errors: list[str] = []

        def post(client, body):
            r = client.post("/facilities", json=body, headers={"X-API-Key": ka})
            if r.status_code != 201:
                errors.append(r.text)

        threads = [threading.Thread(target=post, args=(ca if i % 2 else cb, body)) for i, (_, body) in enumerate(edits)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        answers = set()
        for i in range(50):
            c = (ca, cb)[i % 2]
            m = c.get("/nearest", params={"lon": 7.4236, "lat": 43.7384, "type": "aed", "k": 20}).json()
            an = c.get("/layers/chest_pain_center", params={"region": "andorra"}).json()
            ids = frozenset(r["facility"]["id"] for r in m["results"]) | frozenset(
                f["properties"]["id"] for f in an["features"]
            )
            answers.add(ids)
        assert len(answers) == 1
        ids = next(iter(answers))
        assert {f"m-{i}" for i in range(4)} | {f"a-{i}" for i in range(4)} <= ids


def test_audit_is_append_only_and_hash_chained(client, editor, state, capsys):
    for i in range(3):
        assert client.post("/facilities", json={**AED, "id": f"chain-{i}"}, headers=editor).status_code == 201
    assert state.registry.verify_audit().ok and state.registry.verify_audit().rows == 3
    db = state.registry.path
    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE audit SET actor='mallory' WHERE id=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM audit WHERE id=2")
    assert main(["audit", "verify", "--db", str(db)]) == 0
    assert "3 rows, hash chain intact" in capsys.readouterr().err
    # someone with the file drops the trigger and rewrites history: the chain finds it
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET actor='mallory' WHERE id=2")
    raw.commit()
    raw.close()
    check = state.registry.verify_audit()
    assert not check.ok and check.first_bad_id == 2 and "changed" in (check.reason or "")
    assert main(["audit", "verify", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken at row 2" in err


def test_registry_file_is_owner_only(tmp_path):
    reg = Registry(tmp_path / "r.sqlite")
    reg.close()
    assert stat.S_IMODE((tmp_path / "r.sqlite").stat().st_mode) == 0o600


def test_keys_expire_rotate_and_have_valid_names(tmp_path):
    reg = Registry(tmp_path / "k.sqlite")
    key, token = reg.create_key("hospital-a", "editor", expires_days=30)
    assert key.expires_at and reg.check_key(token) is not None
    reg._db.execute("UPDATE api_keys SET expires_at='2000-01-01T00:00:00Z' WHERE name='hospital-a'")
    assert reg.check_key(token) is None  # expired
    key2, token2 = reg.rotate_key("hospital-a")
    assert key2.role == "editor" and reg.check_key(token2) is not None and reg.check_key(token) is None
    for bad in ("", "has space", "x" * 65, "semi;colon", "new\nline"):
        with pytest.raises(Exception) as ei:
            reg.create_key(bad, "editor")
        assert getattr(ei.value, "field", None) == "name"
    with pytest.raises(Exception) as ei:
        reg.create_key("ok-name", "editor", expires_days=-1)
    assert getattr(ei.value, "field", None) == "expires_days"
    reg.close()


def test_patch_changes_only_the_fields_sent_and_concurrent_patches_both_land(client, editor):
    assert client.post("/facilities", json=AED, headers=editor).status_code == 201
    r = client.patch("/facilities/etag-aed", json={"opening_hours": "Mo-Fr 08:00-18:00"}, headers=editor)
    assert r.status_code == 200, r.text
    got = client.get("/facilities/etag-aed").json()
    assert got["opening_hours"] == "Mo-Fr 08:00-18:00" and got["name"] == "Station AED" and got["lon"] == AED["lon"]
    assert r.json()["version"] == 2 and r.json()["action"] == "patch"
    bad = client.patch("/facilities/etag-aed", json={"opening_hours": "whenever"}, headers=editor)
    assert bad.status_code == 422 and bad.json()["field"] == "opening_hours"
    assert client.get("/facilities/etag-aed").json()["opening_hours"] == "Mo-Fr 08:00-18:00"
    stale = client.patch("/facilities/etag-aed", json={"name": "x"}, headers={**editor, "If-Match": '"1"'})
    assert stale.status_code == 412
    # two editors, different fields, at the same time, 20 rounds: no change is lost
    for i in range(20):
        errors: list[str] = []

        def send(body, errors=errors):
            resp = client.patch("/facilities/etag-aed", json=body, headers=editor)
            if resp.status_code != 200:
                errors.append(resp.text)

        threads = [
            threading.Thread(target=send, args=({"name": f"Name {i}"},)),
            threading.Thread(target=send, args=({"address": f"Street {i}"},)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        rec = client.get("/facilities/etag-aed").json()
        assert rec["name"] == f"Name {i}" and rec["address"] == f"Street {i}"
    audit = client.get("/audit", params={"facility_id": "etag-aed", "limit": 100}, headers=editor).json()
    assert sum(e["action"] == "patch" for e in audit["entries"]) == 1 + 40
