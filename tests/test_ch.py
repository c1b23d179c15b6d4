"""Contraction hierarchies: many-to-many times equal plain Dijkstra, shortcuts only where needed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as sp_dijkstra

from geoservice.bundle.contraction import CH, build_ch
from geoservice.engine import kernels
from geoservice.engine.arrays import SeedBlocks, Targets
from geoservice.engine.ch import ch_many_to_many
from geoservice.engine.hierarchy_matrix import ch_matrix
from geoservice.engine.router import Router


def arcs(ch: CH) -> set[tuple[int, int, float, float]]:
    """All CH arcs as (tail, head, seconds, metres) in travel direction."""
    out = set()
    for u in range(ch.n_nodes):
        for k in range(ch.fwd_ptr[u], ch.fwd_ptr[u + 1]):
            out.add((u, int(ch.fwd_head[k]), float(ch.fwd_w[k]), float(ch.fwd_len[k])))
        for k in range(ch.bwd_ptr[u], ch.bwd_ptr[u + 1]):
            out.add((int(ch.bwd_head[k]), u, float(ch.bwd_w[k]), float(ch.bwd_len[k])))
    return out


def two_way(edges: list[tuple[int, int, float, float]]) -> tuple[np.ndarray, ...]:
    both = edges + [(v, u, w, l) for u, v, w, l in edges]
    u, v, w, l = (np.array(c) for c in zip(*sorted(both)))
    return u.astype(np.int32), v.astype(np.int32), w.astype(float), l.astype(float)


def node_matrix(ch: CH, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    one = np.arange(len(src) + 1)
    two = np.arange(len(dst) + 1)
    return ch_many_to_many(
        ch,
        SeedBlocks(src, np.zeros(len(src)), np.zeros(len(src)), one),
        SeedBlocks(dst, np.zeros(len(dst)), np.zeros(len(dst)), two),
    )


def hubs(first_leaf: int, hub: int, n: int = 5) -> list[tuple[int, int, float, float]]:
    """Leaves around ``hub``: contracted first, they push the hub late in the order."""
    return [(hub, first_leaf + i, 1.0, 1.0) for i in range(n)]


def test_shortcut_needed_carries_time_and_length():
    # 0 - 1 - 2, the only way between the hubs 0 and 2 runs through 1
    edges = [(0, 1, 1.0, 10.0), (1, 2, 1.5, 20.0)] + hubs(10, 0) + hubs(20, 2)
    ch = build_ch(*two_way(edges), 25)
    assert ch.rank[1] < min(ch.rank[0], ch.rank[2])
    a = arcs(ch)
    assert (0, 2, 2.5, 30.0) in a and (2, 0, 2.5, 30.0) in a
    t, m = node_matrix(ch, np.array([0, 10]), np.array([2, 24]))
    np.testing.assert_allclose(t, [[2.5, 3.5], [3.5, 4.5]])
    np.testing.assert_allclose(m, [[30.0, 31.0], [31.0, 32.0]])


def test_witness_makes_shortcut_unnecessary():
    # 0 - 1 - 2 costs 2 s, the detour 0 - 3 - 2 only 1 s: no arc may stand for the path via 1
    edges = [(0, 1, 1.0, 10.0), (1, 2, 1.0, 10.0), (0, 3, 0.5, 40.0), (3, 2, 0.5, 40.0)] + hubs(10, 0) + hubs(20, 2)
    ch = build_ch(*two_way(edges), 25)
    assert max(ch.rank[1], ch.rank[3]) < min(ch.rank[0], ch.rank[2])
    between = {(w, l) for u, v, w, l in arcs(ch) if {u, v} == {0, 2}}
    assert between == {(1.0, 80.0)}
    t, m = node_matrix(ch, np.array([0]), np.array([2]))
    assert t[0, 0] == 1.0 and m[0, 0] == 80.0


def test_random_graphs_equal_all_pairs_dijkstra():
    """Directed graphs with parallel and zero-weight edges, several seeds per point."""
    rng = np.random.default_rng(3)
    for n, m in [(30, 70), (200, 500), (400, 1400)]:
        u = rng.integers(0, n, m)
        v = rng.integers(0, n, m)
        keep = u != v
        u, v = u[keep], v[keep]
        u = np.concatenate([u, u[:20]])  # parallel edges with other weights
        v = np.concatenate([v, v[:20]])
        w = rng.integers(0, 50, len(u)).astype(float)  # zero weights and ties included
        w[:10] = 0.0
        order = np.argsort(u, kind="stable")
        u, v, w = u[order].astype(np.int32), v[order].astype(np.int32), w[order]
        ch = build_ch(u, v, w, w * 10 + 1, n)
        best = {}
        for a, b, c in zip(u, v, w):
            best[(a, b)] = min(best.get((a, b), np.inf), c)
        rows, cols = zip(*best)
        # a tiny epsilon keeps zero-weight edges as edges for scipy; it vanishes in the sums
        g = csr_matrix((np.array(list(best.values())) + 1e-300, (rows, cols)), shape=(n, n))
        ref = sp_dijkstra(g)
        # points with 1-2 seeds and start/end costs
        k = 25
        sp = np.concatenate([[0], np.cumsum(rng.integers(1, 3, k))])
        dp = np.concatenate([[0], np.cumsum(rng.integers(1, 3, k))])
        sn, dn = rng.integers(0, n, sp[-1]), rng.integers(0, n, dp[-1])
        sc, dc = rng.uniform(0, 20, sp[-1]), rng.uniform(0, 20, dp[-1])
        t, _ = ch_many_to_many(ch, SeedBlocks(sn, sc, np.zeros(sp[-1]), sp), SeedBlocks(dn, dc, np.zeros(dp[-1]), dp))
        want = np.full((k, k), np.inf)
        for i in range(k):
            for j in range(k):
                for a in range(sp[i], sp[i + 1]):
                    for b in range(dp[j], dp[j + 1]):
                        want[i, j] = min(want[i, j], sc[a] + ref[sn[a], dn[b]] + dc[b])
        assert np.array_equal(np.isinf(t), np.isinf(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(t[fin], want[fin], rtol=0, atol=1e-6)


def test_save_and_load_roundtrip(tmp_path):
    ch = build_ch(*two_way([(0, 1, 1.0, 10.0), (1, 2, 1.5, 20.0)]), 3)
    ch.save(tmp_path / "ch.npz")
    back = CH.load(tmp_path / "ch.npz")
    for k, a in ch.arrays().items():
        assert np.array_equal(a, back.arrays()[k])


def test_travels_in_network_arrays():
    ch = build_ch(*two_way([(0, 1, 1.0, 10.0), (1, 2, 1.5, 20.0)]), 3)
    net = SimpleNamespace(arrays={"edge_u": np.zeros(0)})
    assert CH.from_network(net, "drive") is None
    net.arrays.update(ch.network_arrays("drive"))
    assert CH.from_network(net, "walk") is None
    back = CH.from_network(net, "drive")
    assert all(np.array_equal(a, back.arrays()[k]) for k, a in ch.arrays().items())


def random_snaps(router: Router, n: int, rng: np.random.Generator):
    """Points snapped mid-edge (random fraction along a random geometry)."""
    net = router.net
    g = rng.integers(0, len(net.geom_u), n)
    f = rng.uniform(0.05, 0.95, n)
    lon = net.node_lon[net.geom_u[g]] * (1 - f) + net.node_lon[net.geom_v[g]] * f
    lat = net.node_lat[net.geom_u[g]] * (1 - f) + net.node_lat[net.geom_v[g]] * f
    return router.snap_many(lon, lat, strict=False)


def dijkstra_matrix(router: Router, osnaps, dsnaps, profile: str) -> tuple[np.ndarray, np.ndarray]:
    """The engine's per-origin Dijkstra (kernels.many_to_many) on the same seeds."""
    w = router.net.times(profile)
    tn, ti, tc, tl, nt = router.targets_for(dsnaps, profile, "from")
    order = np.argsort(tn, kind="stable")
    seeds = [router.seeds(o, profile, "from") for o in osnaps]
    ptr = np.concatenate([[0], np.cumsum([len(s.node) for s in seeds])]).astype(np.int64)
    return kernels.many_to_many(
        router.adjacency("from", w),
        SeedBlocks(
            np.concatenate([s.node for s in seeds]),
            np.concatenate([s.cost for s in seeds]),
            np.concatenate([s.length for s in seeds]),
            ptr,
        ),
        Targets(tn[order], ti[order], tc[order], tl[order], nt),
    )


