"""The API's counters: failed API-key checks, edits per key, and the cost budget of anonymous
requests, kept in one small SQLite database so that every worker of ``serve --workers N`` counts
against the same limits.

``serve --workers N`` makes the database in a private temporary directory before forking the
workers (each opens its own connection after the fork; SQLite's file locks keep them consistent
and are released if a worker dies); one process (``--workers 1``, tests) keeps it in memory.
The counters are not precious: writes are not synced to disk, and an error of the database
lets the request through (logged) rather than refusing service.

* :class:`SlidingWindow`: at most ``limit`` events per ``window_s`` seconds per name (failed keys
  per address and key prefix, failed keys per address, edits per key).
* :class:`TokenBucket`: a budget of cost units refilled at ``rate_per_s`` up to ``burst`` per
  name (anonymous requests per client address, each costing its request class's units).

Every row is dropped once it no longer matters (older than its window, or a bucket refilled), so
the database stays small: at most one row per event inside a window and one per client whose
budget is not full.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...service.settings import Settings

log = logging.getLogger(__name__)

MAX_TRACKED = 10_000  # names one window remembers at most; the least recently seen are forgotten
PRUNE_EVERY = 500  # bucket operations between two sweeps of refilled buckets
BUCKET_WAIT_S = 0.005  # the budget is taken on the event loop: never wait longer for the counters
COUNTERS_FILE = "counters.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (ns TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_name ON events (ns, name, at)",
    "CREATE TABLE IF NOT EXISTS buckets (ns TEXT NOT NULL, name TEXT NOT NULL, tat REAL NOT NULL, "
    "PRIMARY KEY (ns, name)) WITHOUT ROWID",
)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the database (SQLITE_BUSY / SQLITE_LOCKED)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


class CounterStore:
    """The counters' database: a file shared by processes (``path``), else private memory.

    One connection per process (opened again after a fork), used under a lock by the threads of
    that process; read-modify-write steps run in ``BEGIN IMMEDIATE`` transactions, so two
    processes never both take the last unit of a budget."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._failed_at = 0.0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # a connection never crosses a fork: the child opens its own (the parent's is left alone)
            self._lock = threading.Lock()
            conn = sqlite3.connect(self.path or ":memory:", timeout=2.0, isolation_level=None, check_same_thread=False)
            if self.path:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            for stmt in _SCHEMA:
                conn.execute(stmt)
            # SQLite's own busy handler sleeps 1, 2, 5, 10... ms: run() waits for the lock itself
            conn.execute("PRAGMA busy_timeout=0")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def run(self, step: Callable[[sqlite3.Connection], float], default: float = 0.0, wait_s: float = 1.0) -> float:
        """``step(connection)`` in one write transaction; ``default`` (let the request through)
        if the database fails, or another process holds it for more than ``wait_s`` (a step
        takes tens of microseconds: the wait is polled every 0.1-2 ms), logged at most once a
        minute."""
        deadline = time.monotonic() + wait_s
        pause = 0.0001
        while True:
            try:
                with self._lock:
                    conn = self._db()
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        out = step(conn)
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                    return out
            except sqlite3.OperationalError as exc:
                if _busy(exc) and time.monotonic() < deadline:
                    time.sleep(pause)
                    pause = min(2 * pause, 0.002)
                    continue
                return self._unavailable(exc, default)
            except sqlite3.Error as exc:
                return self._unavailable(exc, default)

    def _unavailable(self, exc: Exception, default: float) -> float:
        now = time.monotonic()
        if now - self._failed_at > 60:
            self._failed_at = now
            log.error("rate-limit counters unavailable (%s); requests are let through", exc)
        return default

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read (tests, diagnostics)."""
        with self._lock:
            return self._db().execute(sql, args).fetchall()


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds per name, counted in ``store`` under
    ``namespace``; at most ``max_names`` names are kept (least recently seen dropped first), each
    with at most ``limit`` timestamps. ``clock`` must be the same in every process sharing the
    store (``time.monotonic`` is system-wide on Linux)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        store: CounterStore | None = None,
        namespace: str = "window",
        max_names: int = MAX_TRACKED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.store = store if store is not None else CounterStore()
        self.ns = namespace
        self.max_names = max_names
        self.clock = clock

    def __len__(self) -> int:
        now = self.clock()
        rows = self.store.query(
            "SELECT COUNT(DISTINCT name) FROM events WHERE ns=? AND at>?", (self.ns, now - self.window_s)
        )
        return int(rows[0][0])

    def count(self, name: str) -> int:
        """Events of ``name`` still remembered (at most ``limit``)."""
        return int(self.store.query("SELECT COUNT(*) FROM events WHERE ns=? AND name=?", (self.ns, name))[0][0])

    def _wait(self, q: sqlite3.Connection, name: str, now: float) -> float:
        row = q.execute(
            "SELECT at FROM events WHERE ns=? AND name=? AND at>? ORDER BY at DESC LIMIT 1 OFFSET ?",
            (self.ns, name, now - self.window_s, self.limit - 1),
        ).fetchone()
        return 0.0 if row is None else max(row[0] + self.window_s - now, 0.001)

    def _add(self, q: sqlite3.Connection, name: str, now: float) -> None:
        q.execute("INSERT INTO events (ns, name, at) VALUES (?,?,?)", (self.ns, name, now))
        # this name: only its last `limit` events matter; everyone: only the window
        q.execute(
            "DELETE FROM events WHERE ns=? AND name=? AND rowid NOT IN (SELECT rowid FROM events "
            "WHERE ns=? AND name=? ORDER BY at DESC, rowid DESC LIMIT ?)",
            (self.ns, name, self.ns, name, self.limit),
        )
        q.execute("DELETE FROM events WHERE ns=? AND at<=?", (self.ns, now - self.window_s))
        (names,) = q.execute("SELECT COUNT(DISTINCT name) FROM events WHERE ns=?", (self.ns,)).fetchone()
        if names > self.max_names:  # the least recently seen names are forgotten
            q.execute(
                "DELETE FROM events WHERE ns=? AND name IN (SELECT name FROM events WHERE ns=? GROUP BY name "
                "ORDER BY MAX(at), MAX(rowid) LIMIT ?)",
                (self.ns, self.ns, names - self.max_names),
            )

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may act again; 0 when it is under the limit now."""
        now = self.clock()
        return self.store.run(lambda q: self._wait(q, name, now))

    def record(self, name: str) -> None:
        """Count one event of ``name`` (even over the limit)."""
        now = self.clock()

        def step(q: sqlite3.Connection) -> float:
            self._add(q, name, now)
            return 0.0

        self.store.run(step)

    def acquire(self, name: str) -> float:
        """Count one event of ``name`` if it is under the limit and return 0; else count nothing
        and return the seconds to wait."""
        now = self.clock()

        def step(q: sqlite3.Connection) -> float:
            wait = self._wait(q, name, now)
            if wait == 0.0:
                self._add(q, name, now)
            return wait

        return self.store.run(step)


