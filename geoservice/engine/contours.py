"""Smooth outlines of what a search reached: reach fields on a lattice, contoured (numba + contourpy).

Whole grid cells drew isochrones and gaps as stair steps at city zoom. Instead, each range T gets
a continuous field on the vertices of a lattice of spacing ``h`` metres,

    E_T(p) = min over road points s reached within T of  |p - s| - r_s(T),
    r_s(T) = min(margin, (T - t_s) * v_s)      (v_s: the speed of the road piece s lies on)

in metres, and the outline is its zero contour (marching squares with linear interpolation,
contourpy). The region E_T <= 0 is the union of discs around reached road points: ``margin``
metres off the road where there is time to spare, shrinking to nothing at the exact point where
the time runs out, so the outline ends where the road leaves the range instead of a cell later.
Between two road points that both have the whole margin the distance is to the straight road
between them (``reach``), so a straight road gets a straight band. E_T is 1-Lipschitz (a distance
less a radius): linear interpolation on the lattice draws it smoothly, with no grid steps.
Ranges nest exactly: r_s grows with T, so E_T1 >= E_T2 for T1 < T2 at every vertex, and so do
the interpolated outlines.

Every graph node *not* reached within T is kept out: the four corners of its lattice square are
lifted above zero (a gentle cone around it), so that square is outside and so is the node; a
reached node can go with it only when it lies within about a lattice step of such a node.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import contourpy
import numpy as np

from ..bundle.jit import njit
from . import reach_grid
from .arrays import F64

MARGIN_STEPS = 1.5
"""Off-road margin, in lattice steps (150 m driving, 22.5 m walking): what the old one-cell growth
drew on average (one to two cells)."""
STEP = 1.0
"""Longest spacing of the road points, in lattice steps (between two points with the whole margin
the field measures the distance to the straight piece between them)."""
CUT_SLOPE = 0.25
"""Slope of the cone lifted around a late junction (1 would be a distance): gentle, so the hole
hugs the junction's lattice square, like the old cut cell, with rounded sides."""
PARALLEL_VERTICES = 40_000
"""Lattices from this many vertices get their field in two threads."""
PARALLEL_PIECES = 20_000
"""Searches reaching this many road pieces get their road points in two threads."""
_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The second thread's executor, made in this process: threads do not survive a fork, so a
    server worker forked from a process that already drew isochrones makes its own."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="contours"))
        return _POOL[1]


SQRT2 = math.sqrt(2.0)


class Frame(NamedTuple):
    """Where a lattice lies, as kernels take it: vertex (i, j) at (x0 + i*dx, y0 + j*dy), ``h``
    metres apart (``Lattice.frame``)."""

    x0: float
    y0: float
    dx: float
    dy: float
    h: float