def check_network(net, profile: str, n: int = 60, seed: int = 0) -> None:
    router = Router(net)
    ch = build_ch(net.edge_u, net.edge_v, net.times(profile), net.edge_len, net.n_nodes)
    rng = np.random.default_rng(seed)
    osnaps = [s for s in random_snaps(router, n, rng) if s is not None]
    dsnaps = [s for s in random_snaps(router, n, rng) if s is not None]
    t, m = ch_matrix(ch, router, osnaps, dsnaps, profile)
    t_ref, m_ref = dijkstra_matrix(router, osnaps, dsnaps, profile)
    assert np.array_equal(np.isinf(t), np.isinf(t_ref))
    fin = np.isfinite(t_ref)
    assert fin.mean() > 0.5
    np.testing.assert_allclose(t[fin], t_ref[fin], rtol=0, atol=1e-6)
    # metres follow the fastest path; ties between equally fast paths may differ
    same = np.isclose(m[fin], m_ref[fin], rtol=1e-9, atol=1e-6)
    assert same.mean() > 0.98, f"{(~same).sum()} of {fin.sum()} route lengths differ"

    # node seeds with start and end costs, 1-2 per point
    k = 40
    sp = np.concatenate([[0], np.cumsum(rng.integers(1, 3, k))])
    dp = np.concatenate([[0], np.cumsum(rng.integers(1, 3, k))])
    sn, dn = rng.integers(0, net.n_nodes, sp[-1]), rng.integers(0, net.n_nodes, dp[-1])
    sc, dc = rng.uniform(0, 300, sp[-1]), rng.uniform(0, 300, dp[-1])
    sl, dl = rng.uniform(0, 100, sp[-1]), rng.uniform(0, 100, dp[-1])
    t, m = ch_many_to_many(ch, SeedBlocks(sn, sc, sl, sp), SeedBlocks(dn, dc, dl, dp))
    ti = np.repeat(np.arange(k), np.diff(dp))
    order = np.argsort(dn, kind="stable")
    t_ref, m_ref = kernels.many_to_many(
        router.adjacency("from", net.times(profile)),
        SeedBlocks(sn.astype(np.int64), sc, sl, sp.astype(np.int64)),
        Targets(dn[order].astype(np.int64), ti[order].astype(np.int64), dc[order], dl[order], k),
    )
    assert np.array_equal(np.isinf(t), np.isinf(t_ref))
    fin = np.isfinite(t_ref)
    np.testing.assert_allclose(t[fin], t_ref[fin], rtol=0, atol=1e-6)


