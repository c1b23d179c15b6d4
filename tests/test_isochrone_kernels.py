"""The isochrone's own search and piece kernels agree with the general ones they stand in for, and
the buffers kept between calls (and the two threads) change no polygon."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from geoservice.engine import bounded, isochrone
from geoservice.engine.arrays import Pieces, PieceTimes
from geoservice.engine.isochrone import isochrone_geojson, piece_topology, reached_pieces

ANDORRA = [(1.5212, 42.5069), (1.5836, 42.5359), (1.4917, 42.4636)]
SHANGHAI = [(121.4737, 31.2304), (121.4450, 31.2000)]


@pytest.mark.parametrize("direction", ["to", "from"])
@pytest.mark.parametrize("limit", [0.0, 120.0, 600.0, 1800.0, np.inf])
def test_bounded_times_are_the_general_dijkstra(andorra_engine, direction, limit):
    router = andorra_engine.router_for("drive")
    w = router.net.times("drive")
    ptr, node, wt, _, _ = router.adjacency(direction, w)
    for lon, lat in ANDORRA:
        seeds = router.seeds(router.snap(lon, lat), "drive", direction)
        want, *_ = router.search(seeds.node, seeds.cost, profile="drive", direction=direction, limit=limit)
        dist = np.full(router.net.n_nodes, np.inf)
        reached = bounded.bounded_times(ptr, node, wt, seeds.node, seeds.cost, limit, dist)
        assert np.array_equal(dist, want)  # the same times, to the last bit; inf beyond the limit
        assert np.array_equal(np.sort(reached), np.flatnonzero(np.isfinite(want)))
        assert np.all(np.diff(dist[reached]) >= 0)  # settled in order of time


@pytest.mark.parametrize("direction", ["to", "from"])
def test_owned_pieces_split_the_reached_pieces(shanghai_engine, direction):
    """Any split of the reached nodes gives disjoint piece sets whose union is exactly what
    ``kernels.reached_geometries`` finds, with the same end times and run times."""
    router = shanghai_engine.router_for("drive")
    net = router.net
    w = net.times("drive")
    ptr, node, wt, _, _ = router.adjacency(direction, w)
    rng = np.random.default_rng(3)
    for lon, lat in SHANGHAI:
        seeds = router.seeds(router.snap(lon, lat), "drive", direction)
        dist = np.full(net.n_nodes, np.inf)
        reached = bounded.bounded_times(ptr, node, wt, seeds.node, seeds.cost, 900.0, dist)
        want = reached_pieces(net, dist, w, 900.0, forward=direction == "from")
        cut = sorted(rng.choice(len(reached), 2, replace=False))
        got = []
        for part in (reached[: cut[0]], reached[cut[0] : cut[1]], reached[cut[1] :]):
            got.append(
                bounded.owned_pieces(
                    part,
                    piece_topology(net),
                    PieceTimes(dist, w, 900.0, direction == "from"),
                    -1,
                    0.0,
                    Pieces(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0)),
                )
            )
        got = [[a[: g[1]] for a in g[0]] for g in got]
        ids = np.concatenate([g[0] for g in got])
        assert len(ids) == len(np.unique(ids)) == len(want[0]) > 1000
        order, ref = np.argsort(ids), np.argsort(want[0])
        for k in range(4):
            col = np.concatenate([g[k] for g in got])
            assert np.array_equal(col[order], want[k][ref])


def test_kept_buffers_and_threads_change_no_polygon(shanghai_engine, monkeypatch):
    """The same polygons whether a call gets fresh buffers or ones another call (another network,
    other ranges, the other direction) left behind, in one thread or two, and from concurrent
    calls."""
    router = shanghai_engine.router_for("drive")
    walk = shanghai_engine.router_for("walk")
    snaps = [router.snap(lon, lat) for lon, lat in SHANGHAI]

    def polys(snap, direction="to", minutes=(5, 10, 20)):
        return isochrone_geojson(router, snap, list(minutes), profile="drive", direction=direction)

    isochrone._FREE.clear()
    fresh = [polys(s) for s in snaps]
    assert sum(len(r) for p in fresh[0] for part in p["coordinates"] for r in part) > 500
    polys(snaps[1], "from", (30,))
    isochrone_geojson(walk, walk.snap(*SHANGHAI[0]), [10], profile="walk")
    assert [polys(s) for s in snaps] == fresh  # buffers left by other calls
    monkeypatch.setattr(isochrone, "PARALLEL_NODES", 50)  # the road points in two threads
    assert [polys(s) for s in snaps] == fresh
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(polys, snaps * 4)) == fresh * 4
    # and every kept buffer is clean for the next call
    for sets in isochrone._FREE.values():
        for buf in sets:
            assert np.isinf(buf.dist).all() and all(not s.any() for s in buf.slot)
