"""Classic contraction hierarchies (CH) for one set of travel times, in numba (queries: engine.ch).

The default build contracts with a customizable hierarchy instead (bundle.cch: one contraction
for every profile and scenario); this witness-search CH stays as the reference it is measured
against (``benchmarks/ch.py --classic``: on the 12x12 Shanghai mosaic its free-flow 100x100
matrix kernel is about 1.25x faster, but it takes 28 s to build for one weight set).

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
from typing import TYPE_CHECKING

import numpy as np
from numba import get_num_threads, prange

from .contraction_graph import Lists, Scratch, _add_arc, _remove_arc, _scratch
from .heap import _grow, _pop, _push
from .jit import Bools, Floats, Int32s, Int64s, njit

if TYPE_CHECKING:
    from .network import Network

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
        np.savez(path, **self.arrays())  # type: ignore[arg-type]  # numpy's stub types **kwds as bool

    @classmethod
    def load(cls, path: str | Path) -> CH:
        with np.load(path) as z:
            return cls(**{f.name: z[f.name] for f in fields(cls)})

    def network_arrays(self, profile: str) -> dict[str, np.ndarray]:
        """The arrays named ``ch_<profile>_<field>``: added to a network's arrays, they travel
        in its bundle file without any change to the bundle format."""
        return {f"ch_{profile}_{k}": v for k, v in self.arrays().items()}

    @classmethod
    def from_network(cls, net: Network, profile: str) -> CH | None:
        """The CH a network carries for ``profile`` (see network_arrays), or None."""
        keys = {f.name: f"ch_{profile}_{f.name}" for f in fields(cls)}
        if not all(k in net.arrays for k in keys.values()):
            return None
        return cls(**{name: net.arrays[k] for name, k in keys.items()})


# ---------------------------------------------------------------- witness searches (graph: bundle.contraction_graph)


@njit(cache=True, nogil=True)
def _witness(
    src: int, skip: int, limit: float, max_settled: int, n_targets: int, g: Lists, w: Scratch
) -> tuple[int, Scratch]:
    """Bounded Dijkstra from ``src`` avoiding ``skip`` over out-lists; stops early once the
    ``n_targets`` nodes flagged in ``w.is_target`` are settled. Leaves tentative costs (each one a
    real path avoiding ``skip``) in ``w.dist``; returns (touched count, scratch with its heap)."""
    start, cnt, head, wt = g.start, g.cnt, g.head, g.wt
    dist, is_target, touched, hc, hn = w.dist, w.is_target, w.touched, w.hc, w.hn
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
    return nt, Scratch(dist, is_target, touched, hc, hn, w.sc)


@njit(cache=True, nogil=True)
def _shortcuts(v: int, max_settled: int, g: Lists, w: Scratch) -> tuple[int, Scratch]:
    """Shortcuts (u, w, time, metres) needed to contract ``v``, written to the rows of ``w.sc``
    (grown as needed). Returns (count, scratch with its grown arrays)."""
    start, cnt, head, wt, ln = g.start, g.cnt, g.head, g.wt, g.ln
    is_target = w.is_target
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
        nt, w = _witness(u, v, wt[ka] + max_out, max_settled, n_tgt, g, w)
        dist, sc = w.dist, w.sc
        for kb in range(start[ol], start[ol] + n_out):
            x = head[kb]
            via = wt[ka] + wt[kb]
            if x == u or dist[x] <= via:
                continue
            if n_sc == len(sc):
                sc2 = np.empty((2 * n_sc, 4))
                sc2[:n_sc] = sc
                sc = sc2
                w = Scratch(w.dist, w.is_target, w.touched, w.hc, w.hn, sc)
            sc[n_sc, 0] = u
            sc[n_sc, 1] = x
            sc[n_sc, 2] = via
            sc[n_sc, 3] = ln[ka] + ln[kb]
            n_sc += 1
        for i in range(nt):
            dist[w.touched[i]] = INF
    for b in range(n_out):
        is_target[head[start[ol] + b]] = False
    return n_sc, w


@njit(cache=True, nogil=True)
def _priority(v: int, n_sc: int, deleted: Int64s, cnt: Int64s) -> float:
    """2 x edge difference (shortcuts minus removed arcs) + deleted neighbours: contract
    first what adds few arcs, spread evenly over the graph."""
    return float(2.0 * (n_sc - cnt[2 * v] - cnt[2 * v + 1]) + deleted[v])


@njit(cache=True, parallel=True)
def _initial_priorities(n: int, settle: int, n_thr: int, g: Lists) -> Floats:
    """Priorities of all nodes of the uncontracted graph, nodes spread over the threads."""
    prio = np.empty(n)
    deleted = np.zeros(n, np.int64)
    for t in prange(n_thr):
        w = _scratch(n)
        for v in range(t, n, n_thr):
            n_sc, w = _shortcuts(v, settle, g, w)
            prio[v] = _priority(v, n_sc, deleted, g.cnt)
    return prio


@njit(cache=True, nogil=True)
def _contract(
    n: int, edge_u: Int32s, edge_v: Int32s, w: Floats, length: Floats, settle: int, n_thr: int
) -> tuple[Int32s, Int32s, Int32s, Floats, Floats, Bools]:
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
    size = top + top // 2
    g = Lists(start, cnt, cap, np.empty(size, np.int32), np.empty(size, np.float64), np.empty(size, np.float64))
    for e in range(len(edge_u)):
        u = edge_u[e]
        x = edge_v[e]
        if u == x:
            continue
        g, top = _add_arc(g, top, 2 * u, x, w[e], length[e])
        g, top = _add_arc(g, top, 2 * x + 1, u, w[e], length[e])

    prio = _initial_priorities(n, settle, n_thr, g)
    work = _scratch(n)
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
        n_sc, work = _shortcuts(v, settle, g, work)
        newp = _priority(v, n_sc, deleted, cnt)
        if qs > 0 and newp > qc[0]:
            prio[v] = newp
            if qs == len(qc):
                qc, qn = _grow(qc, qn)
            qs = _push(qc, qn, qs, newp, v)
            continue
        sc = work.sc
        for i in range(n_sc):
            u = int(sc[i, 0])
            x = int(sc[i, 1])
            g, top = _add_arc(g, top, 2 * u, x, sc[i, 2], sc[i, 3])
            g, top = _add_arc(g, top, 2 * x + 1, u, sc[i, 2], sc[i, 3])
        rank[v] = r
        r += 1
        # v's remaining arcs all lead to uncontracted (higher) nodes: they become its up arcs
        n_nb = cnt[2 * v] + cnt[2 * v + 1]
        if n_up + n_nb > len(up_tail):
            size = 2 * (n_up + n_nb)
            t2 = np.empty(size, np.int32)
            t2[:n_up] = up_tail[:n_up]
            up_tail = t2
            h2 = np.empty(size, np.int32)
            h2[:n_up] = up_head[:n_up]
            up_head = h2
            w2 = np.empty(size, np.float64)
            w2[:n_up] = up_w[:n_up]
            up_w = w2
            l2 = np.empty(size, np.float64)
            l2[:n_up] = up_len[:n_up]
            up_len = l2
            d2 = np.empty(size, np.bool_)
            d2[:n_up] = up_dir[:n_up]
            up_dir = d2
        for d in range(2):
            lst = 2 * v + d
            for k in range(start[lst], start[lst] + cnt[lst]):
                y = g.head[k]
                up_tail[n_up] = v
                up_head[n_up] = y
                up_w[n_up] = g.wt[k]
                up_len[n_up] = g.ln[k]
                up_dir[n_up] = d == 1
                n_up += 1
                _remove_arc(g, 2 * y + 1 - d, v)
                # the neighbour's priority is refreshed lazily when it is popped
                deleted[y] += 1
        cnt[2 * v] = 0
        cnt[2 * v + 1] = 0
    return rank, up_tail[:n_up], up_head[:n_up], up_w[:n_up], up_len[:n_up], up_dir[:n_up]


def _csr(n: int, tail: Int32s, head: Int32s, w: Floats, length: Floats) -> tuple[Int64s, Int32s, Floats, Floats]:
    order = np.argsort(tail, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])
    return ptr, head[order], w[order], length[order]


def build_ch(
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    w: np.ndarray,
    length: np.ndarray,
    n_nodes: int,
    *,
    witness_settle: int = WITNESS_SETTLE,
) -> CH:
    """Contract the graph of directed edges u->v (``w`` seconds >= 0, ``length`` metres)."""
    m = len(edge_u)
    if not (len(edge_v) == len(w) == len(length) == m):
        raise ValueError("edge_u, edge_v, w and length must have the same length")
    if m and (min(edge_u.min(), edge_v.min()) < 0 or max(edge_u.max(), edge_v.max()) >= n_nodes):
        raise ValueError(f"edge end nodes must lie in [0, {n_nodes})")
    if m and not (np.min(w) >= 0):
        raise ValueError("edge times must be non-negative numbers")
    rank, tail, head, wt, ln, bwd = _contract(
        int(n_nodes),
        np.asarray(edge_u, np.int32),
        np.asarray(edge_v, np.int32),
        np.asarray(w, np.float64),
        np.asarray(length, np.float64),
        witness_settle,
        get_num_threads(),
    )
    f = ~bwd
    fwd_ptr, fwd_head, fwd_w, fwd_len = _csr(n_nodes, tail[f], head[f], wt[f], ln[f])
    bwd_ptr, bwd_head, bwd_w, bwd_len = _csr(n_nodes, tail[bwd], head[bwd], wt[bwd], ln[bwd])
    return CH(rank, fwd_ptr, fwd_head, fwd_w, fwd_len, bwd_ptr, bwd_head, bwd_w, bwd_len)
