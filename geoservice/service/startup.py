"""A first ``serve`` that answers at once and says what it is doing.

On a fresh install the demo regions are built from the shipped OSM extracts and numba compiles
the kernels (most of a minute, once). Rather than stay silent until everything is ready,
``serve`` starts answering at once: the pages load and say that the data is being prepared (the
API answers 503 with ``Retry-After`` until a region is there), while a background thread builds
and loads the demo regions one by one, serving each as soon as it is ready. The query kernels are
compiled on the first region before it is served, so its first question is as fast as the next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..bundle.demo import DEMO_REGIONS, ensure_demo
from ..bundle.store import is_current_bundle
from ..engine.warmup import warm_kernels
from .core import GeoService, RegionEntry
from .registry.store import Registry
from .settings import Settings

log = logging.getLogger(__name__)

__all__ = ["demos_in_background", "demos_ready"]


def demos_ready(settings: Settings) -> bool:
    """True when every demo bundle is built and current (nothing to prepare but loading)."""
    return all(is_current_bundle(settings.paths.regions_dir / n) for n in DEMO_REGIONS)


def demos_in_background(
    settings: Settings, registry: Registry | None, say: Callable[[str], None]
) -> tuple[GeoService, threading.Thread]:
    """A service that serves no region yet, and the (unstarted) thread that builds, loads and adds
    the demo regions in order, telling ``say`` each step and when all are served."""
    svc = GeoService([], registry=registry, settings=settings, preparing="starting")
    n = len(DEMO_REGIONS)

    def compile_kernels(entry: RegionEntry) -> None:
        svc.preparing = "compiling the routing kernels (first run only)"
        say(f"{svc.preparing} on {entry.name}")
        assert entry.engine_ is not None
        say(f"kernels ready in {warm_kernels(entry.engine_):.1f} s")

    def run() -> None:
        t0 = time.perf_counter()
        try:
            for i, name in enumerate(DEMO_REGIONS, 1):
                path = settings.paths.regions_dir / name
                if not is_current_bundle(path):
                    svc.preparing = f"building demo region {i} of {n} ({name}) from its OSM extract, first run only"
                    say(svc.preparing)
                    ensure_demo(name, settings.paths.data_dir, settings.paths.regions_dir, quiet=True)
                svc.preparing = f"loading region {i} of {n} ({name})"
                svc.add_region(path, before_serving=compile_kernels if i == 1 else None)
                say(f"serving {name} ({i} of {n}) after {time.perf_counter() - t0:.1f} s")
        except Exception as exc:  # say it loudly, keep serving what is ready
            log.exception("preparing the demo regions failed; serving %s", ", ".join(svc.regions) or "nothing")
            svc.preparing = None if svc.regions else f"failed ({type(exc).__name__}): see the server's log"
        else:
            svc.preparing = None

    return svc, threading.Thread(target=run, name="prepare-demo-regions", daemon=True)
