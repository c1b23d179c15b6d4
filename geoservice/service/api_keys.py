"""API keys of the registry: random tokens of which only the SHA-256 is stored (a token has 256
bits of entropy, so no salt or slow hash is needed), with a role, an optional expiry and rotation.

Roles: ``viewer`` (may read the audit), ``editor`` (may edit facilities), ``admin`` (both).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import GeoserviceError

ROLES = ("viewer", "editor", "admin")
EDIT_ROLES = ("editor", "admin")
KEY_PREFIX = "gsk_"
KEY_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT
);
"""

__all__ = ["ApiKey", "KeyStore", "RegistryError", "ROLES", "EDIT_ROLES", "hash_key", "now_utc"]


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RegistryError(GeoserviceError):
    """A registry request that cannot be met (unknown role, duplicate key name)."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    role: str
    created_at: str
    revoked_at: str | None = None
    expires_at: str | None = None


def _key(r: sqlite3.Row) -> ApiKey:
    return ApiKey(r["id"], r["name"], r["role"], r["created_at"], r["revoked_at"], r["expires_at"])


class KeyStore:
    """Key methods of the registry (mixed into ``Registry``, which owns the connection)."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def create_key(self, name: str, role: str, *, expires_days: float | None = None) -> tuple[ApiKey, str]:
        """Create a key; the token is returned once and never stored."""
        if role not in ROLES:
            raise RegistryError("role", f"unknown role {role!r}; valid: {', '.join(ROLES)}")
        name = (name or "").strip()
        if not KEY_NAME.match(name):
            raise RegistryError("name", f"a key name is 1-64 letters, digits or _.@- (who holds it); got {name[:70]!r}")
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise RegistryError("expires_days", f"must be in (0, 3650] days, got {expires_days}")
        expires = None
        if expires_days is not None:
            expires = (datetime.now(UTC) + timedelta(days=expires_days)).isoformat(timespec="seconds")
            expires = expires.replace("+00:00", "Z")
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO api_keys (name, role, key_hash, created_at, expires_at) VALUES (?,?,?,?,?)",
                    (name, role, hash_key(token), now_utc(), expires),
                )
            except sqlite3.IntegrityError:
                raise RegistryError(
                    "name", f"a key named {name!r} already exists; revoke or rotate it, or pick another name"
                ) from None
            assert cur.lastrowid is not None
            kid = int(cur.lastrowid)
        return self._key_by_id(kid), token

    def rotate_key(self, name: str, *, expires_days: float | None = None) -> tuple[ApiKey, str]:
        """A new token for the key ``name`` (same role); the old token stops working at once."""
        with self._lock:
            r = self._db.execute("SELECT * FROM api_keys WHERE name=? AND revoked_at IS NULL", (name,)).fetchone()
            if r is None:
                raise RegistryError("name", f"no active key named {name!r}")
            role = r["role"]
            self._db.execute("DELETE FROM api_keys WHERE id=?", (r["id"],))
            try:
                return self.create_key(name, role, expires_days=expires_days)
            except BaseException:
                self._db.execute(
                    "INSERT INTO api_keys (id, name, role, key_hash, created_at, revoked_at, expires_at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    tuple(r),
                )
                raise

    def _key_by_id(self, kid: int) -> ApiKey:
        with self._lock:
            r = self._db.execute("SELECT * FROM api_keys WHERE id=?", (kid,)).fetchone()
        return _key(r)

    def check_key(self, token: str) -> ApiKey | None:
        """The active, unexpired key with this token, or None."""
        if not token:
            return None
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM api_keys WHERE key_hash=? AND revoked_at IS NULL", (hash_key(token),)
            ).fetchone()
        if r is None or (r["expires_at"] and r["expires_at"] <= now_utc()):
            return None
        return _key(r)

    def list_keys(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM api_keys ORDER BY id").fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, name: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE api_keys SET revoked_at=? WHERE name=? AND revoked_at IS NULL", (now_utc(), name)
            )
        return cur.rowcount > 0
