"""A build's bookkeeping: step timing with memory figures, memory handed back, input digests."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import logging
import resource
import time
from pathlib import Path

log = logging.getLogger("geoservice.bundle.build")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Progress:
    """Step timing logged (logger ``geoservice.bundle.build``, INFO): long builds show where they
    are, with the resident memory now and the peak so far (the process's high-water mark)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            log.info("[%7.1fs %5.2f GB, peak %5.2f GB] %s", time.perf_counter() - self.t0, _rss_gb(), _peak_gb(), msg)


def release_memory() -> None:
    """Hand freed memory back to the system after a big step. numpy's temporaries of a few MB
    to tens of MB come from the C heap, which glibc keeps for reuse: without this, a province
    build holds ~0.4 GB it no longer uses while the next step (and the contraction hierarchy
    in its thread) allocates more."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _peak_gb() -> float:
    """The process's peak resident memory so far (``ru_maxrss``, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _rss_gb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")
