"""The exact graph the engine uses, as a networkx MultiDiGraph (for exports and reference tests)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..errors import GeoserviceError
from ..sources.speeds import ROAD_CLASSES
from .network import Network


def network_to_networkx(net: Network, *, geometry: bool = True) -> nx.MultiDiGraph:
    """Nodes are engine node indices (attributes osmid, x=lon, y=lat); edges carry ``length`` (m),
    ``travel_time_<profile>`` (s) per profile, ``highway``, ``name``, ``oneway`` and geometry."""
    import shapely

    G = nx.MultiDiGraph(crs="EPSG:4326", name=net.name)
    for i in range(net.n_nodes):
        G.add_node(i, osm_id=int(net.node_osmid[i]), x=float(net.node_lon[i]), y=float(net.node_lat[i]))
    profiles = list(net.profiles)
    times = {p: net.times(p) for p in profiles}
    geom_fwd, geom_bwd = net.geom_fwd, net.geom_bwd
    for e in range(net.n_edges):
        g = int(net.edge_geom[e])
        way = int(net.geom_way[g])
        attrs = {"length": float(net.edge_len[e]), "osm_way": int(net.way_id[way]),
                 "highway": ROAD_CLASSES[int(net.way_class[way])], "name": net.way_name[way],
                 "oneway": bool(geom_fwd[g] < 0 or geom_bwd[g] < 0), "edge_id": e}
        for p in profiles:
            attrs[f"travel_time_{p}"] = float(times[p][e])
        if geometry:
            a, b = int(net.geom_a[g]), int(net.geom_b[g])
            c = np.column_stack([net.lon[a:b + 1], net.lat[a:b + 1]])
            attrs["geometry"] = shapely.LineString(c[::-1] if net.edge_rev[e] else c)
        G.add_edge(int(net.edge_u[e]), int(net.edge_v[e]), **attrs)
    return G


def save_graph(net: Network, path) -> None:
    """Write GraphML (.graphml) or GeoPackage (.gpkg) through osmnx's writers."""
    import osmnx as ox
    from pathlib import Path

    path = Path(path)
    G = network_to_networkx(net)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    if path.suffix == ".graphml":
        ox.io.save_graphml(G, tmp)
    elif path.suffix == ".gpkg":
        ox.io.save_graph_geopackage(G, tmp, directed=True)
    else:
        raise GeoserviceError("output", f"unsupported graph format {path.suffix!r}: use .graphml or .gpkg")
    tmp.replace(path)
