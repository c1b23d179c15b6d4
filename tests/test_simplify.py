"""Degree-2 chain contraction (bundle/chains.py) and the memory-mapped bundle (bundle/store.py).

On real OSM extracts (central Shanghai, the demo's; Andorra): the contracted graph has no more
nodes than osmnx's ``simplify_graph`` makes of the same roads; node-to-node times are those of the
uncontracted graph; a point snapped anywhere inside a contracted edge gets the times it gets on the
uncontracted one; every edge is one class and one speed, and its coordinates are the OSM ways'
own, in order. The loaded bundle maps its arrays read-only and the router searches on them
without copies."""

from __future__ import annotations

import gzip
import shutil

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geoservice.bundle.network import build_network
from geoservice.engine.router import Router
from geoservice.sources.osm_roads import FLAG_DRIVE, read_osm_roads
from geoservice.sources.speeds import DEFAULT_PROFILES, ROAD_CLASSES


@pytest.fixture(scope="module")
def shanghai_osm(demo_data, tmp_path_factory):
    """The central Shanghai demo extract as plain OSM XML (osmnx reads XML only)."""
    out = tmp_path_factory.mktemp("osm") / "shanghai-center.osm"
    with gzip.open(demo_data / "shanghai" / "shanghai-center.osm.gz", "rb") as f, open(out, "wb") as g:
        shutil.copyfileobj(f, g)
    return out


@pytest.fixture(scope="module")
def raw(shanghai_osm):
    return read_osm_roads(shanghai_osm)


@pytest.fixture(scope="module")
def nets(raw):
    """(contracted, uncontracted) drive networks of the same ways."""
    return build_network(raw, "drive", DEFAULT_PROFILES), build_network(raw, "drive", DEFAULT_PROFILES, simplify=False)


def _matrix(net, profile: str) -> csr_matrix:
    """The network as a sparse matrix, the fastest of parallel edges kept (csr would add them)."""
    t = net.times(profile)
    order = np.lexsort((t, net.edge_v, net.edge_u))
    u, v, t = net.edge_u[order], net.edge_v[order], t[order]
    first = np.r_[True, (np.diff(u) != 0) | (np.diff(v) != 0)]
    return csr_matrix((t[first], (u[first], v[first])), shape=(net.n_nodes, net.n_nodes))


