"""The registry's schema is versioned and changed only by migrations (issue 18, item 1), and a
transient database error is retried or answered 503, never 500; on SQLite and PostgreSQL + PostGIS
alike (see conftest).

* A new registry is at the current version; opening a current one runs no schema statement, so a
  forked worker (``reopened``) or a read-only command opens it while a live edit holds the
  registry's write lock (the DDL a worker ran at boot deadlocked with such an edit).
* A registry created before versions (no ``schema_version``) is behind: workers, read-only
  commands and ``apikey`` stop with one line naming ``geoservice db migrate``, which adopts it as it
  is (its facilities and edits unchanged, its never-edited facilities seeded into the audit chain).
* A schema newer than the code is refused; concurrent migrations apply each step once.
* Deadlocks (a real server error, SQLSTATE 40P01) and a backend that died are retried; an error
  that persists is a 503 with ``Retry-After`` in the API and exit status 75 in the CLI.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from fastapi.testclient import TestClient

from geoservice.errors import GeoserviceError, UnavailableError
from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.registry.db import RETRIES, TransientError
from geoservice.service.registry.store import Registry, migrate_registry, open_registry, schema_status

AED = {"type": "aed", "name": "Schema test AED", "lon": 7.4236, "lat": 43.7386, "source": "test"}
CURRENT = 2


def _raw(target: str):
    """A plain connection to the registry's database, behind the registry's back."""
    if target.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(target, autocommit=True)
    return sqlite3.connect(target, isolation_level=None)


def _legacy_registry(target: str, monaco) -> None:
    """A registry as the code before versions left it: its tables (migration 1 is exactly what that
    code created), no ``schema_version``, Monaco seeded without a chained seed, and four edits
    chained from the genesis hash: two creates, a patch and the delete of a seeded facility."""
    from geoservice.service.registry.audit_log import GENESIS, AuditEntry, row_hash
    from geoservice.service.registry.schema import MIGRATIONS
    from geoservice.service.registry.store import _BUMP, _UPSERT, _database

    db = _database(target)
    try:
        db.migrate(MIGRATIONS[db.kind][:1])
        seeded = [Registry.record_from_row(r) for _, r in monaco.facilities.iterrows()]
        gone = seeded[0]
        made = [{**AED, "id": f"old-{i}", "name": f"Old AED {i}"} for i in range(2)]
        edits = [(None, made[0]), (None, made[1]), (made[0], {**made[0], "name": "Renamed"}), (gone, None)]
        with db.write() as q:
            q.run("DROP TABLE schema_version")
            now = "2025-01-01T00:00:00Z"
            q.many(_UPSERT, [("monaco", r["id"], r["type"], json.dumps(r), now, 1) for r in seeded])
            q.run("INSERT INTO regions (name, bundle_created, seeded_at) VALUES ('monaco', NULL, ?)", (now,))
            prev = GENESIS
            for before, after in edits:
                fid = (after or before)["id"]
                action = "delete" if after is None else "create" if before is None else "patch"
                if after is None:
                    q.run("DELETE FROM facilities WHERE region='monaco' AND id=?", (fid,))
                else:
                    q.run(_UPSERT, ("monaco", fid, after["type"], json.dumps(after), now, 2 if before else 1))
                b = None if before is None else json.dumps(before, sort_keys=True)
                a = None if after is None else json.dumps(after, sort_keys=True)
                h = row_hash(prev, AuditEntry(now, "old-editor", "editor", action, "monaco", fid, b, a))
                q.insert(
                    "INSERT INTO audit (at, actor, role, action, region, facility_id, before, after, prev_hash, hash) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (now, "old-editor", "editor", action, "monaco", fid, b, a, prev, h),
                )
                q.run(_BUMP, ("monaco",))
                prev = h
    finally:
        db.close()


def test_a_new_registry_is_current(registry_target, capsys):
    assert schema_status(registry_target)[1] is None  # nothing there yet
    reg = open_registry(registry_target)
    assert reg is not None
    reg.close()
    location, version, current, pending = schema_status(registry_target)
    assert version == current == CURRENT and pending == []
    assert main(["db", "status", "--db", registry_target]) == 0
    assert capsys.readouterr().out == f"{CURRENT}\t{CURRENT}\n"
    assert main(["db", "migrate", "--db", registry_target]) == 0
    assert "nothing to migrate" in capsys.readouterr().err


def test_opening_a_current_registry_waits_for_no_live_edit(registry_target):
    """While an edit holds the write lock, a worker's reopen and a read-only open return at once:
    they run no schema statement (before, CREATE INDEX IF NOT EXISTS ... ON audit waited behind the
    edit's lock and then deadlocked with it)."""
    reg = open_registry(registry_target)
    assert reg is not None
    raw = _raw(registry_target)
    opened: list[object] = []

    def open_both() -> None:
        mine = reg.reopened()
        other = open_registry(registry_target, create=False)
        assert other is not None
        opened.extend([mine.region_versions(), other.list_keys()])
        mine.close()
        other.close()

    try:
        if registry_target.startswith("postgresql://"):
            raw.execute("BEGIN")
            raw.execute("LOCK TABLE audit IN EXCLUSIVE MODE")  # what a live edit holds
        else:
            raw.execute("BEGIN IMMEDIATE")
        t = threading.Thread(target=open_both, daemon=True)
        t0 = time.monotonic()
        t.start()
        t.join(timeout=10)
        took = time.monotonic() - t0
        assert not t.is_alive(), "opening the registry waited for the live edit's lock"
        assert opened == [{}, []] and took < 5
    finally:
        raw.execute("ROLLBACK")
        raw.close()
        reg.close()


def test_a_registry_from_before_versions_is_named_then_adopted(andorra, monaco, registry_target, capsys):
    _legacy_registry(registry_target, monaco)
    assert schema_status(registry_target)[1:] == (0, CURRENT, ["1 registry tables" + _pg(registry_target), _SEEDS])

    # a worker, a read-only command, a key command: one line naming the command to run
    with pytest.raises(GeoserviceError, match="is at schema version 0.*geoservice db migrate") as ei:
        open_registry(registry_target, create=False)
    assert ei.value.field == "db"
    with pytest.raises(GeoserviceError, match="geoservice db migrate"):
        Registry(registry_target, schema="check")
    for argv in (["audit", "verify"], ["audit", "head"], ["apikey", "create", "--name", "late"], ["db", "status"]):
        assert main([*argv, "--db", registry_target]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "run 'geoservice db migrate'" in err, (argv, err)

    raw = _raw(registry_target)
    try:
        tables = ("facilities", "audit", "regions", "region_versions")
        before = {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    finally:
        raw.close()
    assert main(["db", "migrate", "--db", registry_target]) == 0
    assert f"schema version 0 -> {CURRENT}" in capsys.readouterr().err
    raw = _raw(registry_target)
    try:  # adopted as it was: nothing rewritten
        assert {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables} == before
    finally:
        raw.close()
    reg = open_registry(registry_target, create=False)
    assert reg is not None
    try:
        check = reg.verify_audit()
        assert check.ok and check.rows == 4 and check.seeds == 1, check  # Monaco's never-edited facilities
        assert check.facilities == len(reg.records("monaco")) == len(monaco.facilities) + 1
        svc = GeoService([andorra, monaco], registry=reg)  # and it is served and edited as any other
        with TestClient(create_app(svc)) as c:
            _, token = reg.create_key("new-editor", "editor")
            r = c.patch("/facilities/old-1", json={"name": "Edited after"}, headers={"X-API-Key": token})
            assert r.status_code == 200, r.text
            assert c.get("/layers/chest_pain_center", params={"region": "andorra"}).status_code == 200
        check = reg.verify_audit()
        assert check.ok and check.rows == 5 and check.seeds == 2, check  # + Andorra, seeded on first use
    finally:
        reg.close()
    assert main(["audit", "verify", "--db", registry_target]) == 0


_SEEDS = "2 seeds chained with the audit"


def _pg(target: str) -> str:
    return ", PostGIS point" if target.startswith("postgresql://") else ""


def test_a_newer_schema_is_refused(registry_target):
    Registry(registry_target).close()
    raw = _raw(registry_target)
    raw.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 'x')")
    raw.close()
    for open_ in (lambda: open_registry(registry_target), lambda: migrate_registry(registry_target)):
        with pytest.raises(GeoserviceError, match="schema version 99, newer than this geoservice"):
            open_()


def test_concurrent_migrations_apply_each_step_once(registry_target):
    results: list[object] = []

    def run() -> None:
        try:
            results.append(migrate_registry(registry_target))
        except Exception as e:  # pragma: no cover - reported below
            results.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, tuple) for r in results), results
    applied = [step for r in results for step in r[2]]  # type: ignore[index]
    assert sorted(applied) == sorted(["1 registry tables" + _pg(registry_target), _SEEDS])
    raw = _raw(registry_target)
    try:
        rows = raw.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    finally:
        raw.close()
    assert [r[0] for r in rows] == [1, 2]


