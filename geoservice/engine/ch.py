"""Bucket-based many-to-many travel times over a contraction hierarchy (numba).

Why: a matrix by one Dijkstra per origin explores most of a province for every row. On a CH
each origin and destination only climbs the node order (a few hundred nodes), and the two
half-searches meet in buckets, so a 100x100 matrix costs 200 tiny searches. The upward graphs
come from a customised CCH (engine.cch, in rank space) or a classic CH (bundle.contraction).
Seeds of snapped points are made by ``engine.hierarchy_matrix``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import get_num_threads, prange

from ..bundle.contraction import CH
from ..bundle.heap import _grow, _pop, _push
from ..bundle.jit import njit
from .arrays import F64, I32, I64, Ints, SeedBlocks

__all__ = ["CH", "UpGraph", "upward_graphs", "ch_many_to_many"]

INF = np.inf


class UpGraph(NamedTuple):
    """One half of a hierarchy: CSR by node of its upward arcs, to ``head`` in ``weight``
    seconds over ``length`` metres (``CH.fwd_*`` or ``CH.bwd_*``)."""

    ptr: I64
    head: Ints
    weight: F64
    length: F64


class _Scratch(NamedTuple):
    """One thread's node arrays for upward searches, left clear after each search."""

    dist: F64
    meters: F64
    touched: I64


class _Found(NamedTuple):
    """An upward search's heap and the nodes it settled, grown as needed."""

    hc: F64
    hn: I64
    node: I32
    cost: F64
    length: F64


class _Buckets(NamedTuple):
    """The backward searches' settled nodes grouped by node: ``ptr`` over nodes, then the
    destination, the cost to it and the metres to it of each entry."""

    ptr: I64
    dst: I32
    cost: F64
    length: F64


def upward_graphs(ch: CH) -> tuple[UpGraph, UpGraph]:
    """The (forward, backward) upward graphs of a hierarchy."""
    return UpGraph(ch.fwd_ptr, ch.fwd_head, ch.fwd_w, ch.fwd_len), UpGraph(
        ch.bwd_ptr, ch.bwd_head, ch.bwd_w, ch.bwd_len
    )


# ---------------------------------------------------------------- queries


@njit(cache=True, nogil=True)
def _scratch(n: int) -> _Scratch:
    return _Scratch(np.full(n, INF), np.zeros(n), np.empty(n, np.int64))


@njit(cache=True, nogil=True)
def _found() -> _Found:
    return _Found(
        np.empty(256, np.float64), np.empty(256, np.int64), np.empty(256, np.int32), np.empty(256), np.empty(256)
    )


@njit(cache=True, nogil=True)
def _upward(
    graph: UpGraph, stall: UpGraph, seed_node: I64, seed_cost: F64, seed_len: F64, work: _Scratch, found: _Found
) -> tuple[int, _Found]:
    """Complete upward Dijkstra from the seeds over ``graph``, with stall-on-demand over the
    opposite upward arcs ``stall``: a node reached more cheaply from a higher one is not on any
    shortest up-path, so it is neither relaxed nor reported.

    Settled, unstalled nodes go to ``found`` (grown as needed); ``work.dist`` is reset before
    returning. Returns (count, found)."""
    ptr, head, wt, ln = graph
    sptr, shead, swt, _ = stall
    dist, meters, touched = work
    hc, hn, out_node, out_cost, out_len = found
    nt = 0
    size = 0
    for i in range(len(seed_node)):
        s = seed_node[i]
        if seed_cost[i] < dist[s]:
            if dist[s] == INF:
                touched[nt] = s
                nt += 1
            dist[s] = seed_cost[i]
            meters[s] = seed_len[i]
            if size == len(hc):
                hc, hn = _grow(hc, hn)
            size = _push(hc, hn, size, seed_cost[i], s)
    n_out = 0
    while size > 0:
        c, x, size = _pop(hc, hn, size)
        if c > dist[x]:
            continue
        stalled = False
        for k in range(sptr[x], sptr[x + 1]):
            if dist[shead[k]] + swt[k] < c:
                stalled = True
                break
        if stalled:
            continue
        if n_out == len(out_node):
            o1 = np.empty(2 * n_out, out_node.dtype)
            o1[:n_out] = out_node
            out_node = o1
            o2 = np.empty(2 * n_out, out_cost.dtype)
            o2[:n_out] = out_cost
            out_cost = o2
            o3 = np.empty(2 * n_out, out_len.dtype)
            o3[:n_out] = out_len
            out_len = o3
        out_node[n_out] = x
        out_cost[n_out] = c
        out_len[n_out] = meters[x]
        n_out += 1
        for k in range(ptr[x], ptr[x + 1]):
            y = head[k]
            nc = c + wt[k]
            if nc < dist[y]:
                if dist[y] == INF:
                    touched[nt] = y
                    nt += 1
                dist[y] = nc
                meters[y] = meters[x] + ln[k]
                if size == len(hc):
                    hc, hn = _grow(hc, hn)
                size = _push(hc, hn, size, nc, y)
    for i in range(nt):
        dist[touched[i]] = INF
    return n_out, _Found(hc, hn, out_node, out_cost, out_len)


