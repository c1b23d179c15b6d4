"""The dynamic graph a contraction hierarchy is built on (``bundle.contraction``, numba): one pool
holds every adjacency list, list 2*x the out-list of node x, 2*x+1 its in-list; a full list moves
to the end of the pool with double capacity. And the working arrays of the witness searches."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .jit import Bools, Floats, Int32s, Int64s, njit

__all__ = ["Lists", "Scratch"]

INF = np.inf

# One pool holds every adjacency list: list 2*x is the out-list of node x, 2*x+1 its in-list.
# A full list moves to the end of the pool with double capacity.


class Lists(NamedTuple):
    """The dynamic graph: list ``lst`` holds ``cnt[lst]`` arcs (room for ``cap[lst]``) from
    ``start[lst]`` on in the pool of arc heads, seconds and metres (``head``/``wt``/``ln``),
    which is replaced by a larger one when full."""

    start: Int64s
    cnt: Int64s
    cap: Int64s
    head: Int32s
    wt: Floats
    ln: Floats


class Scratch(NamedTuple):
    """The working arrays of one thread's witness searches: tentative costs (``INF`` between
    searches), target flags, the nodes touched, the heap (``hc``/``hn``) and the shortcut rows
    (u, w, seconds, metres) of ``sc``; the last three are replaced by larger ones when full."""

    dist: Floats
    is_target: Bools
    touched: Int64s
    hc: Floats
    hn: Int64s
    sc: Floats


@njit(cache=True, nogil=True)
def _scratch(n: int) -> Scratch:
    return Scratch(
        np.full(n, INF),
        np.zeros(n, np.bool_),
        np.empty(n, np.int64),
        np.empty(1024, np.float64),
        np.empty(1024, np.int64),
        np.empty((64, 4)),
    )


@njit(cache=True, nogil=True)
def _add_arc(g: Lists, top: int, lst: int, y: int, w: float, l: float) -> tuple[Lists, int]:
    """Insert arc (y, w, l) into list ``lst``, or lower an existing arc to y; return the lists
    (with a new pool when it grew) and the pool's new top."""
    start, cnt, cap = g.start, g.cnt, g.cap
    head, wt, ln = g.head, g.wt, g.ln
    s = start[lst]
    for k in range(s, s + cnt[lst]):
        if head[k] == y:
            if w < wt[k]:
                wt[k] = w
                ln[k] = l
            return g, top
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
            g = Lists(start, cnt, cap, head, wt, ln)
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
    return g, top


@njit(cache=True, nogil=True)
def _remove_arc(g: Lists, lst: int, y: int) -> None:
    start, cnt, head, wt, ln = g.start, g.cnt, g.head, g.wt, g.ln
    s = start[lst]
    last = s + cnt[lst] - 1
    for k in range(s, last + 1):
        if head[k] == y:
            head[k] = head[last]
            wt[k] = wt[last]
            ln[k] = ln[last]
            cnt[lst] -= 1
            return
