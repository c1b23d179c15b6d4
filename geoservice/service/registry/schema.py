"""The registry's schema, versioned: an ordered list of migrations per database (SQLite and
PostgreSQL + PostGIS), the ``schema_version`` table recording those applied, and when they run.

Schema statements run once, as migrations, never as a side effect of opening a registry in a busy
process (a forked worker's ``CREATE INDEX IF NOT EXISTS`` deadlocked with a live edit holding the
audit lock, issue 18):

* ``migrate``: ``geoservice db migrate``, ``serve`` (its master, before it forks workers) and a
  registry created for the first time (a database with no registry tables at all) apply the pending
  migrations, one process at a time (``Database.migrate``: a PostgreSQL advisory lock, SQLite's
  BEGIN IMMEDIATE);
* ``create``: commands that write (``apikey``) and the service opened by code create a registry
  where there is none, and otherwise only check the version;
* ``check``: workers and read-only commands read the version and, when the database is behind,
  stop with one line naming ``geoservice db migrate``.

A registry created before versions (its tables, no ``schema_version``) is at version 0: migration
1 is the schema as that code created it, written with IF NOT EXISTS and adding the columns earlier
versions lacked, so it adopts such a database as it is. A migration once released is never edited:
a change to the schema is a new migration at the end of both lists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ...errors import GeoserviceError
from .api_keys import KEYS_SCHEMA
from .audit_log import AUDIT_SCHEMA, SEEDS_SCHEMA, adopt_unseeded
from .db import RETRIES, Database, Migration, Session, TransientError, backoff_s
from .responders import RESPONDERS_SCHEMA

__all__ = ["MIGRATIONS", "SCHEMA_MODES", "current_version", "ensure_schema", "migrate", "migrations_for", "pending"]

SCHEMA_MODES = ("migrate", "create", "check")

# --------------------------------------------------------------------- version 1: the registry tables
REGISTRY_TABLES = (
    "CREATE TABLE IF NOT EXISTS regions (name TEXT PRIMARY KEY, bundle_created TEXT, seeded_at TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS facilities (
    region TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    record {json} NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (region, id)
)""",
    "CREATE INDEX IF NOT EXISTS facilities_id ON facilities (id)",
    "CREATE TABLE IF NOT EXISTS region_versions (region TEXT PRIMARY KEY, version INTEGER NOT NULL)",
)
# columns the registries of earlier, unversioned code lacked
ADDED_COLUMNS = (
    ("facilities", "version", "INTEGER NOT NULL DEFAULT 1"),
    ("audit", "prev_hash", "TEXT"),
    ("audit", "hash", "TEXT"),
    ("api_keys", "expires_at", "TEXT"),
)
# PostgreSQL only: the facilities' insertion order and their PostGIS point
PG_FACILITY_COLUMNS = (
    "ALTER TABLE facilities ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED ALWAYS AS IDENTITY",
    "CREATE INDEX IF NOT EXISTS facilities_seq ON facilities (region, seq)",
    "ALTER TABLE facilities ADD COLUMN IF NOT EXISTS geom geometry(Point, 4326) GENERATED ALWAYS AS "
    "(ST_SetSRID(ST_MakePoint((record->>'lon')::float8, (record->>'lat')::float8), 4326)) STORED",
    "CREATE INDEX IF NOT EXISTS facilities_geom ON facilities USING gist (geom)",
)


def _registry_tables(db: Database, q: Session) -> None:
    for st in (*REGISTRY_TABLES, *KEYS_SCHEMA, *AUDIT_SCHEMA, *db.append_only("audit"), *RESPONDERS_SCHEMA):
        q.run(st.format(**db.types))
    for table, column, decl in ADDED_COLUMNS:
        db.add_column(q, table, column, decl)


def _sqlite_registry_tables(db: Database, q: Session) -> None:
    _registry_tables(db, q)


def _pg_registry_tables(db: Database, q: Session) -> None:
    from .pg import PostgresDatabase  # lazy: psycopg is needed only with a PostgreSQL registry

    assert isinstance(db, PostgresDatabase)
    db.ensure_postgis(q)
    _registry_tables(db, q)
    for st in PG_FACILITY_COLUMNS:
        q.run(st)


# --------------------------------------------------------------------- version 2: seeds in the chain
def _audit_seeds(db: Database, q: Session) -> None:
    """The seeds table (append-only, chained with the audit) and, for a registry seeded before it,
    one adopted seed per region holding the facilities no audit row names, as they are now."""
    for st in (*SEEDS_SCHEMA, *db.append_only("audit_seeds")):
        q.run(st.format(**db.types))
    adopt_unseeded(q)


MIGRATIONS: dict[str, tuple[Migration, ...]] = {
    "sqlite": (
        Migration(1, "registry tables", _sqlite_registry_tables),
        Migration(2, "seeds chained with the audit", _audit_seeds),
    ),
    "postgresql": (
        Migration(1, "registry tables, PostGIS point", _pg_registry_tables),
        Migration(2, "seeds chained with the audit", _audit_seeds),
    ),
}


def migrations_for(db: Database) -> tuple[Migration, ...]:
    return MIGRATIONS[db.kind]


def current_version(db: Database) -> int:
    """The schema version this code reads and writes."""
    return migrations_for(db)[-1].version


def migrate(db: Database) -> tuple[int | None, list[Migration]]:
    """Apply the pending migrations (one process at a time); (version before, migrations applied).
    A deadlock with a live edit rolls the migration back and it is tried again."""
    before = _checked_version(db)
    attempt = 0
    while True:
        try:
            return before, db.migrate(migrations_for(db))
        except TransientError as e:
            if not e.retry or attempt >= RETRIES:
                raise
            time.sleep(backoff_s(attempt))
            attempt += 1


def _checked_version(db: Database) -> int | None:
    version = db.schema_version()
    current = current_version(db)
    if version is not None and version > current:
        raise GeoserviceError(
            "db",
            f"the registry {db.location} is at schema version {version}, newer than this geoservice "
            f"knows ({current}): upgrade geoservice",
        )
    return version


def ensure_schema(db: Database, mode: str) -> int | None:
    """Bring the schema to this code's version as ``mode`` allows (see the module docstring); the
    version found. A registry behind that may not be migrated here is a one-line error."""
    if mode not in SCHEMA_MODES:
        raise ValueError(f"schema mode {mode!r}; valid: {', '.join(SCHEMA_MODES)}")
    version = _checked_version(db)
    current = current_version(db)
    if version == current:
        return version
    if mode == "migrate" or (mode == "create" and version is None):
        migrate(db)
        return version
    state = "has no registry tables" if version is None else f"is at schema version {version}"
    raise GeoserviceError(
        "db",
        f"the registry {db.location} {state}, this geoservice needs version {current}: "
        "run 'geoservice db migrate' (with the same --db or GEOSERVICE_DATABASE_URL)",
    )


def pending(db: Database) -> Sequence[Migration]:
    """The migrations this database lacks."""
    version = _checked_version(db) or 0
    return [m for m in migrations_for(db) if m.version > version]
