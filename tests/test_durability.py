"""Durability: a server killed (SIGKILL) in the middle of a stream of edits loses none it
acknowledged, and its registry stays whole, on both databases.

``python -m geoservice serve`` runs in a subprocess on 127.0.0.1 over the Monaco demo and a
temporary registry: a SQLite file, or a fresh schema of the PostgreSQL database named by
``GEOSERVICE_TEST_DATABASE_URL`` (``scripts/test.sh`` starts a throwaway PostgreSQL + PostGIS and
sets it; without it that case is skipped with the reason; the schema is dropped after the test).
A thread streams a bounded number of keyed edits (creates and patches of synthetic AEDs inside
Monaco), recording every acknowledged (2xx) one; the server is killed with SIGKILL mid-stream and
started again on the same registry. Then: the registry is whole (SQLite: ``PRAGMA
integrity_check``; both: one row per facility id, every record and audit row parses, every audit
row is hashed), every acknowledged edit is served with its content, the audit hash chain
verifies, and the audit matches the table (each facility's last audit ``after`` is its stored
record).

On PostgreSQL only the geoservice processes are killed, not the database server: this checks that
an acknowledged edit is a committed one and that a killed writer's open transaction (holding the
audit lock) is rolled back without harm, not PostgreSQL's own crash recovery.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
WRITES = 200  # at most, per run
KILL_AFTER = 60  # acknowledged edits before the SIGKILL (or KILL_AFTER_S seconds, whichever comes first)
KILL_AFTER_S = 6.0
REGION = "monaco"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """``geoservice serve`` in its own process group (so SIGKILL reaches every process of it)."""

    def __init__(self, region: Path, db: str, log: Path):
        self.port = _free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
        env["GEOSERVICE_WRITES_PER_MINUTE"] = "100000"  # the stream is faster than the default 120/min
        cmd = [sys.executable, "-m", "geoservice", "serve", "--region", str(region), "--db", db]
        cmd += ["--host", HOST, "--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        self.log = log.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.time() + 120
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                self.stop(signal.SIGKILL)
                pytest.fail("server did not start in 120 s")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.log.close()


@dataclass(frozen=True)
class Target:
    """Where the test's registry lives: ``db`` is what ``--db`` and ``open_registry`` take (a SQLite
    file, or a PostgreSQL URL whose search_path starts with the test's own ``schema``)."""

    kind: str
    db: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        yield Target("sqlite", str(tmp_path / "registry.sqlite"))
        return
    url, schema = request.getfixturevalue("pg_schema")
    yield Target("postgresql", url, schema)


def _rows_problems(facilities: list[tuple], audit: list[tuple]) -> list[str]:
    """What is wrong with the raw table rows: (region, id, type, record) of every facility and
    (id, before, after, prev_hash, hash) of every audit row; records and before / after are JSON
    text (SQLite, the audit) or already parsed (PostgreSQL's jsonb)."""
    problems = []
    keys = [(region, fid) for region, fid, _, _ in facilities]
    if len(keys) != len(set(keys)):
        problems.append(f"facilities: {len(keys)} rows but {len(set(keys))} distinct (region, id)")
    for region, fid, ftype, record in facilities:
        try:
            rec = record if isinstance(record, dict) else json.loads(record)
        except (TypeError, ValueError) as e:
            problems.append(f"facility {region}/{fid}: record does not parse ({e})")
            continue
        if rec.get("id") != fid or rec.get("type") != ftype:
            problems.append(f"facility {region}/{fid}: record says id {rec.get('id')!r}, type {rec.get('type')!r}")
    for aid, before, after, prev_hash, h in audit:
        for name, text in (("before", before), ("after", after)):
            try:
                if text is not None and not isinstance(json.loads(text), dict):
                    problems.append(f"audit {aid}: {name} is not an object")
            except ValueError as e:
                problems.append(f"audit {aid}: {name} does not parse ({e})")
        if not prev_hash or not h:
            problems.append(f"audit {aid}: no hash")
    return problems


_FACILITY_ROWS = "SELECT region, id, type, record FROM {t}facilities"
_AUDIT_ROWS = "SELECT id, before, after, prev_hash, hash FROM {t}audit ORDER BY id"


def _integrity(target: Target) -> list[str]:
    """Problems with the registry as the next server would find it (empty: whole)."""
    if target.kind == "sqlite":
        con = sqlite3.connect(target.db)  # recovers the WAL a killed writer left behind, like the next server would
        try:
            check = con.execute("PRAGMA integrity_check").fetchone()[0]
            problems = [] if check == "ok" else [f"PRAGMA integrity_check: {check}"]
            facilities = con.execute(_FACILITY_ROWS.format(t="")).fetchall()
            audit = con.execute(_AUDIT_ROWS.format(t="")).fetchall()
        finally:
            con.close()
        return problems + _rows_problems(facilities, audit)
    import psycopg

    t = f"{target.schema}."  # qualified: the server's tables are in the test's own schema, nowhere else
    with psycopg.connect(target.db, autocommit=True) as conn:
        problems = []
        n, distinct = conn.execute(f"SELECT count(*), count(DISTINCT (region, id)) FROM {t}facilities").fetchone()
        if n != distinct:
            problems.append(f"facilities: {n} rows but {distinct} distinct (region, id)")
        # a killed writer's open transaction is rolled back: no session is left holding a lock on
        # this schema's tables (its backend may take a moment to notice the closed connection)
        held_sql = (
            "SELECT count(*) FROM pg_locks WHERE pid <> pg_backend_pid() "
            f"AND relation IN ('{t}audit'::regclass, '{t}facilities'::regclass)"
        )
        deadline = time.time() + 10
        while (held := conn.execute(held_sql).fetchone()[0]) and time.time() < deadline:
            time.sleep(0.1)
        if held:
            problems.append(f"{held} lock(s) still held on the registry's tables")
        facilities = conn.execute(_FACILITY_ROWS.format(t=t)).fetchall()
        audit = conn.execute(_AUDIT_ROWS.format(t=t)).fetchall()
    return problems + _rows_problems(facilities, audit)


