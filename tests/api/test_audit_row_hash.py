"""The audit chain's row hash is the SHA-256 of one JSON list: registries written before the row's
fields were grouped (``AuditEntry``) still verify, and every field counts."""

from __future__ import annotations

import hashlib

from geoservice.service.registry.audit_log import GENESIS, AuditEntry, row_hash

ROW = AuditEntry("2025-01-01T00:00:00Z", "editor-1", "editor", "patch", "monaco", "aed-7", '{"a": 1}', '{"a": 2}')


def test_row_hash_is_the_documented_sha256():
    # written out by hand: the JSON text the chain has always hashed (ensure_ascii=False, default separators)
    text = (
        f'["{GENESIS}", "2025-01-01T00:00:00Z", "editor-1", "editor", "patch", "monaco", "aed-7", '
        '"{\\"a\\": 1}", "{\\"a\\": 2}"]'
    )
    assert row_hash(GENESIS, ROW) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_every_field_changes_the_hash():
    from dataclasses import fields, replace

    base = row_hash(GENESIS, ROW)
    assert row_hash("f" * 64, ROW) != base
    for f in fields(AuditEntry):
        changed = replace(ROW, **{f.name: None if f.name in ("before", "after") else "other"})
        assert row_hash(GENESIS, changed) != base, f.name
