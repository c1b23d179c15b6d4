"""The snapping grid of a network: which geometry segments pass through each cell of a uniform
grid, so that a point is snapped by looking at a few cells (``engine.kernels.snap_points``)."""

from __future__ import annotations

import numpy as np

GRID_CELL_M = 250.0


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s+l)`` for all pairs, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(np.cumsum(lengths) - lengths, lengths)
    out: np.ndarray = np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - offs)
    return out


def snap_grid(arr: dict[str, np.ndarray], cell: float = GRID_CELL_M, chunk: int = 1_000_000) -> dict[str, np.ndarray]:
    """Uniform grid over all geometry segments. A segment is listed in the cell of every sample
    point taken along it at most ``cell / 2`` apart (ends included), so its nearest point to any
    query lies within ``cell / 4`` of a listed sample; ``kernels.snap_points`` allows for that.
    Done in chunks of segments to bound the temporary memory."""
    a, b = arr["geom_a"], arr["geom_b"]
    x, y = arr["x"], arr["y"]
    seg_start = ranges(a.astype(np.int64), (b - a).astype(np.int64))  # segment i..i+1 for i in [a, b)
    x0 = float(x.min()) - cell
    y0 = float(y.min()) - cell
    nx = int((x.max() - x0) // cell) + 2
    ny = int((y.max() - y0) // cell) + 2
    cell_parts, seg_parts = [], []
    for lo in range(0, len(seg_start), chunk):
        ss = seg_start[lo : lo + chunk]
        sx0, sy0 = x[ss], y[ss]
        dx, dy = x[ss + 1] - sx0, y[ss + 1] - sy0
        nsamp = np.ceil(np.hypot(dx, dy) / (cell / 2)).astype(np.int64) + 1
        idx = np.repeat(np.arange(len(ss)), nsamp)
        f = (np.arange(len(idx)) - np.repeat(np.cumsum(nsamp) - nsamp, nsamp)) / np.repeat(
            np.maximum(nsamp - 1, 1), nsamp
        )
        cid = (((sy0[idx] + f * dy[idx]) - y0) // cell).astype(np.int64) * nx + (
            ((sx0[idx] + f * dx[idx]) - x0) // cell
        ).astype(np.int64)
        del f
        pair = np.unique(cid * len(ss) + idx)
        del cid, idx
        cell_parts.append(pair // len(ss))
        seg_parts.append(ss[pair % len(ss)].astype(np.int32))
        del pair
    cells = np.concatenate(cell_parts) if cell_parts else np.zeros(0, np.int64)
    segs = np.concatenate(seg_parts) if seg_parts else np.zeros(0, np.int32)
    order = np.argsort(cells, kind="stable")
    cells, segs = cells[order], segs[order]
    del order
    grid_ptr = np.concatenate([[0], np.cumsum(np.bincount(cells, minlength=nx * ny))])
    # geometry id of every position (-1 where no segment starts)
    seg_geom = np.full(len(x), -1, np.int32)
    seg_geom[seg_start] = np.repeat(np.arange(len(a)), b - a)
    return {"grid_ptr": grid_ptr, "grid_seg": segs, "grid_meta": np.array([x0, y0, cell, nx, ny]), "seg_geom": seg_geom}
