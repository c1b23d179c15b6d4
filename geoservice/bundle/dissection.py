"""A metric-independent node order by nested dissection with inertial flow (numba).

Why: a customizable contraction hierarchy (bundle.cch) contracts nodes in an order that does not
depend on travel times, so one contraction serves every profile, scenario and congestion table.
Its size and its query speed depend on small, balanced separators: nodes contracted last are the
separators of the whole graph, then of each half, and so on (nested dissection).

Separators come from inertial flow (Schild & Sommer, "On Balanced Separators in Road Networks",
SEA 2015; the order RoutingKit uses for its CCH): the nodes of a piece are projected onto four
directions (west-east, south-north and the two diagonals); for each, the first ``balance`` share
of them is a source, the last share a sink, and a max flow with unit node capacities gives a
minimum vertex separator between them. The smallest of the four separators (ties: the more
balanced one) splits the piece; each part (its connected components) is ordered the same way.
Pieces of at most ``LEAF`` nodes are ordered by minimum degree (fill-in counted).
"""

from __future__ import annotations

import numpy as np

from .flow_separator import Marks, _local, _min_separator
from .jit import Floats, Int32s, Int64s, njit

# Share of a piece's nodes taken as source, and as sink, along each direction. On the 12x12
# Shanghai mosaic (638k nodes) 0.33 orders in 14 s of CPU against 25 s at 0.25 and 0.2, with
# 2% more arcs than 0.25 and a shallower elimination tree (mean depth 355 vs 366; 0.2: 447);
# 0.4 takes 10 s but adds 12% arcs and 33% triangles.
BALANCE = 0.33
LEAF = 24  # pieces this small are ordered by minimum degree
_DIRS = np.array(
    [[1.0, 0.0], [0.0, 1.0], [0.7071067811865476, 0.7071067811865476], [0.7071067811865476, -0.7071067811865476]]
)


