"""Minimum vertex separators by max flow with unit node capacities (numba), for the nested
dissection of ``bundle.dissection``: a piece's subgraph (``Local``), and augmenting paths in the
residual graph of its node-split flow network between source and sink nodes."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .jit import Int8s, Int32s, Int64s, njit

__all__ = ["Local", "Marks"]


class Local(NamedTuple):
    """A piece's subgraph in CSR (``lptr``/``ladj``, local node numbers) with the index of each
    arc's reverse (``rev``)."""

    lptr: Int64s
    ladj: Int32s
    rev: Int64s


class Marks(NamedTuple):
    """The flow searches' working arrays, per state (2v: v in, 2v+1: v out): reached in search
    number ``seen``, predecessor state and arc, and the queue."""

    seen: Int64s
    pred: Int64s
    pred_arc: Int64s
    queue: Int64s


@njit(cache=True, nogil=True)
def _local(nodes: Int32s, loc: Int64s, xadj: Int64s, adj: Int32s) -> Local:
    """CSR of the subgraph induced by ``nodes`` (``loc`` maps them to 0..s-1, -1 elsewhere),
    with the index of each arc's reverse."""
    s = len(nodes)
    lptr = np.zeros(s + 1, np.int64)
    for i in range(s):
        g = nodes[i]
        c = 0
        for k in range(xadj[g], xadj[g + 1]):
            if loc[adj[k]] >= 0:
                c += 1
        lptr[i + 1] = lptr[i] + c
    ladj = np.empty(lptr[s], np.int32)
    for i in range(s):
        g = nodes[i]
        p = lptr[i]
        for k in range(xadj[g], xadj[g + 1]):
            j = loc[adj[k]]
            if j >= 0:
                ladj[p] = j
                p += 1
    rev = np.empty(lptr[s], np.int64)
    for i in range(s):
        for k in range(lptr[i], lptr[i + 1]):
            j = ladj[k]
            for r in range(lptr[j], lptr[j + 1]):
                if ladj[r] == i:
                    rev[k] = r
                    break
    return Local(lptr, ladj, rev)


@njit(cache=True, nogil=True)
def _augment(g: Local, nflow: Int8s, eflow: Int8s, term: Int8s, front: Int64s, m: Marks, stamp: int) -> bool:
    """One breadth-first search for an augmenting path in the residual graph of the node-split
    flow network: states 2v (v in) and 2v+1 (v out) of the free nodes (``term`` 0); source
    nodes (``term`` 1) and sink nodes (2) are the two terminals, of unlimited capacity. The
    search starts at the free neighbours of the sources (``front``: the arcs leaving them).
    Returns True and pushes one unit along the path when a sink is reached; every state reached
    is marked ``m.seen == stamp``."""
    lptr, ladj, rev = g
    seen, pred, pred_arc, queue = m
    qh, qt = 0, 0
    for i in range(len(front)):
        k = front[i]
        b = ladj[k]
        if term[b] == 0 and seen[2 * b] != stamp:
            seen[2 * b] = stamp
            pred[2 * b] = -1
            pred_arc[2 * b] = k
            queue[qt] = 2 * b
            qt += 1
    end, end_arc = -1, -1
    while qh < qt and end < 0:
        st = queue[qh]
        qh += 1
        v = st >> 1
        if st & 1 == 0:  # v in: through the node, or back along flow that entered it
            if nflow[v] == 0 and seen[st + 1] != stamp:
                seen[st + 1] = stamp
                pred[st + 1] = st
                pred_arc[st + 1] = -1
                queue[qt] = st + 1
                qt += 1
            for k in range(lptr[v], lptr[v + 1]):
                a = ladj[k]
                if term[a] == 0 and eflow[rev[k]] == 1 and seen[2 * a + 1] != stamp:  # cancel a -> v
                    seen[2 * a + 1] = stamp
                    pred[2 * a + 1] = st
                    pred_arc[2 * a + 1] = rev[k]
                    queue[qt] = 2 * a + 1
                    qt += 1
        else:  # v out: back through the node, or along any edge
            if nflow[v] == 1 and seen[st - 1] != stamp:
                seen[st - 1] = stamp
                pred[st - 1] = st
                pred_arc[st - 1] = -1
                queue[qt] = st - 1
                qt += 1
            for k in range(lptr[v], lptr[v + 1]):
                b = ladj[k]
                if term[b] == 2:
                    end, end_arc = st, k
                    break
                if term[b] == 0 and seen[2 * b] != stamp:
                    seen[2 * b] = stamp
                    pred[2 * b] = st
                    pred_arc[2 * b] = k
                    queue[qt] = 2 * b
                    qt += 1
    if end < 0:
        return False
    eflow[end_arc] = 1
    st = end
    while True:
        v = st >> 1
        k = pred_arc[st]
        p = pred[st]
        if p < 0:  # first state: entered from a source along arc k
            if eflow[rev[k]] == 1:
                eflow[rev[k]] = 0
            else:
                eflow[k] = 1
            break
        if k < 0:
            nflow[v] = 1 if st & 1 else 0  # in -> out saturates the node, out -> in frees it
        elif st & 1 == 0:  # p (an out-state) -> v in along arc k
            if eflow[rev[k]] == 1:
                eflow[rev[k]] = 0
            else:
                eflow[k] = 1
        else:  # p (an in-state) -> v out: cancels the flow on arc k = v -> p's node
            eflow[k] = 0
        st = p
    return True


@njit(cache=True, nogil=True)
def _min_separator(g: Local, term: Int8s, bound: int, m: Marks, stamp: int, side: Int8s) -> tuple[int, int]:
    """Minimum vertex separator between the source and sink nodes (free nodes capacity 1), by
    augmenting paths. Stops once the flow reaches ``bound`` (no better than a separator already
    found): returns (size, stamp) and, below the bound, ``side`` = 0 source side, 1 separator,
    2 sink side."""
    lptr, ladj = g.lptr, g.ladj
    seen = m.seen
    s = len(lptr) - 1
    nflow = np.zeros(s, np.int8)
    eflow = np.zeros(len(ladj), np.int8)
    nf = 0
    n_sink = 0
    for v in range(s):
        n_sink += term[v] == 2
        if term[v] == 1:
            for k in range(lptr[v], lptr[v + 1]):
                nf += term[ladj[k]] != 1
    if n_sink == 0:
        return bound, stamp
    front = np.empty(nf, np.int64)
    nf = 0
    for v in range(s):
        if term[v] == 1:
            for k in range(lptr[v], lptr[v + 1]):
                if term[ladj[k]] == 0:
                    front[nf] = k
                    nf += 1
    flow = 0
    while flow < bound:
        stamp += 1
        if not _augment(g, nflow, eflow, term, front, m, stamp):
            break
        flow += 1
    if flow >= bound:
        return flow, stamp
    # the last search reached no sink: the states it reached are the source side of a minimum cut
    for v in range(s):
        if term[v] == 1:
            side[v] = 0
        elif term[v] == 2 or seen[2 * v] != stamp:
            side[v] = 2
        elif seen[2 * v + 1] != stamp:
            side[v] = 1
        else:
            side[v] = 0
    return flow, stamp
