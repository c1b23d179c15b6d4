"""The audit log of the registry: one row per edit (who, when, action, record before and after),
append-only (triggers refuse UPDATE and DELETE, in SQLite and PostgreSQL alike) and hash-chained,
so that a row changed or removed behind the database's back is found by ``geoservice audit verify``.

Each row's ``hash`` is SHA-256 of the previous row's hash and the row's own content; the first row
chains from 64 zeros. A chain proves order and integrity against edits of some rows; rows cut off
the end, or a chain rewritten from some row on, are found only against a hash recorded earlier:
``audit head`` prints the chain's last hash (keep it with the backups) and ``audit verify --expect
HASH`` fails unless that hash is still in the chain.

What a region's bundle put into the registry is in the chain too: seeding a region appends an
``audit_seeds`` row (append-only as well) holding a digest of each seeded record, chained after the
audit row that was last when it was written. So every facility served has a record the chain
vouches for, the ``after`` of its last audit row or, never edited, its seeded digest, and ``verify``
checks the ``facilities`` table against it: a record edited, added or deleted behind the registry's
back is named.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...sources.cell_values import check_text
from .api_keys import ApiKey
from .db import Database, Session, load_json, now_utc

GENESIS = "0" * 64
DIGEST_HEX = 32  # 128 bits of SHA-256 per seeded record
SHOWN = 3  # facilities named in a failed check (then "and N more")

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
# one row per seeded region: ``facilities`` is {id: digest} (JSON, sorted); ``after_audit`` the last
# audit row when it was written (0: none), its place in the chain; ``source`` the bundle it came
# from ("bundle <created>"), or "adopted" for a registry created before seeds were recorded
SEEDS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_seeds (
    id {id},
    after_audit BIGINT NOT NULL,
    at TEXT NOT NULL,
    region TEXT NOT NULL,
    source TEXT NOT NULL,
    facilities TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)""",
)

__all__ = [
    "AuditLog",
    "AuditCheck",
    "AUDIT_SCHEMA",
    "SEEDS_SCHEMA",
    "GENESIS",
    "row_hash",
    "AuditEntry",
    "seed_hash",
    "record_digest",
    "adopt_unseeded",
]


@dataclass(frozen=True)
class AuditEntry:
    """One edit as the audit log hashes it: when, who (key name and role), what (action, region,
    facility id) and the facility before and after (canonical JSON text; None when absent)."""

    at: str
    actor: str
    role: str
    action: str
    region: str
    fid: str
    before: str | None
    after: str | None


