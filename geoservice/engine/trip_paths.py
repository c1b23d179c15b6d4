"""Fastest routes of many origin-destination pairs over a customised CCH, with the free-flow
seconds each route spends on each road-class group (numba).

Why: calibrating travel-time factors (analyses.calibration) needs, for every observed trip, the
route the engine would take under the current factors *and* what it is made of: the predicted
time of a trip is linear in the per-class factors, with the free-flow seconds on each class as
coefficients. A matrix gives times only; one Dijkstra per trip is far too slow for 100,000 trips
on a province. Here each pair is one elimination-tree query of the customised hierarchy (both
ends climb their ancestors in rank order, a node is relaxed only while its distance is below the
best meeting found so far; Dibbelt, Strasser & Wagner 2016, with Bauer et al.'s pruning), whose
arcs are then unpacked through their lower triangles into network edges (as ``cch.unpack_arc``),
summing each edge's free-flow seconds into its group. Pairs are spread over the threads.

The ends are seeded as ``Router.seeds`` seeds them (the off-network leg walked at 5 km/h, which
no traffic factor scales, plus the part of the snapped road piece, which is); ``trip_seeds``
holds them vectorised, with the edge each seed runs on, so the part's seconds go to its class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import get_num_threads, prange

from ..bundle.cch import CCHTopology
from ..bundle.jit import njit
from ..bundle.network import Network
from ..errors import GeoserviceError
from .arrays import F64, I64, Ints
from .cch import customise_times
from .router import Router
from .trip_seeds import PointSeeds, point_seeds

__all__ = ["Customised", "PairRouter", "PointSeeds", "RouteParts", "point_seeds"]

INF = np.inf


@dataclass(frozen=True)
class RouteParts:
    """Per pair: ``time_s`` under the weights routed with (inf when unreachable), ``group_s``
    (n, groups) free-flow seconds on each group along the route (partial pieces included),
    ``access_s`` the two walked legs, ``length_m`` along the roads, ``signature`` a hash of the
    route's edges (equal routes, equal signatures)."""

    time_s: F64
    group_s: F64
    access_s: F64
    length_m: F64
    signature: I64


class Tree(NamedTuple):
    """The CCH as the pair queries read it: each rank's parent in the elimination tree (-1 at a
    root), the arcs in CSR by lower end (``ptr``, ``head``, ``tail``, all in ranks) and each
    arc's lower triangles (``tri_ptr``, ``tri`` pairs)."""

    parent: I64
    ptr: I64
    head: I64
    tail: I64
    tri_ptr: I64
    tri: I64


class ArcTimes(NamedTuple):
    """One customisation: each arc's time up and down, and the network edge behind its input
    time each way (-1: none, the arc is a shortcut only)."""

    up: F64
    down: F64
    arc_up: I64
    arc_down: I64


class EdgeParts(NamedTuple):
    """Per network edge, what a route adds up: free-flow seconds, metres and road-class group
    (of ``n_groups``)."""

    base: F64
    length: F64
    group: I64
    n_groups: int


class Ends(NamedTuple):
    """One end of every pair, up to two seeds each ((n, 2) arrays, rank -1: none): the seed's
    rank, its cost under the customised times, and the part of the road piece it runs on
    (free-flow seconds, group, metres)."""

    rank: I64
    cost: F64
    base: F64
    group: I64
    length: F64


@njit(cache=True, nogil=True)
def _arc_edges(rank: Ints, edge_u: Ints, edge_v: Ints, edge_arc: Ints, w: F64, n_arcs: int) -> tuple[I64, I64]:
    """The network edge behind each arc's input time, per direction (as engine.cch._customise
    picks it: the first cheapest), -1 where none."""
    up = np.full(n_arcs, -1, np.int64)
    down = np.full(n_arcs, -1, np.int64)
    bu = np.full(n_arcs, INF)
    bd = np.full(n_arcs, INF)
    for e in range(len(edge_u)):
        a = edge_arc[e]
        if a < 0:
            continue
        if rank[edge_u[e]] < rank[edge_v[e]]:
            if w[e] < bu[a]:
                bu[a] = w[e]
                up[a] = e
        elif w[e] < bd[a]:
            bd[a] = w[e]
            down[a] = e
    return up, down