def test_andorra_drive(andorra):
    check_network(andorra.networks["drive"], "drive")


def test_andorra_walk(andorra):
    net = andorra.networks["walk"]
    check_network(net, next(iter(net.profiles)))


def test_monaco_drive(monaco):
    check_network(monaco.networks["drive"], "drive", seed=1)


def test_campo_grande_drive(real_data, tmp_path_factory):
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import load_region

    out = tmp_path_factory.mktemp("campo") / "campo-grande"
    build_region(real_data / "osm/campo-grande.osm.gz", out, quiet=True, networks=("drive",))
    check_network(load_region(out).networks["drive"], "drive", n=100, seed=2)


def test_matches_engine_matrix(andorra_engine):
    """ch_matrix plus the engine's same-geometry step reproduces Engine.matrix."""
    eng = andorra_engine
    router = eng.router_for("drive")
    net = router.net
    rng = np.random.default_rng(5)
    snaps = [s for s in random_snaps(router, 30, rng) if s is not None]
    pts = [(s.lon, s.lat) for s in snaps]
    want = np.vstack([r[1] for r in sorted(eng.matrix(pts, pts, profile="drive"), key=lambda r: r[0])])
    ch = build_ch(net.edge_u, net.edge_v, net.times("drive"), net.edge_len, net.n_nodes)
    osnaps = router.snap_many([p[0] for p in pts], [p[1] for p in pts])
    t, _ = ch_matrix(ch, router, osnaps, osnaps, "drive")
    for i, o in enumerate(osnaps):
        for j, d in enumerate(osnaps):
            if o.geom == d.geom:
                t[i, j] = min(t[i, j], router.along_same_edge(o, d, "drive"))
    fin = np.isfinite(want)
    assert np.array_equal(np.isfinite(t), fin)
    np.testing.assert_allclose(t[fin], want[fin], rtol=0, atol=1e-6)


@pytest.mark.parametrize("bad", ["node", "length"])
def test_rejects_bad_input(bad):
    u, v, w, l = two_way([(0, 1, 1.0, 10.0)])
    with pytest.raises(ValueError):
        if bad == "node":
            build_ch(u, v, w, l, 1)
        else:
            build_ch(u, v, w, l[:1], 2)
