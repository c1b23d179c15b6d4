"""engine.trip_paths, the pair router calibration fits along: the seeds are Router.seeds', the
times Engine.matrix's under any table (pairs on one road piece and points at junctions too), and
the free-flow seconds per road class add up, with the factors, to exactly those times."""

from __future__ import annotations

import numpy as np

from geoservice.engine.trip_paths import PairRouter, point_seeds
from geoservice.sources.speeds import ROAD_CLASSES, SCENARIOS


def _points(net, rng, n):
    pos = rng.integers(0, len(net.lon), n)
    jitter = rng.normal(0, 1e-4, (n, 2))
    pts = np.column_stack([net.lon[pos], net.lat[pos]]) + jitter
    pts[: n // 10] = np.column_stack([net.node_lon, net.node_lat])[rng.integers(0, net.n_nodes, n // 10)]  # junctions
    return pts


def test_seeds_are_the_routers(shanghai_engine):
    router = shanghai_engine.router_for("drive")
    rng = np.random.default_rng(1)
    pts = _points(router.net, rng, 200)
    snaps = router.snap_all(pts[:, 0], pts[:, 1])
    w = router.weights("drive", "peak")
    for direction in ("from", "to"):
        ps = point_seeds(router, snaps, direction, "drive")
        for i, s in enumerate(snaps):
            ref = router.seeds(s, "drive", direction, weights=w)
            k = ps.node[i] >= 0
            assert sorted(ps.node[i][k].tolist()) == sorted(ref.node.tolist())
            cost = ps.access_s[i] + ps.part[i][k] * w[ps.edge[i][k]]
            np.testing.assert_allclose(sorted(cost), sorted(ref.cost), rtol=0, atol=1e-9)


def test_pair_routes_are_the_matrix(shanghai_engine):
    eng = shanghai_engine
    router = eng.router_for("drive")
    net = router.net
    rng = np.random.default_rng(2)
    o = _points(net, rng, 300)
    d = _points(net, rng, 300)
    long = np.flatnonzero(net.geom_b - net.geom_a >= 3)[:20]  # pairs on one road piece, both ways
    o[:20] = np.column_stack([net.lon[net.geom_a[long] + 1], net.lat[net.geom_a[long] + 1]])
    d[:20] = np.column_stack([net.lon[net.geom_b[long] - 1], net.lat[net.geom_b[long] - 1]])
    o[10:20], d[10:20] = d[10:20].copy(), o[10:20].copy()
    so, sd = router.snap_all(o[:, 0], o[:, 1]), router.snap_all(d[:, 0], d[:, 1])
    assert sum(a.geom == b.geom for a, b in zip(so, sd)) >= 10
    cls = net.way_class[net.geom_way[net.edge_geom]].astype(np.int64)
    pr = PairRouter(router, "drive", cls, len(ROAD_CLASSES))
    src, dst = point_seeds(router, so, "from", "drive"), point_seeds(router, sd, "to", "drive")
    for scenario in (None, "peak", {"primary": 3.0, "residential": 0.8}):
        w = router.weights("drive", scenario)
        parts = pr.route(pr.customise(w), src, dst)
        ref = np.array(
            [r[1][i] for i, r in enumerate(eng.matrix(list(map(tuple, o)), list(map(tuple, d)), scenario=scenario))]
        )
        np.testing.assert_allclose(parts.time_s, ref, rtol=0, atol=1e-6)
        table = SCENARIOS[scenario] if isinstance(scenario, str) else (scenario or {})
        f = np.array([table.get(c, 1.0) for c in ROAD_CLASSES])
        np.testing.assert_allclose(parts.access_s + parts.group_s @ f, parts.time_s, rtol=0, atol=1e-6)
        assert (parts.length_m > 0).mean() > 0.9
