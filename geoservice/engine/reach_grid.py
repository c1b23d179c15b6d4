"""The reach field (numba): road points with their times (``reach.road_samples``) spread over a
lattice, each vertex holding how far inside each range it is. ``contours`` cuts and draws it."""

from __future__ import annotations

import math

import numpy as np

from ..bundle.jit import njit
from .arrays import F64
from .reach import radii

BIG = 1e30
"""Field value of a vertex no road point reaches."""


@njit(cache=True, nogil=True, inline="always")
def _half(
    lo: float, hi: float, a: tuple[float, float, float, float], cx: float, cy: float, j: int
) -> tuple[float, float]:
    """Clip the row interval [lo, hi] to the points (i, j) at least as near (cx, cy) as
    (cx - ax, cy - ay); ``a`` = (ax, ay, 1 / ax or 0, |a|^2) (a = 0: no clipping)."""
    ax, ay, inv_ax, na = a
    if na == 0.0:
        return lo, hi
    rhs = -0.5 * na - ay * (j - cy) - 1e-9
    if ax > 0.0:
        lo = max(lo, cx + rhs * inv_ax)
    elif ax < 0.0:
        hi = min(hi, cx + rhs * inv_ax)
    elif rhs > 0.0:
        hi = lo - 1.0
    return lo, hi


@njit(cache=True, nogil=True)
def reach_band(E: F64, pts: F64, ranges: F64, margin: float, h: float, lo_row: int, hi_row: int) -> None:
    """Fill rows lo_row <= j < hi_row of E[k, j, i] (preset to BIG): the reach field of
    ``ranges[k]`` (ascending) at vertex (i, j), in metres, from road points (``road_samples``).

    A point spreads dist - r over the vertices of the square reaching margin + h from it each way
    (a square, not the disc: no square root a row, a fifth faster; a vertex beyond the disc gets
    more than h from it, and one next to a vertex at or below zero has at most h, the field being
    1-Lipschitz, so no contour changes): every vertex next to one at or below zero along a lattice edge is computed, so
    both ends of every edge the zero contour crosses are exact; the rest hold BIG or more than h.
    Where a point shares the whole margin with a neighbour
    along its road, it spreads only over its side of their bisector, and there measures the
    distance to the straight piece of road between them (so the outline runs straight along the
    road, without scallops between points). Bands of rows are independent (``reach_field``); the
    ranges are made to nest by ``running_min``."""
    K, ny, nx = E.shape
    rv = margin / h + 1.0001
    rv2 = rv * rv
    ks = np.empty(K, np.int64)
    rs = np.empty(K)
    for c in range(pts.shape[0]):
        cx = pts[c, 0]
        cy = pts[c, 1]
        if cy + rv + 1.0 < lo_row or cy - rv - 1.0 >= hi_row:  # (points are at most a step apart)
            continue
        ax = pts[c, 4]
        ay = pts[c, 5]
        bx = pts[c, 6]
        by = pts[c, 7]
        na = ax * ax + ay * ay
        nb = bx * bx + by * by
        ia = 1.0 / na if na > 0 else 0.0
        ib = 1.0 / nb if nb > 0 else 0.0
        iax = 1.0 / ax if ax != 0 else 0.0
        ibx = 1.0 / bx if bx != 0 else 0.0
        n = radii(pts[c, 2], pts[c, 3], ranges, margin, ks, rs)
        # a vertex margin + h off the road beside the half-way point to a neighbour is that much
        # farther from the point itself
        rc2 = rv2 + 0.25 * max(na, nb)
        rc = math.sqrt(rc2)
        j0 = max(lo_row, int(math.ceil(cy - rc)))
        j1 = min(hi_row - 1, int(math.floor(cy + rc)))
        for j in range(j0, j1 + 1):
            wy = j - cy
            wy2 = wy * wy
            lo, hi = _half(cx - rc, cx + rc, (ax, ay, iax, na), cx, cy, j)
            lo, hi = _half(lo, hi, (bx, by, ibx, nb), cx, cy, j)
            i0 = max(0, int(math.ceil(lo)))
            i1 = min(nx - 1, int(math.floor(hi)))
            if n == 1:
                row = E[ks[0], j]
                r = rs[0]
                for i in range(i0, i1 + 1):
                    wx = i - cx
                    d2 = wx * wx + wy2
                    # the road towards a neighbour is nearer than the point: drop the squared
                    # projection (w.a)^2/|a|^2 where the vertex lies ahead of the point
                    pa = max(-(wx * ax + wy * ay), 0.0)
                    pb = max(-(wx * bx + wy * by), 0.0)
                    d2 = max(d2 - max(pa * pa * ia, pb * pb * ib), 0.0)
                    row[i] = min(row[i], h * math.sqrt(d2) - r)
            else:
                for i in range(i0, i1 + 1):
                    wx = i - cx
                    d2 = wx * wx + wy2
                    pa = max(-(wx * ax + wy * ay), 0.0)
                    pb = max(-(wx * bx + wy * by), 0.0)
                    d = h * math.sqrt(max(d2 - max(pa * pa * ia, pb * pb * ib), 0.0))
                    for m in range(n):
                        E[ks[m], j, i] = min(E[ks[m], j, i], d - rs[m])


@njit(cache=True, nogil=True)
def running_min(E: F64, lo_row: int, hi_row: int) -> None:
    """What a smaller range reaches, every larger one does: E[k] = min(E[k], E[k-1]) on rows
    lo_row <= j < hi_row (points spread into their first full range only)."""
    K, ny, nx = E.shape
    for lv in range(1, K):
        for j in range(lo_row, hi_row):
            for i in range(nx):
                if E[lv - 1, j, i] < E[lv, j, i]:
                    E[lv, j, i] = E[lv - 1, j, i]
