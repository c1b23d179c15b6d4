"""Bucket-based many-to-many travel times over a contraction hierarchy (numba).

Why: a matrix by one Dijkstra per origin explores most of a province for every row. On a CH
each origin and destination only climbs the node order (a few hundred nodes), and the two
half-searches meet in buckets, so a 100x100 matrix costs 200 tiny searches. The upward graphs
come from a customised CCH (engine.cch, in rank space) or a classic CH (bundle.contraction).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from ..bundle.contraction import CH
from ..bundle.heap import _grow, _pop, _push
from .router import Router, Snap

INF = np.inf

# ---------------------------------------------------------------- queries


@njit(cache=True, nogil=True)
def _upward(
    ptr,
    head,
    wt,
    ln,
    sptr,
    shead,
    swt,
    seed_node,
    seed_cost,
    seed_len,
    dist,
    meters,
    touched,
    hc,
    hn,
    out_node,
    out_cost,
    out_len,
):
    """Complete upward Dijkstra from the seeds over (ptr, head, wt, ln), with stall-on-demand
    over the opposite upward arcs (sptr, shead, swt): a node reached more cheaply from a higher
    one is not on any shortest up-path, so it is neither relaxed nor reported.

    Settled, unstalled nodes go to out_* (grown as needed); ``dist`` is reset before returning.
    Returns (count, out_node, out_cost, out_len, hc, hn)."""
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
    return n_out, out_node, out_cost, out_len, hc, hn


@njit(cache=True, nogil=True)
def _buckets(fptr, fhead, fw, bptr, bhead, bw, blen, dst_nodes, dst_costs, dst_lens, dst_ptr):
    """Backward upward search from every destination; returns its settled nodes as buckets
    grouped by node: (bucket_ptr over nodes, destination, cost to it, metres to it)."""
    n = len(fptr) - 1
    dist = np.full(n, INF)
    meters = np.zeros(n)
    touched = np.empty(n, np.int64)
    hc = np.empty(256, np.float64)
    hn = np.empty(256, np.int64)
    on = np.empty(256, np.int32)
    oc = np.empty(256, np.float64)
    ol = np.empty(256, np.float64)
    e_node = np.empty(1024, np.int32)
    e_dst = np.empty(1024, np.int32)
    e_cost = np.empty(1024)
    e_len = np.empty(1024)
    m = 0
    for j in range(len(dst_ptr) - 1):
        a = dst_ptr[j]
        b = dst_ptr[j + 1]
        cnt, on, oc, ol, hc, hn = _upward(
            bptr,
            bhead,
            bw,
            blen,
            fptr,
            fhead,
            fw,
            dst_nodes[a:b],
            dst_costs[a:b],
            dst_lens[a:b],
            dist,
            meters,
            touched,
            hc,
            hn,
            on,
            oc,
            ol,
        )
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
        e_node[m : m + cnt] = on[:cnt]
        e_dst[m : m + cnt] = j
        e_cost[m : m + cnt] = oc[:cnt]
        e_len[m : m + cnt] = ol[:cnt]
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
    return bucket_ptr, bk_dst, bk_cost, bk_len


@njit(cache=True, parallel=True)
def _scan(
    fptr,
    fhead,
    fw,
    flen,
    bptr,
    bhead,
    bw,
    src_nodes,
    src_costs,
    src_lens,
    src_ptr,
    n_dst,
    n_thr,
    bucket_ptr,
    bk_dst,
    bk_cost,
    bk_len,
):
    """Forward upward search from every origin (origins spread over the threads), scanning the
    buckets of each settled node."""
    n = len(fptr) - 1
    n_s = len(src_ptr) - 1
    times = np.full((n_s, n_dst), INF)
    metres = np.full((n_s, n_dst), INF)
    for t in prange(n_thr):
        dist = np.full(n, INF)
        meters = np.zeros(n)
        touched = np.empty(n, np.int64)
        hc = np.empty(256, np.float64)
        hn = np.empty(256, np.int64)
        on = np.empty(256, np.int32)
        oc = np.empty(256, np.float64)
        ol = np.empty(256, np.float64)
        for i in range(t, n_s, n_thr):
            a = src_ptr[i]
            b = src_ptr[i + 1]
            cnt, on, oc, ol, hc, hn = _upward(
                fptr,
                fhead,
                fw,
                flen,
                bptr,
                bhead,
                bw,
                src_nodes[a:b],
                src_costs[a:b],
                src_lens[a:b],
                dist,
                meters,
                touched,
                hc,
                hn,
                on,
                oc,
                ol,
            )
            for q in range(cnt):
                x = on[q]
                for k in range(bucket_ptr[x], bucket_ptr[x + 1]):
                    j = bk_dst[k]
                    v = oc[q] + bk_cost[k]
                    if v < times[i, j]:
                        times[i, j] = v
                        metres[i, j] = ol[q] + bk_len[k]
    return times, metres


def ch_many_to_many(
    ch: CH, src_nodes, src_costs, src_lens, src_ptr, dst_nodes, dst_costs, dst_lens, dst_ptr
) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and metres of the fastest route from every origin to every destination.

    Origin i starts at ``src_nodes[src_ptr[i]:src_ptr[i+1]]`` having already spent
    ``src_costs`` seconds and ``src_lens`` metres; destination j is reached from
    ``dst_nodes[dst_ptr[j]:dst_ptr[j+1]]`` with ``dst_costs``/``dst_lens`` still to go
    (Router.seeds with "from" and "to"). Unreachable pairs are inf."""
    buckets = _buckets(
        ch.fwd_ptr,
        ch.fwd_head,
        ch.fwd_w,
        ch.bwd_ptr,
        ch.bwd_head,
        ch.bwd_w,
        ch.bwd_len,
        np.asarray(dst_nodes, np.int64),
        np.asarray(dst_costs, np.float64),
        np.asarray(dst_lens, np.float64),
        np.asarray(dst_ptr, np.int64),
    )
    return _scan(
        ch.fwd_ptr,
        ch.fwd_head,
        ch.fwd_w,
        ch.fwd_len,
        ch.bwd_ptr,
        ch.bwd_head,
        ch.bwd_w,
        np.asarray(src_nodes, np.int64),
        np.asarray(src_costs, np.float64),
        np.asarray(src_lens, np.float64),
        np.asarray(src_ptr, np.int64),
        len(dst_ptr) - 1,
        max(1, min(get_num_threads(), len(src_ptr) - 1)),
        *buckets,
    )


