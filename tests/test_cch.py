"""Customizable contraction hierarchy: a metric-independent order and contraction, customised for
any weights, giving the same times as Dijkstra under every profile and scenario."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as sp_dijkstra

from geoservice.bundle.cch import CCHTopology, build_cch
from geoservice.bundle.dissection import nested_dissection_order, undirected_csr
from geoservice.bundle.flow_separator import Local, Marks, _local, _min_separator
from geoservice.engine import kernels
from geoservice.engine.arrays import SeedBlocks, Targets
from geoservice.engine.cch import cch_many_to_many, customise, unpack_arc
from geoservice.engine.hierarchy_matrix import seed_arrays
from geoservice.engine.router import Router
from geoservice.errors import GeoserviceError
from geoservice.sources.speeds import SCENARIOS

CUSTOM = {"primary": 2.5, "secondary": 1.8, "residential": 1.3, "tertiary": 0.9}
CASES = [("drive", None), ("drive", "peak"), ("drive", "off_peak"), ("drive", CUSTOM), ("ambulance", None)]


# ---------------------------------------------------------------- order and contraction
def strip(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A rows x cols street grid, two-way, 100 m blocks: (u, v, x, y), node = row * cols + col."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    pairs = [(idx[i, j], idx[i, j + 1]) for i in range(rows) for j in range(cols - 1)]
    pairs += [(idx[i, j], idx[i + 1, j]) for i in range(rows - 1) for j in range(cols)]
    u, v = np.array(pairs).T
    x = (np.arange(rows * cols) % cols) * 100.0
    y = (np.arange(rows * cols) // cols) * 100.0
    return np.r_[u, v], np.r_[v, u], x, y


def test_strip_is_cut_across_in_its_middle():
    """Hand-checked: a 3 x 40 grid has 3 disjoint west-east rows, so no separator has fewer than
    3 nodes, and one column has 3; nested dissection orders such a column last, in the middle
    half (the outer quarters are the sources and sinks), leaving two parts."""
    u, v, x, y = strip(3, 40)
    rank = nested_dissection_order(120, u, v, x, y)
    assert sorted(rank) == list(range(120))
    top = np.flatnonzero(rank >= 117)
    cols = set((top % 40).tolist())
    assert len(cols) == 1 and 10 <= cols.pop() < 30
    g = nx.Graph(list(zip(u.tolist(), v.tolist())))
    g.remove_nodes_from(top.tolist())
    assert [len(c) >= 30 for c in nx.connected_components(g)] == [True, True]


def test_path_order_is_balanced():
    """A chain of 200 nodes: every separator is one node, each split keeps at least a quarter on
    both sides, so the elimination tree is shallow (a chain order would make it 200 deep)."""
    n = 200
    u, v = np.arange(n - 1), np.arange(1, n)
    top = build_cch(np.r_[u, v], np.r_[v, u], np.arange(n) * 50.0, np.zeros(n), n)
    assert top.node[n - 1] in range(50, 150)
    par = top.elimination_parent()
    depth = np.zeros(n, int)
    for r in range(n - 2, -1, -1):
        depth[r] = depth[par[r]] + 1
    assert depth.max() <= 30


def test_flow_separator_is_a_minimum_vertex_cut():
    """The inertial-flow separator against networkx's max flow on the node-split graph."""
    rng = np.random.default_rng(0)
    for _ in range(150):
        s = int(rng.integers(6, 50))
        u, v = rng.integers(0, s, (2, int(rng.integers(s, 3 * s))))
        xadj, adj = undirected_csr(s, u, v)
        lptr, ladj, rev = _local(np.arange(s, dtype=np.int32), np.arange(s, dtype=np.int64), xadj, adj)
        perm = rng.permutation(s)
        k = max(1, s // 4)
        term = np.zeros(s, np.int8)
        term[perm[:k]], term[perm[-k:]] = 1, 2
        for a in perm[:k]:  # as the dissection does: a sink next to a source is no terminal
            term[ladj[lptr[a] : lptr[a + 1]][term[ladj[lptr[a] : lptr[a + 1]]] == 2]] = 0
        side = np.empty(s, np.int8)
        work = [np.zeros(2 * s, np.int64), np.empty(2 * s, np.int64), np.empty(2 * s, np.int64)]
        marks = Marks(work[0], work[1], work[2], np.empty(2 * s + 2, np.int64))
        f, _ = _min_separator(Local(lptr, ladj, rev), term, s + 1, marks, 0, side)
        if not (term == 2).any():
            assert f == s + 1  # no sink: no separator
            continue
        g = nx.DiGraph()
        name = {1: "S", 2: "T"}
        for a in range(s):
            if term[a] == 0:
                g.add_edge(("in", a), ("out", a), capacity=1)
            for b in adj[xadj[a] : xadj[a + 1]]:
                tail, head = name.get(term[a], ("out", a)), name.get(term[b], ("in", int(b)))
                if tail != head:
                    g.add_edge(tail, head)
        g.add_nodes_from(["S", "T"])
        assert f == nx.maximum_flow_value(g, "S", "T")
        assert (side == 1).sum() == f
        assert not ((term == 1) & (side != 0)).any() and not ((term == 2) & (side != 2)).any()
        for a in range(s):  # nothing joins the two sides
            assert not any({int(side[a]), int(side[b])} == {0, 2} for b in adj[xadj[a] : xadj[a + 1]])


def check_topology(top: CCHTopology, u: np.ndarray, v: np.ndarray) -> None:
    """Chordal: the upper neighbours of every node form a clique; every edge is an arc; the lower
    triangles of each arc are exactly the common lower neighbours of its ends."""
    n = top.n_nodes
    assert sorted(top.rank) == list(range(n)) and np.array_equal(top.node[top.rank], np.arange(n))
    ptr, head = top.ptr, top.head
    arcs = {(r, int(h)) for r in range(n) for h in head[ptr[r] : ptr[r + 1]]}
    assert all(r < h for r, h in arcs) and len(arcs) == top.n_arcs
    for r in range(n):
        up = head[ptr[r] : ptr[r + 1]]
        assert all((int(a), int(b)) in arcs for i, a in enumerate(up) for b in up[i + 1 :])
    tail = top.arc_tail()
    ru, rv = top.rank[u], top.rank[v]
    loops = ru == rv
    assert (top.edge_arc[loops] == -1).all()
    a = top.edge_arc[~loops]
    assert np.array_equal(tail[a], np.minimum(ru, rv)[~loops]) and np.array_equal(head[a], np.maximum(ru, rv)[~loops])
    lower: dict[int, set[int]] = {}
    for a in range(top.n_arcs):
        lower.setdefault(int(head[a]), set()).add(int(tail[a]))
    for a in range(top.n_arcs):
        lo, hi = int(tail[a]), int(head[a])
        tri = top.tri[2 * top.tri_ptr[a] : 2 * top.tri_ptr[a + 1]].reshape(-1, 2)
        assert {int(tail[t]) for t in tri[:, 0]} == lower.get(lo, set()) & lower.get(hi, set())
        assert all(head[t0] == lo and head[t1] == hi and tail[t0] == tail[t1] for t0, t1 in tri)


def test_spilled_arrays_are_mapped_copies():
    u, v, x, y = strip(3, 40)
    kept, mapped = build_cch(u, v, x, y, 120), build_cch(u, v, x, y, 120, spill=True)
    for name, a in kept.network_arrays().items():
        b = mapped.network_arrays()[name]
        assert isinstance(b, np.memmap) and not b.flags.writeable and np.array_equal(a, b)


def test_topology_of_a_real_network(monaco):
    net = monaco.networks["drive"]
    top = CCHTopology.from_network(net)
    assert top is not None, "the default build carries a CCH"
    assert isinstance(net.arrays["cch_tri"], np.memmap)  # mapped, not read, when loaded
    check_topology(top, net.edge_u, net.edge_v)


def test_random_graphs_equal_all_pairs_dijkstra():
    """Directed graphs with parallel, opposite and zero-weight edges, loops and ties."""
    rng = np.random.default_rng(3)
    for n, m in [(30, 80), (300, 800), (500, 1200)]:
        u, v = rng.integers(0, n, (2, m))
        u, v = np.r_[u, u[:20]], np.r_[v, v[:20]]  # parallel edges with other weights
        w = rng.integers(0, 50, len(u)).astype(float)
        w[:10] = 0.0
        top = build_cch(u, v, rng.uniform(0, 1e3, n), rng.uniform(0, 1e3, n), n)
        check_topology(top, u, v)
        met = customise(top, u, v, w, w * 10 + 1)
        best: dict[tuple[int, int], float] = {}
        for a, b, c in zip(u, v, w):
            if a != b:
                best[(a, b)] = min(best.get((a, b), np.inf), c)
        rows, cols = zip(*best)
        ref = sp_dijkstra(csr_matrix((np.array(list(best.values())) + 1e-300, (rows, cols)), shape=(n, n)))
        one = np.arange(n + 1)
        t, _ = cch_many_to_many(
            met,
            SeedBlocks(np.arange(n), np.zeros(n), np.zeros(n), one),
            SeedBlocks(np.arange(n), np.zeros(n), np.zeros(n), one),
        )
        assert np.array_equal(np.isinf(t), np.isinf(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(t[fin], ref[fin], rtol=0, atol=1e-9)


# ---------------------------------------------------------------- real networks
def random_snaps(router: Router, n: int, rng: np.random.Generator):
    """Points snapped mid-edge (random fraction along a random geometry)."""
    net = router.net
    g = rng.integers(0, len(net.geom_u), n)
    f = rng.uniform(0.05, 0.95, n)
    lon = net.node_lon[net.geom_u[g]] * (1 - f) + net.node_lon[net.geom_v[g]] * f
    lat = net.node_lat[net.geom_u[g]] * (1 - f) + net.node_lat[net.geom_v[g]] * f
    return [s for s in router.snap_many(lon, lat, strict=False) if s is not None]


def dijkstra_matrix(router: Router, osnaps, dsnaps, profile: str, w: np.ndarray):
    """One plain Dijkstra per origin (kernels.many_to_many) under weights ``w``, same seeds."""
    tn, ti, tc, tl, nt = router.targets_for(dsnaps, profile, "from", weights=w)
    order = np.argsort(tn, kind="stable")
    return kernels.many_to_many(
        router.adjacency("from", w),
        seed_arrays(router, osnaps, profile, "from", weights=w),
        Targets(tn[order], ti[order], tc[order], tl[order], nt),
    )


def check_matrices(net, n: int = 80, seed: int = 0) -> None:
    router = Router(net)
    rng = np.random.default_rng(seed)
    osnaps, dsnaps = random_snaps(router, n, rng), random_snaps(router, n, rng)
    for profile, scenario in CASES:
        w = router.weights(profile, scenario)
        metric = router.metric(profile, scenario)
        t, m = cch_many_to_many(
            metric,
            seed_arrays(router, osnaps, profile, "from", weights=w),
            seed_arrays(router, dsnaps, profile, "to", weights=w),
        )
        t_ref, m_ref = dijkstra_matrix(router, osnaps, dsnaps, profile, w)
        assert np.array_equal(np.isinf(t), np.isinf(t_ref))
        fin = np.isfinite(t_ref)
        assert fin.mean() > 0.5
        np.testing.assert_allclose(t[fin], t_ref[fin], rtol=0, atol=1e-6)
        # metres follow the fastest path; only ties between equally fast paths may differ
        same = np.isclose(m[fin], m_ref[fin], rtol=1e-9, atol=1e-6)
        assert same.mean() > 0.98, f"{profile} {scenario}: {(~same).sum()} of {fin.sum()} lengths differ"


def check_unpacking(net, profile: str, scenario, n_arcs: int = 300, seed: int = 0) -> None:
    """Every arc the queries use unpacks into a network path whose edge times and lengths add up
    to the arc's customised time and metres (the metres of the chosen path)."""
    router = Router(net)
    w = router.weights(profile, scenario)
    metric = router.metric(profile, scenario)
    top, ch = metric.topology, metric.ch
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for a, b, c, L in zip(net.edge_u.tolist(), net.edge_v.tolist(), w.tolist(), net.edge_len.tolist()):
        best[(a, b)] = min(best.get((a, b), (np.inf, 0.0)), (c, L))
    rng = np.random.default_rng(seed)
    checked = 0
    for upward, ptr, head, wt, ln in (
        (True, ch.fwd_ptr, ch.fwd_head, ch.fwd_w, ch.fwd_len),
        (False, ch.bwd_ptr, ch.bwd_head, ch.bwd_w, ch.bwd_len),
    ):
        tail = np.repeat(np.arange(top.n_nodes), np.diff(ptr))
        for k in rng.choice(len(head), n_arcs, replace=False):
            lo, hi = int(tail[k]), int(head[k])
            arc = top.ptr[lo] + list(top.head[top.ptr[lo] : top.ptr[lo + 1]]).index(hi)
            path = unpack_arc(metric, arc, upward)
            assert path[0] == top.node[lo if upward else hi] and path[-1] == top.node[hi if upward else lo]
            steps = [best[(int(p), int(q))] for p, q in zip(path[:-1], path[1:])]
            assert sum(s[0] for s in steps) == pytest.approx(wt[k], abs=1e-9)
            assert sum(s[1] for s in steps) == pytest.approx(ln[k], abs=1e-6)
            checked += len(path) > 2
    assert checked > n_arcs // 2


def test_andorra_matrices_equal_dijkstra(andorra):
    check_matrices(andorra.networks["drive"])


def test_monaco_matrices_equal_dijkstra(monaco):
    check_matrices(monaco.networks["drive"], seed=1)


@pytest.fixture(scope="module")
def shanghai_center(demo_data, tmp_path_factory):
    """Central Shanghai (OSM 2026, 4,400 junctions), the package's demo extract, drive only."""
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import load_region

    out = tmp_path_factory.mktemp("cch") / "shanghai-center"
    build_region(
        demo_data / "shanghai" / "shanghai-center.osm.gz", out, quiet=True, networks=("drive",), osm_pois=False
    )
    return load_region(out)


def test_shanghai_matrices_equal_dijkstra(shanghai_center):
    check_matrices(shanghai_center.networks["drive"], n=120, seed=2)


@pytest.mark.parametrize("profile,scenario", [("drive", "peak"), ("ambulance", CUSTOM)])
def test_unpacked_paths_add_up(shanghai_center, profile, scenario):
    check_unpacking(shanghai_center.networks["drive"], profile, scenario)


def test_peak_equals_networkx_on_the_exported_graph(andorra):
    """Independent reference: networkx Dijkstra on the exported graph, each edge's drive time
    times the peak factor of its road class."""
    from geoservice.bundle.to_networkx import network_to_networkx

    net = andorra.networks["drive"]
    G = network_to_networkx(net)
    peak = SCENARIOS["peak"]
    router = Router(net)
    metric = router.metric("drive", "peak")
    nodes = np.random.default_rng(7).choice(net.n_nodes, 25, replace=False)
    one = np.arange(len(nodes) + 1)
    zero = np.zeros(len(nodes))
    t, _ = cch_many_to_many(metric, SeedBlocks(nodes, zero, zero, one), SeedBlocks(nodes, zero, zero, one))
    checked = 0
    for i, a in enumerate(nodes):
        ref = nx.single_source_dijkstra_path_length(
            G,
            int(a),
            weight=lambda _u, _v, d: min(e["travel_time_drive"] * peak.get(e["highway"], 1.0) for e in d.values()),
        )
        for j, b in enumerate(nodes):
            assert t[i, j] == pytest.approx(ref[int(b)], abs=1e-6)
            checked += ref[int(b)] > 300
    assert checked > 100


# ---------------------------------------------------------------- the engine
def test_engine_matrix_under_scenarios_equals_dijkstra(andorra_engine):
    eng = andorra_engine
    router = eng.router_for("drive")
    rng = np.random.default_rng(5)
    pts = [(s.lon, s.lat) for s in random_snaps(router, 40, rng)]
    for profile, scenario in CASES:
        got = sorted(eng.matrix(pts, pts, profile=profile, scenario=scenario), key=lambda r: r[0])
        router._cch = False  # no hierarchy: one Dijkstra per origin
        try:
            want = sorted(eng.matrix(pts, pts, profile=profile, scenario=scenario), key=lambda r: r[0])
        finally:
            router._cch = None
        t, t_ref = np.vstack([r[1] for r in got]), np.vstack([r[1] for r in want])
        assert np.array_equal(np.isfinite(t), np.isfinite(t_ref))
        fin = np.isfinite(t_ref)
        np.testing.assert_allclose(t[fin], t_ref[fin], rtol=0, atol=1e-6)
        assert np.diag(t).max() == 0.0  # a point to itself, along its own road piece
    peak = np.vstack([r[1] for r in sorted(eng.matrix(pts, pts, scenario="peak"), key=lambda r: r[0])])
    free = np.vstack([r[1] for r in sorted(eng.matrix(pts, pts), key=lambda r: r[0])])
    off = ~np.eye(len(pts), dtype=bool)
    assert (peak[off] > free[off]).mean() > 0.9  # every factor of "peak" is > 1


def test_engine_cost_matrix_equals_one_search_per_point(andorra_engine):
    """Siting's demand x candidate costs: the CCH against one reverse Dijkstra per candidate."""
    eng = andorra_engine
    router = eng.router_for("drive")
    rng = np.random.default_rng(9)
    demand = rng.choice(router.net.n_nodes, 300, replace=False)
    sites = [(s.lon, s.lat) for s in random_snaps(router, 12, rng)] + [(0.0, 0.0)]  # the last one is off the map
    got = eng.cost_matrix(demand, sites, scenario=CUSTOM)
    w = router.weights("drive", CUSTOM)
    for j, s in enumerate(router.snap_many([p[0] for p in sites], [p[1] for p in sites], strict=False)):
        if s is None:
            assert np.isinf(got[:, j]).all()
            continue
        sd = router.seeds(s, "drive", "to", weights=w)
        dist, *_ = router.search(sd.node, sd.cost, profile="drive", direction="to", weights=w)
        np.testing.assert_allclose(got[:, j], dist[demand], rtol=0, atol=1e-6)


def test_metrics_are_cached_and_bounded(monaco, monkeypatch):
    from geoservice.engine import router as router_mod

    router = Router(monaco.networks["drive"])
    a = router.metric("drive", "peak")
    assert router.metric("drive", dict(SCENARIOS["peak"])) is a  # the same table, the same hierarchy
    assert router.metric("drive", None) is router.metric("drive", {"primary": 1.0})
    monkeypatch.setattr(router_mod, "METRIC_CACHE_ENTRIES", 3)
    for f in (1.1, 1.2, 1.3, 1.4):
        router.metric("drive", {"primary": f})
    assert len(router._metrics) == 3 and ("drive", (("primary", 1.4),)) in router._metrics
    monkeypatch.setattr(router_mod, "METRIC_CACHE_BYTES", a.nbytes)
    router.metric("drive", "off_peak")
    assert len(router._metrics) == 1


@pytest.mark.parametrize(
    "scenario,bad",
    [
        ("rush", "unknown scenario 'rush'"),
        ({"highway": 2.0}, "'highway'"),
        ({"primary": 0}, "0"),
        ({"primary": "x"}, "'x'"),
    ],
)
def test_bad_scenarios_name_the_field(andorra_engine, scenario, bad):
    pts = [(1.5212, 42.5069)]
    with pytest.raises(GeoserviceError) as err:
        list(andorra_engine.matrix(pts, pts, scenario=scenario))
    assert err.value.field == "scenario" and bad in str(err.value)