@njit(cache=True, nogil=True)
def _undirected(n: int, u: Int64s, v: Int64s) -> tuple[Int64s, Int32s]:
    deg = np.zeros(n + 1, np.int64)
    for e in range(len(u)):
        if u[e] != v[e]:
            deg[u[e] + 1] += 1
            deg[v[e] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    fill = deg[:n].copy()
    nb = np.empty(deg[n], np.int32)
    for e in range(len(u)):
        if u[e] != v[e]:
            nb[fill[u[e]]] = v[e]
            fill[u[e]] += 1
            nb[fill[v[e]]] = u[e]
            fill[v[e]] += 1
    ptr = np.zeros(n + 1, np.int64)
    m = 0
    for i in range(n):
        row = np.sort(nb[deg[i] : deg[i + 1]])
        for k in range(len(row)):
            if k == 0 or row[k] != row[k - 1]:
                nb[m] = row[k]
                m += 1
        ptr[i + 1] = m
    return ptr, nb[:m].copy()


def undirected_csr(n: int, u: Int64s | Int32s, v: Int64s | Int32s) -> tuple[Int64s, Int32s]:
    """(ptr, neighbours) of the simple undirected graph of the edges u-v: loops dropped,
    parallel and opposite edges merged, neighbours sorted."""
    return _undirected(int(n), np.asarray(u, np.int64), np.asarray(v, np.int64))


@njit(cache=True, nogil=True)
def _components(lptr: Int64s, ladj: Int32s, comp: Int64s, queue: Int64s) -> int:
    """Connected components of a local graph into ``comp``; returns their number."""
    s = len(lptr) - 1
    comp[:s] = -1
    nc = 0
    for r in range(s):
        if comp[r] >= 0:
            continue
        comp[r] = nc
        queue[0] = r
        qh, qt = 0, 1
        while qh < qt:
            x = queue[qh]
            qh += 1
            for k in range(lptr[x], lptr[x + 1]):
                y = ladj[k]
                if comp[y] < 0:
                    comp[y] = nc
                    queue[qt] = y
                    qt += 1
        nc += 1
    return nc


@njit(cache=True, nogil=True)
def _min_degree(lptr: Int64s, ladj: Int32s, out: Int64s) -> None:
    """Minimum-degree elimination order of a small local graph (fill edges counted)."""
    s = len(lptr) - 1
    adj = np.zeros((s, s), np.bool_)
    for i in range(s):
        for k in range(lptr[i], lptr[i + 1]):
            adj[i, ladj[k]] = True
    done = np.zeros(s, np.bool_)
    for r in range(s):
        best, bd = -1, s + 1
        for v in range(s):
            if not done[v]:
                d = 0
                for w in range(s):
                    if adj[v, w] and not done[w]:
                        d += 1
                if d < bd:
                    best, bd = v, d
        done[best] = True
        out[r] = best
        for a in range(s):
            if adj[best, a] and not done[a]:
                for b in range(s):
                    if adj[best, b] and not done[b] and a != b:
                        adj[a, b] = True


@njit(cache=True, nogil=True)
def _dissect(
    n: int, xadj: Int64s, adj: Int32s, x: Floats, y: Floats, dirs: Floats, balance: float, leaf: int
) -> Int32s:
    """Nested dissection order: returns rank[node] (0 = contracted first)."""
    perm = np.arange(n).astype(np.int32)
    loc = np.full(n, -1, np.int64)
    comp = np.empty(n, np.int64)
    queue = np.empty(2 * n + 2, np.int64)
    marks = Marks(np.zeros(2 * n, np.int64), np.empty(2 * n, np.int64), np.empty(2 * n, np.int64), queue)
    term = np.zeros(n, np.int8)
    side = np.empty(n, np.int8)
    best_side = np.empty(n, np.int8)
    tmp = np.empty(n, np.int32)
    stack_lo = np.empty(n + 1, np.int64)
    stack_hi = np.empty(n + 1, np.int64)
    stack_lo[0], stack_hi[0] = 0, n
    top = 1
    stamp = 0
    while top > 0:
        top -= 1
        lo, hi = stack_lo[top], stack_hi[top]
        s = hi - lo
        if s <= 1:
            continue
        nodes = perm[lo:hi]
        for i in range(s):
            loc[nodes[i]] = i
        piece = _local(nodes, loc, xadj, adj)
        lptr, ladj = piece.lptr, piece.ladj
        for i in range(s):
            loc[nodes[i]] = -1
        nc = _components(lptr, ladj, comp, queue)
        if nc > 1:  # order each component on its own
            cnt = np.zeros(nc + 1, np.int64)
            for i in range(s):
                cnt[comp[i] + 1] += 1
            for c in range(nc):
                cnt[c + 1] += cnt[c]
            for c in range(nc):
                if cnt[c + 1] - cnt[c] > 1:
                    stack_lo[top], stack_hi[top] = lo + cnt[c], lo + cnt[c + 1]
                    top += 1
            for i in range(s):
                tmp[cnt[comp[i]]] = nodes[i]
                cnt[comp[i]] += 1
            perm[lo:hi] = tmp[:s]
            continue
        if s <= leaf:
            order = np.empty(s, np.int64)
            _min_degree(lptr, ladj, order)
            for r in range(s):
                tmp[r] = nodes[order[r]]
            perm[lo:hi] = tmp[:s]
            continue
        k = max(1, int(balance * s))
        best, best_bal = s + 1, -1
        for d in range(len(dirs)):
            proj = np.empty(s)
            for i in range(s):
                g = nodes[i]
                proj[i] = dirs[d, 0] * x[g] + dirs[d, 1] * y[g]
            order = np.argsort(proj, kind="mergesort")
            term[:s] = 0
            for i in range(k):
                term[order[i]] = 1
                term[order[s - 1 - i]] = 2
            for i in range(k):  # a sink next to a source is no terminal: it may be cut
                v = order[i]
                for e in range(lptr[v], lptr[v + 1]):
                    if term[ladj[e]] == 2:
                        term[ladj[e]] = 0
            f, stamp = _min_separator(piece, term, best + 1, marks, stamp, side)
            if f > best:
                continue
            na = 0
            nb = 0
            for i in range(s):
                na += side[i] == 0
                nb += side[i] == 2
            bal = min(na, nb)
            if f < best or bal > best_bal:
                best, best_bal = f, bal
                best_side[:s] = side[:s]
        if best > s:  # no direction gave a separator: cut off the node of highest degree
            best_side[:s] = 0
            best_side[np.argmax(lptr[1:] - lptr[:-1])] = 1
        # parts first, separator last (highest ranks)
        p = 0
        for part in (0, 2, 1):
            start = p
            for i in range(s):
                if best_side[i] == part:
                    tmp[p] = nodes[i]
                    p += 1
            if part != 1 and p - start > 1:
                stack_lo[top], stack_hi[top] = lo + start, lo + p
                top += 1
        perm[lo:hi] = tmp[:s]
    rank = np.empty(n, np.int32)
    for i in range(n):
        rank[perm[i]] = i
    return rank


def nested_dissection_order(
    n: int, edge_u: Int64s, edge_v: Int64s, x: Floats, y: Floats, *, balance: float = BALANCE
) -> Int32s:
    """rank[node] (0 first) of a nested dissection of the undirected graph of the edges, with
    node coordinates ``x``/``y`` in metres."""
    if not (0.0 < balance <= 0.5):
        raise ValueError("balance must lie in (0, 0.5]")
    xadj, adj = undirected_csr(n, edge_u, edge_v)
    return _dissect(
        int(n), xadj, adj, np.asarray(x, np.float64), np.asarray(y, np.float64), _DIRS, float(balance), LEAF
    )