@njit(cache=True, nogil=True)
def _tree_height(parent: I64) -> int:
    n = len(parent)
    depth = np.zeros(n, np.int64)
    best = 0
    for r in range(n - 1, -1, -1):  # parents have higher ranks: done before their children
        p = parent[r]
        if p >= 0:
            depth[r] = depth[p] + 1
            if depth[r] > best:
                best = depth[r]
    return best


@njit(cache=True, nogil=True)
def _climb(seed_rank: int, parent: I64, mark: np.ndarray, flag: int, lst: I64, m: int) -> int:
    """Append the ancestors of ``seed_rank`` (itself included) not yet flagged with ``flag``."""
    x = seed_rank
    while x >= 0 and (mark[x] & flag) == 0:
        mark[x] |= flag
        lst[m] = x
        m += 1
        x = parent[x]
    return m


@njit(cache=True, nogil=True)
def _emit(
    a: int, upward: bool, tree: Tree, arcs: ArcTimes, stack_a: I64, stack_d: np.ndarray, out: I64, n_out: int
) -> tuple[I64, int]:
    """Network edges of arc ``a`` in its travel direction, appended to ``out`` (grown as needed);
    returns (out, count)."""
    tri_ptr = tree.tri_ptr
    tri = tree.tri
    up, down, arc_up, arc_down = arcs
    stack_a[0] = a
    stack_d[0] = upward
    top = 1
    while top > 0:
        top -= 1
        b = stack_a[top]
        d = stack_d[top]
        c = up[b] if d else down[b]
        split = -1
        for t in range(tri_ptr[b], tri_ptr[b + 1]):
            lo = tri[2 * t]
            hi = tri[2 * t + 1]
            via = down[lo] + up[hi] if d else down[hi] + up[lo]
            if via == c:
                split = t
                break
        if split < 0:
            if n_out == len(out):
                grown = np.empty(2 * len(out), np.int64)
                grown[:n_out] = out
                out = grown
            out[n_out] = arc_up[b] if d else arc_down[b]
            n_out += 1
            continue
        lo = tri[2 * split]
        hi = tri[2 * split + 1]
        if d:  # u -> v -> w: down(lo) then up(hi); pushed last-first
            stack_a[top] = hi
            stack_d[top] = True
            stack_a[top + 1] = lo
            stack_d[top + 1] = False
        else:  # w -> v -> u: down(hi) then up(lo)
            stack_a[top] = lo
            stack_d[top] = True
            stack_a[top + 1] = hi
            stack_d[top + 1] = False
        top += 2
    return out, n_out


