"""Facility registry in one embedded SQLite database: facilities with versions, the audit log
(``audit_log``) and API keys (``api_keys``).

* ``facilities``: the facility rows of every served region (the columns of
  :data:`geoservice.sources.schema.COLUMNS`), seeded from the region bundle the first time a
  region is served; afterwards the registry, not the bundle, is the source of truth. Each row has
  a ``version`` (1 when created, +1 per edit): the API's ETag, checked against ``If-Match``.
* ``region_versions``: +1 per edit of a region, so every process (uvicorn worker, CLI) reloads
  exactly the regions that changed since it last looked.
* The file is created readable by its owner only (0600).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import ConflictError, GeoserviceError, NotFoundError
from ..sources.facility_rows import plain_value
from ..sources.schema import COLUMNS
from .api_keys import EDIT_ROLES, KEYS_SCHEMA, ROLES, ApiKey, KeyStore, RegistryError, hash_key, now_utc
from .audit_log import AUDIT_SCHEMA, AuditCheck, AuditLog

__all__ = [
    "Registry",
    "Edit",
    "layer_from_records",
    "ApiKey",
    "RegistryError",
    "ROLES",
    "EDIT_ROLES",
    "AuditCheck",
    "hash_key",
    "PreconditionFailed",
]

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
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (region, id)
);
CREATE TABLE IF NOT EXISTS region_versions (region TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""
_MIGRATIONS = (
    ("facilities", "version", "INTEGER NOT NULL DEFAULT 1"),
    ("audit", "prev_hash", "TEXT"),
    ("audit", "hash", "TEXT"),
    ("api_keys", "expires_at", "TEXT"),
)


class PreconditionFailed(GeoserviceError):
    """``If-Match`` names a version that is no longer current."""

    status = 412


@dataclass(frozen=True)
class Edit:
    """One edit as stored: the record before and after (None for create / delete), its audit row
    and the facility's new version (0 once deleted)."""

    region: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    audit_id: int
    version: int


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


class Registry(KeyStore, AuditLog):
    """Thread-safe (one connection guarded by a lock; SQLite WAL on disk, shared by processes)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # owner-only from the start, before SQLite writes a byte
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if not memory:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA + KEYS_SCHEMA)
        for table, column, decl in _MIGRATIONS:  # registries written by earlier versions
            cols = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if cols and column not in cols:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        self._db.executescript(AUDIT_SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
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

    def seed(self, region: str, gdf: gpd.GeoDataFrame, bundle_created: str | None = None) -> int:
        """Copy a bundle's facilities into the registry once; returns rows added (0 when seeded)."""
        with self._lock:
            if self.is_seeded(region):
                return 0
            rows = [self.record_from_row(r) for _, r in gdf.iterrows()]
            now = now_utc()
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
    def record_from_row(row: Any) -> dict[str, Any]:
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

    def get(self, region: str, fid: str) -> tuple[dict[str, Any], int] | None:
        """(record, version) of one facility, or None."""
        with self._lock:
            r = self._db.execute(
                "SELECT record, version FROM facilities WHERE region=? AND id=?", (region, fid)
            ).fetchone()
        return (json.loads(r["record"]), int(r["version"])) if r else None

    def find(self, fid: str) -> list[tuple[str, dict[str, Any]]]:
        """(region, record) for every region holding facility ``fid``."""
        with self._lock:
            rows = self._db.execute("SELECT region, record FROM facilities WHERE id=?", (fid,)).fetchall()
        return [(r["region"], json.loads(r["record"])) for r in rows]

    def region_versions(self) -> dict[str, int]:
        """Edits so far per region (one small read: every request of every worker makes it)."""
        with self._lock:
            return {r[0]: int(r[1]) for r in self._db.execute("SELECT region, version FROM region_versions")}

    def edit(
        self,
        region: str,
        fid: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
        *,
        actor: ApiKey,
        action: str,
        if_version: int | None = None,
    ) -> Edit:
        """Apply ``change`` (record before → record after, None to delete) in one transaction with
        its audit row, so concurrent editors never lose each other's changes.

        ``action`` is create (the id must be new), update / patch / delete (it must exist);
        ``if_version`` (from If-Match) must be the current version or nothing changes (412)."""
        with self._transaction():
            row = self._db.execute(
                "SELECT record, version FROM facilities WHERE region=? AND id=?", (region, fid)
            ).fetchone()
            before = json.loads(row["record"]) if row else None
            version = int(row["version"]) if row else 0
            if action == "create" and row is not None:
                raise ConflictError("id", f"facility {fid!r} already exists in region {region!r}")
            if action != "create" and row is None:
                raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
            if if_version is not None and if_version != version:
                raise PreconditionFailed(
                    "If-Match",
                    f"facility {fid!r} is at version {version}, not {if_version}; read it again and redo the change",
                )
            after = change(before)
            if after is None:
                self._db.execute("DELETE FROM facilities WHERE region=? AND id=?", (region, fid))
                new_version = 0
            else:
                new_version = version + 1
                self._db.execute(
                    "INSERT OR REPLACE INTO facilities (region, id, type, record, updated_at, version) "
                    "VALUES (?,?,?,?,?,?)",
                    (region, fid, after["type"], json.dumps(after, ensure_ascii=False), now_utc(), new_version),
                )
            aid = self._append(actor=actor, action=action, region=region, fid=fid, before=before, after=after)
            self._db.execute(
                "INSERT INTO region_versions (region, version) VALUES (?, 1) "
                "ON CONFLICT(region) DO UPDATE SET version = version + 1",
                (region,),
            )
        return Edit(region, before, after, aid, new_version)

    def import_records(self, region: str, records: list[dict[str, Any]], *, actor: ApiKey) -> int:
        """Add many validated records to a region in one transaction, one audit row each (a bulk
        import: all land or none). Ids must be new."""
        with self._transaction():
            for rec in records:
                fid = rec["id"]
                if self._db.execute("SELECT 1 FROM facilities WHERE region=? AND id=?", (region, fid)).fetchone():
                    raise ConflictError("id", f"facility {fid!r} already exists in region {region!r}")
                self._db.execute(
                    "INSERT INTO facilities (region, id, type, record, updated_at, version) VALUES (?,?,?,?,?,1)",
                    (region, fid, rec["type"], json.dumps(rec, ensure_ascii=False), now_utc()),
                )
                self._append(actor=actor, action="create", region=region, fid=fid, before=None, after=rec)
            self._db.execute(
                "INSERT INTO region_versions (region, version) VALUES (?, 1) "
                "ON CONFLICT(region) DO UPDATE SET version = version + 1",
                (region,),
            )
        return len(records)

    def last_change(self, region: str) -> int:
        """Id of the region's latest audit row (0 when never edited): where ``changes_since`` starts."""
        with self._lock:
            r = self._db.execute("SELECT MAX(id) FROM audit WHERE region=?", (region,)).fetchone()
        return int(r[0] or 0)

    def changes_since(self, region: str, after_id: int, limit: int = 1000) -> tuple[list[tuple[str, Any]], int]:
        """The region's edits after audit row ``after_id``, oldest first, as (facility id, record
        after the edit or None when deleted), and the last row id read. At most ``limit`` rows:
        a caller that gets ``limit`` of them should reload the whole region instead."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, facility_id, after FROM audit WHERE region=? AND id>? ORDER BY id LIMIT ?",
                (region, after_id, limit),
            ).fetchall()
        changes = [(r["facility_id"], json.loads(r["after"]) if r["after"] else None) for r in rows]
        return changes, (int(rows[-1]["id"]) if rows else after_id)
