"""Demand nodes aggregated to at most N points, so that siting at province scale stays solvable.

Why: a province has a million populated road nodes; a siting model over all of them needs a
million-row cost matrix and as many variables. Standard practice is to aggregate demand to a few
tens of thousands of points. Here the nodes are binned into square cells in the network's metric
CRS, the cell size being the smallest (found by bisection) that yields at most ``max_points``
occupied cells; each cell becomes one demand point at its most weighted node (ties: the lowest
node id), carrying the cell's whole weight, so the total is kept exactly. Times are then those
of that node: the aggregation error is about the travel time across one cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AggregatedDemand", "aggregate_demand"]


@dataclass(frozen=True)
class AggregatedDemand:
    """Demand points (network nodes) with their weights; ``cell_m`` is None when not aggregated."""

    nodes: np.ndarray
    weights: np.ndarray
    cell_m: float | None
    source_nodes: int

    def describe(self) -> str:
        if self.cell_m is None:
            return f"{len(self.nodes)} populated nodes"
        return (
            f"{self.source_nodes} populated nodes aggregated to {len(self.nodes)} demand points "
            f"({self.cell_m:,.0f} m cells, each at its most populated node, weights summed)"
        )


def _cells(x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """A cell key per point for square cells of ``cell`` metres."""
    ix = np.floor((x - x.min()) / cell).astype(np.int64)
    iy = np.floor((y - y.min()) / cell).astype(np.int64)
    key: np.ndarray = ix * (int(iy.max()) + 1) + iy
    return key


def aggregate_demand(
    nodes: np.ndarray, weights: np.ndarray, x: np.ndarray, y: np.ndarray, *, max_points: int
) -> AggregatedDemand:
    """``nodes`` (network node ids) with ``weights`` and metric coordinates ``x``, ``y`` (per node
    id), as at most ``max_points`` demand points; unchanged when there are no more than that."""
    nodes = np.asarray(nodes, np.int64)
    weights = np.asarray(weights, float)
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    if len(nodes) <= max_points:
        return AggregatedDemand(nodes, weights, None, len(nodes))
    px, py = x[nodes], y[nodes]
    span = max(float(px.max() - px.min()), float(py.max() - py.min()), 1.0)
    lo, hi = 0.0, span * 2  # one cell of twice the span holds everything
    for _ in range(40):  # bisection on the cell size: the count of occupied cells falls as cells grow
        mid = (lo + hi) / 2
        if len(np.unique(_cells(px, py, mid))) <= max_points:
            hi = mid
        else:
            lo = mid
        if hi - lo < max(1.0, hi * 1e-3):
            break
    key = _cells(px, py, hi)
    order = np.lexsort((nodes, -weights, key))  # per cell: most weighted node first, then lowest id
    first = np.ones(len(order), bool)
    first[1:] = key[order][1:] != key[order][:-1]
    cell_of = np.cumsum(first) - 1  # the cell number of each node in ``order``
    total = np.bincount(cell_of, weights[order])
    return AggregatedDemand(nodes[order[first]], total, hi, len(nodes))
