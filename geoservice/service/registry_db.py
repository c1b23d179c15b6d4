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
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Database", "Session", "SqliteDatabase", "load_json", "is_database_url"]

Row = Mapping[str, Any]


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
    def setup(self, statements: Sequence[str], migrations: Sequence[tuple[str, str, str]]) -> None:
        """Create the schema (``statements`` formatted with :attr:`types`, then this database's own
        extras) and add the ``(table, column, declaration)`` columns missing from older ones."""

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
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if not memory:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._session = _SqliteSession(self._db)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._lock:
            yield self._session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """BEGIN IMMEDIATE ... COMMIT under the lock (other processes write to the same file);
        ROLLBACK on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._session
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def setup(self, statements: Sequence[str], migrations: Sequence[tuple[str, str, str]]) -> None:
        with self.write() as q:
            for st in statements:
                q.run(st.format(**self.types))
            for table, column, decl in migrations:  # registries written by earlier versions
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
