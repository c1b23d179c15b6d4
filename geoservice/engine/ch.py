"""Contraction hierarchies (CH) and bucket-based many-to-many travel times, in numba.

Why: a matrix by one Dijkstra per origin explores most of a province for every row. On a CH
each origin and destination only climbs the node order (a few hundred nodes), and the two
half-searches meet in buckets, so a 100x100 matrix costs 200 tiny searches.

Preprocessing contracts nodes one by one in the order of a lazily updated priority (edge
difference + deleted neighbours). Contracting v adds a shortcut u->w (time and metres summed)
for every in-neighbour u and out-neighbour w unless a local witness search from u that avoids v
(bounded by settled nodes and by cost) finds a path no slower. The upward graphs keep, per node,
the arcs to nodes contracted later: forward arcs by tail, backward arcs stored at their head.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit, prange

from .kernels import _grow, _pop, _push
from .router import Router, Snap

INF = np.inf
# Witness searches stop after this many settled nodes: smaller is faster to build, larger
# gives fewer shortcuts (60 -> 400 saves under 1% of the arcs on the Shanghai mosaics).
WITNESS_SETTLE = 60


@dataclass
class CH:
    """A contraction hierarchy as flat numpy arrays (saveable with ``np.savez``).

    ``fwd_*``: CSR by tail u of upward arcs u->v (rank[v] > rank[u]), time ``fwd_w`` seconds and
    ``fwd_len`` metres of the fastest path the arc stands for. ``bwd_*``: CSR by head u of
    upward arcs v->u (rank[v] > rank[u]), ``bwd_head`` holding the tail v."""

    rank: np.ndarray
    fwd_ptr: np.ndarray
    fwd_head: np.ndarray
    fwd_w: np.ndarray
    fwd_len: np.ndarray
    bwd_ptr: np.ndarray
    bwd_head: np.ndarray
    bwd_w: np.ndarray
    bwd_len: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    @property
    def n_arcs(self) -> int:
        return len(self.fwd_head) + len(self.bwd_head)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def save(self, path: str | Path) -> None:
        np.savez(path, **self.arrays())

    @classmethod
    def load(cls, path: str | Path) -> "CH":
        with np.load(path) as z:
            return cls(**{f.name: z[f.name] for f in fields(cls)})

    def network_arrays(self, profile: str) -> dict[str, np.ndarray]:
        """The arrays named ``ch_<profile>_<field>``: added to a network's arrays, they travel
        in its bundle file without any change to the bundle format."""
        return {f"ch_{profile}_{k}": v for k, v in self.arrays().items()}

    @classmethod
    def from_network(cls, net, profile: str) -> "CH | None":
        """The CH a network carries for ``profile`` (see network_arrays), or None."""
        keys = {f.name: f"ch_{profile}_{f.name}" for f in fields(cls)}
        if not all(k in net.arrays for k in keys.values()):
            return None
        return cls(**{name: net.arrays[k] for name, k in keys.items()})


# ---------------------------------------------------------------- dynamic graph
# One pool holds every adjacency list: list 2*x is the out-list of node x, 2*x+1 its in-list.
# A full list moves to the end of the pool with double capacity.

@njit(cache=True, nogil=True)
def _add_arc(start, cnt, cap, head, wt, ln, top, lst, y, w, l):
    """Insert arc (y, w, l) into list ``lst``, or lower an existing arc to y; return the pool."""
    s = start[lst]
    for k in range(s, s + cnt[lst]):
        if head[k] == y:
            if w < wt[k]:
                wt[k] = w
                ln[k] = l
            return head, wt, ln, top
    if cnt[lst] == cap[lst]:
        nc = max(4, 2 * cap[lst])
        if top + nc > len(head):
            size = max(2 * len(head), top + nc)
            h2 = np.empty(size, head.dtype)
            w2 = np.empty(size, wt.dtype)
            l2 = np.empty(size, ln.dtype)
            h2[:top] = head[:top]
            w2[:top] = wt[:top]
            l2[:top] = ln[:top]
            head, wt, ln = h2, w2, l2
        for k in range(cnt[lst]):
            head[top + k] = head[s + k]
            wt[top + k] = wt[s + k]
            ln[top + k] = ln[s + k]
        start[lst] = top
        cap[lst] = nc
        top += nc
    k = start[lst] + cnt[lst]
    head[k] = y
    wt[k] = w
    ln[k] = l
    cnt[lst] += 1
    return head, wt, ln, top


@njit(cache=True, nogil=True)
def _remove_arc(start, cnt, head, wt, ln, lst, y):
    s = start[lst]
    last = s + cnt[lst] - 1
    for k in range(s, last + 1):
        if head[k] == y:
            head[k] = head[last]
            wt[k] = wt[last]
            ln[k] = ln[last]
            cnt[lst] -= 1
            return


@njit(cache=True, nogil=True)
def _witness(src, skip, limit, max_settled, n_targets, is_target, start, cnt, head, wt, dist, touched, hc, hn):
    """Bounded Dijkstra from ``src`` avoiding ``skip`` over out-lists; stops early once the
    ``n_targets`` nodes flagged in ``is_target`` are settled. Leaves tentative costs (each one a
    real path avoiding ``skip``) in ``dist``; returns (touched count, heap)."""
    dist[src] = 0.0
    touched[0] = src
    nt = 1
    size = _push(hc, hn, 0, 0.0, src)
    settled = 0
    while size > 0:
        c, u, size = _pop(hc, hn, size)
        if c > dist[u]:
            continue
        if c > limit or settled >= max_settled:
            break
        settled += 1
        if is_target[u]:
            n_targets -= 1
            if n_targets == 0:
                break
        lst = 2 * u
        for k in range(start[lst], start[lst] + cnt[lst]):
            y = head[k]
            if y == skip:
                continue
            nc = c + wt[k]
            if nc < dist[y] and nc <= limit:
                if dist[y] == INF:
                    touched[nt] = y
                    nt += 1
                dist[y] = nc
                if size == len(hc):
                    hc, hn = _grow(hc, hn)
                size = _push(hc, hn, size, nc, y)
    return nt, hc, hn


@njit(cache=True, nogil=True)
def _shortcuts(v, max_settled, start, cnt, head, wt, ln, dist, is_target, touched, hc, hn, sc):
    """Shortcuts (u, w, time, metres) needed to contract ``v``, written to the rows of ``sc``
    (grown as needed). Returns (count, sc, heap arrays)."""
    n_sc = 0
    il = 2 * v + 1
    ol = 2 * v
    n_out = cnt[ol]
    for b in range(n_out):
        is_target[head[start[ol] + b]] = True
    for ka in range(start[il], start[il] + cnt[il]):
        u = head[ka]
        max_out = -1.0
        n_tgt = 0
        for kb in range(start[ol], start[ol] + n_out):
            if head[kb] != u:
                n_tgt += 1
                max_out = max(max_out, wt[kb])
        if n_tgt == 0:
            continue
        # u itself is settled first: count it as a target when it is one
        n_tgt += is_target[u]
        nt, hc, hn = _witness(u, v, wt[ka] + max_out, max_settled, n_tgt, is_target, start, cnt, head, wt, dist,
                              touched, hc, hn)
        for kb in range(start[ol], start[ol] + n_out):
            x = head[kb]
            via = wt[ka] + wt[kb]
            if x == u or dist[x] <= via:
                continue
            if n_sc == len(sc):
                sc2 = np.empty((2 * n_sc, 4)); sc2[:n_sc] = sc; sc = sc2
            sc[n_sc, 0] = u
            sc[n_sc, 1] = x
            sc[n_sc, 2] = via
            sc[n_sc, 3] = ln[ka] + ln[kb]
            n_sc += 1
        for i in range(nt):
            dist[touched[i]] = INF
    for b in range(n_out):
        is_target[head[start[ol] + b]] = False
    return n_sc, sc, hc, hn


@njit(cache=True, nogil=True)
def _priority(v, n_sc, deleted, cnt):
    """2 x edge difference (shortcuts minus removed arcs) + deleted neighbours: contract
    first what adds few arcs, spread evenly over the graph."""
    return 2.0 * (n_sc - cnt[2 * v] - cnt[2 * v + 1]) + deleted[v]


@njit(cache=True, parallel=True)
def _initial_priorities(n, settle, n_thr, start, cnt, head, wt, ln):
    """Priorities of all nodes of the uncontracted graph, nodes spread over the threads."""
    prio = np.empty(n)
    deleted = np.zeros(n, np.int64)
    for t in prange(n_thr):
        dist = np.full(n, INF)
        is_target = np.zeros(n, np.bool_)
        touched = np.empty(n, np.int64)
        hc = np.empty(1024, np.float64)
        hn = np.empty(1024, np.int64)
        sc = np.empty((64, 4))
        for v in range(t, n, n_thr):
            n_sc, sc, hc, hn = _shortcuts(v, settle, start, cnt, head, wt, ln, dist, is_target, touched, hc, hn, sc)
            prio[v] = _priority(v, n_sc, deleted, cnt)
    return prio


@njit(cache=True, nogil=True)
def _contract(n, edge_u, edge_v, w, length, settle, n_thr):
    """Order all nodes and return (rank, up-arc tail, head, time, metres, is-backward), the up
    arcs of each node grouped together in contraction order."""
    deg = np.zeros(2 * n, np.int64)
    for e in range(len(edge_u)):
        deg[2 * edge_u[e]] += 1
        deg[2 * edge_v[e] + 1] += 1
    cap = deg + 2
    start = np.empty(2 * n, np.int64)
    top = 0
    for i in range(2 * n):
        start[i] = top
        top += cap[i]
    cnt = np.zeros(2 * n, np.int64)
    head = np.empty(top + top // 2, np.int32)
    wt = np.empty(top + top // 2, np.float64)
    ln = np.empty(top + top // 2, np.float64)
    for e in range(len(edge_u)):
        u = edge_u[e]
        x = edge_v[e]
        if u == x:
            continue
        head, wt, ln, top = _add_arc(start, cnt, cap, head, wt, ln, top, 2 * u, x, w[e], length[e])
        head, wt, ln, top = _add_arc(start, cnt, cap, head, wt, ln, top, 2 * x + 1, u, w[e], length[e])

    prio = _initial_priorities(n, settle, n_thr, start, cnt, head, wt, ln)
    dist = np.full(n, INF)
    is_target = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    hc = np.empty(1024, np.float64)
    hn = np.empty(1024, np.int64)
    sc = np.empty((64, 4))
    deleted = np.zeros(n, np.int64)
    qc = np.empty(2 * n + 16, np.float64)
    qn = np.empty(2 * n + 16, np.int64)
    qs = 0
    for v in range(n):
        if qs == len(qc):
            qc, qn = _grow(qc, qn)
        qs = _push(qc, qn, qs, prio[v], v)

    rank = np.full(n, -1, np.int32)
    m = max(16, 2 * len(edge_u))
    up_tail = np.empty(m, np.int32)
    up_head = np.empty(m, np.int32)
    up_w = np.empty(m, np.float64)
    up_len = np.empty(m, np.float64)
    up_dir = np.empty(m, np.bool_)  # True: backward arc (stored at its head)
    n_up = 0
    r = 0
    while qs > 0:
        p, v, qs = _pop(qc, qn, qs)
        if rank[v] >= 0 or p != prio[v]:
            continue
        # lazy update: priorities go stale as neighbours are contracted; refresh before use
        n_sc, sc, hc, hn = _shortcuts(v, settle, start, cnt, head, wt, ln, dist, is_target, touched, hc, hn, sc)
        newp = _priority(v, n_sc, deleted, cnt)
        if qs > 0 and newp > qc[0]:
            prio[v] = newp
            if qs == len(qc):
                qc, qn = _grow(qc, qn)
            qs = _push(qc, qn, qs, newp, v)
            continue
        for i in range(n_sc):
            u = np.int64(sc[i, 0])
            x = np.int64(sc[i, 1])
            head, wt, ln, top = _add_arc(start, cnt, cap, head, wt, ln, top, 2 * u, x, sc[i, 2], sc[i, 3])
            head, wt, ln, top = _add_arc(start, cnt, cap, head, wt, ln, top, 2 * x + 1, u, sc[i, 2], sc[i, 3])
        rank[v] = r
        r += 1
        # v's remaining arcs all lead to uncontracted (higher) nodes: they become its up arcs
        n_nb = cnt[2 * v] + cnt[2 * v + 1]
        if n_up + n_nb > len(up_tail):
            size = 2 * (n_up + n_nb)
            t2 = np.empty(size, np.int32); t2[:n_up] = up_tail[:n_up]; up_tail = t2
            h2 = np.empty(size, np.int32); h2[:n_up] = up_head[:n_up]; up_head = h2
            w2 = np.empty(size, np.float64); w2[:n_up] = up_w[:n_up]; up_w = w2
            l2 = np.empty(size, np.float64); l2[:n_up] = up_len[:n_up]; up_len = l2
            d2 = np.empty(size, np.bool_); d2[:n_up] = up_dir[:n_up]; up_dir = d2
        for d in range(2):
            lst = 2 * v + d
            for k in range(start[lst], start[lst] + cnt[lst]):
                y = head[k]
                up_tail[n_up] = v
                up_head[n_up] = y
                up_w[n_up] = wt[k]
                up_len[n_up] = ln[k]
                up_dir[n_up] = d == 1
                n_up += 1
                _remove_arc(start, cnt, head, wt, ln, 2 * y + 1 - d, v)
                # the neighbour's priority is refreshed lazily when it is popped
                deleted[y] += 1
        cnt[2 * v] = 0
        cnt[2 * v + 1] = 0
    return rank, up_tail[:n_up], up_head[:n_up], up_w[:n_up], up_len[:n_up], up_dir[:n_up]


def _csr(n: int, tail: np.ndarray, head: np.ndarray, w: np.ndarray, length: np.ndarray):
    order = np.argsort(tail, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])
    return ptr, head[order], w[order], length[order]


def build_ch(edge_u: np.ndarray, edge_v: np.ndarray, w: np.ndarray, length: np.ndarray, n_nodes: int, *,
             witness_settle: int = WITNESS_SETTLE) -> CH:
    """Contract the graph of directed edges u->v (``w`` seconds >= 0, ``length`` metres)."""
    m = len(edge_u)
    if not (len(edge_v) == len(w) == len(length) == m):
        raise ValueError("edge_u, edge_v, w and length must have the same length")
    if m and (min(edge_u.min(), edge_v.min()) < 0 or max(edge_u.max(), edge_v.max()) >= n_nodes):
        raise ValueError(f"edge end nodes must lie in [0, {n_nodes})")
    if m and not (np.min(w) >= 0):
        raise ValueError("edge times must be non-negative numbers")
    rank, tail, head, wt, ln, bwd = _contract(int(n_nodes), np.asarray(edge_u, np.int32),
                                              np.asarray(edge_v, np.int32), np.asarray(w, np.float64),
                                              np.asarray(length, np.float64), witness_settle,
                                              get_num_threads())
    f = ~bwd
    fwd_ptr, fwd_head, fwd_w, fwd_len = _csr(n_nodes, tail[f], head[f], wt[f], ln[f])
    bwd_ptr, bwd_head, bwd_w, bwd_len = _csr(n_nodes, tail[bwd], head[bwd], wt[bwd], ln[bwd])
    return CH(rank, fwd_ptr, fwd_head, fwd_w, fwd_len, bwd_ptr, bwd_head, bwd_w, bwd_len)


# ---------------------------------------------------------------- queries

@njit(cache=True, nogil=True)
def _upward(ptr, head, wt, ln, sptr, shead, swt, seed_node, seed_cost, seed_len, dist, meters, touched,
            hc, hn, out_node, out_cost, out_len):
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
            o1 = np.empty(2 * n_out, out_node.dtype); o1[:n_out] = out_node; out_node = o1
            o2 = np.empty(2 * n_out, out_cost.dtype); o2[:n_out] = out_cost; out_cost = o2
            o3 = np.empty(2 * n_out, out_len.dtype); o3[:n_out] = out_len; out_len = o3
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
        cnt, on, oc, ol, hc, hn = _upward(bptr, bhead, bw, blen, fptr, fhead, fw, dst_nodes[a:b], dst_costs[a:b],
                                          dst_lens[a:b], dist, meters, touched, hc, hn, on, oc, ol)
        if m + cnt > len(e_node):
            size = 2 * (m + cnt)
            t1 = np.empty(size, np.int32); t1[:m] = e_node[:m]; e_node = t1
            t2 = np.empty(size, np.int32); t2[:m] = e_dst[:m]; e_dst = t2
            t3 = np.empty(size); t3[:m] = e_cost[:m]; e_cost = t3
            t4 = np.empty(size); t4[:m] = e_len[:m]; e_len = t4
        e_node[m:m + cnt] = on[:cnt]
        e_dst[m:m + cnt] = j
        e_cost[m:m + cnt] = oc[:cnt]
        e_len[m:m + cnt] = ol[:cnt]
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
def _scan(fptr, fhead, fw, flen, bptr, bhead, bw, src_nodes, src_costs, src_lens, src_ptr, n_dst, n_thr,
          bucket_ptr, bk_dst, bk_cost, bk_len):
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
            cnt, on, oc, ol, hc, hn = _upward(fptr, fhead, fw, flen, bptr, bhead, bw, src_nodes[a:b],
                                              src_costs[a:b], src_lens[a:b], dist, meters, touched, hc, hn,
                                              on, oc, ol)
            for q in range(cnt):
                x = on[q]
                for k in range(bucket_ptr[x], bucket_ptr[x + 1]):
                    j = bk_dst[k]
                    v = oc[q] + bk_cost[k]
                    if v < times[i, j]:
                        times[i, j] = v
                        metres[i, j] = ol[q] + bk_len[k]
    return times, metres


def ch_many_to_many(ch: CH, src_nodes, src_costs, src_lens, src_ptr, dst_nodes, dst_costs, dst_lens,
                    dst_ptr) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and metres of the fastest route from every origin to every destination.

    Origin i starts at ``src_nodes[src_ptr[i]:src_ptr[i+1]]`` having already spent
    ``src_costs`` seconds and ``src_lens`` metres; destination j is reached from
    ``dst_nodes[dst_ptr[j]:dst_ptr[j+1]]`` with ``dst_costs``/``dst_lens`` still to go
    (Router.seeds with "from" and "to"). Unreachable pairs are inf."""
    buckets = _buckets(ch.fwd_ptr, ch.fwd_head, ch.fwd_w, ch.bwd_ptr, ch.bwd_head, ch.bwd_w, ch.bwd_len,
                       np.asarray(dst_nodes, np.int64), np.asarray(dst_costs, np.float64),
                       np.asarray(dst_lens, np.float64), np.asarray(dst_ptr, np.int64))
    return _scan(ch.fwd_ptr, ch.fwd_head, ch.fwd_w, ch.fwd_len, ch.bwd_ptr, ch.bwd_head, ch.bwd_w,
                 np.asarray(src_nodes, np.int64), np.asarray(src_costs, np.float64), np.asarray(src_lens, np.float64),
                 np.asarray(src_ptr, np.int64), len(dst_ptr) - 1,
                 max(1, min(get_num_threads(), len(src_ptr) - 1)), *buckets)


def seed_arrays(router: Router, snaps: list[Snap], profile: str,
                direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(nodes, costs, metres, ptr) of the seeds of every snapped point, point i owning
    ``ptr[i]:ptr[i+1]``: direction "from" for origins, "to" for destinations."""
    seeds = [router.seeds(s, profile, direction) for s in snaps]
    ptr = np.zeros(len(seeds) + 1, np.int64)
    np.cumsum([len(s.node) for s in seeds], out=ptr[1:])
    cat = lambda a: np.concatenate(a) if a else np.zeros(0)  # noqa: E731
    return (cat([s.node for s in seeds]).astype(np.int64), cat([s.cost for s in seeds]),
            cat([s.length for s in seeds]), ptr)


def ch_matrix(ch: CH, router: Router, origins: list[Snap], destinations: list[Snap],
              profile: str) -> tuple[np.ndarray, np.ndarray]:
    """Engine.matrix's (times, metres) between snapped points over the network's CH for
    ``profile``, except for pairs on one geometry, which the engine settles itself
    (``Router.along_same_edge``)."""
    src = seed_arrays(router, origins, profile, "from")
    dst = seed_arrays(router, destinations, profile, "to")
    return ch_many_to_many(ch, *src, *dst)