@dataclass(frozen=True)
class Lattice:
    """Vertices (x0 + i*dx, y0 + j*dy), i < nx, j < ny, ``h`` metres apart in both directions
    (dx, dy in the coordinates' own unit: degrees for isochrones, metres for coverage)."""

    x0: float
    y0: float
    dx: float
    dy: float
    h: float
    nx: int
    ny: int

    @classmethod
    def around(cls, xmin: float, ymin: float, xmax: float, ymax: float, *, dx: float, dy: float, h: float) -> Lattice:
        """A lattice over a box grown by room for the margin, the late-node discs and a border."""
        pad = MARGIN_STEPS + SQRT2 + 4.0
        x0, y0 = xmin - pad * dx, ymin - pad * dy
        nx = int((xmax + pad * dx - x0) // dx) + 2
        ny = int((ymax + pad * dy - y0) // dy) + 2
        return cls(float(x0), float(y0), float(dx), float(dy), float(h), nx, ny)

    @property
    def margin(self) -> float:
        return MARGIN_STEPS * self.h

    @property
    def frame(self) -> Frame:
        return Frame(self.x0, self.y0, self.dx, self.dy, self.h)

    def fit(self, parts: list[np.ndarray]) -> Lattice:
        """The lattice moved and sized (by whole steps) to hold the road points of ``parts``
        (tables from ``reach.road_samples`` on this lattice, shifted in place to the new one),
        with the same padding: a piece reached from one end can run far beyond the nodes reached."""
        pad = MARGIN_STEPS + SQRT2 + 4.0
        parts = [p for p in parts if len(p)]
        if not parts:
            return self
        ox = math.floor(min(float(p[:, 0].min()) for p in parts) - pad)
        oy = math.floor(min(float(p[:, 1].min()) for p in parts) - pad)
        for p in parts:
            p[:, 0] -= ox
            p[:, 1] -= oy
        nx = int(math.ceil(max(float(p[:, 0].max()) for p in parts) + pad)) + 2
        ny = int(math.ceil(max(float(p[:, 1].max()) for p in parts) + pad)) + 2
        return Lattice(self.x0 + ox * self.dx, self.y0 + oy * self.dy, self.dx, self.dy, self.h, nx, ny)

    def xs(self) -> np.ndarray:
        return self.x0 + np.arange(self.nx) * self.dx

    def ys(self) -> np.ndarray:
        return self.y0 + np.arange(self.ny) * self.dy


def reach_field(
    parts: list[np.ndarray], ranges: np.ndarray, lattice: Lattice, *, out: np.ndarray | None = None
) -> np.ndarray:
    """E[k, j, i]: the reach field of ``ranges[k]`` at each lattice vertex from tables of road
    points (``reach.road_samples``); a large lattice in two bands of rows at once (the kernel
    releases the GIL, and each band writes only its own rows). ``out``: room for the field (a
    flat float array of that size, reused by the caller), else a new array."""
    shape = (len(ranges), lattice.ny, lattice.nx)
    E = np.empty(shape) if out is None else out.reshape(shape)
    E.fill(reach_grid.BIG)
    margin, h, ny = lattice.margin, lattice.h, lattice.ny

    def band(lo: int, hi: int) -> None:
        for pts in parts:
            reach_grid.reach_band(E, pts, ranges, margin, h, lo, hi)
        reach_grid.running_min(E, lo, hi)

    if lattice.nx * ny < PARALLEL_VERTICES:
        band(0, ny)
    else:
        other = _pool().submit(band, ny // 2, ny)
        band(0, ny // 2)
        other.result()
    return E


def both_halves(fn: Callable[[slice], np.ndarray], n: int, *, at: int = PARALLEL_PIECES) -> list[np.ndarray]:
    """[fn(slice)] over 0:n, in two halves at once from n = ``at`` on (fn releases the GIL)."""
    if n < at:
        return [fn(slice(0, n))]
    other = _pool().submit(fn, slice(n // 2, n))
    first = fn(slice(0, n // 2))
    return [first, other.result()]


@njit(cache=True, nogil=True)
def cut_late_nodes(E: F64, node_x: F64, node_y: F64, dist: F64, ranges: F64, frame: Frame) -> int:
    """Keep every node out of the ranges it is not reached in. Where a corner of its lattice
    square is at or below zero in such a range, lift E to max(E, CUT_SLOPE * (rho - |p - node|))
    there and in all smaller ranges (so they stay nested), rho just past the square's farthest
    corner: the four corners end above zero, so the whole square, node included, is outside; the
    hole is about that square, rounded. Returns the number of nodes cut."""
    x0, y0, dx, dy, h = frame
    K, ny, nx = E.shape
    ix = 1.0 / dx
    iy = 1.0 / dy
    cut = 0
    for p in range(len(node_x)):
        t = dist[p]
        if t <= ranges[0]:
            continue
        px = (node_x[p] - x0) * ix
        py = (node_y[p] - y0) * iy
        ci = int(math.floor(px))
        cj = int(math.floor(py))
        if ci < 0 or cj < 0 or ci >= nx - 1 or cj >= ny - 1:
            continue
        top = -1
        for lv in range(K):
            if ranges[lv] >= t:
                break
            if E[lv, cj, ci] <= 0 or E[lv, cj, ci + 1] <= 0 or E[lv, cj + 1, ci] <= 0 or E[lv, cj + 1, ci + 1] <= 0:
                top = lv
        if top < 0:
            continue
        cut += 1
        fx = max(px - ci, ci + 1 - px)
        fy = max(py - cj, cj + 1 - py)
        rho = 1.02 * h * math.sqrt(fx * fx + fy * fy) + 0.01
        rv = rho / h
        rv2 = rv * rv
        i0 = max(0, int(math.ceil(px - rv)))
        i1 = min(nx - 1, int(math.floor(px + rv)))
        j0 = max(0, int(math.ceil(py - rv)))
        j1 = min(ny - 1, int(math.floor(py + rv)))
        for j in range(j0, j1 + 1):
            ddy = j - py
            for i in range(i0, i1 + 1):
                ddx = i - px
                d2 = ddx * ddx + ddy * ddy
                if d2 > rv2:
                    continue
                v = CUT_SLOPE * (rho - h * math.sqrt(d2))
                for lv in range(top + 1):
                    if v > E[lv, j, i]:
                        E[lv, j, i] = v
    return cut


@njit(cache=True, nogil=True)
def settle(E: F64, eps: float) -> None:
    """Ready the fields for contouring. Range k of K is raised by eps * (K - 1 - k) / K: the fields
    nest vertex by vertex, and now by a margin far above rounding, so the outline of a smaller
    range never strays across a larger one's where they run together. Then values within ``eps``
    of zero move to +eps: no contour runs through a vertex or shrinks to a point around one, so
    every ring has area and rings never touch."""
    K, ny, nx = E.shape
    for lv in range(K):
        lift = eps * (K - 1 - lv) / K
        for j in range(ny):
            for i in range(nx):
                v = E[lv, j, i] + lift
                E[lv, j, i] = eps if -eps < v < eps else v


# ---------------------------------------------------------------- contours
def outline(field: np.ndarray, lattice: Lattice) -> list[list[np.ndarray]]:
    """The region field <= 0 as polygons, each a list of rings (outer first, then holes), in the
    lattice's coordinates: contourpy's filled contours of the field's zero level, as they come
    (thinning the points would move outlines of nested ranges across each other by rounding)."""
    gen = contourpy.contour_generator(
        lattice.xs(), lattice.ys(), field, name="serial", fill_type=contourpy.FillType.OuterOffset
    )
    filled = gen.filled(-np.inf, 0.0)
    out = []
    for pts, offsets in zip(filled[0], filled[1]):
        p: np.ndarray = np.asarray(pts)
        o: np.ndarray = np.asarray(offsets)
        out.append([p[o[i] : o[i + 1]] for i in range(len(o) - 1)])
    return out


def ring_area(ring: np.ndarray) -> float:
    """Signed shoelace area of a closed ring (positive counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def polygons_area(polys: list[list[np.ndarray]]) -> float:
    """Area of polygons given as rings (outer minus holes), in the square of their unit."""
    return sum(abs(ring_area(rings[0])) - sum(abs(ring_area(r)) for r in rings[1:]) for rings in polys)
