"""Matrices between snapped points over a hierarchy: the points' seeds as arrays, and the
classic CH's matrix (``Engine.matrix`` without a CCH).

Apart from ``engine.ch`` so that the hierarchy's kernels need nothing of the router (which
customises hierarchies through ``engine.cch``): router -> cch -> ch, and this module above them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..bundle.contraction import CH
from .arrays import F64, SeedBlocks
from .ch import ch_many_to_many
from .router import Router, Snap

__all__ = ["seed_arrays", "ch_matrix"]


def seed_arrays(
    router: Router, snaps: Sequence[Snap], profile: str, direction: str, *, weights: F64 | None = None
) -> SeedBlocks:
    """(nodes, costs, metres, ptr) of the seeds of every snapped point, point i owning
    ``ptr[i]:ptr[i+1]``: direction "from" for origins, "to" for destinations; costs in
    ``weights`` (default the profile's free-flow times)."""
    seeds = [router.seeds(s, profile, direction, weights=weights) for s in snaps]
    ptr = np.zeros(len(seeds) + 1, np.int64)
    np.cumsum([len(s.node) for s in seeds], out=ptr[1:])

    def cat(a: list[F64] | list[np.ndarray]) -> np.ndarray:
        return np.concatenate(a) if a else np.zeros(0)

    return SeedBlocks(
        cat([s.node for s in seeds]).astype(np.int64),
        cat([s.cost for s in seeds]),
        cat([s.length for s in seeds]),
        ptr,
    )


def ch_matrix(
    ch: CH, router: Router, origins: Sequence[Snap], destinations: Sequence[Snap], profile: str
) -> tuple[F64, F64]:
    """Engine.matrix's (times, metres) between snapped points over the network's CH for
    ``profile``, except for pairs on one geometry, which the engine settles itself
    (``Router.along_same_edge``)."""
    src = seed_arrays(router, origins, profile, "from")
    dst = seed_arrays(router, destinations, profile, "to")
    return ch_many_to_many(ch, src, dst)