def row_hash(prev: str, e: AuditEntry) -> str:
    """The hash chaining ``e`` to the row before it (``prev``): SHA-256 of the JSON list
    [prev, at, actor, role, action, region, fid, before, after]."""
    payload = json.dumps(
        [prev, e.at, e.actor, e.role, e.action, e.region, e.fid, e.before, e.after], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def seed_hash(prev: str, at: str, region: str, source: str, facilities: str) -> str:
    payload = json.dumps(["seed", prev, at, region, source, facilities], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    """A record as compared: numbers as floats (jsonb may give back 1e+16 as an integer), the rest
    as is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def record_digest(record: Mapping[str, Any]) -> str:
    """The digest a seed keeps of one record (canonical JSON, SHA-256, 128 bits)."""
    text = json.dumps(_canonical(record), ensure_ascii=False, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_HEX]


def _differing(stored: Mapping[str, Any], want: Mapping[str, Any]) -> list[str]:
    a, b = _canonical(stored), _canonical(want)

    def same(x: Any, y: Any) -> bool:
        return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))

    return sorted(k for k in set(a) | set(b) if not same(a.get(k), b.get(k)))


def _head(q: Session) -> str:
    """The chain's last hash: of the last audit row, or of a seed written after it."""
    a = q.one("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    s = q.one("SELECT after_audit, hash FROM audit_seeds ORDER BY id DESC LIMIT 1")
    if s is not None and (a is None or int(s["after_audit"]) >= int(a["id"])):
        return str(s["hash"])
    return str((a["hash"] if a else None) or GENESIS)


def append_seed(q: Session, region: str, source: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Chain a seed of ``region`` (its records' digests) after the current head; its id."""
    last = q.one("SELECT MAX(id) AS last FROM audit")
    after_audit = int((last and last["last"]) or 0)
    digests = {str(r["id"]): record_digest(r) for r in records}
    text = json.dumps(digests, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev, at = _head(q), now_utc()
    return q.insert(
        "INSERT INTO audit_seeds (after_audit, at, region, source, facilities, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
        (after_audit, at, region, source, text, prev, seed_hash(prev, at, region, source, text)),
    )


def adopt_unseeded(q: Session) -> int:
    """For a registry created before seeds were chained (a migration): one ``adopted`` seed per
    region with the records, as found, of the facilities no audit row names; the seeds written."""
    rows = q.all(
        "SELECT f.region AS region, f.record AS record FROM facilities f WHERE NOT EXISTS "
        "(SELECT 1 FROM audit a WHERE a.region = f.region AND a.facility_id = f.id) ORDER BY f.region, f.id"
    )
    by_region: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_region.setdefault(str(r["region"]), []).append(load_json(r["record"]))
    seeded = {str(r["region"]) for r in q.all("SELECT DISTINCT region FROM audit_seeds")}
    n = 0
    for region in sorted(set(by_region) - seeded):
        append_seed(q, region, "adopted", by_region[region])
        n += 1
    return n


@dataclass(frozen=True)
class AuditCheck:
    """Result of checking the chain and the table against it: ``ok``, audit rows checked, the first
    bad row and why, the last hash. ``seeds`` chained seeds and ``facilities`` records checked;
    ``seed_id`` the first bad seed, ``facility`` (region, id) the first facility that differs from
    the chain; ``expected_at`` where in the chain (rows from its start) the hash given to
    ``--expect`` is, ``after_expected`` how many rows follow it."""

    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS
    seeds: int = 0
    facilities: int = 0
    seed_id: int | None = None
    facility: tuple[str, str] | None = None
    expected_at: int | None = None
    after_expected: int = 0
    unchained: int = 0  # leading audit rows written before the hash chain (before 34c0f37): no hashes

    def problem(self, location: str) -> str | None:
        """One line saying what is wrong (None when nothing is)."""
        if self.ok:
            return None
        if self.first_bad_id is not None:
            return f"audit log of {location} is broken at row {self.first_bad_id}: {self.reason}"
        if self.seed_id is not None:
            return f"audit log of {location} is broken at seed {self.seed_id}: {self.reason}"
        if self.facility is not None:
            return f"facilities of {location} do not match the audit log: {self.reason}"
        return f"audit log of {location}: {self.reason}"


class AuditLog:
    """Audit methods of the registry (mixed into ``Registry``, which owns the database and
    calls ``_append`` inside the edit's own write transaction ``q``)."""

    _db: Database

    @staticmethod
    def _append(q: Session, *, actor: ApiKey, action: str, region: str, fid: str, before: Any, after: Any) -> int:
        prev = _head(q)
        b = None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True)
        a = None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True)
        at = now_utc()
        h = row_hash(prev, AuditEntry(at, actor.name, actor.role, action, region, fid, b, a))
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
        """Audit rows, newest first, filtered (a filter holding a control character is refused)."""
        q = "SELECT * FROM audit WHERE 1=1"
        args: list[Any] = []
        for col, val in (("region", region), ("facility_id", facility_id), ("actor", actor)):
            check_text(col, val)
            if val is not None:
                q += f" AND {col}=?"
                args.append(val)
        q += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        rows = self._db.query(lambda s: s.all(q, args))
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

    def audit_head(self) -> str:
        """The chain's last hash (64 zeros when empty): record it to catch rows cut off later."""
        return self._db.query(_head)

    def verify_audit(self, *, expect: str | None = None) -> AuditCheck:
        """Recompute the hash chain over every audit row and seed, oldest first; then check every
        facility record against the chain (the ``after`` of its last audit row, else its seeded
        digest). With ``expect`` (a hash from ``audit_head`` earlier) the chain must still hold it."""

        def read(q: Session) -> tuple[list[Any], list[Any], list[Any]]:
            return (
                q.all("SELECT * FROM audit ORDER BY id"),
                q.all("SELECT * FROM audit_seeds ORDER BY id"),
                q.all("SELECT region, id, record FROM facilities ORDER BY region, id"),
            )

        audit_rows, seed_rows, facility_rows = self._db.in_snapshot(read)  # the three as of one moment
        chain = sorted(
            [((int(r["id"]), 0, 0), "audit", r) for r in audit_rows]
            + [((int(r["after_audit"]), 1, int(r["id"])), "seed", r) for r in seed_rows]
        )
        expect = expect.strip().lower() if expect else None
        prev = GENESIS
        n = seeds = unchained = 0
        found: int | None = 0 if expect == GENESIS else None
        # the record each facility should have, by region: ("audit", row id, after) or ("seed", id, digest)
        want: dict[str, dict[str, tuple[str, int, Any]]] = {}
        for pos, (_, kind, r) in enumerate(chain, start=1):
            if kind == "seed":
                seeds += 1
                if r["prev_hash"] != prev:
                    why = "does not follow the row before it (a row was removed or inserted)"
                    return AuditCheck(False, n, None, why, prev, seeds, seed_id=int(r["id"]))
                h = seed_hash(prev, r["at"], r["region"], r["source"], r["facilities"])
                if h != r["hash"]:
                    why = "its content does not match its hash (the seed was changed)"
                    return AuditCheck(False, n, None, why, prev, seeds, seed_id=int(r["id"]))
                seeded = want.setdefault(str(r["region"]), {})
                for fid, digest in json.loads(r["facilities"]).items():
                    seeded[fid] = ("seed", int(r["id"]), digest)
            elif r["hash"] is None and r["prev_hash"] is None and pos == unchained + 1:
                unchained += 1  # from before the chain (its code chained on from GENESIS): its after still counts
                last = ("audit", int(r["id"]), load_json(r["after"]))
                want.setdefault(str(r["region"]), {})[str(r["facility_id"])] = last
                continue
            else:
                n += 1
                if r["prev_hash"] != prev:
                    why = "does not follow the row before it (a row was removed or inserted)"
                    return AuditCheck(False, n, r["id"], why, prev, seeds)
                row = AuditEntry(
                    r["at"], r["actor"], r["role"], r["action"], r["region"], r["facility_id"], r["before"], r["after"]
                )
                h = row_hash(prev, row)
                if h != r["hash"]:
                    why = "its content does not match its hash (the row was changed)"
                    return AuditCheck(False, n, r["id"], why, prev, seeds)
                want.setdefault(str(r["region"]), {})[str(r["facility_id"])] = (
                    "audit",
                    int(r["id"]),
                    load_json(r["after"]),
                )
            prev = h
            if expect is not None and h == expect:
                found = pos
        if expect is not None and found is None:
            why = (
                f"the expected hash {expect} is not in the chain (last hash {prev}): rows were cut off the "
                "end, or the chain was rewritten"
            )
            return AuditCheck(False, n, None, why, prev, seeds)
        after_expected = len(chain) - found if found is not None else 0

        problems: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for f in facility_rows:
            region, fid = str(f["region"]), str(f["id"])
            seen.add((region, fid))
            record = load_json(f["record"])
            w = want.get(region, {}).get(fid)
            name = f"facility {fid!r} of region {region!r}"
            if w is None:
                problems.append((region, fid, f"{name} is in no audit row or seed (added outside the registry)"))
            elif w[0] == "audit" and w[2] is None:
                problems.append((region, fid, f"{name} was deleted by audit row {w[1]} but is still in the table"))
            elif w[0] == "audit" and (diff := _differing(record, w[2])):
                problems.append(
                    (region, fid, f"{name} differs from the after of its last audit row {w[1]} ({', '.join(diff)})")
                )
            elif w[0] == "seed" and record_digest(record) != w[2]:
                problems.append((region, fid, f"{name}, never edited, differs from its seeded record (seed {w[1]})"))
        for region, expected in want.items():
            for fid, w in expected.items():
                if (region, fid) not in seen and not (w[0] == "audit" and w[2] is None):
                    what = f"its last audit row {w[1]}" if w[0] == "audit" else f"seed {w[1]}"
                    problems.append(
                        (
                            region,
                            fid,
                            f"facility {fid!r} of region {region!r} is missing from the table, which {what} "
                            "has (deleted outside the registry)",
                        )
                    )
        if problems:
            more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
            why = "; ".join(p[2] for p in problems[:SHOWN]) + more
            region, fid, _ = problems[0]
            return AuditCheck(
                False, n, None, why, prev, seeds, len(facility_rows), None, (region, fid), found, after_expected
            )
        return AuditCheck(
            True,
            n,
            last_hash=prev,
            seeds=seeds,
            facilities=len(facility_rows),
            expected_at=found,
            after_expected=after_expected,
            unchained=unchained,
        )
