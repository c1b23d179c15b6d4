"""Customizable contraction hierarchy (CCH): the metric-independent part, built with the bundle.

Why: a classic contraction hierarchy (bundle.contraction) is built for one set of travel times;
any other scenario (peak, off-peak, a congestion table, the ambulance profile) would need a new
contraction of a minute or more. A CCH (Dibbelt, Strasser & Wagner, "Customizable Contraction
Hierarchies", ACM JEA 2016) splits the work: once per bundle, nodes are ordered by nested
dissection (bundle.dissection), independently of any weight, and contracted *symbolically*: every
shortcut is added, no witness search, which gives the chordal supergraph of the road graph.
Each arc {u, w} (rank u < rank w) lists its lower triangles, the nodes v below both with arcs
{v, u} and {v, w}. Customising the hierarchy for a weight set is then one pass over those
triangles, bottom-up (engine.cch), in seconds.

Everything is stored in *rank space* (node ``r`` is the node of rank ``r``): the upward arcs of
rank r are ``head[ptr[r]:ptr[r+1]]`` (higher ranks, sorted), the arc ids are positions in
``head``, so arcs come sorted by their lower end, the order the customisation needs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from .dissection import nested_dissection_order, undirected_csr
from .jit import Int32s, Int64s, njit

if TYPE_CHECKING:
    from .network import Network


@dataclass
class CCHTopology:
    """The metric-independent CCH of a network, as flat arrays (saved in its bundle file).

    ``rank`` (node -> rank), ``node`` (rank -> node); ``ptr``/``head``: upward arcs in rank space;
    ``tri_ptr``/``tri``: the lower triangles of arc a are the arc pairs
    ``(tri[2t], tri[2t+1])`` for t in ``tri_ptr[a]:tri_ptr[a+1]``, arcs {v, u} and {v, w};
    ``edge_arc``: the arc of each directed network edge (-1 for a loop)."""

    rank: np.ndarray
    node: np.ndarray
    ptr: np.ndarray
    head: np.ndarray
    tri_ptr: np.ndarray
    tri: np.ndarray
    edge_arc: np.ndarray

    PREFIX = "cch_"

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    @property
    def n_arcs(self) -> int:
        return len(self.head)

    @property
    def n_triangles(self) -> int:
        return len(self.tri) // 2

    def network_arrays(self) -> dict[str, np.ndarray]:
        """The arrays named ``cch_<field>``: added to a network's arrays, they travel in its
        bundle file without any change to the bundle format."""
        return {self.PREFIX + f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_network(cls, net: Network) -> CCHTopology | None:
        """The CCH a network carries (see network_arrays), or None."""
        keys = {f.name: cls.PREFIX + f.name for f in fields(cls)}
        if not all(k in net.arrays for k in keys.values()):
            return None
        return cls(**{name: net.arrays[k] for name, k in keys.items()})

    def arc_tail(self) -> np.ndarray:
        """Lower end (rank) of every arc."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.ptr))

    def elimination_parent(self) -> np.ndarray:
        """Parent of every rank in the elimination tree (its lowest upward neighbour), -1 at roots."""
        deg = np.diff(self.ptr)
        par = np.full(self.n_nodes, -1, np.int32)
        has = deg > 0
        par[has] = self.head[self.ptr[:-1][has]]
        return par


@njit(cache=True, nogil=True)
def _chordal(n: int, rptr: Int64s, radj: Int32s) -> tuple[Int64s, Int32s]:
    """Upward adjacency of the chordal supergraph, in rank space: ``rptr``/``radj`` list each
    rank's neighbours (ranks). Eliminating rank r makes its upper neighbours a clique: they all
    lie above r's parent p (its lowest upper neighbour), so merging them into p's list is enough
    (symbolic elimination, as in sparse Cholesky factorisation)."""
    start = np.empty(n, np.int64)
    cnt = np.zeros(n, np.int64)
    pool = np.empty(max(16, 2 * len(radj)), np.int32)
    top = 0
    for r in range(n):
        start[r] = top
        for k in range(rptr[r], rptr[r + 1]):
            if radj[k] > r:
                pool[top] = radj[k]
                top += 1
        cnt[r] = top - start[r]
        pool[start[r] : top].sort()
    buf = np.empty(n, np.int32)
    for r in range(n):
        if cnt[r] < 2:
            continue
        s = start[r]
        p = pool[s]
        # union of p's list and r's list without p, into a fresh place at the pool's end
        a, ae = start[p], start[p] + cnt[p]
        b, be = s + 1, s + cnt[r]
        m = 0
        while a < ae or b < be:
            if b >= be or (a < ae and pool[a] < pool[b]):
                buf[m] = pool[a]
                a += 1
            elif a >= ae or pool[b] < pool[a]:
                buf[m] = pool[b]
                b += 1
            else:
                buf[m] = pool[a]
                a += 1
                b += 1
            m += 1
        if m == cnt[p]:
            continue  # nothing new
        if top + m > len(pool):
            p2 = np.empty(max(2 * len(pool), top + m), np.int32)
            p2[:top] = pool[:top]
            pool = p2
        pool[top : top + m] = buf[:m]
        start[p] = top
        cnt[p] = m
        top += m
    ptr = np.zeros(n + 1, np.int64)
    for r in range(n):
        ptr[r + 1] = ptr[r] + cnt[r]
    head = np.empty(ptr[n], np.int32)
    for r in range(n):
        head[ptr[r] : ptr[r + 1]] = pool[start[r] : start[r] + cnt[r]]
    return ptr, head