# ---------------------------------------------------------------------------- transient errors
def _deadlock(q) -> None:
    """A real deadlock error from the server (SQLSTATE 40P01), or SQLite's busy file."""
    if q.__class__.__name__ == "_PgSession":
        q.run("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected (test)' USING ERRCODE = '40P01'; END $$")
    else:
        raise sqlite3.OperationalError("database is locked")


def test_a_deadlock_is_retried_then_a_503(open_reg, registry_target, monkeypatch):
    reg = open_reg()
    pg = registry_target.startswith("postgresql://")
    tries = []

    def flaky(q):
        tries.append(1)
        if len(tries) <= 2:
            _deadlock(q)
        return q.one("SELECT COUNT(*) AS n FROM api_keys")["n"]

    monkeypatch.setattr("geoservice.service.registry.db.BACKOFF_S", 0.001)
    if pg:  # retried: a deadlock rolled the transaction back
        assert reg.db.transact(flaky) == 0 and len(tries) == 3
    tries.clear()

    def always(q):
        tries.append(1)
        _deadlock(q)

    with pytest.raises(UnavailableError) as ei:
        reg.db.transact(always)
    assert ei.value.status == 503 and ei.value.extra["retry_after"] >= 1 and ei.value.field == "db"
    # PostgreSQL: tried 1 + RETRIES times; SQLite already waited its busy timeout: once
    assert len(tries) == (1 + RETRIES if pg else 1)


