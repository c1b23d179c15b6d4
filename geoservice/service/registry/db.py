"""The database under the registry: one small interface (:class:`Database`, :class:`Session`)
with an embedded SQLite implementation here and PostgreSQL + PostGIS in ``registry_pg``.

The registry's logic (facilities, audit, keys) is written once against this interface, in SQL that
both databases accept (``?`` placeholders, ``INSERT ... ON CONFLICT ... DO UPDATE``); what differs
is here and in ``registry_pg``: column types and identity columns in the schema, the append-only
triggers, how a writer takes the write lock, and connection handling.

* ``read()``: a session for reads (autocommit).
* ``write()``: one transaction holding the registry's write lock (``BEGIN IMMEDIATE`` in SQLite,
  ``LOCK TABLE audit IN EXCLUSIVE MODE`` in PostgreSQL): writers are serialised, so an edit and
  its audit row land together and the audit's hash chain never forks; readers are not blocked.
* ``query(fn)`` / ``transact(fn)``: ``fn(session)`` in a read session / a write transaction, run
  again (up to :data:`RETRIES` times, jittered backoff) after a *transient* database error, one
  after which nothing was written: a deadlock or serialization failure (the transaction was rolled
  back), a connection that broke before the commit was sent (the pool opens a new one). A
  connection broken while committing is not retried (the edit may have landed). What cannot be
  retried, or keeps failing, is an :class:`~geoservice.errors.UnavailableError`: 503 with
  ``Retry-After`` in the API, one line and exit status 75 in the CLI, never a 500.
* ``schema_version()`` / ``migrate(migrations)``: the registry's schema is versioned
  (``schema_version`` table, ``service.registry.schema``); migrations run one at a time across
  processes, each in its own transaction.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ...errors import UnavailableError

__all__ = [
    "Database",
    "Session",
    "SqliteDatabase",
    "Migration",
    "TransientError",
    "load_json",
    "is_database_url",
    "RETRIES",
    "now_utc",
]

log = logging.getLogger(__name__)

Row = Mapping[str, Any]
T = TypeVar("T")

RETRIES = 4
"""Tries after the first for a unit of work that failed with a transient database error."""
BACKOFF_S = 0.05
"""The first pause before trying again; doubled each time, with jitter (0.05 → ~0.8 s in all)."""

SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


class TransientError(UnavailableError):
    """A database error after which nothing was written: running the same unit again is safe when
    ``retry`` is true (False: the connection broke while committing, so the outcome is unknown, or
    the database already waited its own timeout)."""

    def __init__(self, message: str, *, retry: bool, retry_after: int = 1) -> None:
        super().__init__("db", message, retry_after=retry_after)
        self.retry = retry


@dataclass(frozen=True)
class Migration:
    """One step of the registry's schema: ``apply(database, session)`` inside the transaction that
    also records ``version`` in ``schema_version``. Versions run 1, 2, … with no gap; a migration
    once released is never edited (a change to the schema is a new migration)."""

    version: int
    name: str
    apply: Callable[[Database, Session], None]


def backoff_s(attempt: int) -> float:
    """The pause before try ``attempt + 2``: exponential from :data:`BACKOFF_S`, with full jitter
    over its upper half (processes that collided do not collide again in step)."""
    top = BACKOFF_S * 2.0**attempt
    return top / 2 + random.random() * top / 2


def now_utc() -> str:
    """The time now, UTC, to the second, as ``2026-01-31T12:00:00Z`` (what the registry stores)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def load_json(value: Any) -> Any:
    """A JSON column's value: text (SQLite, PostgreSQL ``text``) is parsed, jsonb comes parsed."""
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str | bytes) else value


def is_database_url(target: str | Path) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(target, str) and target.split("://", 1)[0] in ("postgresql", "postgres")


