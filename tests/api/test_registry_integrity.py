"""Registry integrity: versions and If-Match, coherent processes, append-only hash-chained audit,
owner-only file, key expiry / rotation / names; on SQLite and PostgreSQL + PostGIS alike (see
conftest), with the PostGIS storage checked on its own."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest
from fastapi.testclient import TestClient

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.registry.store import Registry, open_registry

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
    assert bad.status_code == 412 and bad.json()["field"] == "If-Match"  # RFC 9110: matches nothing
    ok = client.delete("/facilities/etag-aed", headers={**editor, "If-Match": '"2"'})
    assert ok.status_code == 200 and client.get("/facilities/etag-aed").status_code == 404


def test_two_processes_agree_after_concurrent_edits_to_two_regions(andorra, monaco, open_reg):
    """Two services on one registry (as uvicorn workers or a CLI beside the server): after
    concurrent edits to both regions, every read from either one reflects all of them."""
    a = GeoService([andorra, monaco], registry=open_reg())
    b = GeoService([andorra, monaco], registry=open_reg())
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


def _raw(target: str):
    """A plain connection to the registry's database, behind the registry's back."""
    if target.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(target, autocommit=True), psycopg.errors.RaiseException, " ON audit"
    return sqlite3.connect(target, isolation_level=None), sqlite3.DatabaseError, ""


def test_audit_is_append_only_and_hash_chained(client, editor, state, registry_target, capsys):
    for i in range(3):
        assert client.post("/facilities", json={**AED, "id": f"chain-{i}"}, headers=editor).status_code == 201
    assert state.registry.verify_audit().ok and state.registry.verify_audit().rows == 3
    db = registry_target
    raw, refused, on_table = _raw(db)
    with pytest.raises(refused, match="append-only"):
        raw.execute("UPDATE audit SET actor='mallory' WHERE id=2")
    with pytest.raises(refused, match="append-only"):
        raw.execute("DELETE FROM audit WHERE id=2")
    if on_table:  # PostgreSQL: TRUNCATE is refused too
        with pytest.raises(refused, match="append-only"):
            raw.execute("TRUNCATE audit")
    assert main(["audit", "verify", "--db", db]) == 0
    assert "3 rows, hash chain intact" in capsys.readouterr().err
    # someone with the database drops the trigger and rewrites history: the chain finds it
    raw.execute(f"DROP TRIGGER audit_no_update{on_table}")
    raw.execute("UPDATE audit SET actor='mallory' WHERE id=2")
    raw.close()
    check = state.registry.verify_audit()
    assert not check.ok and check.first_bad_id == 2 and "changed" in (check.reason or "")
    assert main(["audit", "verify", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken at row 2" in err


def test_registry_file_is_owner_only(tmp_path):
    reg = Registry(tmp_path / "r.sqlite")
    reg.close()
    assert stat.S_IMODE((tmp_path / "r.sqlite").stat().st_mode) == 0o600


def test_keys_expire_rotate_and_have_valid_names(open_reg):
    reg = open_reg()
    key, token = reg.create_key("hospital-a", "editor", expires_days=30)
    assert key.expires_at and reg.check_key(token) is not None
    with reg.db.write() as q:
        q.run("UPDATE api_keys SET expires_at='2000-01-01T00:00:00Z' WHERE name='hospital-a'")
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
    with pytest.raises(Exception) as ei:
        reg.create_key("hospital-a", "viewer")
    assert getattr(ei.value, "field", None) == "name" and "already exists" in str(ei.value)
    with pytest.raises(Exception) as ei:
        reg.rotate_key("nobody")
    assert getattr(ei.value, "field", None) == "name"


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


@pytest.mark.parametrize("registry_target", ["postgresql"], indirect=True)
def test_postgis_point_and_indexes(client, editor, registry_target):
    """On PostgreSQL each facility's point is also a PostGIS geometry (generated from the record,
    so it follows every edit) with a GiST index; records are jsonb."""
    import psycopg

    assert client.post("/facilities", json=AED, headers=editor).status_code == 201
    with psycopg.connect(registry_target, autocommit=True) as conn:
        row = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM facilities WHERE id='etag-aed'"
        ).fetchone()
        assert row == (pytest.approx(AED["lon"]), pytest.approx(AED["lat"]), 4326)
        near = conn.execute(
            "SELECT id FROM facilities WHERE region='monaco' "
            "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(7.4236, 43.7386), 4326) LIMIT 1"
        ).fetchone()
        assert near == ("etag-aed",)
        indexes = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='facilities'"))
        assert "USING gist (geom)" in indexes["facilities_geom"]
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'facilities'"
            )
        )
        assert types["record"] == "jsonb"
    assert client.put("/facilities/etag-aed", json={**AED, "lon": 7.4240}, headers=editor).status_code == 200
    with psycopg.connect(registry_target, autocommit=True) as conn:
        x = conn.execute("SELECT ST_X(geom) FROM facilities WHERE id='etag-aed'").fetchone()
        assert x == (pytest.approx(7.4240),)


def test_database_url_setting_selects_postgresql(andorra, monaco, pg_url, monkeypatch, capsys):
    """GEOSERVICE_DATABASE_URL picks the PostgreSQL registry for the service and the CLI; a
    read-only open does not create one."""
    from geoservice.service.settings import Settings, get_settings

    assert open_registry(pg_url, create=False) is None  # empty schema: nothing is created
    svc = GeoService.open(settings=Settings.of(database_url=pg_url, regions=[andorra.path, monaco.path]))
    try:
        assert svc.registry is not None and svc.registry.path is None
        assert svc.registry.env() == {"GEOSERVICE_DATABASE_URL": pg_url}
        svc.entry("monaco")  # seeds the region
        assert svc.registry.is_seeded("monaco")
    finally:
        svc.close()
    monkeypatch.setenv("GEOSERVICE_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    try:
        assert main(["apikey", "create", "--name", "ops", "--role", "admin", "--region", str(monaco.path)]) == 0
        out = capsys.readouterr()
        assert out.out.startswith("gsk_") and "postgresql://" in out.err
        reg = open_registry(pg_url, create=False)
        assert reg is not None and [k.name for k in reg.list_keys()] == ["ops"]
        reg.close()
    finally:
        get_settings.cache_clear()