@njit(cache=True, nogil=True)
def _buckets(fwd: UpGraph, bwd: UpGraph, dst: SeedBlocks) -> _Buckets:
    """Backward upward search from every destination; returns its settled nodes as buckets
    grouped by node."""
    n = len(fwd.ptr) - 1
    work = _scratch(n)
    found = _found()
    e_node = np.empty(1024, np.int32)
    e_dst = np.empty(1024, np.int32)
    e_cost = np.empty(1024)
    e_len = np.empty(1024)
    m = 0
    for j in range(len(dst.ptr) - 1):
        a = dst.ptr[j]
        b = dst.ptr[j + 1]
        cnt, found = _upward(bwd, fwd, dst.node[a:b], dst.cost[a:b], dst.length[a:b], work, found)
        if m + cnt > len(e_node):
            size = 2 * (m + cnt)
            t1 = np.empty(size, np.int32)
            t1[:m] = e_node[:m]
            e_node = t1
            t2 = np.empty(size, np.int32)
            t2[:m] = e_dst[:m]
            e_dst = t2
            t3 = np.empty(size)
            t3[:m] = e_cost[:m]
            e_cost = t3
            t4 = np.empty(size)
            t4[:m] = e_len[:m]
            e_len = t4
        e_node[m : m + cnt] = found.node[:cnt]
        e_dst[m : m + cnt] = j
        e_cost[m : m + cnt] = found.cost[:cnt]
        e_len[m : m + cnt] = found.length[:cnt]
        m += cnt
    bucket_ptr = np.zeros(n + 1, np.int64)
    for i in range(m):
        bucket_ptr[e_node[i] + 1] += 1
    for x in range(n):
        bucket_ptr[x + 1] += bucket_ptr[x]
    fill = bucket_ptr[:n].copy()
    bk_dst = np.empty(m, np.int32)
    bk_cost = np.empty(m)
    bk_len = np.empty(m)
    for i in range(m):
        k = fill[e_node[i]]
        fill[e_node[i]] += 1
        bk_dst[k] = e_dst[i]
        bk_cost[k] = e_cost[i]
        bk_len[k] = e_len[i]
    return _Buckets(bucket_ptr, bk_dst, bk_cost, bk_len)


@njit(cache=True, parallel=True)
def _scan(fwd: UpGraph, bwd: UpGraph, src: SeedBlocks, n_dst: int, n_thr: int, buckets: _Buckets) -> tuple[F64, F64]:
    """Forward upward search from every origin (origins spread over the threads), scanning the
    buckets of each settled node."""
    n = len(fwd.ptr) - 1
    n_s = len(src.ptr) - 1
    bucket_ptr, bk_dst, bk_cost, bk_len = buckets
    times = np.full((n_s, n_dst), INF)
    metres = np.full((n_s, n_dst), INF)
    for t in prange(n_thr):
        work = _scratch(n)
        found = _found()
        for i in range(t, n_s, n_thr):
            a = src.ptr[i]
            b = src.ptr[i + 1]
            cnt, found = _upward(fwd, bwd, src.node[a:b], src.cost[a:b], src.length[a:b], work, found)
            on = found.node
            oc = found.cost
            ol = found.length
            for q in range(cnt):
                x = on[q]
                for k in range(bucket_ptr[x], bucket_ptr[x + 1]):
                    j = bk_dst[k]
                    v = oc[q] + bk_cost[k]
                    if v < times[i, j]:
                        times[i, j] = v
                        metres[i, j] = ol[q] + bk_len[k]
    return times, metres


def _typed(seeds: SeedBlocks) -> SeedBlocks:
    return SeedBlocks(
        np.asarray(seeds.node, np.int64),
        np.asarray(seeds.cost, np.float64),
        np.asarray(seeds.length, np.float64),
        np.asarray(seeds.ptr, np.int64),
    )


def ch_many_to_many(ch: CH | tuple[UpGraph, UpGraph], src: SeedBlocks, dst: SeedBlocks) -> tuple[F64, F64]:
    """Times (s) and metres of the fastest route from every origin to every destination.

    Origin i starts at ``src.node[src.ptr[i]:src.ptr[i+1]]`` having already spent ``src.cost``
    seconds and ``src.length`` metres; destination j is reached from its nodes in ``dst`` with
    ``dst.cost``/``dst.length`` still to go (``Router.seeds`` with "from" and "to"). ``ch``: the
    hierarchy, or its two upward graphs (``upward_graphs``). Unreachable pairs are inf."""
    fwd, bwd = upward_graphs(ch) if isinstance(ch, CH) else ch
    src, dst = _typed(src), _typed(dst)
    buckets = _buckets(fwd, bwd, dst)
    n_thr = max(1, min(get_num_threads(), len(src.ptr) - 1))
    out: tuple[F64, F64] = _scan(fwd, bwd, src, len(dst.ptr) - 1, n_thr, buckets)
    return out
