"""Compiled reach fields (numba): the road points a search reached, with their times, and the field
they spread over a lattice (``reach_grid``). ``contours`` explains the method, cuts and draws it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..bundle.jit import njit
from ..bundle.network import Network
from .arrays import F64, I32, I64, Ints, Pieces

STRAIGHT = 0.02
"""How far (in lattice steps: 2 m driving) a road may stray from the straight line between two of
its points kept (``_piece_points``)."""


class Geometry(NamedTuple):
    """A network's road pieces as drawn: piece g runs through positions ``geom_a[g]..geom_b[g]``
    of ``x``/``y`` (degrees or metres) with ``cumlen`` metres along it, from node ``geom_u[g]``
    to node ``geom_v[g]`` (``piece_geometry``)."""

    x: F64
    y: F64
    geom_a: Ints
    geom_b: Ints
    cumlen: F64
    geom_u: Ints
    geom_v: Ints


class SampleGrid(NamedTuple):
    """The ranges (seconds, ascending) road points are sampled for, the off-road ``margin`` and
    longest spacing ``step`` (metres), and the lattice they are placed on: positions in lattice
    steps from (x0, y0), dx by dy apart (in the geometry's unit)."""

    ranges: F64
    margin: float
    step: float
    x0: float
    y0: float
    dx: float
    dy: float


class Origin(NamedTuple):
    """The point a search started from, on piece ``geom`` at fraction ``frac``, with the time to
    run that piece forward (``tf``) and backward (``tb``), at lattice position (x, y); ``geom``
    -1: none (``NO_ORIGIN``)."""

    geom: int
    frac: float
    tf: float
    tb: float
    x: float
    y: float


NO_ORIGIN = Origin(-1, 0.0, 0.0, 0.0, 0.0, 0.0)


class SampleBuffers(NamedTuple):
    """What ``road_samples_into`` fills and may keep between calls: the point table (rows of 8,
    grown when full), ``slot`` (int32 zeros over the nodes, left zero again) and ``jx`` (room for
    2 rows of 4 per piece)."""

    table: F64
    slot: I32
    jx: F64


def piece_geometry(net: Network, *, metres: bool) -> Geometry:
    """The network's pieces in metres (``x``/``y``) or degrees (``lon``/``lat``)."""
    x, y = (net.x, net.y) if metres else (net.lon, net.lat)
    return Geometry(x, y, net.geom_a, net.geom_b, net.cumlen, net.geom_u, net.geom_v)


@njit(cache=True, nogil=True, inline="always")
def radii(t: float, speed: float, ranges: F64, margin: float, ks: I64, rs: F64) -> int:
    """(range index, radius) pairs of a point reached at ``t`` on a road of ``speed`` m/s: the
    margin from the first range with time to spare (larger ranges get it through the running
    minimum), less in the ranges that run out within margin / speed. Returns how many."""
    n = 0
    for lv in range(len(ranges)):
        if t > ranges[lv]:
            continue
        room = (ranges[lv] - t) * speed
        ks[n] = lv
        if not room < margin:  # (nan: no time left on a road crossed in no time)
            rs[n] = margin
            return n + 1
        rs[n] = room
        n += 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _full_from(t: float, speed: float, ranges: F64, margin: float) -> tuple[int, bool]:
    """The first range in which a point reached at ``t`` has its whole margin, and whether it is
    *only* that one from its first range on (no range where it is reached with less); K if none."""
    first = True
    for lv in range(len(ranges)):
        if t > ranges[lv]:
            continue
        if not (ranges[lv] - t) * speed < margin:
            return lv, first
        first = False
    return len(ranges), False


@njit(cache=True, nogil=True)
def _piece_points(geo: Geometry, a: int, b: int, grid: SampleGrid, ix: float, iy: float, tol: float, buf: F64) -> int:
    """The points a piece (geometry points a..b) is drawn through, into buf rows (px, py, arc)
    in lattice steps and metres from its start; returns how many (both ends included).

    Its geometry points, segments longer than ``step`` metres split evenly, then thinned: a point
    is dropped while the straight line from the last one kept to the next stays within ``tol``
    lattice steps of every point in between and spans at most ``step`` metres. A piece left with
    its two ends gets the point half-way (so that it is measured as a line, not only by the discs
    of its two junctions)."""
    x = geo.x
    y = geo.y
    cumlen = geo.cumlen
    x0 = grid.x0
    y0 = grid.y0
    step = grid.step
    n = 0
    base = cumlen[a]
    for s in range(a, b):
        sl = cumlen[s + 1] - cumlen[s]
        nsub = int(sl / step) + 1
        sx = x[s]
        sy = y[s]
        ex = x[s + 1] - sx
        ey = y[s + 1] - sy
        arc = cumlen[s] - base
        for k in range(nsub):
            q = k / nsub
            buf[n, 0] = (sx + q * ex - x0) * ix
            buf[n, 1] = (sy + q * ey - y0) * iy
            buf[n, 2] = arc + q * sl
            n += 1
    buf[n, 0] = (x[b] - x0) * ix
    buf[n, 1] = (y[b] - y0) * iy
    buf[n, 2] = cumlen[b] - base
    n += 1
    # thin in place: kept points move to the front (k of them; the last one kept came from row
    # last, and the rows after it are still as filled)
    k = 1
    last = 0
    for c in range(2, n):
        lx = buf[k - 1, 0]
        ly = buf[k - 1, 1]
        ex = buf[c, 0] - lx
        ey = buf[c, 1] - ly
        ok = buf[c, 2] - buf[k - 1, 2] <= step
        lim = tol * tol * (ex * ex + ey * ey)
        v = last + 1
        while ok and v < c:
            cr = (buf[v, 0] - lx) * ey - (buf[v, 1] - ly) * ex
            ok = cr * cr <= lim
            v += 1
        if not ok:
            buf[k, 0] = buf[c - 1, 0]
            buf[k, 1] = buf[c - 1, 1]
            buf[k, 2] = buf[c - 1, 2]
            k += 1
            last = c - 1
    buf[k, 0] = buf[n - 1, 0]
    buf[k, 1] = buf[n - 1, 1]
    buf[k, 2] = buf[n - 1, 2]
    k += 1
    if k == 2 and buf[1, 2] > 0:
        for col in range(3):
            buf[2, col] = buf[1, col]
            buf[1, col] = 0.5 * (buf[0, col] + buf[2, col])
        k = 3
    return k


@njit(cache=True, nogil=True, inline="always")
def _put(out: F64, n: int, px: float, py: float, t: float, speed: float) -> F64:
    """Row n of the point table, doubling the table when full; returns the table."""
    if n == out.shape[0]:
        bigger = np.empty((2 * n, 8))
        bigger[:n] = out
        out = bigger
    out[n, 0] = px
    out[n, 1] = py
    out[n, 2] = t
    out[n, 3] = speed
    out[n, 4:] = 0.0
    return out


@njit(cache=True, nogil=True)
def road_samples(geo: Geometry, dist: F64, pieces: Pieces, grid: SampleGrid, origin: Origin) -> F64:
    """Points of the road pieces ``pieces`` reached within the largest range, as an array of rows
    (px, py, t, speed, ax, ay, bx, by): position in lattice steps from (x0, y0), time, speed
    (m/s; inf for a piece crossed in no time), and the offsets (lattice steps) from its
    neighbours along the piece whose half of the plane it leaves to them (0, 0: none).

    Pieces are drawn through points at most ``step`` metres apart, where they bend
    (``_piece_points``); the time at fraction f of a piece is min(t0 + f*tau, t1 + (1-f)*tau)
    (t0/t1: times at its ends, inf where that way is not usable), on the origin's own piece also
    |f - origin.frac| * (origin.tf or origin.tb), and the origin itself (origin.x, origin.y) is
    reached at 0 when origin.geom >= 0. A junction is one point, at its search time ``dist``, with the speed of
    its fastest reached piece (its disc serves every road from it). A neighbour with the whole
    margin from the same range on (or earlier) is at least as near as the point itself on the
    far side of their bisector, so the point need not spread there: on a straight road each
    point spreads over a strip one point wide instead of a disc."""
    n_g = len(pieces.ids)
    buffers = SampleBuffers(np.empty((4 * n_g + 16, 8)), np.zeros(len(dist), np.int32), np.empty((2 * n_g, 4)))
    out, n = road_samples_into(buffers, geo, dist, pieces, grid, origin)
    return out[:n]


@njit(cache=True, nogil=True)
def road_samples_into(
    buffers: SampleBuffers, geo: Geometry, dist: F64, pieces: Pieces, grid: SampleGrid, origin: Origin
) -> tuple[F64, int]:
    """``road_samples`` into ``buffers.table`` (grown when full): returns (table, rows). The
    buffers (``SampleBuffers``) can be kept between calls instead of paging in fresh memory each
    time."""
    out, slot, jx = buffers
    x, y, geom_a, geom_b, cumlen, geom_u, geom_v = geo
    g_list, g_t0, g_t1, g_tau = pieces
    ranges, margin, step, x0, y0, dx, dy = grid
    origin_g, origin_f, origin_tf, origin_tb, origin_x, origin_y = origin
    tmax = ranges[len(ranges) - 1]
    n = 0
    if origin_g >= 0:
        tau0 = min(origin_tf, origin_tb)
        L0 = cumlen[geom_b[origin_g]] - cumlen[geom_a[origin_g]]
        out = _put(out, n, origin_x, origin_y, 0.0, L0 / tau0 if tau0 > 0 else np.inf)
        n += 1
    # reached junctions (slot + 1 by node; 0: not yet met): fastest piece, position, node;
    # sampled after all pieces
    n_nodes = 0
    ix = 1.0 / dx
    iy = 1.0 / dy
    buf = np.empty((64, 4))  # one piece's points, ends included: x, y, arc then t, speed
    for ii in range(len(g_list)):
        g = g_list[ii]
        a = geom_a[g]
        b = geom_b[g]
        L = cumlen[b] - cumlen[a]
        tau = g_tau[ii]
        speed = L / tau if tau > 0 else np.inf
        need = int(L / step) + b - a + 3
        if need > buf.shape[0]:
            buf = np.empty((2 * need, 4))
        last = _piece_points(geo, a, b, grid, ix, iy, STRAIGHT, buf) - 1
        for m in range(last + 1):
            if m == 0 or m == last:
                node = geom_u[g] if m == 0 else geom_v[g]
                t = dist[node]
                if t <= tmax:
                    k = slot[node] - 1
                    if k < 0:
                        jx[n_nodes, 0] = speed
                        jx[n_nodes, 1] = buf[m, 0]
                        jx[n_nodes, 2] = buf[m, 1]
                        jx[n_nodes, 3] = node
                        n_nodes += 1
                        slot[node] = n_nodes
                    elif speed > jx[k, 0]:
                        jx[k, 0] = speed
                # (its final speed is at least this piece's: a safe bound for the bisector test)
                buf[m, 2] = t if t <= tmax else np.inf
                buf[m, 3] = speed
                continue
            f = buf[m, 2] / L if L > 0 else 0.0
            t = min(g_t0[ii] + f * tau, g_t1[ii] + (1.0 - f) * tau)
            if g == origin_g:
                if f >= origin_f:
                    t = min(t, (f - origin_f) * origin_tf)
                else:
                    t = min(t, (origin_f - f) * origin_tb)
            buf[m, 2] = t
            buf[m, 3] = speed
        for m in range(1, last):
            t = buf[m, 2]
            if not (t <= tmax):
                continue
            out = _put(out, n, buf[m, 0], buf[m, 1], t, speed)
            kc, only = _full_from(t, speed, ranges, margin)
            if only:
                for side in range(2):
                    o = m - 1 if side == 0 else m + 1
                    tq = buf[o, 2]
                    if tq <= tmax:
                        kq, _ = _full_from(tq, buf[o, 3], ranges, margin)
                        if kq <= kc:
                            out[n, 4 + 2 * side] = buf[m, 0] - buf[o, 0]
                            out[n, 5 + 2 * side] = buf[m, 1] - buf[o, 1]
            n += 1
    for k in range(n_nodes):
        node = int(jx[k, 3])
        out = _put(out, n, jx[k, 1], jx[k, 2], dist[node], jx[k, 0])
        slot[node] = 0
        n += 1
    return out, n
