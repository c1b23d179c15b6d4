"""``serve --workers N`` forks its workers after loading: the master closes its registry and each
worker opens its own from the same target (a connection or pool never crosses a fork)."""

from __future__ import annotations

import os

import pytest

from geoservice.service.registry.store import open_registry


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_worker_opens_its_own_registry(registry_target):
    reg = open_registry(registry_target)
    assert reg is not None
    reg.create_key("before-fork", "editor")
    reg.close()  # as the master does before forking
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            mine = reg.reopened()
            mine.create_key("in-worker", "editor")
            code = 0 if {k.name for k in mine.list_keys()} == {"before-fork", "in-worker"} else 3
            mine.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    again = reg.reopened()
    try:
        assert {k.name for k in again.list_keys()} == {"before-fork", "in-worker"}
    finally:
        again.close()
