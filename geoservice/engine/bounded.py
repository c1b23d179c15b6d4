"""The bounded search isochrones run, and the road pieces it reached (numba).

``kernels.dijkstra`` serves every query (labels, predecessors, targets) and so fills four arrays
over all nodes and clears them again at the end; an isochrone needs only the times. On the 12x12
mosaic (534k nodes, a 30-minute search settling about 35k) those full-array passes and the pages
they touch cost more than the search itself, so this one fills only a time array handed to it
(kept by the caller between calls), clears only the nodes it left in the heap, and runs on a
4-ary heap. ``owned_pieces`` then finds the pieces of disjoint sets of reached nodes, so that
halves can be done at once."""

from __future__ import annotations

import numpy as np

from ..bundle.heap import _grow
from ..bundle.jit import njit
from .arrays import F64, I64, Ints, Pieces, PieceTimes, PieceTopology


@njit(cache=True, nogil=True, inline="always")
def _push4(hc: F64, hn: I64, size: int, c: float, n: int) -> int:
    """Push (c, n) onto a 4-ary min-heap (children of i: 4i+1..4i+4); returns the new size. Half
    the levels of a binary heap, and the entry is moved once, into the hole sifted up for it:
    the search runs a third faster on the mosaic than with ``bundle.heap``."""
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if hc[p] <= c:
            break
        hc[i] = hc[p]
        hn[i] = hn[p]
        i = p
    hc[i] = c
    hn[i] = n
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _pop4(hc: F64, hn: I64, size: int) -> tuple[float, int, int]:
    """(cost, node, new size) of the least entry of the 4-ary heap, removed."""
    c0 = hc[0]
    n0 = hn[0]
    size -= 1
    if size > 0:
        c = hc[size]
        n = hn[size]
        i = 0
        while True:
            f = 4 * i + 1
            if f >= size:
                break
            m = f
            mc = hc[f]
            for k in range(f + 1, min(f + 4, size)):
                if hc[k] < mc:
                    mc = hc[k]
                    m = k
            if c <= mc:
                break
            hc[i] = mc
            hn[i] = hn[m]
            i = m
        hc[i] = c
        hn[i] = n
    return c0, n0, size


@njit(cache=True, nogil=True)
def bounded_times(ptr: I64, adj_node: Ints, adj_w: F64, seed_node: I64, seed_cost: F64, limit: float, dist: F64) -> I64:
    """Fill ``dist`` (all inf on entry, one per node) with the time of every node within
    ``limit`` from the seeds over the CSR adjacency (inf beyond it, exactly as
    ``kernels.dijkstra`` gives them); returns the nodes reached (the only ones not left inf), in
    the order they were settled. A caller can so keep ``dist`` and clear just those after use."""
    settled = np.empty(1024, np.int64)
    ns = 0
    hc = np.empty(1024 + 4 * len(seed_node), np.float64)
    hn = np.empty(len(hc), np.int64)
    size = 0
    for i in range(len(seed_node)):
        s = seed_node[i]
        if seed_cost[i] < dist[s]:
            dist[s] = seed_cost[i]
            if size == len(hc):
                hc, hn = _grow(hc, hn)
            size = _push4(hc, hn, size, seed_cost[i], s)
    while size > 0:
        c, u, size = _pop4(hc, hn, size)
        if c > dist[u]:  # a stale entry (lazy deletion)
            continue
        if c > limit:
            dist[u] = np.inf
            break
        if ns == len(settled):
            bigger = np.empty(2 * ns, np.int64)
            bigger[:ns] = settled
            settled = bigger
        settled[ns] = u
        ns += 1
        for k in range(ptr[u], ptr[u + 1]):
            v = adj_node[k]
            nc = c + adj_w[k]
            if nc < dist[v]:
                dist[v] = nc
                if size == len(hc):
                    hc, hn = _grow(hc, hn)
                size = _push4(hc, hn, size, nc, v)
    # every node still tentative has an entry in the heap, and its time is beyond the limit
    for i in range(size):
        v = hn[i]
        if dist[v] > limit:
            dist[v] = np.inf
    return settled[:ns]


@njit(cache=True, nogil=True)
def owned_pieces(
    nodes: Ints, topo: PieceTopology, times: PieceTimes, extra: int, extra_tau: float, out: Pieces
) -> tuple[Pieces, int]:
    """``kernels.reached_geometries`` for the pieces *owned* by ``nodes`` (some of the nodes a
    search reached): a piece belongs to its u end when that one was reached, else to its v end,
    and is met there through one edge only, so disjoint sets of nodes give disjoint pieces with
    no table over all pieces to tell which were seen, and halves of the reached nodes can be
    done at once. ``extra`` >= 0: a piece added at the end with no time at either end and
    ``extra_tau`` to run (the origin's own, when not reached otherwise). Returns (pieces, k): the
    first k entries of each array are what ``reached_geometries`` returns; the arrays are those of
    ``out`` (kept by the caller between calls) or new ones when those were too short."""
    out_ptr, in_ptr, in_edge, edge_geom, geom_u, geom_v, geom_fwd, geom_bwd = topo
    dist, w, tmax, leaving = times
    ids, t0, t1, tau = out
    cap = 1
    for u in nodes:
        cap += out_ptr[u + 1] - out_ptr[u] + in_ptr[u + 1] - in_ptr[u]
    if min(len(ids), len(t0), len(t1), len(tau)) < cap:
        ids = np.empty(cap + cap // 4, np.int64)
        t0 = np.empty(len(ids))
        t1 = np.empty(len(ids))
        tau = np.empty(len(ids))
    k = 0
    for u in nodes:
        for side in range(2):
            lo = out_ptr[u] if side == 0 else in_ptr[u]
            hi = out_ptr[u + 1] if side == 0 else in_ptr[u + 1]
            for j in range(lo, hi):
                e = j if side == 0 else in_edge[j]
                g = edge_geom[e]
                ef = geom_fwd[g]
                eb = geom_bwd[g]
                gu = geom_u[g]
                gv = geom_v[g]
                du = dist[gu]
                owner = gu if du <= tmax else gv
                # one edge of the piece stands for it: the forward one if any; it is met once at
                # each end (twice at the node of a loop: there, leaving it only)
                if owner != u or e != (ef if ef >= 0 else eb) or (side == 1 and gu == gv):
                    continue
                dv = dist[gv]
                if leaving:
                    a = du if ef >= 0 else np.inf
                    b = dv if eb >= 0 else np.inf
                else:
                    a = du if eb >= 0 else np.inf
                    b = dv if ef >= 0 else np.inf
                if min(a, b) > tmax:
                    continue
                ids[k] = g
                t0[k] = a
                t1[k] = b
                tau[k] = w[ef] if ef >= 0 else w[eb]
                k += 1
    if extra >= 0:
        ids[k] = extra
        t0[k] = np.inf
        t1[k] = np.inf
        tau[k] = extra_tau
        k += 1
    return Pieces(ids, t0, t1, tau), k
