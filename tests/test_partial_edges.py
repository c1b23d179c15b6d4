"""Point-to-point times against an oracle that owes nothing to the router's own seeding: each
point becomes a virtual node spliced into the networkx graph on its nearest road (found by brute
force with shapely), with edge times cut at the point's length fraction."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geoservice.bundle.to_networkx import network_to_networkx

WALK_MS = 5.0 / 3.6  # the documented pace of the off-network legs (README: the last metres)


def _splice(G, edges, tree_geoms, to_m, lon, lat, name, w):
    """Add virtual node ``name`` at (lon, lat) on its nearest directed road piece(s); returns the
    pieces and the point's distance to the road (walked at WALK_MS: the off-network leg)."""
    x, y = to_m.transform(lon, lat)
    pt = shapely.Point(x, y)
    d = shapely.distance(tree_geoms, pt)
    best = int(np.argmin(d))
    u, v, data = edges[best]
    line = tree_geoms[best]
    f = line.project(pt) / line.length if line.length > 0 else 0.0
    G.add_node(name)
    placed = []
    # every directed piece on the same road between u and v (both directions of a two-way street)
    for a, b, dd in list(G.edges(data=True)):
        if {a, b} != {u, v} or isinstance(a, str) or isinstance(b, str):
            continue
        if not shapely.equals_exact(shapely.normalize(dd["_m"]), shapely.normalize(line), 1e-6):
            continue
        fa = f if a == u else 1.0 - f  # fraction of this piece already behind the point
        t = dd[w]
        G.add_edge(a, name, **{w: fa * t})
        G.add_edge(name, b, **{w: (1.0 - fa) * t})
        placed.append((a, b, fa, t))
    return placed, float(d[best])


@pytest.mark.parametrize("seed", [1, 2])
def test_matrix_equals_spliced_graph_oracle(andorra_engine, seed):
    net = andorra_engine.router_for("drive").net
    w = "travel_time_drive"
    G = network_to_networkx(net, geometry=True)
    to_m = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    edges = list(G.edges(data=True))
    for _, _, dd in edges:
        c = np.asarray(dd["geometry"].coords)
        dd["_m"] = shapely.LineString(np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
    geoms = np.array([dd["_m"] for _, _, dd in edges])
    rng = np.random.default_rng(seed)
    # points a few tens of metres off random road pieces, so most land mid-edge
    # (points beside a bridge or tunnel are left out: they join another road, see test_snapping_rule)
    router = andorra_engine.router_for("drive")
    pts = []
    for k in rng.permutation(len(edges)):
        mid = edges[int(k)][2]["geometry"].interpolate(0.37, normalized=True)
        p = (mid.x + 0.0002, mid.y + 0.0001)
        x, y = to_m.transform(*p)
        if router.snap(*p).dist_m <= float(shapely.distance(geoms, shapely.Point(x, y)).min()) + 1e-6:
            pts.append(p)
        if len(pts) == 5:
            break
    rows = {o: t for o, t, _ in andorra_engine.matrix(pts, pts, profile="drive")}
    for i, p in enumerate(pts):
        for j, q in enumerate(pts):
            if i == j:
                continue
            H = G.copy()
            po, off_o = _splice(H, edges, geoms, to_m, p[0], p[1], "O", w)
            pd_, off_d = _splice(H, edges, geoms, to_m, q[0], q[1], "D", w)
            assert po and pd_
            # both on one road piece, origin behind the destination: straight along it
            for a, b, fo, t in po:
                for a2, b2, fd, _ in pd_:
                    if (a, b) == (a2, b2) and fd >= fo:
                        H.add_edge("O", "D", **{w: (fd - fo) * t})
            ref = nx.dijkstra_path_length(H, "O", "D", weight=w) + (off_o + off_d) / WALK_MS
            # 0.05 s: the engine measures the fraction on its own projected segments; a wrong end or a
            # reversed fraction would be off by many seconds
            assert rows[i][j] == pytest.approx(ref, abs=0.05), (i, j)
