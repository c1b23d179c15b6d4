"""Customisation of a CCH for one weight set, and its many-to-many queries (numba).

Why: the bundle carries one metric-independent contraction (bundle.cch). Any travel times
(a profile, a scenario, a user's congestion table) become a hierarchy in one bottom-up pass over
the lower triangles (basic customisation, Dibbelt, Strasser & Wagner 2016): arcs are processed
by their lower end, and arc {u, w} takes the best of its input edges and of every path u-v-w
through a lower triangle, whose two arcs are already final. The result is an ordinary upward
graph, so the bucket many-to-many query of engine.ch answers matrices on it as on a classic CH,
with exactly the times plain Dijkstra gives under the same weights. Arcs beaten by a path over
a node above their lower end (found by perfect customisation) are then left out of the query
graph: about half of them on Shanghai, which makes matrices a third faster.

Metres follow the chosen path (summed alongside the times); paths unpack through the triangles
(``unpack_arc``), so no middle node needs storing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..bundle.cch import CCHTopology, sorted_index
from ..bundle.contraction import CH
from ..bundle.jit import njit
from .arrays import F64, I32, I64, Ints, SeedBlocks
from .ch import UpGraph, ch_many_to_many, upward_graphs

INF = np.inf


@njit(cache=True, nogil=True)
def _customise(
    rank: Ints, edge_u: Ints, edge_v: Ints, edge_arc: Ints, w: F64, length: F64, tri_ptr: I64, tri: Ints
) -> tuple[F64, F64, F64, F64]:
    """(up, down, up metres, down metres) per arc: ``up[a]`` is the time from the lower end of
    arc a to its upper end, ``down[a]`` the way back; inf where there is no path."""
    m = len(tri_ptr) - 1
    up = np.full(m, INF)
    down = np.full(m, INF)
    up_len = np.zeros(m)
    down_len = np.zeros(m)
    for e in range(len(edge_u)):
        a = edge_arc[e]
        if a < 0:
            continue
        if rank[edge_u[e]] < rank[edge_v[e]]:
            if w[e] < up[a]:
                up[a] = w[e]
                up_len[a] = length[e]
        elif w[e] < down[a]:
            down[a] = w[e]
            down_len[a] = length[e]
    for a in range(m):
        for t in range(tri_ptr[a], tri_ptr[a + 1]):
            lo = tri[2 * t]  # arc {v, u}
            hi = tri[2 * t + 1]  # arc {v, w}
            c = down[lo] + up[hi]  # u -> v -> w
            if c < up[a]:
                up[a] = c
                up_len[a] = down_len[lo] + up_len[hi]
            c = down[hi] + up[lo]  # w -> v -> u
            if c < down[a]:
                down[a] = c
                down_len[a] = down_len[hi] + up_len[lo]
    return up, down, up_len, down_len


@njit(cache=True, nogil=True)
def _prune(ptr: I64, head: I32, up0: F64, down0: F64) -> tuple[np.ndarray, np.ndarray]:
    """Which arcs, per direction, the queries need (perfect customisation, Dibbelt et al.):
    nodes x from the top down, for every pair u < w of x's upper neighbours, lower arc {x, u}
    through the upper triangle x-w-u and arc {x, w} through the intermediate one x-u-w, using
    the arc {u, w} already made exact (lower end above x). An arc whose time drops this way
    lies on no shortest path and is left out; one that is kept has its exact time already."""
    n = len(ptr) - 1
    up = up0.copy()
    down = down0.copy()
    keep_up = up0 < INF
    keep_down = down0 < INF
    for x in range(n - 1, -1, -1):
        for i in range(ptr[x], ptr[x + 1]):
            u = head[i]
            for j in range(i + 1, ptr[x + 1]):
                b = sorted_index(head, ptr[u], ptr[u + 1], head[j])
                c = up[j] + down[b]  # x -> w -> u
                if c < up[i]:
                    up[i] = c
                    keep_up[i] = False
                c = up[b] + down[j]  # u -> w -> x
                if c < down[i]:
                    down[i] = c
                    keep_down[i] = False
                c = up[i] + up[b]  # x -> u -> w
                if c < up[j]:
                    up[j] = c
                    keep_up[j] = False
                c = down[b] + down[i]  # w -> u -> x
                if c < down[j]:
                    down[j] = c
                    keep_down[j] = False
    return keep_up, keep_down


def _kept(ptr: I64, head: Ints, w: F64, length: F64, keep: np.ndarray) -> tuple[I64, Ints, F64, F64]:
    """(ptr, head, w, length) of the arcs flagged in ``keep``, still grouped by lower end."""
    k = np.flatnonzero(keep)
    tail = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))[k]
    p = np.zeros(len(ptr), np.int64)
    np.cumsum(np.bincount(tail, minlength=len(ptr) - 1), out=p[1:])
    return p, head[k], w[k], length[k]


@dataclass(frozen=True)
class Metric:
    """A CCH customised for one weight set: ``up``/``down`` times of every arc (for unpacking)
    and, as a CH in rank space (``ch``), the arcs queries need, with their times and metres."""

    topology: CCHTopology
    ch: CH
    up: F64
    down: F64
    graphs: tuple[UpGraph, UpGraph] = field(init=False, repr=False, compare=False)
    """``ch``'s (forward, backward) upward graphs, as the query kernels take them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "graphs", upward_graphs(self.ch))

    @property
    def nbytes(self) -> int:
        arrays = [self.up, self.down, *(getattr(self.ch, f) for f in ("fwd_ptr", "fwd_head", "fwd_w", "fwd_len"))]
        arrays += [getattr(self.ch, f) for f in ("bwd_ptr", "bwd_head", "bwd_w", "bwd_len")]
        return sum(int(a.nbytes) for a in arrays)


