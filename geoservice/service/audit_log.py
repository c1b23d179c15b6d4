"""The audit log of the registry: one row per edit (who, when, action, record before and after),
append-only (triggers refuse UPDATE and DELETE, in SQLite and PostgreSQL alike) and hash-chained,
so that a row changed or removed behind the database's back is found by ``geoservice audit verify``.

Each row's ``hash`` is SHA-256 of the previous row's hash and the row's own content; the first row
chains from 64 zeros. A chain proves order and integrity against edits of some rows; someone who
rewrites every hash after a change is not detected without an external copy of the last hash
(``verify`` returns it: keep it with the backups).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .api_keys import ApiKey, now_utc
from .registry_db import Database, Session, load_json

GENESIS = "0" * 64

# before / after are the exact text that was hashed (never jsonb, which would rewrite it); the
# triggers making the table append-only come from the database (``Database.append_only``)
AUDIT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
    id {id},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    region TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    prev_hash TEXT,
    hash TEXT
)""",
    "CREATE INDEX IF NOT EXISTS audit_facility ON audit (region, facility_id)",
    "CREATE INDEX IF NOT EXISTS audit_region ON audit (region, id)",
)

__all__ = ["AuditLog", "AuditCheck", "AUDIT_SCHEMA", "row_hash"]


def row_hash(
    prev: str, at: str, actor: str, role: str, action: str, region: str, fid: str, before: str | None, after: str | None
) -> str:
    payload = json.dumps([prev, at, actor, role, action, region, fid, before, after], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditCheck:
    """Result of checking the chain: ``ok``, rows checked, the first bad row and why, the last hash."""

    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS


class AuditLog:
    """Audit methods of the registry (mixed into ``Registry``, which owns the database and
    calls ``_append`` inside the edit's own write transaction ``q``)."""

    _db: Database

    @staticmethod
    def _append(q: Session, *, actor: ApiKey, action: str, region: str, fid: str, before: Any, after: Any) -> int:
        last = q.one("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
        prev = (last["hash"] if last else None) or GENESIS
        b = None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True)
        a = None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True)
        at = now_utc()
        h = row_hash(prev, at, actor.name, actor.role, action, region, fid, b, a)
        return q.insert(
            "INSERT INTO audit (at, actor, role, action, region, facility_id, before, after, prev_hash, hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (at, actor.name, actor.role, action, region, fid, b, a, prev, h),
        )

    def audit(
        self,
        *,
        region: str | None = None,
        facility_id: str | None = None,
        actor: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first, filtered."""
        q = "SELECT * FROM audit WHERE 1=1"
        args: list[Any] = []
        for col, val in (("region", region), ("facility_id", facility_id), ("actor", actor)):
            if val is not None:
                q += f" AND {col}=?"
                args.append(val)
        q += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        with self._db.read() as s:
            rows = s.all(q, args)
        return [
            {
                "id": r["id"],
                "at": r["at"],
                "actor": r["actor"],
                "role": r["role"],
                "action": r["action"],
                "region": r["region"],
                "facility_id": r["facility_id"],
                "before": load_json(r["before"]),
                "after": load_json(r["after"]),
            }
            for r in rows
        ]

    def verify_audit(self) -> AuditCheck:
        """Recompute the hash chain over every row, oldest first."""
        prev = GENESIS
        n = 0
        with self._db.read() as q:
            rows = q.all("SELECT * FROM audit ORDER BY id")
        for r in rows:
            n += 1
            if r["prev_hash"] != prev:
                return AuditCheck(
                    False, n, r["id"], "does not follow the row before it (a row was removed or inserted)", prev
                )
            h = row_hash(
                prev,
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["region"],
                r["facility_id"],
                r["before"],
                r["after"],
            )
            if h != r["hash"]:
                return AuditCheck(False, n, r["id"], "its content does not match its hash (the row was changed)", prev)
            prev = h
        return AuditCheck(True, n, last_hash=prev)