class Session(ABC):
    """Statements on one connection, with ``?`` placeholders; rows are read by column name."""

    @abstractmethod
    def _execute(self, sql: str, args: Sequence[Any]) -> Any: ...

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(self._execute(sql, args).fetchall())

    def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._execute(sql, args).fetchone()
        return row

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Execute; the number of rows changed."""
        return int(self._execute(sql, args).rowcount)

    @abstractmethod
    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def insert(self, sql: str, args: Sequence[Any]) -> int:
        """Execute an INSERT into a table with an ``id`` identity column; the new row's id."""


class Database(ABC):
    """Where the registry lives (see the module docstring)."""

    kind: str
    """``sqlite`` or ``postgresql``: which list of migrations applies."""
    location: str
    """For messages: the file, or the URL without its password."""
    path: Path | None = None
    """The SQLite file (None for PostgreSQL)."""
    types: Mapping[str, str]
    """Schema words that differ: ``id`` (an identity primary key), ``json`` (a record column) and
    ``unlogged`` (a table of short-lived rows kept out of the write-ahead log where possible)."""
    row_order: str
    """The column giving the facilities' insertion order."""
    integrity_error: type[Exception]
    append_only_error: type[Exception]

    @abstractmethod
    def read(self) -> Any:
        """Context manager: a :class:`Session` for reads."""

    @abstractmethod
    def write(self) -> Any:
        """Context manager: a :class:`Session` in one transaction holding the write lock."""

    @abstractmethod
    def snapshot(self) -> Any:
        """Context manager: a :class:`Session` in one read-only transaction (one snapshot)."""

    # ------------------------------------------------------------------ retried units
    def query(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in a read session, run again after a transient error (reads are idempotent)."""
        return self._retrying(self.read, fn)

    def in_snapshot(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` reading one consistent snapshot of the database (several tables read as
        of one moment, without the write lock: edits go on), run again after a transient error."""
        return self._retrying(self.snapshot, fn)

    def transact(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in one write transaction, run again from the start after a transient error
        (the transaction was rolled back). ``fn`` must touch nothing but the database."""
        return self._retrying(self.write, fn)

    def _retrying(self, open_session: Callable[[], AbstractContextManager[Session]], fn: Callable[[Session], T]) -> T:
        attempt = 0
        while True:
            try:
                with open_session() as q:
                    return fn(q)
            except TransientError as e:
                if not e.retry:
                    raise
                if attempt >= RETRIES:
                    raise UnavailableError(
                        "db", f"{e.message} ({attempt + 1} tries); try again", retry_after=e.extra["retry_after"]
                    ) from e
                log.info("registry %s: %s; trying again", self.location, e.message)
                time.sleep(backoff_s(attempt))
                attempt += 1

    def _transient(self, e: Exception, **how: Any) -> TransientError | None:
        """``e`` as a :class:`TransientError` when it is one (None: a real error, let through)."""
        return None

    # ------------------------------------------------------------------ schema
    @abstractmethod
    def schema_version(self) -> int | None:
        """The registry's schema version: None when the database holds no registry yet (nothing was
        created), 0 for a registry created before versions (tables, no ``schema_version``), else the
        last migration applied."""

    @abstractmethod
    def migrate(self, migrations: Sequence[Migration]) -> list[Migration]:
        """Apply those of ``migrations`` newer than the database, in order, each in its own
        transaction with its ``schema_version`` row, holding a lock that one process at a time
        has (the others wait, then find them applied); the ones this call applied."""

    @abstractmethod
    def add_column(self, q: Session, table: str, column: str, decl: str) -> None:
        """Add ``column`` to ``table`` unless it is there (registries of earlier versions)."""

    @staticmethod
    def _pending(version: int | None, migrations: Sequence[Migration]) -> list[Migration]:
        done = version or 0
        pending = [m for m in migrations if m.version > done]
        for want, m in enumerate(pending, start=done + 1):
            if m.version != want:
                raise ValueError(f"migration {m.version} ({m.name}) follows version {want - 1}: no gap allowed")
        return pending

    @staticmethod
    def _record(q: Session, m: Migration) -> None:
        q.run(SCHEMA_VERSION_TABLE)
        q.run("INSERT INTO schema_version (version, name, applied_at) VALUES (?,?,?)", (m.version, m.name, now_utc()))

    @abstractmethod
    def append_only(self, table: str) -> list[str]:
        """Statements making ``table`` append-only (UPDATE and DELETE refused by triggers)."""

    target: str  # what opens this same database again: the file path or the full URL

    @abstractmethod
    def env(self) -> dict[str, str]:
        """The GEOSERVICE_* variables that make another process open this same registry."""

    @abstractmethod
    def close(self) -> None: ...


# ---------------------------------------------------------------------------------- SQLite
class _SqliteSession(Session):
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def _execute(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(args))

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        cur = self._conn.execute(sql, tuple(args))
        assert cur.lastrowid is not None
        return int(cur.lastrowid)


class SqliteDatabase(Database):
    """One embedded SQLite file (WAL, shared by processes), created owner-only (0600); one
    connection guarded by a lock in this process."""

    kind = "sqlite"
    types = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "json": "TEXT", "unlogged": ""}
    row_order = "rowid"
    integrity_error = sqlite3.IntegrityError
    append_only_error = sqlite3.DatabaseError

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = self.target = str(path)
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # owner-only from the start, before SQLite writes a byte
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.RLock()
        # the busy wait (10 s) from the first statement on: switching a new file to WAL takes a lock
        # another process's (or thread's) first migration may hold for seconds on a loaded machine
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=10000")
        if not memory:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as e:
                self._db.close()
                t = self._transient(e)
                if t is None:
                    raise
                raise t from e
        self._session = _SqliteSession(self._db)

    def _transient(self, e: Exception, **how: Any) -> TransientError | None:
        """SQLite's "database is locked" / "busy": another process held the file past ``busy_timeout``
        (10 s, already waited: not tried again here)."""
        text = str(e).lower()
        if "locked" in text or "busy" in text:
            return TransientError(f"the registry {self.location} is busy ({e})", retry=False, retry_after=5)
        return None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._lock:
            try:
                yield self._session
            except sqlite3.OperationalError as e:
                t = self._transient(e)
                if t is None:
                    raise
                raise t from e

    @contextmanager
    def write(self) -> Iterator[Session]:
        """BEGIN IMMEDIATE ... COMMIT under the lock (other processes write to the same file);
        ROLLBACK on any error."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._session
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as e:
                t = self._transient(e)
                if t is None:
                    raise
                raise t from e

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A deferred transaction: in WAL mode its first read fixes what it sees, writers go on."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                try:
                    yield self._session
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.OperationalError as e:
                t = self._transient(e)
                if t is None:
                    raise
                raise t from e

    def schema_version(self) -> int | None:
        with self.read() as q:
            return self._version(q)

    @staticmethod
    def _version(q: Session) -> int | None:
        names = {r["name"] for r in q.all("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" in names:
            row = q.one("SELECT MAX(version) AS v FROM schema_version")
            return int((row and row["v"]) or 0)
        return 0 if "facilities" in names else None

    def migrate(self, migrations: Sequence[Migration]) -> list[Migration]:
        """Each migration in its own BEGIN IMMEDIATE transaction (one writer at a time across
        processes), the version read again inside it."""
        applied = []
        for m in self._pending(self.schema_version(), migrations):
            with self.write() as q:
                if (self._version(q) or 0) >= m.version:
                    continue  # another process applied it meanwhile
                m.apply(self, q)
                self._record(q, m)
            applied.append(m)
        return applied

    def add_column(self, q: Session, table: str, column: str, decl: str) -> None:
        cols = {r["name"] for r in q.all(f"PRAGMA table_info({table})")}
        if cols and column not in cols:
            q.run(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def append_only(self, table: str) -> list[str]:
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the {table} log is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]

    def env(self) -> dict[str, str]:
        # an empty GEOSERVICE_DATABASE_URL: a PostgreSQL URL in the environment does not win over the file
        return {"GEOSERVICE_DB_PATH": str(Path(self.location).resolve()), "GEOSERVICE_DATABASE_URL": ""}

    def close(self) -> None:
        with self._lock:
            self._db.close()
