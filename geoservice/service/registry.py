"""Facility registry, API keys and audit log in one embedded SQLite database.

* ``facilities``: the facility rows of every served region (the columns of
  :data:`geoservice.sources.schema.COLUMNS`), seeded from the region bundle the first
  time a region is served; afterwards the registry, not the bundle, is the source of truth.
* ``api_keys``: keys are random tokens; only their SHA-256 is stored (a token has 256 bits
  of entropy, so no salt or slow hash is needed). Roles: ``viewer`` (may list the audit),
  ``editor`` (may edit facilities), ``admin`` (both).
* ``audit``: one row per edit: who (key name), when (UTC), action, before/after JSON.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import ConflictError, GeoserviceError, NotFoundError
from ..sources.facility_rows import plain_value
from ..sources.schema import COLUMNS

ROLES = ("viewer", "editor", "admin")
EDIT_ROLES = ("editor", "admin")
KEY_PREFIX = "gsk_"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS regions (
    name TEXT PRIMARY KEY,
    bundle_created TEXT,
    seeded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facilities (
    region TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (region, id)
);
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    region TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX IF NOT EXISTS audit_facility ON audit (region, facility_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('facilities_version', 0);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    role: str
    created_at: str
    revoked_at: str | None = None


class RegistryError(GeoserviceError):
    """A registry request that cannot be met (unknown role, duplicate key name)."""


def layer_from_records(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Registry records → the facility GeoDataFrame the engine expects (same dtypes as import)."""
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS)) if records else pd.DataFrame(columns=list(COLUMNS))
    for c in COLUMNS:
        if c in ("door_to_needle_min", "lon", "lat"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif c == "demo":
            df[c] = df[c].astype(object).where(df[c].notna(), False).astype(bool)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    geom = gpd.points_from_xy(df["lon"].to_numpy(), df["lat"].to_numpy())
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


class Registry:
    """Thread-safe (one connection guarded by a lock; SQLite WAL on disk)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT under the lock (other server processes write to the same
        file); ROLLBACK on any error, so an edit and its audit row land together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ facilities
    def is_seeded(self, region: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM regions WHERE name=?", (region,)).fetchone() is not None

    def seed(self, region: str, gdf, bundle_created: str | None = None) -> int:
        """Copy a bundle's facilities into the registry once; returns rows added (0 when seeded)."""
        with self._lock:
            if self.is_seeded(region):
                return 0
            rows = [self.record_from_row(r) for _, r in gdf.iterrows()]
            now = _now()
            with self._transaction():  # another server process may be seeding too
                if self._db.execute("SELECT 1 FROM regions WHERE name=?", (region,)).fetchone():
                    return 0
                self._db.executemany(
                    "INSERT OR REPLACE INTO facilities (region, id, type, record, updated_at) VALUES (?,?,?,?,?)",
                    [(region, r["id"], r["type"], json.dumps(r, ensure_ascii=False), now) for r in rows],
                )
                self._db.execute(
                    "INSERT INTO regions (name, bundle_created, seeded_at) VALUES (?,?,?)",
                    (region, bundle_created, now),
                )
            return len(rows)

    @staticmethod
    def record_from_row(row) -> dict[str, Any]:
        rec = {c: plain_value(row.get(c)) for c in COLUMNS if c not in ("lon", "lat")}
        geom = row.get("geometry")
        rec["lon"] = float(geom.x) if geom is not None else plain_value(row.get("lon"))
        rec["lat"] = float(geom.y) if geom is not None else plain_value(row.get("lat"))
        rec["demo"] = bool(rec.get("demo") or False)
        return rec

    def records(self, region: str) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute("SELECT record FROM facilities WHERE region=? ORDER BY rowid", (region,))
            return [json.loads(r["record"]) for r in cur.fetchall()]

    def get(self, region: str, fid: str) -> dict[str, Any] | None:
        with self._lock:
            r = self._db.execute("SELECT record FROM facilities WHERE region=? AND id=?", (region, fid)).fetchone()
        return json.loads(r["record"]) if r else None

    def find(self, fid: str) -> list[tuple[str, dict[str, Any]]]:
        """(region, record) for every region holding facility ``fid``."""
        with self._lock:
            rows = self._db.execute("SELECT region, record FROM facilities WHERE id=?", (fid,)).fetchall()
        return [(r["region"], json.loads(r["record"])) for r in rows]

    def ids(self, region: str) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT id FROM facilities WHERE region=?", (region,))}

    def version(self) -> int:
        """Bumped by every edit, so other server processes (workers) know to reload."""
        with self._lock:
            return int(self._db.execute("SELECT value FROM meta WHERE key='facilities_version'").fetchone()[0])

    def _bump(self) -> None:
        self._db.execute("UPDATE meta SET value = value + 1 WHERE key='facilities_version'")

    def _audit(self, *, actor: ApiKey, action: str, region: str, fid: str, before, after) -> int:
        cur = self._db.execute(
            "INSERT INTO audit (at, actor, role, action, region, facility_id, before, after) VALUES (?,?,?,?,?,?,?,?)",
            (
                _now(),
                actor.name,
                actor.role,
                action,
                region,
                fid,
                None if before is None else json.dumps(before, ensure_ascii=False),
                None if after is None else json.dumps(after, ensure_ascii=False),
            ),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def write(self, region: str, record: dict[str, Any], *, actor: ApiKey, action: str) -> tuple[dict | None, int]:
        """Insert (``create``) or replace (``update``) one record and audit it, atomically.

        Returns (before, audit id)."""
        fid = record["id"]
        with self._transaction():
            row = self._db.execute("SELECT record FROM facilities WHERE region=? AND id=?", (region, fid)).fetchone()
            before = json.loads(row["record"]) if row else None
            if action == "create" and before is not None:
                raise ConflictError("id", f"facility {fid!r} already exists in region {region!r}")
            if action == "update" and before is None:
                raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
            self._db.execute(
                "INSERT OR REPLACE INTO facilities (region, id, type, record, updated_at) VALUES (?,?,?,?,?)",
                (region, fid, record["type"], json.dumps(record, ensure_ascii=False), _now()),
            )
            aid = self._audit(actor=actor, action=action, region=region, fid=fid, before=before, after=record)
            self._bump()
        return before, aid

    def delete(self, region: str, fid: str, *, actor: ApiKey) -> tuple[dict, int]:
        with self._transaction():
            row = self._db.execute("SELECT record FROM facilities WHERE region=? AND id=?", (region, fid)).fetchone()
            if row is None:
                raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
            before = json.loads(row["record"])
            self._db.execute("DELETE FROM facilities WHERE region=? AND id=?", (region, fid))
            aid = self._audit(actor=actor, action="delete", region=region, fid=fid, before=before, after=None)
            self._bump()
        return before, aid

    def audit(
        self,
        *,
        region: str | None = None,
        facility_id: str | None = None,
        actor: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        q = "SELECT * FROM audit WHERE 1=1"
        args: list[Any] = []
        for col, val in (("region", region), ("facility_id", facility_id), ("actor", actor)):
            if val is not None:
                q += f" AND {col}=?"
                args.append(val)
        q += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        with self._lock:
            rows = self._db.execute(q, args).fetchall()
        return [
            {
                "id": r["id"],
                "at": r["at"],
                "actor": r["actor"],
                "role": r["role"],
                "action": r["action"],
                "region": r["region"],
                "facility_id": r["facility_id"],
                "before": json.loads(r["before"]) if r["before"] else None,
                "after": json.loads(r["after"]) if r["after"] else None,
            }
            for r in rows
        ]

    # ------------------------------------------------------------------ API keys
    def create_key(self, name: str, role: str) -> tuple[ApiKey, str]:
        """Create a key; the token is returned once and never stored."""
        if role not in ROLES:
            raise RegistryError("role", f"unknown role {role!r}; valid: {', '.join(ROLES)}")
        name = (name or "").strip()
        if not name:
            raise RegistryError("name", "a key needs a name (who holds it)")
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?,?,?,?)",
                    (name, role, hash_key(token), _now()),
                )
            except sqlite3.IntegrityError:
                raise RegistryError(
                    "name", f"a key named {name!r} already exists; revoke it or pick another name"
                ) from None
            assert cur.lastrowid is not None
            kid = int(cur.lastrowid)
        return self._key_by_id(kid), token

    def _key_by_id(self, kid: int) -> ApiKey:
        with self._lock:
            r = self._db.execute("SELECT * FROM api_keys WHERE id=?", (kid,)).fetchone()
        return ApiKey(r["id"], r["name"], r["role"], r["created_at"], r["revoked_at"])

    def check_key(self, token: str) -> ApiKey | None:
        """The active key with this token, or None."""
        if not token:
            return None
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM api_keys WHERE key_hash=? AND revoked_at IS NULL", (hash_key(token),)
            ).fetchone()
        return ApiKey(r["id"], r["name"], r["role"], r["created_at"], r["revoked_at"]) if r else None

    def list_keys(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM api_keys ORDER BY id").fetchall()
        return [ApiKey(r["id"], r["name"], r["role"], r["created_at"], r["revoked_at"]) for r in rows]

    def revoke_key(self, name: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE api_keys SET revoked_at=? WHERE name=? AND revoked_at IS NULL", (_now(), name)
            )
        return cur.rowcount > 0
