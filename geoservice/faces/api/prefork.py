"""``serve --workers N``: N uvicorn workers forked by gunicorn from a master that has already
loaded every region.

A region is memory-mapped arrays plus what loading builds from them (spatial indexes, the
facility table, the customised hierarchy, compiled kernels). Workers that each loaded the region
for themselves (uvicorn's own ``--workers`` spawns fresh interpreters) shared the mapped pages
but held ~475 MB of private copies of the rest on the 12x12 mosaic; forked from a loaded master
they share it all copy-on-write (``benchmarks/workers.py`` measures it). A database
connection never crosses a fork: the master closes the registry before forking and each worker
opens its own (``GeoService.after_fork``). gunicorn also restarts a worker that dies and stops
the workers gracefully on SIGTERM / SIGINT.

A worker never changes the registry's schema (``serve`` migrated it before forking): it only
checks the version. A worker that cannot open its registry (the database down, or behind this
code) logs one line and exits with status 1 after a pause, so the master, still up, forks another;
it never fails as a *boot error* (status 3), on which gunicorn's master shuts the whole service down.

The workers count their rate limits in one SQLite file the master makes in a private temporary
directory before forking (removed when it stops), so a limit holds for the whole server, not per
worker. uvicorn's proxy-header handling is off: the client address comes from
``X-Forwarded-For`` only when the peer is one of ``trusted_proxies`` (``admission.ClientAddress``).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ...errors import GeoserviceError
from ...service.core import GeoService
from .app import create_app
from .limits import COUNTERS_FILE
from .memory import start_heap_trimmer

WORKER_CLASS = "uvicorn_worker.UvicornWorker"  # subclassed by worker_class()
RESTART_PAUSE_S = 1.0  # a worker that cannot open its registry waits this (plus jitter) before exiting


def worker_class() -> type:
    """uvicorn's gunicorn worker without its proxy-header handling (which trusts loopback)."""
    from uvicorn_worker import UvicornWorker

    class Worker(UvicornWorker):  # type: ignore[misc]  # uvicorn_worker ships no types
        CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "proxy_headers": False}

    return Worker


def serve_forked(
    svc: GeoService,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    access_log: bool,
    worker_timeout_s: float,
) -> None:
    """Serve ``svc`` (regions loaded) from ``workers`` forked processes until SIGTERM / SIGINT."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # gunicorn needs fcntl: POSIX only
        raise GeoserviceError(
            "workers", "more than one worker needs gunicorn (POSIX systems); use --workers 1 here"
        ) from None

    run_dir = Path(tempfile.mkdtemp(prefix="geoservice-serve-"))  # 0700: the workers' shared counters
    app = create_app(svc, counters=run_dir / COUNTERS_FILE)
    if svc.registry is not None:
        svc.registry.close()  # the master answers nothing; each worker opens its own connection

    def post_fork(server: Any, worker: Any) -> None:
        try:
            svc.after_fork()
        except Exception as e:  # never a boot error (exit 3): the master would stop the service
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            server.log.error("worker %s cannot open the registry, exiting to be replaced: %s", worker.pid, first)
            time.sleep(RESTART_PAUSE_S * (1 + random.random()))  # the master forks the next one at once
            sys.exit(1)
        start_heap_trimmer()  # threads are made after the fork, in the worker

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": worker_class(),
        "preload_app": True,
        "loglevel": log_level,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "keepalive": 5,  # uvicorn's own default
        # a worker whose event loop stops answering the master's heartbeat this long is replaced
        "timeout": max(30, int(worker_timeout_s * 2)),
        "graceful_timeout": 20,
        "post_fork": post_fork,
        "proc_name": "geoservice",
        "forwarded_allow_ips": "",  # our own ClientAddress decides (trusted_proxies)
    }

    class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    master = os.getpid()
    try:
        _Server().run()
    finally:
        if os.getpid() == master:  # a worker leaves through here too (gunicorn's sys.exit)
            shutil.rmtree(run_dir, ignore_errors=True)
