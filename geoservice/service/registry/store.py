"""Facility registry: facilities with versions, the audit log (``audit_log``) and API keys
(``api_keys``), in an embedded SQLite file (the default) or in PostgreSQL + PostGIS (production,
``GEOSERVICE_DATABASE_URL=postgresql://…``): :func:`open_registry` picks one. The logic is written
once here against ``registry_db.Database``; the SQL that differs lives in ``registry_db``
(SQLite) and ``registry_pg`` (PostgreSQL).

* ``facilities``: the facility rows of every served region (the columns of
  :data:`geoservice.sources.schema.COLUMNS`), seeded from the region bundle the first time a
  region is served; afterwards the registry, not the bundle, is the source of truth. Each row has
  a ``version`` (1 when created, +1 per edit): the API's ETag, checked against ``If-Match``.
* ``region_versions``: +1 per edit of a region, so every process (uvicorn worker, CLI) reloads
  exactly the regions that changed since it last looked.
* ``responder_positions``: live responder positions for dispatch, never audited, deleted once
  past their TTL (``service.responders``).
* A SQLite file is created readable by its owner only (0600).
* The schema is versioned (``registry_schema``): opening a registry runs no schema statement
  unless it is told to migrate (``serve``'s master, ``geoservice db migrate``) or the database
  has no registry yet; a worker or a read-only command only checks the version.
* Every unit of work is retried after a transient database error (``Database.query`` /
  ``Database.transact``); an edit is replayed from its read of the current record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ...errors import ConflictError, GeoserviceError, NotFoundError
from ...sources.cell_values import plain_value
from ...sources.schema import COLUMNS
from .api_keys import EDIT_ROLES, ROLES, ApiKey, KeyStore, RegistryError, hash_key, now_utc
from .audit_log import AuditCheck, AuditLog, append_seed
from .db import Database, Session, SqliteDatabase, is_database_url, load_json
from .schema import current_version, ensure_schema, migrate, pending

__all__ = [
    "Registry",
    "open_registry",
    "Edit",
    "layer_from_records",
    "ApiKey",
    "RegistryError",
    "ROLES",
    "EDIT_ROLES",
    "AuditCheck",
    "hash_key",
    "PreconditionFailed",
    "migrate_registry",
    "schema_status",
]

# one statement for create and replace, in both databases; an edited facility keeps its place
_UPSERT = (
    "INSERT INTO facilities (region, id, type, record, updated_at, version) VALUES (?,?,?,?,?,?) "
    "ON CONFLICT (region, id) DO UPDATE SET type=excluded.type, record=excluded.record, "
    "updated_at=excluded.updated_at, version=excluded.version"
)
_BUMP = (
    "INSERT INTO region_versions (region, version) VALUES (?, 1) "
    "ON CONFLICT (region) DO UPDATE SET version = region_versions.version + 1"
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


def _number(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def layer_from_records(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Registry records → the facility GeoDataFrame the engine expects (same dtypes as import).

    Built column by column from plain lists (an edit turns one record into a table on the hot
    path of every worker: no per-cell pandas work)."""
    cols: dict[str, Any] = {}
    for c in COLUMNS:
        values = [r.get(c) for r in records]
        if c in ("door_to_needle_min", "capacity", "lon", "lat"):
            cols[c] = np.array([_number(v) for v in values], dtype="float64")
        elif c == "demo":
            cols[c] = np.array([bool(v) if v is not None and v == v else False for v in values], dtype=bool)
        else:
            cols[c] = pd.Series([None if v is None or v != v else v for v in values], dtype=object)
    df = pd.DataFrame(cols, columns=list(COLUMNS))
    geom = gpd.points_from_xy(cols["lon"], cols["lat"])
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def _sqlite_path(target: str | Path) -> Path:
    text = str(target)
    return Path(text[len("sqlite://") :] if text.startswith("sqlite:///") else target)


def _database(target: str | Path) -> Database:
    if is_database_url(str(target)):
        from .pg import PostgresDatabase  # lazy: psycopg is needed only with a PostgreSQL registry

        return PostgresDatabase(str(target))
    return SqliteDatabase(_sqlite_path(target))


def open_registry(target: str | Path, *, create: bool = True, schema: str | None = None) -> Registry | None:
    """The registry at ``target``: a ``postgresql://`` URL, else a SQLite file path. With
    ``create=False`` (read-only commands) a registry that does not exist yet is not created (None)
    and the schema is only checked. ``schema`` overrides what is done with the schema
    (``migrate`` / ``create`` / ``check``, see ``registry_schema``)."""
    if not create and not is_database_url(str(target)) and not _sqlite_path(target).is_file():
        return None
    db = _database(target)
    try:
        if not create and db.schema_version() is None:
            db.close()
            return None
    except BaseException:
        db.close()
        raise
    return Registry(db, schema=schema or ("create" if create else "check"))


