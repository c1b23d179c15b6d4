"""API keys of the registry: random tokens of which only the SHA-256 is stored (a token has 256
bits of entropy, so no salt or slow hash is needed), with a role, an optional expiry and rotation.

Roles: ``viewer`` (may read the audit), ``editor`` (may edit facilities), ``admin`` (both, and
dispatch), ``responder`` (a trained volunteer: may post their own live position, nothing else),
``dispatcher`` (a 120 dispatcher: may see live responders and ask for a dispatch plan).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import GeoserviceError
from .db import Database, Session, now_utc

ROLES = ("viewer", "editor", "admin", "responder", "dispatcher")
EDIT_ROLES = ("editor", "admin")
AUDIT_ROLES = ("viewer", "editor", "admin")
DISPATCH_ROLES = ("dispatcher", "admin")
RESPONDER_ROLES = ("responder",)
KEY_PREFIX = "gsk_"
KEY_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

KEYS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS api_keys (
    id {id},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT
)""",
)

__all__ = [
    "ApiKey",
    "KeyStore",
    "RegistryError",
    "ROLES",
    "EDIT_ROLES",
    "AUDIT_ROLES",
    "DISPATCH_ROLES",
    "RESPONDER_ROLES",
    "hash_key",
    "now_utc",
]


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


def _key(r: Mapping[str, Any]) -> ApiKey:
    return ApiKey(r["id"], r["name"], r["role"], r["created_at"], r["revoked_at"], r["expires_at"])


class KeyStore:
    """Key methods of the registry (mixed into ``Registry``, which owns the database)."""

    _db: Database

    def create_key(self, name: str, role: str, *, expires_days: float | None = None) -> tuple[ApiKey, str]:
        """Create a key; the token is returned once and never stored."""
        if role not in ROLES:
            raise RegistryError("role", f"unknown role {role!r}; valid: {', '.join(ROLES)}")
        name = (name or "").strip()
        if not KEY_NAME.match(name):
            raise RegistryError("name", f"a key name is 1-64 letters, digits or _.@- (who holds it); got {name[:70]!r}")
        return self._write_key(name, role, expires_days)

    def rotate_key(self, name: str, *, expires_days: float | None = None) -> tuple[ApiKey, str]:
        """A new token for the key ``name`` (same role); the old token stops working at once."""
        return self._write_key(name, None, expires_days)

    def _write_key(self, name: str, role: str | None, expires_days: float | None) -> tuple[ApiKey, str]:
        """Insert a key (``role`` given) or replace the active key ``name`` keeping its role
        (``role`` None), in one transaction."""
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise RegistryError("expires_days", f"must be in (0, 3650] days, got {expires_days}")
        expires = None
        if expires_days is not None:
            expires = (datetime.now(UTC) + timedelta(days=expires_days)).isoformat(timespec="seconds")
            expires = expires.replace("+00:00", "Z")
        token = KEY_PREFIX + secrets.token_urlsafe(32)

        def write(q: Session) -> ApiKey:  # run again as a whole after a deadlock
            new_role = role
            if new_role is None:
                old = q.one("SELECT * FROM api_keys WHERE name=? AND revoked_at IS NULL", (name,))
                if old is None:
                    raise RegistryError("name", f"no active key named {name!r}")
                new_role = str(old["role"])
                q.run("DELETE FROM api_keys WHERE id=?", (old["id"],))
            kid = q.insert(
                "INSERT INTO api_keys (name, role, key_hash, created_at, expires_at) VALUES (?,?,?,?,?)",
                (name, new_role, hash_key(token), now_utc(), expires),
            )
            return self._key_by_id(q, kid)

        try:
            key = self._db.transact(write)
        except self._db.integrity_error:
            raise RegistryError(
                "name", f"a key named {name!r} already exists; revoke or rotate it, or pick another name"
            ) from None
        return key, token

    @staticmethod
    def _key_by_id(q: Session, kid: int) -> ApiKey:
        r = q.one("SELECT * FROM api_keys WHERE id=?", (kid,))
        assert r is not None
        return _key(r)

    def check_key(self, token: str) -> ApiKey | None:
        """The active, unexpired key with this token, or None."""
        if not token:
            return None
        digest = hash_key(token)
        r = self._db.query(lambda q: q.one("SELECT * FROM api_keys WHERE key_hash=? AND revoked_at IS NULL", (digest,)))
        if r is None or (r["expires_at"] and r["expires_at"] <= now_utc()):
            return None
        return _key(r)

    def list_keys(self) -> list[ApiKey]:
        return [_key(r) for r in self._db.query(lambda q: q.all("SELECT * FROM api_keys ORDER BY id"))]

    def revoke_key(self, name: str) -> bool:
        at = now_utc()
        n = self._db.transact(
            lambda q: q.run("UPDATE api_keys SET revoked_at=? WHERE name=? AND revoked_at IS NULL", (at, name))
        )
        return n > 0