def customise(top: CCHTopology, edge_u: Ints, edge_v: Ints, w: F64, length: F64) -> Metric:
    """The hierarchy for edge times ``w`` (seconds) and lengths (metres) of the network's edges."""
    if len(w) != len(top.edge_arc) or len(length) != len(w):
        raise ValueError("one time and one length per network edge are needed")
    up, down, up_len, down_len = _customise(
        top.rank,
        edge_u,
        edge_v,
        top.edge_arc,
        np.asarray(w, np.float64),
        np.asarray(length, np.float64),
        top.tri_ptr,
        top.tri,
    )
    keep_up, keep_down = _prune(top.ptr, top.head, up, down)
    ranks = np.arange(top.n_nodes, dtype=np.int32)
    ch = CH(ranks, *_kept(top.ptr, top.head, up, up_len, keep_up), *_kept(top.ptr, top.head, down, down_len, keep_down))
    return Metric(top, ch, up, down)


def customise_times(top: CCHTopology, edge_u: Ints, edge_v: Ints, w: F64) -> tuple[F64, F64]:
    """The basic customisation alone: (up, down) time of every arc for edge times ``w``, without
    the pruning ``customise`` adds for bucket queries (a third of its cost). Exact for queries that
    climb the elimination tree (engine.trip_paths) and for ``unpack_arc``-style unpacking."""
    w = np.asarray(w, np.float64)
    times: tuple[F64, F64, F64, F64] = _customise(
        top.rank, edge_u, edge_v, top.edge_arc, w, np.zeros(len(w)), top.tri_ptr, top.tri
    )
    return times[0], times[1]


def cch_many_to_many(metric: Metric, src: SeedBlocks, dst: SeedBlocks) -> tuple[F64, F64]:
    """engine.ch.ch_many_to_many over a customised CCH: the same seeds, given as network nodes."""
    rank = metric.topology.rank
    return ch_many_to_many(
        metric.graphs,
        src._replace(node=rank[np.asarray(src.node, np.int64)]),
        dst._replace(node=rank[np.asarray(dst.node, np.int64)]),
    )


class _ArcTree(NamedTuple):
    """The topology's arcs as ``_unpack`` reads them: CSR by lower end (``ptr``, ``head``,
    ``tail``) and each arc's lower triangles (``tri_ptr``, ``tri`` pairs)."""

    ptr: I64
    head: Ints
    tail: Ints
    tri_ptr: I64
    tri: Ints


@njit(cache=True, nogil=True)
def _unpack(arc: int, upward: bool, tree: _ArcTree, up: F64, down: F64, out: I64) -> int:
    """Ranks of the path an arc stands for, lower end first for an upward arc (upper end first
    for a downward one), appended to ``out``; returns the count. The path goes through the first
    lower triangle whose two arcs add up to the arc's time; an arc with none is an input edge."""
    tail = tree.tail
    head = tree.head
    tri_ptr = tree.tri_ptr
    tri = tree.tri
    stack_a = np.empty(256, np.int64)
    stack_d = np.empty(256, np.bool_)
    stack_a[0] = arc
    stack_d[0] = upward
    top = 1
    n = 0
    while top > 0:
        top -= 1
        a = stack_a[top]
        d = stack_d[top]
        c = up[a] if d else down[a]
        split = -1
        for t in range(tri_ptr[a], tri_ptr[a + 1]):
            lo = tri[2 * t]
            hi = tri[2 * t + 1]
            via = down[lo] + up[hi] if d else down[hi] + up[lo]
            if via == c:
                split = t
                break
        if split < 0:  # an input edge: emit its first end
            out[n] = tail[a] if d else head[a]
            n += 1
            continue
        if top + 2 > len(stack_a):
            s2 = np.empty(2 * len(stack_a), np.int64)
            s2[:top] = stack_a[:top]
            stack_a = s2
            d2 = np.empty(2 * len(stack_d), np.bool_)
            d2[:top] = stack_d[:top]
            stack_d = d2
        lo = tri[2 * split]
        hi = tri[2 * split + 1]
        # upward u->w = down(lo) u->v then up(hi) v->w; downward w->u = down(hi) then up(lo)
        first_a, first_d, second_a, second_d = (lo, False, hi, True) if d else (hi, False, lo, True)
        stack_a[top] = second_a
        stack_d[top] = second_d
        stack_a[top + 1] = first_a
        stack_d[top + 1] = first_d
        top += 2
    return n


def unpack_arc(metric: Metric, arc: int, upward: bool) -> Ints:
    """Network nodes of the path arc ``arc`` stands for in its direction, both ends included."""
    top = metric.topology
    tail = top.arc_tail()
    out = np.empty(top.n_nodes, np.int64)
    tree = _ArcTree(top.ptr, top.head, tail, top.tri_ptr, top.tri)
    n = _unpack(arc, upward, tree, metric.up, metric.down, out)
    last = top.head[arc] if upward else tail[arc]
    nodes: Ints = top.node[np.append(out[:n], last)]
    return nodes
