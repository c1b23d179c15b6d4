"""The exact graph the engine uses, as a networkx MultiDiGraph, and its GraphML / GeoPackage export.

Nodes are engine node indices with ``osmid`` (the OSM node id), ``x`` (lon) and ``y`` (lat).
Edges carry ``length`` (m), ``travel_time_<profile>`` (s) for every profile of the network,
``travel_time`` (the network's own profile, e.g. drive, under the osmnx name), ``osmid`` (the OSM
way id), ``highway``, ``name``, ``oneway``, ``edge_id`` (engine edge index) and ``geometry``.
Both files carry the OpenStreetMap attribution: a graph attribute ``attribution`` in GraphML,
the layer description and the dataset metadata (``gpkg_metadata``) in GeoPackage.

Reading GraphML back: osmnx 2 writes every attribute as text and ``osmnx.load_graphml`` converts
only the names it knows (``length``, ``osmid``, ``oneway``, ``travel_time``, ``x``, ``y``, ...); it
cannot read typed GraphML keys at all (it calls string methods on every value). So a plain
``ox.load_graphml(path)`` gives float ``travel_time`` and ``length`` but text for our other
numbers; pass their types, or use :func:`load_graph`, which does::

    ox.load_graphml(path, edge_dtypes={"edge_id": int, "travel_time_drive": float,
                                       "travel_time_ambulance": float, "travel_time_walk": float})
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import networkx as nx
import numpy as np

from ..errors import GeoserviceError
from ..fileio import atomic_path
from ..sources.osm_pois import OSM_ATTRIBUTION
from ..sources.speeds import DEFAULT_PROFILES, ROAD_CLASSES
from .network import Network

__all__ = ["EDGE_DTYPES", "network_to_networkx", "save_graph", "load_graph"]

EDGE_DTYPES: dict[str, type] = {"edge_id": int, **{f"travel_time_{p}": float for p in DEFAULT_PROFILES}}
"""``edge_dtypes`` for ``osmnx.load_graphml`` beyond its defaults (the default profiles)."""


def network_to_networkx(net: Network, *, geometry: bool = True) -> nx.MultiDiGraph:
    """The network as a MultiDiGraph (attributes: see the module docstring)."""
    import shapely

    G = nx.MultiDiGraph(crs="EPSG:4326", name=net.name, attribution=OSM_ATTRIBUTION)
    for i in range(net.n_nodes):
        G.add_node(i, osmid=int(net.node_osmid[i]), x=float(net.node_lon[i]), y=float(net.node_lat[i]))
    profiles = list(net.profiles)
    times = {p: net.times(p) for p in profiles}
    own = net.name if net.name in times else profiles[0]
    geom_fwd, geom_bwd = net.geom_fwd, net.geom_bwd
    for e in range(net.n_edges):
        g = int(net.edge_geom[e])
        way = int(net.geom_way[g])
        attrs = {
            "length": float(net.edge_len[e]),
            "osmid": int(net.way_id[way]),
            "highway": ROAD_CLASSES[int(net.way_class[way])],
            "name": net.way_name[way],
            "oneway": bool(geom_fwd[g] < 0 or geom_bwd[g] < 0),
            "edge_id": e,
        }
        for p in profiles:
            attrs[f"travel_time_{p}"] = float(times[p][e])
        attrs["travel_time"] = attrs[f"travel_time_{own}"]
        if geometry:
            a, b = int(net.geom_a[g]), int(net.geom_b[g])
            c = np.column_stack([net.lon[a : b + 1], net.lat[a : b + 1]])
            attrs["geometry"] = shapely.LineString(c[::-1] if net.edge_rev[e] else c)
        G.add_edge(int(net.edge_u[e]), int(net.edge_v[e]), **attrs)
    return G


def _save_geopackage(G: nx.MultiDiGraph, net: Network, path: Path) -> None:
    import geopandas as gpd
    import osmnx as ox

    nodes = gpd.GeoDataFrame(
        {
            "node": np.arange(net.n_nodes),
            "osmid": net.node_osmid.astype(np.int64),
            "x": net.node_lon.astype(float),
            "y": net.node_lat.astype(float),
        },
        geometry=gpd.points_from_xy(net.node_lon, net.node_lat),
        crs="EPSG:4326",
    )
    edges = ox.convert.graph_to_gdfs(G, nodes=False).reset_index()
    meta = {"dataset_metadata": {"attribution": OSM_ATTRIBUTION, "network": net.name}}
    for name, gdf in (("nodes", nodes), ("edges", edges)):
        gdf.to_file(path, layer=name, driver="GPKG", layer_options={"DESCRIPTION": OSM_ATTRIBUTION}, **meta)
        meta = {}


def save_graph(net: Network, path: str | os.PathLike[str]) -> Path:
    """Write GraphML (.graphml, through osmnx's writer) or GeoPackage (.gpkg, layers ``nodes``
    and ``edges``, one row per directed edge), atomically, with the OpenStreetMap attribution."""
    import osmnx as ox

    path = Path(path)
    if path.suffix not in (".graphml", ".gpkg"):
        raise GeoserviceError("output", f"unsupported graph format {path.suffix!r}: use .graphml or .gpkg")
    G = network_to_networkx(net)
    with atomic_path(path) as tmp:
        if path.suffix == ".graphml":
            ox.io.save_graphml(G, tmp)
        else:
            _save_geopackage(G, net, tmp)
    return path


def load_graph(path: str | os.PathLike[str]) -> nx.MultiDiGraph:
    """An exported GraphML read back with osmnx, every number typed (custom profiles included)."""
    import osmnx as ox

    with open(path, encoding="utf-8") as f:
        head = f.read(1 << 16)  # networkx writes all <key> declarations first
    dtypes = dict(EDGE_DTYPES)
    dtypes.update({k: float for k in re.findall(r'attr\.name="(travel_time_[^"]+)"', head)})
    return ox.io.load_graphml(Path(path), edge_dtypes=dtypes)
