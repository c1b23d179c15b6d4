"""Live positions of trained responders (volunteers with a ``responder`` key), for dispatch.

A position is a short-lived fact about a person, so it is treated unlike a facility:

* one row per responder (the key's name), replaced by each post; it holds the expiry
  (``posted_at + responder_ttl_s``) and every read or write first deletes the rows past it, so no
  position outlives its TTL by more than the time to the next request;
* it is never audited (no audit row, no version, no region counter) and never reloaded into an
  engine: dispatch reads the current rows at the moment it plans;
* it lives in the registry database, not in a process, so that every ``serve --workers N`` worker
  and the CLI see the same responders: a table of its own (``responder_positions``), UNLOGGED in
  PostgreSQL (kept out of the WAL, replicas and crash recovery; ``pg_dump
  --no-unlogged-table-data`` leaves it out of backups). SQLite frees the deleted rows' pages for
  reuse; a ``.backup`` taken within the TTL holds the positions of that moment.

Writes are single autocommit statements: they never take the registry's write lock, which
serialises facility edits and their audit chain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import GeoserviceError
from .db import Database, Session

__all__ = ["RESPONDERS_SCHEMA", "ResponderPosition", "ResponderStore", "wall_clock"]

RESPONDERS_SCHEMA = (
    """CREATE {unlogged} TABLE IF NOT EXISTS responder_positions (
    responder TEXT PRIMARY KEY,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    available INTEGER NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS responder_positions_expiry ON responder_positions (expires_at)",
)

_PURGE = "DELETE FROM responder_positions WHERE expires_at <= ?"
_UPSERT = (
    "INSERT INTO responder_positions (responder, lon, lat, available, posted_at, expires_at) VALUES (?,?,?,?,?,?) "
    "ON CONFLICT (responder) DO UPDATE SET lon=excluded.lon, lat=excluded.lat, available=excluded.available, "
    "posted_at=excluded.posted_at, expires_at=excluded.expires_at"
)


@dataclass(frozen=True)
class ResponderPosition:
    """Where a responder was (WGS-84) when they last posted, and whether they can take an alert."""

    responder: str
    lon: float
    lat: float
    available: bool
    posted_at: float  # seconds since the epoch
    expires_at: float

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.posted_at)


def _position(r: Mapping[str, Any]) -> ResponderPosition:
    return ResponderPosition(
        str(r["responder"]),
        float(r["lon"]),
        float(r["lat"]),
        bool(r["available"]),
        float(r["posted_at"]),
        float(r["expires_at"]),
    )


def wall_clock() -> float:
    """Seconds since the epoch: the clock expiries are kept by (tests replace it)."""
    return time.time()


class ResponderStore:
    """The responder positions of one registry database (see the module docstring).

    ``clock`` gives seconds since the epoch (default :func:`wall_clock`); every process of one
    registry should keep its clock in time (NTP), since expiries are compared across processes."""

    def __init__(self, db: Database, *, ttl_s: float, clock: Callable[[], float] | None = None) -> None:
        if not ttl_s > 0:
            raise GeoserviceError("responder_ttl_s", f"must be positive, got {ttl_s}")
        self._db = db
        self.ttl_s = float(ttl_s)
        self._clock = clock

    def clock(self) -> float:
        return self._clock() if self._clock is not None else wall_clock()

    def post(self, responder: str, lon: float, lat: float, *, available: bool) -> ResponderPosition:
        """Record (replace) ``responder``'s position; it expires ``ttl_s`` from now."""
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise GeoserviceError("lon", f"must be within [-180, 180], got {lon}")
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise GeoserviceError("lat", f"must be within [-90, 90], got {lat}")
        now = self.clock()
        pos = ResponderPosition(responder, float(lon), float(lat), bool(available), now, now + self.ttl_s)

        def write(q: Session) -> None:  # autocommit statements: no registry write lock, no audit; idempotent
            q.run(_PURGE, (now,))
            q.run(_UPSERT, (pos.responder, pos.lon, pos.lat, int(pos.available), pos.posted_at, pos.expires_at))

        self._db.query(write)
        return pos

    def remove(self, responder: str) -> bool:
        """Forget ``responder``'s position now (going off duty); True when there was one."""
        now = self.clock()

        def remove(q: Session) -> bool:
            q.run(_PURGE, (now,))
            return q.run("DELETE FROM responder_positions WHERE responder=?", (responder,)) > 0

        return self._db.query(remove)

    def current(self, *, available_only: bool = False) -> tuple[list[ResponderPosition], float]:
        """The positions not yet expired (after deleting those that are), by responder name, and
        the time they were read at."""
        now = self.clock()
        sql = "SELECT * FROM responder_positions WHERE expires_at > ?"
        if available_only:
            sql += " AND available = 1"

        def read(q: Session) -> list[Any]:
            q.run(_PURGE, (now,))
            return q.all(sql + " ORDER BY responder", (now,))

        return [_position(r) for r in self._db.query(read)], now

    def purge(self) -> int:
        """Delete the expired positions; how many there were."""
        now = self.clock()
        return self._db.query(lambda q: q.run(_PURGE, (now,)))