@njit(cache=True, nogil=True)
def sorted_index(head: Int32s, a: int, b: int, x: int) -> int:
    """Position of ``x`` in the sorted ``head[a:b]``, or -1."""
    while a < b:
        m = (a + b) >> 1
        if head[m] < x:
            a = m + 1
        else:
            b = m
    if a < len(head) and head[a] == x:
        return a
    return -1


@njit(cache=True, nogil=True)
def _triangles(ptr: Int64s, head: Int32s) -> tuple[Int64s, Int32s]:
    """Lower triangles per arc: for every rank v and every pair u < w of its upper neighbours,
    arc {u, w} gets the pair (arc {v, u}, arc {v, w})."""
    n = len(ptr) - 1
    m = len(head)
    tcnt = np.zeros(m + 1, np.int64)
    for v in range(n):
        for i in range(ptr[v], ptr[v + 1]):
            u = head[i]
            for j in range(i + 1, ptr[v + 1]):
                tcnt[sorted_index(head, ptr[u], ptr[u + 1], head[j]) + 1] += 1
    for a in range(m):
        tcnt[a + 1] += tcnt[a]
    fill = tcnt[:m].copy()
    tri = np.empty(2 * tcnt[m], np.int32)
    for v in range(n):
        for i in range(ptr[v], ptr[v + 1]):
            u = head[i]
            for j in range(i + 1, ptr[v + 1]):
                a = sorted_index(head, ptr[u], ptr[u + 1], head[j])
                t = fill[a]
                fill[a] += 1
                tri[2 * t] = i
                tri[2 * t + 1] = j
    return tcnt, tri


@njit(cache=True, nogil=True)
def _edge_arcs(rank: Int32s, ptr: Int64s, head: Int32s, edge_u: Int64s, edge_v: Int64s) -> Int32s:
    out = np.full(len(edge_u), -1, np.int32)
    for e in range(len(edge_u)):
        a = rank[edge_u[e]]
        b = rank[edge_v[e]]
        if a == b:
            continue
        lo, hi = (a, b) if a < b else (b, a)
        out[e] = sorted_index(head, ptr[lo], ptr[lo + 1], hi)
    return out


def _spilled(top: CCHTopology) -> CCHTopology:
    """The same arrays written to temporary files and mapped back read-only, the files unlinked
    at once (they live as long as the maps): a build holds them out of its resident memory until
    it writes the bundle, while its other steps reach their own peaks."""
    import os
    import tempfile

    out = {}
    for f in fields(top):
        fd, name = tempfile.mkstemp(prefix="geoservice-cch-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, getattr(top, f.name))
            out[f.name] = np.load(name, mmap_mode="r")
        finally:
            os.unlink(name)
    return CCHTopology(**out)


def build_cch(
    edge_u: np.ndarray, edge_v: np.ndarray, x: np.ndarray, y: np.ndarray, n_nodes: int, *, spill: bool = False
) -> CCHTopology:
    """Order (nested dissection on the node coordinates ``x``/``y``, metres) and contract the
    graph of directed edges u->v; no travel time is needed. With ``spill`` the arrays come back
    mapped from unlinked temporary files (see ``_spilled``)."""
    edge_u = np.asarray(edge_u, np.int64)
    edge_v = np.asarray(edge_v, np.int64)
    if len(edge_u) != len(edge_v):
        raise ValueError("edge_u and edge_v must have the same length")
    if len(edge_u) and (min(edge_u.min(), edge_v.min()) < 0 or max(edge_u.max(), edge_v.max()) >= n_nodes):
        raise ValueError(f"edge end nodes must lie in [0, {n_nodes})")
    if len(x) != n_nodes or len(y) != n_nodes:
        raise ValueError("x and y need one coordinate per node")
    rank = nested_dissection_order(n_nodes, edge_u, edge_v, x, y)
    node = np.empty(n_nodes, np.int32)
    node[rank] = np.arange(n_nodes, dtype=np.int32)
    rptr, radj = undirected_csr(n_nodes, rank[edge_u], rank[edge_v])
    ptr, head = _chordal(int(n_nodes), rptr, radj)
    del rptr, radj
    tri_ptr, tri = _triangles(ptr, head)
    edge_arc = _edge_arcs(rank, ptr, head, edge_u, edge_v)
    top = CCHTopology(rank, node, ptr, head, tri_ptr, tri, edge_arc)
    return _spilled(top) if spill else top