class TokenBucket:
    """A budget of ``burst`` cost units per name, refilled at ``rate_per_s`` (GCRA: one
    "theoretical arrival time" per name); a name whose budget is full has no row."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        store: CounterStore | None = None,
        namespace: str = "bucket",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.store = store if store is not None else CounterStore()
        self.ns = namespace
        self.clock = clock
        self._ops = 0

    def take(self, name: str, cost: float) -> float:
        """Spend ``cost`` units of ``name``'s budget and return 0; if it has not that much left,
        spend nothing and return the seconds until it has."""
        if cost <= 0:
            return 0.0
        now = self.clock()
        cost = min(cost, self.burst)  # a request dearer than the whole budget waits for a full one
        self._ops += 1
        prune = self._ops % PRUNE_EVERY == 0

        def step(q: sqlite3.Connection) -> float:
            if prune:
                q.execute("DELETE FROM buckets WHERE ns=? AND tat<=?", (self.ns, now))
            row = q.execute("SELECT tat FROM buckets WHERE ns=? AND name=?", (self.ns, name)).fetchone()
            tat = max(row[0] if row else now, now)
            new = tat + cost / self.rate_per_s
            over = new - now - self.burst / self.rate_per_s
            if over > 1e-9:
                return over
            q.execute("INSERT OR REPLACE INTO buckets (ns, name, tat) VALUES (?,?,?)", (self.ns, name, new))
            return 0.0

        return self.store.run(step, wait_s=BUCKET_WAIT_S)

    def left(self, name: str) -> float:
        """Units ``name`` may spend now."""
        now = self.clock()
        rows = self.store.query("SELECT tat FROM buckets WHERE ns=? AND name=?", (self.ns, name))
        tat = max(rows[0][0] if rows else now, now)
        return max(self.burst - (tat - now) * self.rate_per_s, 0.0)


class Limits:
    """The API's limits, one set per app (``app.state.limits``), counted in ``shared`` (a file
    every worker opens) or, without it, in this process's memory."""

    def __init__(self, settings: Settings, shared: Path | str | None = None) -> None:
        self.store = CounterStore(shared)
        window = settings.server.failed_key_window_s
        # wrong keys: per (address, key prefix) and, more generously, per address; a valid key
        # is never refused by either (see deps._current_key)
        self.failed_keys = SlidingWindow(
            settings.server.failed_key_limit, window, store=self.store, namespace="failed_key"
        )
        self.failed_addresses = SlidingWindow(
            settings.server.failed_keys_per_address, window, store=self.store, namespace="failed_address"
        )
        self.writes = SlidingWindow(settings.server.writes_per_minute, 60.0, store=self.store, namespace="writes")
        self.public = TokenBucket(
            settings.server.public_rate_per_s, settings.server.public_burst, store=self.store, namespace="public"
        )

    @property
    def shared(self) -> str | None:
        """The counters' file, None when they are this process's own."""
        return self.store.path

    def set_clock(self, clock: Callable[[], float]) -> None:
        """One clock for every counter (tests)."""
        for c in (self.failed_keys, self.failed_addresses, self.writes, self.public):
            c.clock = clock