def seed_arrays(
    router: Router, snaps: list[Snap], profile: str, direction: str, *, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(nodes, costs, metres, ptr) of the seeds of every snapped point, point i owning
    ``ptr[i]:ptr[i+1]``: direction "from" for origins, "to" for destinations; costs in
    ``weights`` (default the profile's free-flow times)."""
    seeds = [router.seeds(s, profile, direction, weights=weights) for s in snaps]
    ptr = np.zeros(len(seeds) + 1, np.int64)
    np.cumsum([len(s.node) for s in seeds], out=ptr[1:])
    cat = lambda a: np.concatenate(a) if a else np.zeros(0)
    return (
        cat([s.node for s in seeds]).astype(np.int64),
        cat([s.cost for s in seeds]),
        cat([s.length for s in seeds]),
        ptr,
    )


def ch_matrix(
    ch: CH, router: Router, origins: list[Snap], destinations: list[Snap], profile: str
) -> tuple[np.ndarray, np.ndarray]:
    """Engine.matrix's (times, metres) between snapped points over the network's CH for
    ``profile``, except for pairs on one geometry, which the engine settles itself
    (``Router.along_same_edge``)."""
    src = seed_arrays(router, origins, profile, "from")
    dst = seed_arrays(router, destinations, profile, "to")
    return ch_many_to_many(ch, *src, *dst)
