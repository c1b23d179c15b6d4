"""Seeds of many snapped points at once, as ``Router.seeds`` gives them, keeping the edge each
seed runs on (engine.trip_paths sums the free-flow seconds of that partial piece into its road
class, so it needs the edge, not only the cost)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .router import AT_NODE_M, Router, Snap

__all__ = ["PointSeeds", "point_seeds"]


@dataclass(frozen=True)
class PointSeeds:
    """Up to two seeds per snapped point for one direction ("from": origins, "to": destinations),
    as (n, 2) arrays, node -1 where there is none: ``node``, ``part`` (fraction of the road
    piece between the point and the node), ``edge`` (the directed edge the part runs on), plus
    per point ``access_s`` (the walked leg), ``geom`` and ``frac`` (for pairs on one piece)."""

    node: np.ndarray
    part: np.ndarray
    edge: np.ndarray
    access_s: np.ndarray
    geom: np.ndarray
    frac: np.ndarray
    length_m: np.ndarray  # metres of the part

    def take(self, idx: np.ndarray) -> PointSeeds:
        return PointSeeds(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def point_seeds(router: Router, snaps: list[Snap], direction: str, profile: str) -> PointSeeds:
    """``Router.seeds`` for many points at once, keeping the edge of each seed (see the module).
    The seed cost under weights ``w`` is ``access_s + part * w[edge]``, as Router.seeds gives."""
    net = router.net
    n = len(snaps)
    geom = np.fromiter((s.geom for s in snaps), np.int64, n)
    frac = np.fromiter((s.frac for s in snaps), np.float64, n)
    dist = np.fromiter((s.dist_m for s in snaps), np.float64, n)
    u, v = net.geom_u[geom].astype(np.int64), net.geom_v[geom].astype(np.int64)
    ef, eb = net.geom_fwd[geom].astype(np.int64), net.geom_bwd[geom].astype(np.int64)
    glen = net.geom_len[geom].astype(np.float64)
    base = net.times(profile)
    tf = np.where(ef >= 0, base[np.maximum(ef, 0)], np.inf)
    tb = np.where(eb >= 0, base[np.maximum(eb, 0)], np.inf)
    cheaper = np.where(tf <= tb, ef, eb)  # the edge Router.seeds' min(tf, tb) takes at a junction
    if direction == "from":
        ends = ((v, 1 - frac, ef), (u, frac, eb))
    else:
        ends = ((u, frac, ef), (v, 1 - frac, eb))
    node = np.full((n, 2), -1, np.int64)
    part = np.zeros((n, 2))
    edge = np.full((n, 2), -1, np.int64)
    for k, (nd, pt, e) in enumerate(ends):
        usable = e >= 0
        at_node = ~usable & (pt * glen <= AT_NODE_M)
        ok = usable | at_node
        node[ok, k] = nd[ok]
        part[ok, k] = pt[ok]
        edge[ok, k] = np.where(usable, e, cheaper)[ok]
    return PointSeeds(node, part, edge, dist / router.access_speed_ms, geom, frac, part * glen[:, None])
