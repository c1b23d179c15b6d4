"""The numba kernels on a small real network, compiled and as plain Python (issue 22, item 4).

Coverage cannot see inside compiled code: the kernels of ``bundle`` (chains, nested dissection, the
CCH topology, the heap) and ``engine`` (Dijkstra, bounded searches, reach, contours, trip paths)
counted as never run although every query runs them. Here a piece of Monaco (about 650 m x 780 m,
cut at test time from the package's real OSM extract: ~50 drive and ~230 walk nodes) is built into
a bundle and queried, and every answer is checked against networkx Dijkstra on the bundle's own
graph. The module runs twice: compiled, as part of the suite, and once more in a child process
with ``NUMBA_DISABLE_JIT=1`` (``test_kernels_as_plain_python``), where the kernels are ordinary
Python functions; when the suite is measured (``scripts/test.sh``: pytest-cov) the child runs
under ``coverage run --parallel-mode`` writing next to the suite's data file, which pytest-cov
combines at the end of the run, so the kernels' lines count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import networkx as nx
import numpy as np
import pytest
import shapely

REPO = Path(__file__).resolve().parents[1]
MONACO = REPO / "geoservice" / "data" / "monaco" / "monaco.osm.pbf"
PIECE = (7.4220, 43.7350, 7.4300, 43.7420)  # west, south, east, north: Monte-Carlo
INTERPRETED = os.environ.get("NUMBA_DISABLE_JIT") == "1"


def cut_piece(src: Path, box: tuple[float, float, float, float], out: Path) -> Path:
    """An OSM XML file of the highways of ``src`` lying wholly inside ``box`` (with their nodes),
    and the OSM points of interest inside it."""
    import osmium

    w, s, e, n = box
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for o in osmium.FileProcessor(str(src)).with_locations():
        if o.is_node() and w <= o.location.lon <= e and s <= o.location.lat <= n:
            nodes[o.id] = (o.location.lon, o.location.lat, dict(o.tags))
        elif o.is_way() and "highway" in o.tags:
            refs = [r.ref for r in o.nodes]
            if all(r in nodes for r in refs):
                ways.append((o.id, refs, dict(o.tags)))
    keep = {r for _, refs, _ in ways for r in refs} | {i for i, (_, _, t) in nodes.items() if t}

    def tags(t: dict[str, str]) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in t.items())

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="geoservice tests">',
        f'<bounds minlat="{s}" minlon="{w}" maxlat="{n}" maxlon="{e}"/>',
    ]
    for i in sorted(keep):
        lon, lat, t = nodes[i]
        lines.append(f'<node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{tags(t)}</node>')
    for i, refs, t in ways:
        lines.append(f'<way id="{i}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs) + tags(t) + "</way>")
    lines.append("</osm>")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def piece(tmp_path_factory):
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import load_region

    tmp = tmp_path_factory.mktemp("monaco-piece")
    osm = cut_piece(MONACO, PIECE, tmp / "piece.osm")
    build_region(osm, tmp / "bundle", name="monaco-piece", quiet=True)
    return load_region(tmp / "bundle")


@pytest.fixture(scope="module")
def engine(piece):
    from geoservice.engine.engine import Engine

    return Engine(piece)


def graph(engine, network: str) -> nx.DiGraph:
    from geoservice.bundle.to_networkx import network_to_networkx

    return network_to_networkx(engine.router_for("drive" if network == "drive" else "walk").net, geometry=False)


def nx_point_time(G, router, a, b, profile: str) -> float:
    """Time from snapped point a to snapped point b: a's seeds, networkx Dijkstra, b's seeds."""
    sa, sb = router.seeds(a, profile, "from"), router.seeds(b, profile, "to")
    best = router.along_same_edge(a, b, profile)
    for n0, c0 in zip(sa.node, sa.cost):
        lengths = nx.single_source_dijkstra_path_length(G, int(n0), weight=f"travel_time_{profile}")
        for n1, c1 in zip(sb.node, sb.cost):
            if int(n1) in lengths:
                best = min(best, c0 + lengths[int(n1)] + c1)
    return best


def test_the_piece_is_a_network(engine):
    """Enough of a network to test on: strongly connected (the build keeps the largest strongly
    connected part), with junctions and one-way streets on the drive side."""
    drive, walk = graph(engine, "drive"), graph(engine, "walk")
    assert 30 <= drive.number_of_nodes() <= 200 and 100 <= walk.number_of_nodes() <= 600
    assert nx.is_strongly_connected(drive) and nx.is_strongly_connected(walk)
    assert any(d["oneway"] for *_, d in drive.edges(data=True))


@pytest.mark.parametrize(("profile", "network"), [("drive", "drive"), ("ambulance", "drive"), ("walk", "walk")])
def test_searches_equal_networkx(engine, profile, network):
    G = graph(engine, network)
    router = engine.router_for(profile)
    w = f"travel_time_{profile}"
    for src in np.random.default_rng(7).choice(router.net.n_nodes, 4, replace=False):
        for direction, H in (("from", G), ("to", G.reverse(copy=False))):
            ref = nx.single_source_dijkstra_path_length(H, int(src), weight=w)
            dist, *_ = router.search([int(src)], [0.0], profile=profile, direction=direction)
            assert {i for i, d in enumerate(dist) if np.isfinite(d)} == set(ref)
            assert max(abs(dist[k] - ref[k]) for k in ref) < 1e-6


@pytest.mark.parametrize("direction", ["from", "to"])
def test_search_tree_paths_are_shortest(engine, direction):
    """The edges traced back through the search tree (routes are drawn along them) join up, run
    from the seed to the node in travel order, and add up to the networkx shortest time."""
    G = graph(engine, "drive")
    router = engine.router_for("drive")
    net, w = router.net, router.net.times("drive")
    src = int(np.random.default_rng(9).integers(net.n_nodes))
    dist, _label, pred, *_ = router.search([src], [0.0], profile="drive", direction=direction)
    H = G if direction == "from" else G.reverse(copy=False)
    ref = nx.single_source_dijkstra_path_length(H, src, weight="travel_time_drive")
    for node in np.random.default_rng(10).choice(net.n_nodes, 10, replace=False):
        edges = router.path_edges(pred, int(node), direction)
        if int(node) == src:
            assert len(edges) == 0
            continue
        assert np.array_equal(net.edge_v[edges[:-1]], net.edge_u[edges[1:]])  # one edge after another
        ends = (int(net.edge_u[edges[0]]), int(net.edge_v[edges[-1]]))
        assert ends == ((src, int(node)) if direction == "from" else (int(node), src))
        assert float(w[edges].sum()) == pytest.approx(ref[int(node)], abs=1e-6)


@pytest.mark.parametrize(("profile", "network"), [("drive", "drive"), ("walk", "walk")])
def test_point_matrix_equals_networkx(engine, profile, network):
    G = graph(engine, network)
    router = engine.router_for(profile)
    net = router.net
    rng = np.random.default_rng(11)
    pts = [(float(net.node_lon[k]) + 0.0001, float(net.node_lat[k]) - 0.0001) for k in rng.choice(net.n_nodes, 6)]
    rows = {o: (t, d) for o, t, d in engine.matrix(pts, pts, profile=profile)}
    snaps = router.snap_many([p[0] for p in pts], [p[1] for p in pts])
    for o in range(len(pts)):
        for d in range(len(pts)):
            assert rows[o][0][d] == pytest.approx(nx_point_time(G, router, snaps[o], snaps[d], profile), abs=1e-6)
        assert rows[o][0][o] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("profile", "minutes"), [("drive", [2, 3]), ("walk", [3, 5])])
@pytest.mark.parametrize("direction", ["to", "from"])
def test_isochrones_hold_what_is_reached(engine, profile, minutes, direction):
    """Nested valid polygons; every graph node inside one is reached within its time (networkx),
    and (but for a few in tunnels) every node reached within it lies in it or at its edge."""
    G = graph(engine, "drive" if profile != "walk" else "walk")
    lon, lat = 7.4262, 43.7390
    feats = engine.isochrones(lon, lat, minutes, profile=profile, direction=direction)
    polys = [shapely.geometry.shape(f["geometry"]) for f in feats]
    assert [f["properties"]["minutes"] for f in feats] == minutes
    for small, big in zip(polys, polys[1:]):
        assert small.is_valid and big.is_valid and big.buffer(1e-9).contains(small)
    router = engine.router_for(profile)
    snap = router.snap(lon, lat)
    seeds = router.seeds(snap, profile, direction)
    H = G if direction == "from" else G.reverse(copy=False)
    best = np.full(router.net.n_nodes, np.inf)
    for n0, c0 in zip(seeds.node, seeds.cost):
        for k, t in nx.single_source_dijkstra_path_length(H, int(n0), weight=f"travel_time_{profile}").items():
            best[k] = min(best[k], c0 + t)
    pts = shapely.points(router.net.node_lon, router.net.node_lat)
    for m, poly in zip(minutes, polys):
        inside = shapely.contains(poly, pts)
        assert inside.sum() >= 3
        assert best[inside].max() <= m * 60 + 1e-6
        # within ~25 m of it (a road is drawn up to where the time runs out), but for a few on
        # roads no one can leave (tunnels: Monaco has many), which are not drawn
        near = shapely.intersects(poly.buffer(3e-4), pts)
        assert near[best <= m * 60].mean() >= 0.8


@pytest.mark.parametrize("profile", ["drive", "walk"])
def test_contraction_hierarchy_keeps_every_time(engine, profile):
    """A classic contraction hierarchy of the network: for every pair, the best meeting of an
    upward search from the origin and an upward (reversed) search from the destination, both
    run by networkx on the hierarchy's arcs, is the networkx Dijkstra time on the graph itself;
    every arc points up the ranking."""
    from geoservice.bundle.contraction import build_ch

    net = engine.router_for(profile).net
    ch = build_ch(net.edge_u, net.edge_v, net.times(profile), net.edge_len, net.n_nodes)
    up, down = nx.DiGraph(), nx.DiGraph()  # down: the backward arcs, reversed (head -> tail)
    for u in range(ch.n_nodes):
        for k in range(ch.fwd_ptr[u], ch.fwd_ptr[u + 1]):
            assert ch.rank[ch.fwd_head[k]] > ch.rank[u]
            up.add_edge(u, int(ch.fwd_head[k]), w=float(ch.fwd_w[k]))
        for k in range(ch.bwd_ptr[u], ch.bwd_ptr[u + 1]):
            assert ch.rank[ch.bwd_head[k]] > ch.rank[u]
            down.add_edge(u, int(ch.bwd_head[k]), w=float(ch.bwd_w[k]))
    G = graph(engine, "drive" if profile == "drive" else "walk")
    rng = np.random.default_rng(5)
    for s in rng.choice(net.n_nodes, 5, replace=False):
        ref = nx.single_source_dijkstra_path_length(G, int(s), weight=f"travel_time_{profile}")
        fwd = nx.single_source_dijkstra_path_length(up, int(s), weight="w") if int(s) in up else {int(s): 0.0}
        for t in rng.choice(net.n_nodes, 8, replace=False):
            bwd = nx.single_source_dijkstra_path_length(down, int(t), weight="w") if int(t) in down else {int(t): 0.0}
            meet = min(fwd[m] + bwd[m] for m in set(fwd) & set(bwd))
            assert meet == pytest.approx(ref[int(t)], abs=1e-6)


def test_pair_routes_are_the_matrix(engine):
    """The pair router (calibration's) gives the matrix's times, and its seconds per road class
    add up to them."""
    from geoservice.engine.trip_paths import PairRouter, point_seeds
    from geoservice.sources.speeds import ROAD_CLASSES

    router = engine.router_for("drive")
    net = router.net
    rng = np.random.default_rng(3)
    o = np.column_stack([net.node_lon, net.node_lat])[rng.integers(0, net.n_nodes, 12)] + rng.normal(0, 1e-4, (12, 2))
    d = np.column_stack([net.node_lon, net.node_lat])[rng.integers(0, net.n_nodes, 12)] + rng.normal(0, 1e-4, (12, 2))
    so, sd = router.snap_all(o[:, 0], o[:, 1]), router.snap_all(d[:, 0], d[:, 1])
    cls = net.way_class[net.geom_way[net.edge_geom]].astype(np.int64)
    pr = PairRouter(router, "drive", cls, len(ROAD_CLASSES))
    src, dst = point_seeds(router, so, "from", "drive"), point_seeds(router, sd, "to", "drive")
    for scenario in (None, "peak"):
        parts = pr.route(pr.customise(router.weights("drive", scenario)), src, dst)
        ref = [
            r[1][i] for i, r in enumerate(engine.matrix(list(map(tuple, o)), list(map(tuple, d)), scenario=scenario))
        ]
        np.testing.assert_allclose(parts.time_s, ref, rtol=0, atol=1e-6)


@pytest.mark.skipif(INTERPRETED, reason="this is the child run itself")
def test_kernels_as_plain_python(tmp_path):
    """This module once more with NUMBA_DISABLE_JIT=1 in a child process (under coverage when the
    suite is measured): the kernels, as plain Python, give the same networkx answers."""
    import coverage

    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    cmd = [sys.executable]
    cov = coverage.Coverage.current()
    if cov is not None:  # pytest-cov combines every .coverage.* beside its data file at the end
        data = os.path.abspath(cov.config.data_file)
        cmd += [
            "-m",
            "coverage",
            "run",
            "--parallel-mode",
            f"--rcfile={REPO / 'pyproject.toml'}",
            f"--data-file={data}",
        ]
    cmd += [
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-W",
        "ignore:overflow:RuntimeWarning",
        __file__,
    ]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "1 skipped" in run.stdout
