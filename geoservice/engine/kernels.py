"""Compiled shortest-path kernels (numba) over the CSR arrays of a bundle network.

One Dijkstra serves every query: several seeds with start costs and labels (multi-source
nearest facility; a point snapped mid-edge seeds both edge ends), a time limit (isochrones),
and targets with end costs plus an early stop once ``k_stop`` targets are final (k nearest,
matrix rows). Binary heap with lazy deletion.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..bundle.heap import _grow, _pop, _push
from ..bundle.jit import njit
from .arrays import F64, I64, Adjacency, Ints, Pieces, PieceTimes, PieceTopology, SeedBlocks, SeedSet, SnapGrid, Targets

INF = np.inf
NO_TARGETS = Targets(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), 0)
"""The target set of a search that looks for none (it runs to its limit)."""


@njit(cache=True, nogil=True)
def dijkstra(
    adj: Adjacency, seeds: SeedSet, targets: Targets, limit: float, k_stop: int, track: bool
) -> tuple[F64, I64, I64, F64, I64, F64]:
    """Return (dist, label, pred_edge, tgt_best, tgt_via, tgt_dist).

    Over the CSR arcs ``adj`` from ``seeds`` (the metres in ``seeds.length`` and
    ``targets.length`` are read only when ``track``). ``tgt_best[j]`` is min over target entries
    of id j of dist[node] + cost, ``tgt_via[j]`` the node it was reached through and
    ``tgt_dist[j]`` the metres of that route (when ``track``). Stops when the next node costs
    more than ``limit`` or, if ``k_stop`` > 0, when ``k_stop`` targets are final.
    """
    ptr, adj_node, adj_w, adj_len, adj_eid = adj
    seed_node, seed_cost, seed_label, seed_len = seeds
    tgt_node, tgt_id, tgt_cost, tgt_len, n_tgt = targets
    n = len(ptr) - 1
    dist = np.full(n, INF)
    label = np.full(n, -1, np.int64)
    pred = np.full(n, -1, np.int64)
    done = np.zeros(n, np.bool_)
    meters = np.zeros(n if track else 0)
    cap = 1024 + 4 * len(seed_node)
    hc = np.empty(cap, np.float64)
    hn = np.empty(cap, np.int64)
    size = 0
    for i in range(len(seed_node)):
        s = seed_node[i]
        if seed_cost[i] < dist[s]:
            dist[s] = seed_cost[i]
            label[s] = seed_label[i]
            if track:
                meters[s] = seed_len[i]
            if size == len(hc):
                hc, hn = _grow(hc, hn)
            size = _push(hc, hn, size, seed_cost[i], s)
    # targets: first entry per node, entries sorted by node
    tgt_best = np.full(n_tgt, INF)
    tgt_via = np.full(n_tgt, -1, np.int64)
    tgt_dist = np.full(n_tgt, INF)
    final = np.zeros(n_tgt, np.bool_)
    n_final = 0
    first = np.full(n if len(tgt_node) > 0 else 0, -1, np.int64)
    n_tnodes = 0
    for j in range(len(tgt_node) - 1, -1, -1):
        if first[tgt_node[j]] < 0:
            n_tnodes += 1
        first[tgt_node[j]] = j
    all_targets = k_stop >= n_tgt and n_tgt > 0
    settled_t = 0
    pending = INF
    while size > 0:
        c, u, size = _pop(hc, hn, size)
        if done[u]:
            continue
        if c > limit:
            break
        if k_stop > 0 and not all_targets and c >= pending:
            pending = INF
            for t in range(n_tgt):
                if not final[t]:
                    if tgt_best[t] <= c:
                        final[t] = True
                        n_final += 1
                    elif tgt_best[t] < pending:
                        pending = tgt_best[t]
            if n_final >= k_stop:
                break
        done[u] = True
        if len(first) > 0 and first[u] >= 0:
            j = first[u]
            while j < len(tgt_node) and tgt_node[j] == u:
                t = tgt_id[j]
                v = c + tgt_cost[j]
                if v < tgt_best[t]:
                    tgt_best[t] = v
                    tgt_via[t] = u
                    if track:
                        tgt_dist[t] = meters[u] + tgt_len[j]
                    if v < pending and not final[t]:
                        pending = v
                j += 1
            settled_t += 1
            if all_targets and settled_t == n_tnodes:
                break
        for k in range(ptr[u], ptr[u + 1]):
            v = adj_node[k]
            nc = c + adj_w[k]
            if nc < dist[v]:
                dist[v] = nc
                label[v] = label[u]
                pred[v] = adj_eid[k]
                if track:
                    meters[v] = meters[u] + adj_len[k]
                if size == len(hc):
                    hc, hn = _grow(hc, hn)
                size = _push(hc, hn, size, nc, v)
    # nodes left in the heap beyond the limit keep tentative values: clear them
    for i in range(n):
        if not done[i]:
            dist[i] = INF
            label[i] = -1
            pred[i] = -1
    return dist, label, pred, tgt_best, tgt_via, tgt_dist


@njit(cache=True, nogil=True)
def trace_path(pred: I64, other_end: Ints, node: int) -> I64:
    """Edge ids on the search tree from ``node`` back to its seed (``other_end[e]`` is the node
    one step closer to the seed)."""
    out = np.empty(64, np.int64)
    k = 0
    n = node
    guard = len(pred)
    while pred[n] >= 0 and guard > 0:
        e = pred[n]
        if k == len(out):
            bigger = np.empty(2 * len(out), np.int64)
            bigger[:k] = out
            out = bigger
        out[k] = e
        k += 1
        n = other_end[e]
        guard -= 1
    return out[:k].copy()


@njit(cache=True, nogil=True)
def snap_points(
    px: F64, py: F64, grid: SnapGrid, max_dist: float, prefer_m: float, on_road_m: float
) -> tuple[I64, F64, F64]:
    """Nearest segment to each point: (segment start position, fraction along it, distance).

    A segment with ``off_grade[s]`` set (a bridge, tunnel or motorway its traveller cannot join
    beside it) is taken only when no other segment lies within ``prefer_m`` of the point, or
    when the point lies on it (within ``on_road_m``) and no other is as near (within 1 cm).
    Ring search over the grid; stops once the ring is farther than the hits that can still
    change. Points with nothing within ``max_dist`` get position -1 and distance inf."""
    x, y, off_grade, grid_ptr, grid_seg, x0, y0, cell, nx, ny = grid
    m = len(px)
    out_seg = np.full(m, -1, np.int64)
    out_t = np.zeros(m)
    out_d = np.full(m, INF)
    max_ring = int((max_dist + cell / 4) // cell) + 2
    for i in range(m):
        cx = int((px[i] - x0) // cell)
        cy = int((py[i] - y0) // cell)
        best = INF  # any segment
        bseg = -1
        bt = 0.0
        gbest = INF  # at-grade segments only
        gseg = -1
        gt = 0.0
        for r in range(max_ring + 1):
            # rings < r hold every sample within (r-1)*cell of the point, and the nearest point
            # of a segment lies within cell/4 of one of its samples (see bundle.snap_grid.snap_grid)
            seen = (r - 1) * cell - cell / 4
            if bseg >= 0 and seen > best and (gseg >= 0 and seen > gbest or seen > prefer_m or gseg == bseg):
                break
            for gy in range(cy - r, cy + r + 1):
                if gy < 0 or gy >= ny:
                    continue
                step = 1 if (gy == cy - r or gy == cy + r) else 2 * r
                if step == 0:
                    step = 1
                gx = cx - r
                while gx <= cx + r:
                    if 0 <= gx < nx:
                        c = gy * nx + gx
                        for k in range(grid_ptr[c], grid_ptr[c + 1]):
                            s = grid_seg[k]
                            ax = x[s]
                            ay = y[s]
                            dx = x[s + 1] - ax
                            dy = y[s + 1] - ay
                            l2 = dx * dx + dy * dy
                            t = 0.0
                            if l2 > 0:
                                t = ((px[i] - ax) * dx + (py[i] - ay) * dy) / l2
                                t = min(1.0, max(0.0, t))
                            qx = ax + t * dx - px[i]
                            qy = ay + t * dy - py[i]
                            d = (qx * qx + qy * qy) ** 0.5
                            if d < best or (d == best and s < bseg):
                                best = d
                                bseg = s
                                bt = t
                            if off_grade[s] == 0 and (d < gbest or (d == gbest and s < gseg)):
                                gbest = d
                                gseg = s
                                gt = t
                    gx += step
        if gseg >= 0 and gbest <= prefer_m and gbest <= max_dist and (best > on_road_m or gbest <= best + 0.01):
            bseg = gseg
            bt = gt
            best = gbest
        if bseg >= 0 and best <= max_dist:
            out_seg[i] = bseg
            out_t[i] = bt
            out_d[i] = best
    return out_seg, out_t, out_d


@njit(cache=True, nogil=True)
def reached_geometries(reached: Ints, topo: PieceTopology, times: PieceTimes) -> Pieces:
    """Geometries touched within ``times.tmax``, found from the ``reached`` nodes' incident
    edges (see ``Pieces``: t0/t1 are the times at the u/v end through which the geometry is
    entered ("leaving" the point: u going forward, v going backward) or left (arriving at the
    point: v forward, u backward); inf where that direction is not allowed)."""
    out_ptr, in_ptr, in_edge, edge_geom, geom_u, geom_v, geom_fwd, geom_bwd = topo
    dist, w, tmax, leaving = times
    seen = np.zeros(len(geom_u), np.bool_)
    cap = 16
    for u in reached:
        cap += out_ptr[u + 1] - out_ptr[u] + in_ptr[u + 1] - in_ptr[u]
    ids = np.empty(cap, np.int64)
    t0 = np.empty(cap)
    t1 = np.empty(cap)
    tau = np.empty(cap)
    k = 0
    for u in reached:
        for side in range(2):
            lo = out_ptr[u] if side == 0 else in_ptr[u]
            hi = out_ptr[u + 1] if side == 0 else in_ptr[u + 1]
            for j in range(lo, hi):
                e = j if side == 0 else in_edge[j]
                g = edge_geom[e]
                if seen[g]:
                    continue
                seen[g] = True
                ef = geom_fwd[g]
                eb = geom_bwd[g]
                du = dist[geom_u[g]]
                dv = dist[geom_v[g]]
                if leaving:
                    a = du if ef >= 0 else INF
                    b = dv if eb >= 0 else INF
                else:
                    a = du if eb >= 0 else INF
                    b = dv if ef >= 0 else INF
                if min(a, b) > tmax:
                    continue
                ids[k] = g
                t0[k] = a
                t1[k] = b
                tau[k] = w[ef] if ef >= 0 else w[eb]
                k += 1
    return Pieces(ids[:k], t0[:k], t1[:k], tau[:k])


@njit(cache=True, parallel=True)
def many_to_many(adj: Adjacency, origins: SeedBlocks, targets: Targets) -> tuple[F64, F64]:
    """Times and route lengths from every origin (seeds ``origins.ptr[i]:origins.ptr[i+1]``) to
    every target id, one early-stopping Dijkstra per origin, origins spread over the CPU cores."""
    seed_ptr = origins.ptr
    n_tgt = targets.n
    n_o = len(seed_ptr) - 1
    times = np.full((n_o, n_tgt), INF)
    meters = np.full((n_o, n_tgt), INF)
    for i in prange(n_o):
        a = seed_ptr[i]
        b = seed_ptr[i + 1]
        seeds = SeedSet(origins.node[a:b], origins.cost[a:b], np.zeros(b - a, np.int64), origins.length[a:b])
        _, _, _, best, _, dist_m = dijkstra(adj, seeds, targets, INF, n_tgt, True)
        times[i, :] = best
        meters[i, :] = dist_m
    return times, meters