def schema_status(target: str | Path) -> tuple[str, int | None, int, list[str]]:
    """(location, the registry's schema version (None: no registry), this code's version, the
    migrations pending). Nothing is created (a SQLite file that is not there is no registry)."""
    if not is_database_url(str(target)) and not _sqlite_path(target).is_file():
        return str(target), None, 0, []
    db = _database(target)
    try:
        todo = [f"{m.version} {m.name}" for m in pending(db)]
        return db.location, db.schema_version(), current_version(db), todo
    finally:
        db.close()


def migrate_registry(target: str | Path) -> tuple[str, int | None, list[str], int]:
    """Apply the pending migrations to the registry at ``target`` (creating it when there is none):
    (its location, the version before (None: no registry), the migrations applied, the version now)."""
    db = _database(target)
    try:
        before, applied = migrate(db)
        return db.location, before, [f"{m.version} {m.name}" for m in applied], int(db.schema_version() or 0)
    finally:
        db.close()


class Registry(KeyStore, AuditLog):
    """The one registry interface over either database; thread-safe (SQLite: one connection
    under a lock, WAL on disk shared by processes; PostgreSQL: a connection pool)."""

    def __init__(self, target: str | Path | Database, *, schema: str = "create"):
        """``schema``: ``create`` (the default) creates the registry where the database has none
        and otherwise checks its version; ``migrate`` applies pending migrations; ``check`` only
        checks (a forked worker, a read-only command). See ``registry_schema``."""
        self._db = target if isinstance(target, Database) else _database(target)
        try:
            ensure_schema(self._db, schema)
        except BaseException:
            self._db.close()
            raise

    @property
    def db(self) -> Database:
        return self._db

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        return self._db.path

    @property
    def location(self) -> str:
        """Where the registry is, for messages: the file, or the URL without its password."""
        return self._db.location

    def env(self) -> dict[str, str]:
        """GEOSERVICE_* variables that make another process (a uvicorn worker) open this registry."""
        return self._db.env()

    def close(self) -> None:
        self._db.close()

    def reopened(self) -> Registry:
        """A new connection (pool) to this same registry, e.g. in a forked worker: the schema is
        only checked (the process that opened this one created or migrated it)."""
        return Registry(self._db.target, schema="check")

    # ------------------------------------------------------------------ facilities
    def is_seeded(self, region: str) -> bool:
        return self._db.query(lambda q: q.one("SELECT 1 AS one FROM regions WHERE name=?", (region,))) is not None

    def seed(self, region: str, gdf: gpd.GeoDataFrame, bundle_created: str | None = None) -> int:
        """Copy a bundle's facilities into the registry once, with a seed chained into the audit
        (their digests: ``audit verify`` checks them); returns rows added (0 when seeded)."""
        if self.is_seeded(region):
            return 0
        rows = [self.record_from_row(r) for _, r in gdf.iterrows()]
        now = now_utc()

        def write(q: Session) -> int:  # another server process may be seeding too
            if q.one("SELECT 1 AS one FROM regions WHERE name=?", (region,)):
                return 0
            q.many(_UPSERT, [(region, r["id"], r["type"], json.dumps(r, ensure_ascii=False), now, 1) for r in rows])
            q.run("INSERT INTO regions (name, bundle_created, seeded_at) VALUES (?,?,?)", (region, bundle_created, now))
            append_seed(q, region, f"bundle {bundle_created or 'of unknown date'}", rows)
            return len(rows)

        return self._db.transact(write)

    @staticmethod
    def record_from_row(row: Any) -> dict[str, Any]:
        rec = {c: plain_value(row.get(c)) for c in COLUMNS if c not in ("lon", "lat")}
        geom = row.get("geometry")
        rec["lon"] = float(geom.x) if geom is not None else plain_value(row.get("lon"))
        rec["lat"] = float(geom.y) if geom is not None else plain_value(row.get("lat"))
        rec["demo"] = bool(rec.get("demo") or False)
        return rec

    def records(self, region: str) -> list[dict[str, Any]]:
        sql = f"SELECT record FROM facilities WHERE region=? ORDER BY {self._db.row_order}"
        rows = self._db.query(lambda q: q.all(sql, (region,)))
        return [load_json(r["record"]) for r in rows]

    def get(self, region: str, fid: str) -> tuple[dict[str, Any], int] | None:
        """(record, version) of one facility, or None."""
        r = self._db.query(
            lambda q: q.one("SELECT record, version FROM facilities WHERE region=? AND id=?", (region, fid))
        )
        return (load_json(r["record"]), int(r["version"])) if r else None

    def find(self, fid: str) -> list[tuple[str, dict[str, Any]]]:
        """(region, record) for every region holding facility ``fid``."""
        sql = "SELECT region, record FROM facilities WHERE id=? ORDER BY region"
        rows = self._db.query(lambda q: q.all(sql, (fid,)))
        return [(r["region"], load_json(r["record"])) for r in rows]

    def region_versions(self) -> dict[str, int]:
        """Edits so far per region (one small read: every request of every worker makes it)."""
        rows = self._db.query(lambda q: q.all("SELECT region, version FROM region_versions"))
        return {r["region"]: int(r["version"]) for r in rows}

    def edit(
        self,
        region: str,
        fid: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
        *,
        actor: ApiKey,
        action: str,
        if_version: int | frozenset[int] | None = None,
    ) -> Edit:
        """Apply ``change`` (record before → record after, None to delete) in one transaction with
        its audit row, so concurrent editors never lose each other's changes.

        ``action`` is create (the id must be new), update / patch / delete (it must exist);
        ``if_version`` (from If-Match: one version, or those of a list of ETags) must be (hold) the
        current version or nothing changes (412).
        After a transient database error the whole unit runs again: ``change`` must be a function
        of the record before only."""

        def write(q: Session) -> Edit:
            row = q.one("SELECT record, version FROM facilities WHERE region=? AND id=?", (region, fid))
            before = load_json(row["record"]) if row else None
            version = int(row["version"]) if row else 0
            if action == "create" and row is not None:
                raise ConflictError("id", f"facility {fid!r} already exists in region {region!r}")
            if action != "create" and row is None:
                raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
            wanted = {if_version} if isinstance(if_version, int) else if_version
            if wanted is not None and version not in wanted:
                asked = ", ".join(map(str, sorted(wanted)))
                raise PreconditionFailed(
                    "If-Match",
                    f"facility {fid!r} is at version {version}, not {asked}; read it again and redo the change",
                )
            after = change(before)
            if after is None:
                q.run("DELETE FROM facilities WHERE region=? AND id=?", (region, fid))
                new_version = 0
            else:
                new_version = version + 1
                q.run(
                    _UPSERT, (region, fid, after["type"], json.dumps(after, ensure_ascii=False), now_utc(), new_version)
                )
            aid = self._append(q, actor=actor, action=action, region=region, fid=fid, before=before, after=after)
            q.run(_BUMP, (region,))
            return Edit(region, before, after, aid, new_version)

        return self._db.transact(write)

    def import_records(self, region: str, records: list[dict[str, Any]], *, actor: ApiKey) -> int:
        """Add many validated records to a region in one transaction, one audit row each (a bulk
        import: all land or none). Ids must be new."""

        def write(q: Session) -> int:
            for rec in records:
                fid = rec["id"]
                if q.one("SELECT 1 AS one FROM facilities WHERE region=? AND id=?", (region, fid)):
                    raise ConflictError("id", f"facility {fid!r} already exists in region {region!r}")
                q.run(_UPSERT, (region, fid, rec["type"], json.dumps(rec, ensure_ascii=False), now_utc(), 1))
                self._append(q, actor=actor, action="create", region=region, fid=fid, before=None, after=rec)
            q.run(_BUMP, (region,))
            return len(records)

        return self._db.transact(write)

    def last_change(self, region: str) -> int:
        """Id of the region's latest audit row (0 when never edited): where ``changes_since`` starts."""
        r = self._db.query(lambda q: q.one("SELECT MAX(id) AS last FROM audit WHERE region=?", (region,)))
        return int((r and r["last"]) or 0)

    def changes_since(self, region: str, after_id: int, limit: int = 1000) -> tuple[list[tuple[str, Any]], int]:
        """The region's edits after audit row ``after_id``, oldest first, as (facility id, record
        after the edit or None when deleted), and the last row id read. At most ``limit`` rows:
        a caller that gets ``limit`` of them should reload the whole region instead."""
        rows = self._db.query(
            lambda q: q.all(
                "SELECT id, facility_id, after FROM audit WHERE region=? AND id>? ORDER BY id LIMIT ?",
                (region, after_id, limit),
            )
        )
        changes = [(r["facility_id"], load_json(r["after"])) for r in rows]
        return changes, (int(rows[-1]["id"]) if rows else after_id)
