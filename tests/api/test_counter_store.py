"""The API's counters database (faces/api/limits.py) when it is busy or broken, and the token
bucket's arithmetic on a hand-worked example: a request is let through (logged once a minute)
rather than refused when the counters cannot be read, a failing step leaves nothing behind, and
the GCRA budget gives the waits computed by hand."""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest

from geoservice.faces.api import limits
from geoservice.faces.api.limits import CounterStore, Limits, SlidingWindow, TokenBucket


def insert(q: sqlite3.Connection) -> float:
    q.execute("INSERT INTO events (ns, name, at) VALUES ('t', 'x', 1.0)")
    return 1.0


def test_a_database_held_by_another_process_lets_the_request_through(tmp_path, caplog):
    path = tmp_path / "counters.sqlite"
    store = CounterStore(path)
    assert store.run(insert) == 1.0  # the file and its tables exist
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker holds the write lock
    try:
        with caplog.at_level(logging.ERROR, logger=limits.__name__):
            t0 = time.monotonic()
            assert store.run(insert, default=7.0, wait_s=0.05) == 7.0
            waited = time.monotonic() - t0
            assert store.run(insert, default=8.0, wait_s=0.0) == 8.0
        assert 0.05 <= waited < 2.0  # it polled the lock until its wait was over, then gave up
        logged = [r for r in caplog.records if "counters unavailable" in r.getMessage()]
        assert len(logged) == 1  # at most once a minute
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.run(insert) == 1.0  # the lock released: counted again
    assert store.query("SELECT COUNT(*) FROM events")[0][0] == 2  # the refused steps wrote nothing


def test_a_failing_step_leaves_nothing_behind():
    store = CounterStore()

    def broken(q: sqlite3.Connection) -> float:
        insert(q)
        raise ValueError("half done")

    with pytest.raises(ValueError, match="half done"):
        store.run(broken)
    assert store.query("SELECT COUNT(*) FROM events")[0][0] == 0
    assert store.run(insert) == 1.0  # the connection is usable after the rollback


def test_a_file_that_is_no_database_lets_the_request_through(tmp_path):
    path = tmp_path / "counters.sqlite"
    path.write_bytes(b"not a database, " * 64)
    store = CounterStore(path)
    assert store.run(insert, default=3.0) == 3.0
    window = SlidingWindow(1, 60.0, store=store)
    assert window.acquire("k") == 0.0  # no wait: let through (as when under the limit)


def test_token_bucket_by_hand(monkeypatch):
    """rate 2 units/s, burst 4, at t = 100 s: taking 3 leaves 1 (the bucket's "theoretical
    arrival time" moves to 101.5); taking 2 more would move it to 102.5, 0.5 s past the 2 s
    (burst / rate) it may run ahead, so it waits 0.5 s and nothing is spent; at 100.5 s 2 units
    are back (4 - (101.5 - 100.5) * 2) and the same 2 pass."""
    now = [100.0]
    bucket = TokenBucket(2.0, 4.0, clock=lambda: now[0])
    assert bucket.take("a", 0) == 0.0 and bucket.left("a") == 4.0  # free requests touch nothing
    assert bucket.take("a", 3) == 0.0
    assert bucket.left("a") == pytest.approx(1.0)
    assert bucket.take("a", 2) == pytest.approx(0.5)
    assert bucket.left("a") == pytest.approx(1.0)  # the refused take spent nothing
    now[0] = 100.5
    assert bucket.left("a") == pytest.approx(2.0)
    assert bucket.take("a", 2) == 0.0
    assert bucket.take("b", 10) == 0.0  # dearer than the whole budget: costs a full one
    assert bucket.left("b") == pytest.approx(0.0)
    # refilled buckets are swept every PRUNE_EVERY operations: a full budget keeps no row
    monkeypatch.setattr(limits, "PRUNE_EVERY", 1)
    now[0] = 200.0
    assert bucket.take("c", 1) == 0.0
    names = {n for (n,) in bucket.store.query("SELECT name FROM buckets")}
    assert names == {"c"}


def test_limits_share_one_clock():
    from geoservice.service.settings import get_settings

    lim = Limits(get_settings())
    assert lim.shared is None  # one process: the counters live in its memory
    lim.set_clock(lambda: 5.0)
    assert {c.clock() for c in (lim.failed_keys, lim.failed_addresses, lim.writes, lim.public)} == {5.0}
