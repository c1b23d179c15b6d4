"""Compile the query kernels before the first question, not during it.

The numba kernels compile on their first call (then load from numba's on-disk cache in later
processes). ``warm_kernels`` asks one region's engine each kind of question on a point of its own
network: the snapping, the bounded and plain searches with seeds and targets, a few-by-few matrix
over the hierarchy, an isochrone (reach field and contours) and the all-node search of coverage,
for each network the bundle has. ``serve`` runs it while the first region is being prepared, so
the first ``/nearest`` after "ready" costs what every later one does.
"""

from __future__ import annotations

import logging
import time

from ..questions import NearestQuestion
from .engine import Engine

log = logging.getLogger(__name__)

__all__ = ["warm_kernels"]


def warm_kernels(engine: Engine) -> float:
    """Seconds spent compiling (or loading from the cache) the kernels of every kind of question."""
    t0 = time.perf_counter()
    for name, router in engine.routers.items():
        net = router.net
        if net.n_nodes < 2:
            continue
        profile = next(iter(net.profiles))
        a = (float(net.node_lon[0]), float(net.node_lat[0]))
        b = (float(net.node_lon[net.n_nodes // 2]), float(net.node_lat[net.n_nodes // 2]))
        try:
            for _ in engine.matrix([a, b], [b, a], profile=profile):
                pass
            engine.nearest(NearestQuestion(*a, k=2, profile=profile, direction="to"))
            engine.nearest(NearestQuestion(*a, k=2, profile=profile, direction="from"))
            engine.isochrones(*a, [1.0], profile=profile)
            engine.all_nearest(profile=profile, limit=60.0)
        except Exception as exc:  # warming is an optimisation: a failure here must not stop serving
            log.warning("warming the %s kernels failed (%s); they compile on first use instead", name, exc)
    return time.perf_counter() - t0