@njit(cache=True, parallel=True)
def _route(
    tree: Tree, arcs: ArcTimes, edges_: EdgeParts, src: Ends, dst: Ends, stack_size: int, n_thr: int
) -> tuple[F64, F64, F64, I64]:
    """(time, seconds per group, metres, signature) of the fastest route of every pair."""
    parent, ptr, head, tail, _, _ = tree
    up, down, _, _ = arcs
    base, elen, egroup, n_groups = edges_
    s_rank, s_cost, s_base, s_group, s_len = src
    t_rank, t_cost, t_base, t_group, t_len = dst
    n = len(parent)
    n_p = s_rank.shape[0]
    time = np.full(n_p, INF)
    gsec = np.zeros((n_p, n_groups))
    metres = np.zeros(n_p)
    sig = np.zeros(n_p, np.int64)
    for th in prange(n_thr):
        df = np.full(n, INF)
        db = np.full(n, INF)
        pf = np.full(n, -1, np.int64)
        pb = np.full(n, -1, np.int64)
        mark = np.zeros(n, np.int8)
        lst = np.empty(4 * stack_size + 8, np.int64)
        stack_a = np.empty(2 * stack_size + 8, np.int64)
        stack_d = np.empty(2 * stack_size + 8, np.bool_)
        arc_list = np.empty(2 * stack_size + 8, np.int64)
        dirs = np.empty(2 * stack_size + 8, np.bool_)
        edges = np.empty(1024, np.int64)
        for i in range(th, n_p, n_thr):
            m = 0
            for j in range(2):
                r = s_rank[i, j]
                if r >= 0:
                    if s_cost[i, j] < df[r]:
                        df[r] = s_cost[i, j]
                    m = _climb(r, parent, mark, 1, lst, m)
            for j in range(2):
                r = t_rank[i, j]
                if r >= 0:
                    if t_cost[i, j] < db[r]:
                        db[r] = t_cost[i, j]
                    m = _climb(r, parent, mark, 2, lst, m)
            order = np.sort(lst[:m])
            mu = INF
            meet = -1
            last = -1
            for q in range(m):
                x = order[q]
                if x == last:
                    continue
                last = x
                inf_ = (mark[x] & 1) != 0
                inb = (mark[x] & 2) != 0
                if inf_ and inb and df[x] + db[x] < mu:
                    mu = df[x] + db[x]
                    meet = x
                if inf_ and df[x] < mu:
                    dx = df[x]
                    for k in range(ptr[x], ptr[x + 1]):
                        y = head[k]
                        c = dx + up[k]
                        if c < df[y]:
                            df[y] = c
                            pf[y] = k
                if inb and db[x] < mu:
                    dx = db[x]
                    for k in range(ptr[x], ptr[x + 1]):
                        y = head[k]
                        c = dx + down[k]
                        if c < db[y]:
                            db[y] = c
                            pb[y] = k
            if meet >= 0:
                time[i] = mu
                # the arcs of the route in travel order: forward chain reversed, then backward
                na = 0
                x = meet
                while pf[x] >= 0:
                    arc_list[na] = pf[x]
                    dirs[na] = True
                    na += 1
                    x = tail[pf[x]]
                start = x
                lo_, hi_ = 0, na - 1
                while lo_ < hi_:
                    arc_list[lo_], arc_list[hi_] = arc_list[hi_], arc_list[lo_]
                    lo_ += 1
                    hi_ -= 1
                x = meet
                while pb[x] >= 0:
                    arc_list[na] = pb[x]
                    dirs[na] = False
                    na += 1
                    x = tail[pb[x]]
                end = x
                ne = 0
                for q in range(na):
                    edges, ne = _emit(arc_list[q], dirs[q], tree, arcs, stack_a, stack_d, edges, ne)
                h = np.int64(1469598103934665603)
                for q in range(ne):
                    e = edges[q]
                    gsec[i, egroup[e]] += base[e]
                    metres[i] += elen[e]
                    h = (h ^ e) * np.int64(1099511628211)
                sig[i] = h
                # the partial pieces at both ends (the seeds the route starts and ends at)
                for j in range(2):
                    if s_rank[i, j] == start and s_rank[i, j] >= 0:
                        gsec[i, s_group[i, j]] += s_base[i, j]
                        metres[i] += s_len[i, j]
                        break
                for j in range(2):
                    if t_rank[i, j] == end and t_rank[i, j] >= 0:
                        gsec[i, t_group[i, j]] += t_base[i, j]
                        metres[i] += t_len[i, j]
                        break
            for q in range(m):
                x = lst[q]
                df[x] = INF
                db[x] = INF
                pf[x] = -1
                pb[x] = -1
                mark[x] = 0
    return time, gsec, metres, sig


@dataclass(frozen=True)
class Customised:
    """The network's CCH customised (basic customisation) for one set of edge times."""

    topology: CCHTopology
    weights: F64
    up: F64
    down: F64
    arc_up: I64
    arc_down: I64

    @property
    def arcs(self) -> ArcTimes:
        """The arrays the pair queries read."""
        return ArcTimes(self.up, self.down, self.arc_up, self.arc_down)


