"""Degree-2 chain contraction: runs of road pieces through nodes that decide nothing become one edge.

A *piece* is a stretch of one OSM way between two nodes where ways meet or end. OSM splits
ways for many reasons that do not matter to routing (a bridge, a name, the number of lanes), so
many such nodes have exactly two neighbours. As in osmnx's ``simplify_graph``, a node is kept
(an *endpoint*) when it is a dead end or a junction (neighbours other than two), when the one-way
status changes there (in osmnx terms: degree other than 2 or 4), or when its two pieces are
different to a traveller: another road class or another speed under any profile. That last rule
(stricter than osmnx, which merges across classes and keeps lists of attributes) keeps every
edge uniform: its time is proportional to its length, so the time to any point inside it is the
same fraction of the edge time as of its length (snapping, isochrone cuts and coverage shares
stay exact) and a per-class scenario factor applies to the whole edge. A chain that would start
and end at one node keeps a node in its middle (the graph has no self-loops), and a ring with no
endpoint at all keeps two.

The result (:class:`Chains`) lists, per chain, its pieces in travel order and whether each runs
against its way; :func:`relayout` turns it into contiguous coordinate runs, one per chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .jit import Bools, Int64s, njit

__all__ = ["Chains", "removable_nodes", "contract", "relayout"]


@dataclass
class Chains:
    """Pieces in chain order: chain ``c`` is ``piece[ptr[c]:ptr[c+1]]``; ``rev`` marks a piece
    travelled from its ``v`` end to its ``u`` end."""

    piece: np.ndarray
    rev: np.ndarray
    ptr: np.ndarray

    @property
    def n_chains(self) -> int:
        return len(self.ptr) - 1


def incidence(n_nodes: int, pu: np.ndarray, pv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, piece): the pieces touching node ``i`` are ``piece[ptr[i]:ptr[i+1]]``."""
    ends = np.concatenate([pu, pv])
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(ends, minlength=n_nodes), out=ptr[1:])
    return ptr, (order % len(pu)).astype(np.int64)


def removable_nodes(
    n_nodes: int,
    pu: np.ndarray,
    pv: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    key: np.ndarray,
    inc: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Nodes that decide nothing (see the module docstring). ``fwd``/``bwd``: a piece may be
    travelled u->v / v->u; ``key``: one integer per distinct (class, speeds) of a piece."""
    ptr, piece = inc
    deg = np.diff(ptr)
    cand = np.flatnonzero(deg == 2)
    g1, g2 = piece[ptr[cand]], piece[ptr[cand] + 1]
    at_u1, at_u2 = pu[g1] == cand, pu[g2] == cand
    o1 = np.where(at_u1, pv[g1], pu[g1])
    o2 = np.where(at_u2, pv[g2], pu[g2])
    two1, two2 = fwd[g1] & bwd[g1], fwd[g2] & bwd[g2]
    # one-way pieces: one must lead into the node, the other out of it
    in1 = np.where(at_u1, bwd[g1], fwd[g1])
    out1 = np.where(at_u1, fwd[g1], bwd[g1])
    in2 = np.where(at_u2, bwd[g2], fwd[g2])
    out2 = np.where(at_u2, fwd[g2], bwd[g2])
    through = (two1 & two2) | (~two1 & ~two2 & ((in1 & out2) | (in2 & out1)))
    ok = (g1 != g2) & (o1 != o2) & through & (key[g1] == key[g2])
    out = np.zeros(n_nodes, bool)
    out[cand[ok]] = True
    return out


@njit(cache=True, nogil=True)
def _walk(  # pragma: no cover - compiled
    pu: np.ndarray, pv: np.ndarray, inc_ptr: Int64s, inc: Int64s, keep: Bools, node_order: np.ndarray
) -> tuple[Int64s, Bools, Int64s, Bools]:
    """Chains from every kept node (in ``node_order``) along its unvisited pieces, through
    nodes not kept, to the next kept node. Pieces left unvisited lie on rings without a kept node."""
    m = len(pu)
    piece = np.empty(m, np.int64)
    rev = np.empty(m, np.bool_)
    starts = np.empty(m + 1, np.int64)
    seen = np.zeros(m, np.bool_)
    k = 0
    c = 0
    for n in node_order:
        if not keep[n]:
            continue
        for j in range(inc_ptr[n], inc_ptr[n + 1]):
            p = inc[j]
            if seen[p]:
                continue
            starts[c] = k
            c += 1
            cur = n
            while True:
                seen[p] = True
                piece[k] = p
                forward = pu[p] == cur
                rev[k] = not forward
                k += 1
                nxt = pv[p] if forward else pu[p]
                if keep[nxt]:
                    break
                q = inc[inc_ptr[nxt]]
                if q == p:
                    q = inc[inc_ptr[nxt] + 1]
                if seen[q]:
                    break
                p = q
                cur = nxt
    starts[c] = k
    return piece[:k], rev[:k], starts[: c + 1], seen


def contract(
    pu: np.ndarray, pv: np.ndarray, keep: np.ndarray, node_order: np.ndarray, inc: tuple[np.ndarray, np.ndarray]
) -> tuple[Chains, np.ndarray]:
    """(chains, kept nodes): every piece in exactly one chain between kept nodes. ``keep`` is
    the endpoint mask (changed here only to break loops and rings); chains are listed from their
    start nodes in ``node_order`` (a spatial order keeps neighbouring chains close in memory)."""
    keep = keep.copy()
    while True:
        piece, rev, ptr, seen = _walk(pu, pv, inc[0], inc[1], keep, node_order)
        changed = False
        if not seen.all():  # a ring of nodes that all decide nothing: keep one of them
            keep[pu[np.flatnonzero(~seen)[0]]] = True
            changed = True
        first, last = piece[ptr[:-1]], piece[ptr[1:] - 1]
        start = np.where(rev[ptr[:-1]], pv[first], pu[first])
        end = np.where(rev[ptr[1:] - 1], pu[last], pv[last])
        loops = np.flatnonzero(start == end)
        if len(loops):  # keep the node in the middle of a chain that returns to its start
            mid = ptr[loops] + (ptr[loops + 1] - ptr[loops]) // 2
            keep[np.where(rev[mid], pv[piece[mid]], pu[piece[mid]])] = True
            changed = True
        if not changed:
            return Chains(piece, rev, ptr), keep


def relayout(chains: Chains, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pos, geom_a, part_end): the old coordinate positions of every chain laid end to end in
    travel order (``pos``; the node shared by two pieces of a chain once), the first and last new
    position of each chain, and the last new position of each piece of ``chains.piece``.
    Piece ``p`` covers old positions ``a[p]..b[p]`` of its way."""
    p, rev, ptr = chains.piece, chains.rev, chains.ptr
    first = np.zeros(len(p), bool)
    first[ptr[:-1]] = True
    inner = (~first).astype(np.int64)  # a chain's later pieces start after the shared node
    count = (b[p] - a[p]).astype(np.int64) + 1 - inner
    start = np.where(rev, b[p].astype(np.int64) - inner, a[p].astype(np.int64) + inner)
    step = np.where(rev, -1, 1).astype(np.int64)
    offs = np.cumsum(count) - count
    total = int(count.sum())
    k = np.arange(total, dtype=np.int64) - np.repeat(offs, count)
    pos = np.repeat(start, count) + np.repeat(step, count) * k
    del k
    part_end = offs + count - 1
    geom_a = offs[ptr[:-1]]
    return pos, geom_a, part_end
