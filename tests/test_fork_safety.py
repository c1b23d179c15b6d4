"""A server worker is forked from a process that may already have answered queries: the engine's
helper thread must be made again in the child (threads do not survive a fork), or the child's
first large isochrone waits forever on a thread that is not there."""

from __future__ import annotations

import os
import time

import pytest

from geoservice.engine import contours


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_isochrones_after_a_fork(andorra_engine, monkeypatch):
    monkeypatch.setattr(contours, "PARALLEL_VERTICES", 1)  # every field in two threads
    monkeypatch.setattr(contours, "PARALLEL_PIECES", 1)
    before = andorra_engine.isochrones(1.5836, 42.5359, [10, 30])  # the parent's helper thread runs
    pid = os.fork()
    if pid == 0:  # the forked worker
        code = 1
        try:
            after = andorra_engine.isochrones(1.5836, 42.5359, [10, 30])
            code = 0 if after == before else 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked process hung on its first isochrone")