def test_api_answers_503_with_retry_after_and_writes_nothing(client, state, editor, monkeypatch):
    from geoservice.service.registry import audit_log

    monkeypatch.setattr("geoservice.service.registry.db.BACKOFF_S", 0.001)
    real = audit_log.AuditLog._append
    fail = [10**6]

    def append(q, **kw):
        if fail[0] > 0:
            fail[0] -= 1
            _deadlock(q)
        return real(q, **kw)

    monkeypatch.setattr(audit_log.AuditLog, "_append", staticmethod(append))
    r = client.post("/facilities", json={**AED, "id": "dl-1"}, headers=editor)
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) >= 1 and r.json()["field"] == "db"
    assert client.get("/facilities/dl-1").status_code == 404
    assert state.registry.audit(facility_id="dl-1") == []
    if state.registry.path is None:  # PostgreSQL: one deadlock, then the retry lands, once
        fail[0] = 1
        r = client.post("/facilities", json={**AED, "id": "dl-2"}, headers=editor)
        assert r.status_code == 201, r.text
        assert len(state.registry.audit(facility_id="dl-2")) == 1


def test_cli_prints_one_line_and_exits_75_when_the_database_cannot_answer(registry_target, monkeypatch, capsys):
    Registry(registry_target).close()

    def unavailable(self, fn):
        raise TransientError("the registry database reported: deadlock detected", retry=False)

    monkeypatch.setattr("geoservice.service.registry.db.Database.transact", unavailable)
    assert main(["apikey", "create", "--name", "ops", "--db", registry_target]) == 75
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("geoservice: error: ") and "deadlock" in err


def test_a_backend_that_died_is_replaced(pg_url):
    """The database ends the registry's connections (a restart, an admin): the pool opens new
    ones; a transaction whose backend dies mid-way is run again on a new connection."""
    import psycopg

    url = pg_url + "&application_name=geoservice-victim"
    reg = open_registry(url)
    assert reg is not None
    try:
        reg.create_key("before", "editor")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'geoservice-victim'"
            )
        assert [k.name for k in reg.list_keys()] == ["before"]
        tries = []

        def dies_once(q):
            tries.append(1)
            if len(tries) == 1:
                q.run("SELECT pg_terminate_backend(pg_backend_pid())")
            return q.insert(
                "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?,?,?,?)",
                ("after", "viewer", "x" * 64, "2026-01-01T00:00:00Z"),
            )

        assert reg.db.transact(dies_once) > 0 and len(tries) == 2
        assert [k.name for k in reg.list_keys()] == ["before", "after"]
    finally:
        reg.close()