class PairRouter:
    """Routes pairs of snapped points on one network under any edge times (``customise``):
    the CCH arrays, the elimination tree and its height are prepared once."""

    def __init__(self, router: Router, profile: str, edge_group: Ints, n_groups: int):
        top = CCHTopology.from_network(router.net)
        if top is None:
            raise GeoserviceError(
                "region", f"the {router.net.name} network carries no contraction hierarchy; rebuild it with --ch drive"
            )
        net = router.net
        self.router, self.profile, self.top = router, profile, top
        self.edge_group = np.asarray(edge_group, np.int64)
        self.n_groups = int(n_groups)
        self.base = np.asarray(net.times(profile), np.float64)
        parent = top.elimination_parent().astype(np.int64)
        self.height = int(_tree_height(parent)) + 1
        self.rank = np.asarray(top.rank, np.int64)
        self.tree = Tree(
            parent,
            np.asarray(top.ptr, np.int64),
            np.asarray(top.head, np.int64),
            top.arc_tail().astype(np.int64),
            np.asarray(top.tri_ptr, np.int64),
            np.asarray(top.tri, np.int64),
        )
        self.edges = EdgeParts(self.base, np.asarray(net.edge_len, np.float64), self.edge_group, self.n_groups)

    def customise(self, weights: F64) -> Customised:
        """The hierarchy for edge times ``weights`` (e.g. ``Router.weights`` under a table)."""
        net, top = self.router.net, self.top
        w = np.asarray(weights, np.float64)
        up, down = customise_times(top, net.edge_u, net.edge_v, w)
        arc_edges: tuple[I64, I64] = _arc_edges(top.rank, net.edge_u, net.edge_v, top.edge_arc, w, top.n_arcs)
        arc_up, arc_down = arc_edges
        return Customised(top, w, up, down, arc_up, arc_down)

    def route(self, c: Customised, src: PointSeeds, dst: PointSeeds) -> RouteParts:
        """The fastest route of every pair (``src[i]`` to ``dst[i]``) under the customised
        times, with its free-flow seconds per group. A pair whose two points lie on one road
        piece takes the piece itself when that is faster (``Router.along_same_edge``)."""
        w, base, rank, grp = c.weights, self.base, self.rank, self.edge_group

        def ends(s: PointSeeds) -> Ends:
            e = np.maximum(s.edge, 0)
            r = np.where(s.node >= 0, rank[np.maximum(s.node, 0)], -1)
            return Ends(r, s.access_s[:, None] + s.part * w[e], s.part * base[e], grp[e], s.length_m)

        src_ends, dst_ends = ends(src), ends(dst)
        n_thr = max(1, min(get_num_threads(), len(src_ends.rank)))
        routed: tuple[F64, F64, F64, I64] = _route(
            self.tree, c.arcs, self.edges, src_ends, dst_ends, self.height, n_thr
        )
        parts = RouteParts(routed[0], routed[1], src.access_s + dst.access_s, routed[2], routed[3])
        _same_piece(self.router.net, src, dst, w, self.edges, parts)
        return parts


def _same_piece(net: Network, src: PointSeeds, dst: PointSeeds, w: F64, edges: EdgeParts, parts: RouteParts) -> None:
    """Pairs on one road piece: along the piece when that is no slower (``parts``, in place)."""
    base, edge_group = edges.base, edges.group
    access, time, gsec, metres, sig = parts.access_s, parts.time_s, parts.group_s, parts.length_m, parts.signature
    same = np.flatnonzero(src.geom == dst.geom)
    for i in same:
        g = int(src.geom[i])
        a, b = float(src.frac[i]), float(dst.frac[i])
        e = int(net.geom_fwd[g]) if b >= a else int(net.geom_bwd[g])
        if a == b:
            t, e = float(access[i]), -1
        elif e < 0:
            continue
        else:
            t = float(access[i]) + abs(b - a) * float(w[e])
        if t <= time[i]:
            time[i] = t
            gsec[i] = 0.0
            if e >= 0:
                gsec[i, int(edge_group[e])] = abs(b - a) * float(base[e])
            metres[i] = abs(b - a) * float(net.geom_len[g])
            sig[i] = -1 - g