class Writer(threading.Thread):
    """Creates and patches synthetic AEDs inside Monaco as fast as the server answers, until told to
    stop, ``WRITES`` are sent, or the server is gone. ``acked[id]`` holds the fields of the last
    acknowledged edit of each facility (merged: a patch changes only what it sends), ``in_flight``
    the one edit sent but not answered when the server died (it may or may not have landed)."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.headers = base, {"X-API-Key": token}
        self.acked: dict[str, dict] = {}
        self.in_flight: tuple[str, dict] | None = None
        self.count = 0
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        rng = random.Random(11)
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as c:
            for i in range(WRITES):
                if self.halt.is_set():
                    return
                pos = {
                    "lon": round(7.42 + rng.uniform(-0.003, 0.003), 6),
                    "lat": round(43.737 + rng.uniform(-0.002, 0.002), 6),
                }
                if not self.acked or rng.random() < 0.6:
                    fid = f"durability-{i}"
                    fields = {"id": fid, "type": "aed", "name": f"durability AED {i} (synthetic)", **pos}
                    fields |= {"address": f"rue {i}", "source": "durability test (synthetic)", "demo": True}
                    method, url, body = "POST", "/facilities", fields
                else:
                    fid = rng.choice(sorted(self.acked))
                    fields = {"name": f"durability AED {fid} edit {i} (synthetic)", "address": f"avenue {i}"}
                    if rng.random() < 0.5:
                        fields |= pos
                    method, url, body = "PATCH", f"/facilities/{fid}", fields
                self.in_flight = (fid, {**self.acked.get(fid, {}), **fields})
                try:
                    r = c.request(method, url, json=body)
                except httpx.HTTPError:
                    return  # the server is gone: in_flight stays as the one edit in doubt
                self.in_flight = None
                if 200 <= r.status_code < 300:
                    self.acked[fid] = {**self.acked.get(fid, {}), **fields}
                    self.count += 1
                else:
                    self.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")


def _served_as(got: dict, want: dict) -> bool:
    for k, v in want.items():
        if k in ("lon", "lat"):
            if abs(float(got[k]) - v) > 1e-6:
                return False
        elif got.get(k) != v:
            return False
    return True


def test_acknowledged_edits_survive_sigkill(regions_dir, tmp_path, target):
    from geoservice.service.registry.store import open_registry

    region, db, log = regions_dir / REGION, target.db, tmp_path / "server.log"
    reg = open_registry(db)
    assert reg is not None
    _, token = reg.create_key("durability", "editor")
    reg.close()

    server = Server(region, db, log)
    writer = Writer(server.base, token)
    try:
        t0 = time.perf_counter()
        writer.start()
        while writer.count < KILL_AFTER and time.perf_counter() - t0 < KILL_AFTER_S and writer.is_alive():
            time.sleep(0.01)
        server.stop(signal.SIGKILL)  # mid-stream: the writer is waiting on an answer or about to send
        killed_at = writer.count
        writer.join(timeout=40)
        assert not writer.is_alive()
    finally:
        writer.halt.set()
        server.stop(signal.SIGKILL)
    assert not writer.errors, writer.errors
    assert 10 <= killed_at < WRITES, f"{killed_at} edits acknowledged before the kill: not mid-stream"
    assert _integrity(target) == []

    server = Server(region, db, log)  # again, on the same registry
    try:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            for fid, want in writer.acked.items():
                r = c.get(f"/facilities/{fid}")
                assert r.status_code == 200, (fid, r.status_code, r.text[:200])
                got = r.json()
                doubt = writer.in_flight
                assert _served_as(got, want) or (doubt is not None and doubt[0] == fid and _served_as(got, doubt[1])), (
                    fid,
                    want,
                    got,
                )
            # an edit still works after the restart
            r = c.patch(
                f"/facilities/{next(iter(writer.acked))}", json={"status": "certified"}, headers={"X-API-Key": token}
            )
            assert r.status_code == 200, r.text
    finally:
        server.stop()
    assert _integrity(target) == []
    print(
        f"durability ({target.kind}): {killed_at} edits acknowledged when killed, {writer.count} in all, "
        f"{len(writer.acked)} facilities, edit in doubt: {writer.in_flight is not None}"
    )

    reg = open_registry(db)
    assert reg is not None
    try:
        check = reg.verify_audit()
        assert check.ok, check
        rows = reg.audit(region=REGION, limit=1_000_000)  # newest first
        assert len(rows) == check.rows >= len(writer.acked)
        last: dict[str, dict] = {}
        for row in rows:
            last.setdefault(row["facility_id"], row)
        stored = {rec["id"]: rec for rec in reg.records(REGION)}
        for fid, row in last.items():
            rec = reg.get(REGION, fid)
            if row["after"] is None:
                assert rec is None, (fid, "deleted in the audit, still in the table")
            else:
                assert rec is not None and rec[0] == row["after"], (fid, row["after"], rec)
        # every edited facility is in the audit; the rest are the bundle's own, as seeded
        assert set(writer.acked) <= set(last)
        assert all(not fid.startswith("durability-") for fid in set(stored) - set(last))
    finally:
        reg.close()
