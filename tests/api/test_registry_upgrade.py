"""Registries made by released code upgrade to today's schema (issue 22, item 2).

tests/data/registry/ holds SQLite registries frozen from three commits, each made by running THAT
commit's own code (tests/data/registry/README.md): c90faf2 (before versions, ETags and the hash
chain: no facilities.version, audit.prev_hash/hash, api_keys.expires_at, no responders), 90305ab
(the last commit before versioned migrations: every column, no ``schema_version``) and 8de7e49
(the last release, schema version 2). Each holds four real facilities seeded in Monaco and
Andorra, an editor key, two AEDs created, one renamed, one seeded facility deleted (four audit
rows) and, from 90305ab on, two responder positions.

Opened with today's code, each is refused in ``check`` mode with one line naming ``geoservice db
migrate``; migrated (by that command, or by serve's start path: ``schema="migrate"``) it is at the
current version with every facility, version, audit row, hash, key and responder as the old code
wrote them; its audit chain verifies, its key still opens, and an edit after the upgrade chains
onto it. On PostgreSQL (with GEOSERVICE_TEST_DATABASE_URL) the same for pg_dumps written by 90305ab and
8de7e49 (c90faf2 had no PostgreSQL registry), restored into a fresh schema.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main
from geoservice.service.registry.store import Registry, open_registry, schema_status

DATA = Path(__file__).resolve().parents[1] / "data" / "registry"
CURRENT = 2
# commit -> the schema version it left (0: tables but no schema_version)
FROZEN = {"c90faf2": 0, "90305ab": 0, "8de7e49": 2}
HAS_RESPONDERS = {"90305ab", "8de7e49"}
HAS_CHAIN = {"90305ab", "8de7e49"}  # c90faf2 wrote its audit rows before the hash chain existed (below)


def _copy(tmp_path: Path, commit: str) -> str:
    dst = tmp_path / f"registry-{commit}.sqlite"
    shutil.copyfile(DATA / f"registry-{commit}.sqlite", dst)
    dst.chmod(0o600)
    return str(dst)


def _token(commit: str) -> str:
    return (DATA / f"registry-{commit}.token").read_text().strip()


def _columns(c: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in c.execute(f"PRAGMA table_info({table})")]


def _snapshot(path: str) -> dict[str, Any]:
    """Every row the old code wrote, in the columns it had, read behind the registry's back."""
    c = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {}
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in ("regions", "facilities", "audit", "api_keys", "responder_positions"):
            if table in tables:
                cols = ", ".join(_columns(c, table))
                out[table] = c.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall()
        return out
    finally:
        c.close()