def test_no_more_nodes_than_osmnx_simplified(shanghai_osm, raw, nets):
    """osmnx's simplified graph of the same drive ways (its own largest weakly connected
    component, as osmnx keeps by default) is the reference for the node count."""
    import osmnx as ox

    ids = set(raw.way_id[(raw.way_flags & FLAG_DRIVE) > 0].tolist())
    G = ox.graph_from_xml(shanghai_osm, simplify=False, retain_all=True)
    G.remove_edges_from([(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if d["osmid"] not in ids])
    G = G.subgraph(max(nx.weakly_connected_components(G), key=len)).copy()
    S = ox.simplify_graph(G)
    ours, full = nets
    assert ours.n_nodes <= S.number_of_nodes() < full.n_nodes, (ours.n_nodes, S.number_of_nodes(), full.n_nodes)
    assert ours.report["nodes_contracted"] == full.n_nodes - ours.n_nodes > 500
    assert ours.report["nodes_kept"] == ours.n_nodes


@pytest.mark.parametrize("profile", ["drive", "ambulance"])
def test_node_to_node_times_equal_the_uncontracted_graph(nets, profile):
    ours, full = nets
    at = {int(o): i for i, o in enumerate(full.node_osmid)}
    same = np.array([at[int(o)] for o in ours.node_osmid])  # every kept node is a node of the full graph
    src = np.random.default_rng(4).choice(ours.n_nodes, 25, replace=False)
    got = dijkstra(_matrix(ours, profile), indices=src)
    ref = dijkstra(_matrix(full, profile), indices=same[src])[:, same]
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
    assert ours.geom_len.sum() == pytest.approx(full.geom_len.sum(), rel=1e-12)


@pytest.mark.parametrize("direction", ["from", "to"])
def test_points_inside_contracted_edges_get_the_uncontracted_times(nets, direction):
    """Points on contracted edges: at a removed node, and in pieces on either side of one; the
    time to every node (searching out of the point, or into it) is the uncontracted graph's."""
    ours, full = nets
    multi = np.flatnonzero(np.diff(ours.part_ptr) >= 3)  # edges through two removed nodes or more
    g = np.random.default_rng(5).choice(multi, 40, replace=False)
    a, b = ours.geom_a[g].astype(np.int64), ours.geom_b[g].astype(np.int64)
    lon = np.concatenate([ours.lon[ours.part_end[ours.part_ptr[g]]], (ours.lon[a] + ours.lon[a + 1]) / 2])
    lat = np.concatenate([ours.lat[ours.part_end[ours.part_ptr[g]]], (ours.lat[a] + ours.lat[a + 1]) / 2])
    lon = np.concatenate([lon, (ours.lon[b] + ours.lon[b - 1]) / 2])
    lat = np.concatenate([lat, (ours.lat[b] + ours.lat[b - 1]) / 2])
    r_ours, r_full = Router(ours), Router(full)
    at = {int(o): i for i, o in enumerate(full.node_osmid)}
    same = np.array([at[int(o)] for o in ours.node_osmid])
    checked = 0
    for s_ours, s_full in zip(r_ours.snap_many(lon, lat), r_full.snap_many(lon, lat), strict=True):
        assert s_ours.dist_m < 0.01 and s_full.dist_m < 0.01  # on the road (lon/lat midpoints: sub-mm off)
        times = []
        for r, s in ((r_ours, s_ours), (r_full, s_full)):
            sd = r.seeds(s, "drive", direction)
            times.append(r.search(sd.node, sd.cost, profile="drive", direction=direction)[0])
        d_ours, d_full = times[0], times[1][same]
        ok = np.isfinite(d_ours)
        assert (ok == np.isfinite(d_full)).all()
        np.testing.assert_allclose(d_ours[ok], d_full[ok], rtol=1e-9, atol=1e-6)
        checked += ok.sum()
    assert checked > 100 * ours.n_nodes


def test_every_edge_is_one_class_and_one_speed(raw, nets):
    """Per part (an OSM way's stretch), the way's own class and speed (from its class and
    maxspeed, through the profile) are the edge's: a scenario factor per class and the time to a
    point by its length fraction are exact on every edge."""
    ours, _ = nets
    part_geom = np.repeat(np.arange(len(ours.geom_a)), np.diff(ours.part_ptr))
    way_cls = raw.way_class[ours.part_way]
    assert (way_cls == raw.way_class[ours.geom_way[part_geom]]).all()
    edge = np.where(ours.geom_fwd[part_geom] >= 0, ours.geom_fwd[part_geom], ours.geom_bwd[part_geom])
    for profile in ("drive", "ambulance"):
        prof = DEFAULT_PROFILES[profile]
        ms = raw.way_maxspeed[ours.part_way]
        kmh = np.array(
            [
                prof.speed_kmh(ROAD_CLASSES[int(c)], float(m) if np.isfinite(m) else None)
                for c, m in zip(way_cls, ms, strict=True)
            ]
        )
        np.testing.assert_allclose(ours.edge_len[edge] / ours.times(profile)[edge] * 3.6, kmh, rtol=1e-9)


def test_parts_are_the_osm_ways_own_coordinates(raw, nets):
    """Each part is a run of its OSM way's nodes, in the way's order or reversed; the parts of a
    geometry join end to end from ``geom_a`` to ``geom_b``, and its ends are its nodes."""
    ours, _ = nets
    end = ours.part_end.astype(np.int64)
    start = np.r_[0, end[:-1]]
    start[ours.part_ptr[:-1]] = ours.geom_a
    assert (end[ours.part_ptr[1:] - 1] == ours.geom_b).all()
    for k in np.random.default_rng(6).choice(len(end), 300, replace=False):
        w = int(ours.part_way[k])
        way = np.column_stack([raw.lon[raw.ptr[w] : raw.ptr[w + 1]], raw.lat[raw.ptr[w] : raw.ptr[w + 1]]])
        part = np.column_stack([ours.lon[start[k] : end[k] + 1], ours.lat[start[k] : end[k] + 1]])
        if ours.part_rev[k]:
            part = part[::-1]
        hits = [i for i in range(len(way) - len(part) + 1) if np.array_equal(way[i : i + len(part)], part)]
        assert hits, (k, w)
    g = ours.geom_u
    assert np.array_equal(ours.lon[ours.geom_a], ours.node_lon[g])
    assert np.array_equal(ours.lat[ours.geom_b], ours.node_lat[ours.geom_v])


def test_walk_network_contracted_with_exact_times(raw):
    ours = build_network(raw, "walk", DEFAULT_PROFILES)
    full = build_network(raw, "walk", DEFAULT_PROFILES, simplify=False)
    assert ours.n_nodes < 0.9 * full.n_nodes
    at = {int(o): i for i, o in enumerate(full.node_osmid)}
    same = np.array([at[int(o)] for o in ours.node_osmid])
    src = np.random.default_rng(8).choice(ours.n_nodes, 10, replace=False)
    got = dijkstra(_matrix(ours, "walk"), indices=src)
    ref = dijkstra(_matrix(full, "walk"), indices=same[src])[:, same]
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)


def test_loaded_bundle_is_mapped_read_only_and_searched_without_copies(andorra):
    net = andorra.networks["drive"]
    for key in ("edge_u", "edge_v", "time_drive", "in_u", "in_time_drive", "lon", "x", "grid_seg", "cch_tri"):
        arr = net.arrays[key]
        assert isinstance(arr, np.memmap) and not arr.flags.writeable, key
    with pytest.raises(ValueError):
        net.arrays["time_drive"][0] = 1.0
    router = Router(net)
    for direction in ("from", "to"):
        ptr, node, w, length, eid = router.adjacency(direction, net.times("drive"))
        for arr in (ptr, node, w, length):
            assert isinstance(arr, np.memmap), direction  # the build's own arrays, not per-process copies
    assert list(andorra.networks["drive"].way_name)[:3] == [andorra.networks["drive"].way_name[i] for i in range(3)]
