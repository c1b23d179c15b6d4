"""export-graph: the engine's graph as GraphML / GeoPackage, typed for osmnx and attributed to OSM."""

from __future__ import annotations

import sqlite3

import networkx as nx
import numpy as np
import pyogrio
import pytest

from geoservice.bundle.to_networkx import EDGE_DTYPES, load_graph, save_graph
from geoservice.errors import GeoserviceError

OSM = "© OpenStreetMap contributors, ODbL 1.0"


@pytest.fixture(scope="module")
def graphml(andorra, tmp_path_factory):
    return save_graph(andorra.networks["drive"], tmp_path_factory.mktemp("graph") / "drive.graphml")


def test_graphml_numbers_load_as_numbers_in_osmnx(graphml, andorra):
    import osmnx as ox

    net = andorra.networks["drive"]
    G = ox.io.load_graphml(graphml, edge_dtypes=EDGE_DTYPES)
    assert G.number_of_nodes() == net.n_nodes and G.number_of_edges() == net.n_edges
    for _, _, d in G.edges(data=True):
        assert type(d["travel_time_drive"]) is float and type(d["travel_time_ambulance"]) is float
        assert type(d["edge_id"]) is int and type(d["osmid"]) is int and type(d["oneway"]) is bool
    assert all(type(d["osmid"]) is int and type(d["x"]) is float for _, d in G.nodes(data=True))
    # without any dtypes, osmnx's own names come back typed: travel_time is the drive time
    plain = ox.io.load_graphml(graphml)
    for (_, _, d), (_, _, p) in zip(G.edges(data=True), plain.edges(data=True), strict=True):
        assert type(p["travel_time"]) is float and p["travel_time"] == d["travel_time_drive"]
        assert type(p["length"]) is float
    # load_graph finds every travel_time_* column itself
    H = load_graph(graphml)
    assert all(type(d["travel_time_ambulance"]) is float for _, _, d in H.edges(data=True))


def test_graphml_shortest_paths_equal_the_engine(graphml, andorra_engine):
    import osmnx as ox

    G = ox.io.load_graphml(graphml, edge_dtypes=EDGE_DTYPES)
    nodes = np.random.default_rng(7).choice(G.number_of_nodes(), 6, replace=False)
    pts = [(G.nodes[int(n)]["x"], G.nodes[int(n)]["y"]) for n in nodes]
    times = {i: t for i, t, _ in andorra_engine.matrix(pts, pts, profile="drive")}
    checked = 0
    for i, a in enumerate(nodes):
        ref = nx.single_source_dijkstra_path_length(G, int(a), weight="travel_time_drive")
        for j, b in enumerate(nodes):
            assert times[i][j] == pytest.approx(ref[int(b)], abs=1e-3)
            checked += ref[int(b)] > 60
    assert checked >= 20  # real trips, not just zeros


def test_graphml_carries_the_osm_attribution(graphml):
    import osmnx as ox

    assert OSM in ox.io.load_graphml(graphml).graph["attribution"]
    assert OSM in nx.read_graphml(graphml).graph["attribution"]  # any GraphML reader sees it


def test_geopackage_carries_attribution_and_typed_columns(andorra, tmp_path):
    net = andorra.networks["drive"]
    path = save_graph(net, tmp_path / "drive.gpkg")
    assert [p.name for p in tmp_path.iterdir()] == ["drive.gpkg"]  # written atomically
    assert {name for name, _ in pyogrio.list_layers(path)} == {"nodes", "edges"}
    with sqlite3.connect(path) as db:
        descriptions = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
    assert descriptions == {"nodes": OSM, "edges": OSM}
    assert pyogrio.read_info(path, layer="edges")["dataset_metadata"]["attribution"] == OSM
    edges = pyogrio.read_dataframe(path, layer="edges")
    nodes = pyogrio.read_dataframe(path, layer="nodes")
    assert len(edges) == net.n_edges and len(nodes) == net.n_nodes
    assert edges["travel_time_drive"].dtype == np.float64 and edges["osmid"].dtype == np.int64
    assert list(nodes["node"]) == list(range(net.n_nodes))
    np.testing.assert_array_equal(edges.sort_values("edge_id")["travel_time_drive"], net.times("drive"))


def test_unknown_graph_format_names_the_output(andorra, tmp_path):
    with pytest.raises(GeoserviceError) as info:
        save_graph(andorra.networks["drive"], tmp_path / "g.shp")
    assert info.value.field == "output" and not list(tmp_path.iterdir())
