"""The audit proves the served data (issue 18, item 5), on SQLite and PostgreSQL + PostGIS alike
(see conftest).

* ``audit head`` prints the chain's last hash; ``audit verify --expect HASH`` passes while the
  chain still holds it (edits made since are fine) and fails when rows were cut off the end, which
  the chain alone cannot see once the table was made to agree.
* ``verify`` checks every facility against the chain: the ``after`` of its last audit row, or, for
  a facility never edited, the digest its region's seed recorded. A record edited, added or
  deleted in the ``facilities`` table directly is named, and so is a seed changed behind the
  registry's back.
"""

from __future__ import annotations

import sqlite3

import pytest

from geoservice.faces.cli import main

AED = {"type": "aed", "name": "Proof AED", "lon": 7.4236, "lat": 43.7386, "source": "test"}


def _raw(target: str):
    """A plain connection behind the registry's back, and how to name a trigger's table there."""
    if target.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(target, autocommit=True), " ON audit", True
    return sqlite3.connect(target, isolation_level=None), "", False


def _verify(target: str, capsys, *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", "--db", target, *extra])
    return code, capsys.readouterr().err


def _head(target: str, capsys) -> str:
    assert main(["audit", "head", "--db", target]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return out.strip()


def test_head_and_expect_catch_rows_cut_off_the_end(client, state, editor, registry_target, capsys):
    state.entry("monaco")
    assert _head(registry_target, capsys) == state.registry.audit_head() != "0" * 64  # the seed is chained
    for i in range(3):
        assert client.post("/facilities", json={**AED, "id": f"proof-{i}"}, headers=editor).status_code == 201
    head = _head(registry_target, capsys)
    assert head == state.registry.verify_audit().last_hash
    code, err = _verify(registry_target, capsys, "--expect", head)
    assert code == 0 and "holds the expected hash, 0 rows and seeds after it" in err, err
    assert client.patch("/facilities/proof-0", json={"name": "later"}, headers=editor).status_code == 200
    code, err = _verify(registry_target, capsys, "--expect", head.upper())  # later edits: still held
    assert code == 0 and "1 rows and seeds after it" in err, err

    # someone with the database cuts the last two rows off and makes the table agree with the rest
    raw, on_table, pg = _raw(registry_target)
    raw.execute(f"DROP TRIGGER audit_no_delete{on_table}")
    last = [r[0] for r in raw.execute("SELECT id FROM audit ORDER BY id DESC LIMIT 2").fetchall()]
    raw.execute(f"DELETE FROM audit WHERE id IN ({last[0]}, {last[1]})")
    raw.execute("DELETE FROM facilities WHERE id = 'proof-2'")
    set_name = "jsonb_set(record, '{name}', '\"Proof AED\"')" if pg else "json_set(record, '$.name', 'Proof AED')"
    raw.execute(f"UPDATE facilities SET record = {set_name} WHERE id = 'proof-0'")
    raw.close()
    code, err = _verify(registry_target, capsys)
    assert code == 0  # consistent as far as the chain alone can tell
    code, err = _verify(registry_target, capsys, "--expect", head)
    assert code == 2 and err.count("\n") == 1, err
    assert f"the expected hash {head} is not in the chain" in err and "cut off the end" in err
    code, err = _verify(registry_target, capsys, "--expect", "not-a-hash")
    assert code == 2 and "--expect" in err


@pytest.mark.parametrize("tamper", ["edited", "seeded", "added", "deleted", "seed"])
def test_direct_table_edits_are_named(client, state, editor, registry_target, capsys, tamper):
    state.entry("monaco")
    assert client.post("/facilities", json={**AED, "id": "proof-edited"}, headers=editor).status_code == 201
    seeded = next(r["id"] for r in state.registry.records("monaco") if r["id"] != "proof-edited")
    code, err = _verify(registry_target, capsys)
    assert code == 0 and "every facility" in err, err
    raw, _, pg = _raw(registry_target)

    def set_name(value: str) -> str:
        return f"jsonb_set(record, '{{name}}', '\"{value}\"')" if pg else f"json_set(record, '$.name', '{value}')"

    if tamper == "edited":  # differs from the after of its last audit row
        raw.execute(f"UPDATE facilities SET record = {set_name('Moved')} WHERE id = 'proof-edited'")
        want = "facility 'proof-edited' of region 'monaco' differs from the after of its last audit row"
    elif tamper == "seeded":  # never edited: differs from its seeded record
        raw.execute(f"UPDATE facilities SET record = {set_name('Renamed')} WHERE id = '{seeded}'")
        want = f"facility '{seeded}' of region 'monaco', never edited, differs from its seeded record"
    elif tamper == "added":
        new_id = "jsonb_set(record, '{id}', '\"ghost\"')" if pg else "json_set(record, '$.id', 'ghost')"
        raw.execute(
            f"INSERT INTO facilities (region, id, type, record, updated_at, version) SELECT region, 'ghost', type, "
            f"{new_id}, updated_at, version FROM facilities WHERE id = 'proof-edited'"
        )
        want = "facility 'ghost' of region 'monaco' is in no audit row or seed (added outside the registry)"
    elif tamper == "deleted":
        raw.execute(f"DELETE FROM facilities WHERE id = '{seeded}'")
        want = f"facility '{seeded}' of region 'monaco' is missing from the table"
    else:  # the seed itself, rewritten to agree with a changed record: its hash gives it away
        on_table = " ON audit_seeds" if pg else ""
        raw.execute(f"DROP TRIGGER audit_seeds_no_update{on_table}")
        seed = raw.execute("SELECT id FROM audit_seeds WHERE region = 'monaco'").fetchone()[0]
        raw.execute("UPDATE audit_seeds SET source = 'forged' WHERE region = 'monaco'")
        want = f"is broken at seed {seed}: its content does not match its hash (the seed was changed)"
    raw.close()
    code, err = _verify(registry_target, capsys)
    assert code == 2 and err.count("\n") == 1 and want in err, err
    check = state.registry.verify_audit()
    assert not check.ok
    if tamper == "seed":
        assert check.seed_id == seed
    else:
        assert check.facility is not None and check.facility[0] == "monaco"
