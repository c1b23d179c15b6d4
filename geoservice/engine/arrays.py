"""Typed bundles of arrays the compiled kernels take, one argument each instead of long lists.

numba passes a ``typing.NamedTuple`` of arrays (and scalars) into a compiled function as one
argument and reads its fields at no cost, so a kernel's parameters say what they are: a graph's
adjacency, a set of seeds, the targets of a search. The bundles over a network's own arrays are
built once, where the network is loaded (``Router``), not per call; the others hold a query's
arrays. Field order is part of the type: a bundle is also unpacked as the tuple it replaced.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "F64",
    "I32",
    "I64",
    "Ints",
    "Adjacency",
    "SeedSet",
    "SeedBlocks",
    "Targets",
    "SnapGrid",
    "PieceTopology",
    "PieceTimes",
    "Pieces",
]

F64 = NDArray[np.float64]
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
Ints = NDArray[np.int32] | NDArray[np.int64]
"""Node, edge or piece ids: int32 as the bundle stores them, int64 where a query made them."""


class Adjacency(NamedTuple):
    """CSR arcs for a search in one direction: the k-th arc of node u (``ptr[u] <= k <
    ptr[u+1]``) leads to ``node[k]`` in ``weight[k]`` seconds over ``length[k]`` metres along
    network edge ``edge[k]`` (``Router.adjacency``)."""

    ptr: I64
    node: Ints
    weight: F64
    length: F64
    edge: Ints


class SeedSet(NamedTuple):
    """Where a search starts: nodes with a start time, a label each (which source, for the
    nearest-of-many searches) and the metres already travelled."""

    node: I64
    cost: F64
    label: I64
    length: F64


class SeedBlocks(NamedTuple):
    """The seeds of many points, point i owning ``ptr[i]:ptr[i+1]``: node, time and metres
    between the point and the node (``engine.hierarchy_matrix.seed_arrays``)."""

    node: I64
    cost: F64
    length: F64
    ptr: I64


class Targets(NamedTuple):
    """Target entries of a search, sorted by node for the kernel: reaching ``node[j]`` reaches
    target ``id[j]`` (of ``n``) with ``cost[j]`` seconds and ``length[j]`` metres still to go."""

    node: I64
    id: I64
    cost: F64
    length: F64
    n: int


class SnapGrid(NamedTuple):
    """A network's road segments (a segment starts at each position of ``x``/``y`` but a
    geometry's last) and the grid over them that snapping searches (``bundle.snap_grid``):
    cell c lists the segments ``seg[ptr[c]:ptr[c+1]]``; cells are ``cell`` metres from
    (x0, y0), nx by ny. ``off_grade[s]``: the traveller cannot join segment s beside it."""

    x: F64
    y: F64
    off_grade: NDArray[np.uint8]
    ptr: I64
    seg: Ints
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int


class PieceTopology(NamedTuple):
    """What the road-piece kernels read of a network: adjacency both ways (edges are sorted by
    tail, so node u's out-edges are ``out_ptr[u]:out_ptr[u+1]``; ``in_edge`` lists them by
    head), each edge's road piece, each piece's end nodes and its edge each way (-1: none)."""

    out_ptr: I64
    in_ptr: I64
    in_edge: Ints
    edge_geom: Ints
    geom_u: Ints
    geom_v: Ints
    geom_fwd: Ints
    geom_bwd: Ints


class PieceTimes(NamedTuple):
    """A search's node times (``dist``) over edge times ``weight``, the time limit of the pieces
    wanted, and whether the search left its seeds (``leaving``) or ran back to them."""

    dist: F64
    weight: F64
    tmax: float
    leaving: bool


class Pieces(NamedTuple):
    """Road pieces a search reached: ``ids``, the times ``t0``/``t1`` at their u/v ends through
    which they are entered (leaving the point) or left (arriving at it), inf where that way is
    not allowed, and ``tau`` the time to run each end to end."""

    ids: I64
    t0: F64
    t1: F64
    tau: F64