def _columns_of(path: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same rows now, read in the old columns only (the upgrade may add columns)."""
    c = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {}
        for table, rows in snapshot.items():
            n = len(rows[0]) if rows else 0
            cols = ", ".join(_columns(c, table)[:n])
            out[table] = c.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall()
        return out
    finally:
        c.close()


def _upgrade_by(how: str, path: str, capsys: pytest.CaptureFixture[str], version: int) -> None:
    if how == "db migrate":
        assert main(["db", "migrate", "--db", path]) == 0
        err = capsys.readouterr().err
        want = "nothing to migrate" if version == CURRENT else f"schema version {version} -> {CURRENT}"
        assert want in err, err
    else:  # serve's start path: the registry opened with schema="migrate" (ensure_schema's migrate mode)
        reg = open_registry(path, schema="migrate")
        assert reg is not None
        reg.close()


@pytest.mark.parametrize("commit", sorted(FROZEN))
def test_a_frozen_registry_behind_is_named_in_check_mode(commit, tmp_path, capsys):
    path = _copy(tmp_path, commit)
    version = FROZEN[commit]
    assert schema_status(path)[1:3] == (version, CURRENT)
    if version == CURRENT:  # the last release is current: it opens as it is
        reg = Registry(path, schema="check")
        reg.close()
        return
    with pytest.raises(GeoserviceError, match=f"schema version {version}.*run 'geoservice db migrate'"):
        Registry(path, schema="check")
    for argv in (["audit", "verify"], ["db", "status"]):
        assert main([*argv, "--db", path]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("geoservice: error: "), err
        assert "run 'geoservice db migrate'" in err, err


@pytest.mark.parametrize("how", ["db migrate", "serve start"])
@pytest.mark.parametrize("commit", sorted(FROZEN))
def test_a_frozen_registry_upgrades_keeping_everything(commit, how, tmp_path, capsys):
    path = _copy(tmp_path, commit)
    before = _snapshot(path)
    assert len(before["facilities"]) == 9 and len(before["audit"]) == 4 and len(before["api_keys"]) == 1
    assert len(before.get("responder_positions", [])) == (2 if commit in HAS_RESPONDERS else 0)

    _upgrade_by(how, path, capsys, FROZEN[commit])
    assert schema_status(path)[1:] == (CURRENT, CURRENT, [])
    assert _columns_of(path, before) == before  # every row as the old code wrote it, nothing rewritten

    reg = open_registry(path, create=False)
    assert reg is not None
    try:
        # facilities: the old records, the renamed AED at version 2 where versions existed
        records = {(region, r["id"]): r for region in ("monaco", "andorra") for r in reg.records(region)}
        assert len(records) == 9
        renamed = reg.get("monaco", "frozen-aed-0")
        assert renamed is not None and renamed[0]["name"] == "Frozen AED 0 renamed"
        assert renamed[1] == (1 if commit == "c90faf2" else 2)  # c90faf2 had no versions: all start at 1
        assert len(reg.audit(limit=100)) == 4
        key = reg.check_key(_token(commit))  # the key made by the old code still opens
        assert key is not None and (key.name, key.role) == ("fixture-editor", "editor")
        check = reg.verify_audit()
        if commit in HAS_CHAIN:
            assert check.ok and check.rows == 4 and check.facilities == 9, check
        # an edit after the upgrade (through the registry, as the API and CLI edit)
        reg.edit(
            "monaco",
            "frozen-aed-1",
            lambda b: {**(b or {}), "name": "Edited after upgrade"},
            actor=key,
            action="patch",
        )
        edited = reg.get("monaco", "frozen-aed-1")
        assert edited is not None and edited[0]["name"] == "Edited after upgrade" and edited[1] == 2
        last = reg.audit(limit=1)[0]
        assert (last["facility_id"], last["action"], last["actor"]) == ("frozen-aed-1", "patch", "fixture-editor")
        assert len(reg.audit(limit=100)) == 5
        if commit in HAS_CHAIN:  # its audit row chains onto the old head
            after = reg.verify_audit()
            assert after.ok and after.rows == 5 and after.facilities == 9, after
            c = sqlite3.connect(path)
            try:
                prev = c.execute("SELECT prev_hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()[0]
            finally:
                c.close()
            assert prev == check.last_hash
    finally:
        reg.close()
    if commit in HAS_CHAIN:
        assert main(["audit", "verify", "--db", path]) == 0
        assert "hash chain intact" in capsys.readouterr().err


def test_audit_rows_from_before_the_hash_chain_are_counted_apart(tmp_path, capsys):
    """c90faf2 wrote its four audit rows without hashes (the chain came in 34c0f37, whose code
    chained new rows on from GENESIS after them): after the upgrade verify accepts that leading run
    as unhashed history, still checks the facilities against its rows' afters, and the chain starts
    at GENESIS. Before this fix verify said "broken at row 1" for every such registry."""
    path = _copy(tmp_path, "c90faf2")
    assert main(["db", "migrate", "--db", path]) == 0
    reg = open_registry(path, create=False)
    assert reg is not None
    try:
        check = reg.verify_audit()
        assert check.ok and (check.rows, check.unchained, check.facilities) == (0, 4, 9), check
        assert check.seeds == 2  # both regions' never-edited facilities, adopted by migration 2
        key = reg.check_key(_token("c90faf2"))
        assert key is not None
        reg.edit("andorra", reg.records("andorra")[0]["id"], lambda b: b, actor=key, action="update")
        after = reg.verify_audit()
        assert after.ok and (after.rows, after.unchained) == (1, 4), after
    finally:
        reg.close()
    assert main(["audit", "verify", "--db", path]) == 0
    err = capsys.readouterr().err
    assert "1 rows, hash chain intact" in err and "4 earlier rows from before the hash chain, unhashed" in err

    # an unhashed row AFTER the chain began is no history: it breaks the chain
    c = sqlite3.connect(path)
    try:
        c.execute(
            "INSERT INTO audit (at, actor, role, action, region, facility_id, before, after) "
            "VALUES ('2026-01-01T00:00:00Z', 'x', 'editor', 'delete', 'monaco', 'frozen-aed-1', NULL, NULL)"
        )
        c.commit()
    finally:
        c.close()
    assert main(["audit", "verify", "--db", path]) == 2
    assert "broken at row 6" in capsys.readouterr().err


# ---------------------------------------------------------------------------- PostgreSQL
PG_FROZEN = {"90305ab": 0, "8de7e49": 2}  # c90faf2 had no PostgreSQL registry
DUMP_SCHEMA = "frozen_registry_schema"  # the schema the old code wrote into (README.md)


def _load_dump(url: str, schema: str, commit: str) -> None:
    """Restore the old code's pg_dump into this test's (empty, existing) schema."""
    import psycopg

    lines = (DATA / f"registry-{commit}.pg.sql").read_text().splitlines()
    keep = [ln for ln in lines if not ln.startswith(("\\", "--")) and ln != f"CREATE SCHEMA {DUMP_SCHEMA};"]
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("\n".join(keep).replace(f"{DUMP_SCHEMA}.", f"{schema}."))  # a script: no parameters


def _pg_rows(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        return {
            "facilities": c.execute(
                "SELECT region, id, type, record::text, updated_at, version, seq FROM facilities ORDER BY 1, 2"
            ).fetchall(),
            "audit": c.execute("SELECT * FROM audit ORDER BY id").fetchall(),
            "audit_seeds": c.execute("SELECT * FROM audit_seeds ORDER BY id").fetchall() if _has_seeds(c) else [],
            "api_keys": c.execute("SELECT * FROM api_keys ORDER BY id").fetchall(),
            "responders": c.execute("SELECT * FROM responder_positions ORDER BY 1").fetchall(),
            "regions": c.execute("SELECT * FROM regions ORDER BY 1").fetchall(),
        }


def _has_seeds(c: Any) -> bool:
    return bool(c.execute("SELECT to_regclass('audit_seeds') IS NOT NULL").fetchone()[0])


@pytest.mark.parametrize("commit", sorted(PG_FROZEN))
def test_a_frozen_postgresql_registry_upgrades_keeping_everything(commit, pg_schema, capsys):
    url, schema = pg_schema
    _load_dump(url, schema, commit)
    before = _pg_rows(url)
    assert len(before["facilities"]) == 9 and len(before["audit"]) == 4 and len(before["responders"]) == 2
    version = PG_FROZEN[commit]
    assert schema_status(url)[1:3] == (version, CURRENT)
    if version < CURRENT:
        assert main(["audit", "verify", "--db", url]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "run 'geoservice db migrate'" in err, err

    assert main(["db", "migrate", "--db", url]) == 0
    capsys.readouterr()
    assert schema_status(url)[1:] == (CURRENT, CURRENT, [])
    after = _pg_rows(url)
    new_seeds = after.pop("audit_seeds")[len(before.pop("audit_seeds")) :]
    assert after == before  # every row as the old code wrote it
    assert len(new_seeds) == (2 if version == 0 else 0)  # migration 2 adopted both regions' unedited facilities

    reg = open_registry(url, create=False)
    assert reg is not None
    try:
        check = reg.verify_audit()
        assert check.ok and check.rows == 4 and check.facilities == 9 and check.seeds == 2, check
        key = reg.check_key((DATA / f"registry-{commit}.pg.token").read_text().strip())
        assert key is not None and key.name == "fixture-editor"
        reg.edit("monaco", "frozen-aed-1", lambda b: {**(b or {}), "name": "Edited after"}, actor=key, action="patch")
        edited = reg.get("monaco", "frozen-aed-1")
        assert edited is not None and edited[1] == 2
        again = reg.verify_audit()
        assert again.ok and again.rows == 5, again
        assert reg.audit(limit=1)[0]["facility_id"] == "frozen-aed-1"
    finally:
        reg.close()
    assert main(["audit", "verify", "--db", url]) == 0
