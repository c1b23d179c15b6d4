"""Snapping respects who travels (issue 17, item 2): a point is put on a road its traveller can
join. The oracle reads the raw OSM file (``test_network_oracle``'s independent reader), marks
bridges, tunnels, other layers and (by car) motorways from their tags, and applies the documented
rule by brute force over every segment with shapely: the nearest at-grade road within 150 m
(driving) or 100 m (walking) wins; a point lying on a road (within 1 m) stays on it unless an
at-grade road is as near.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from test_network_oracle import AS_BUILT_DRIVE_CLASSES, OSM_FILES, build_oracle, read_highways

TOLERANCE_M = {"drive": 150.0, "walk": 100.0}
ON_ROAD_M = 1.0


def off_grade(tags: dict[str, str], network: str) -> bool:
    """The README's rule, restated from the tags: joined only at its ends."""
    if tags.get("bridge", "no").lower() not in ("no", "false", "0"):
        return True
    if tags.get("tunnel", "no").lower() not in ("no", "false", "0", "building_passage"):
        return True
    try:
        if float(tags.get("layer", "0").split(";")[0]) != 0:
            return True
    except ValueError:
        pass
    hw = tags.get("highway")
    return network == "drive" and (
        hw in ("motorway", "motorway_link") or (hw in ("trunk", "trunk_link") and tags.get("motorroad") == "yes")
    )


@pytest.fixture(scope="module")
def shanghai_ways(demo_data):
    return read_highways(demo_data / OSM_FILES["shanghai"])


def segments(ways, network: str, crs: str):
    """(lines in metres, off-grade flags) of every segment of the network's largest component."""
    o = build_oracle(ways, network, AS_BUILT_DRIVE_CLASSES)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    keep = np.flatnonzero(o.in_scc)
    xy = np.array([o.node_xy[int(n)] for n in np.concatenate([o.u[keep], o.v[keep]])], float) / 1e7
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    k = len(keep)
    lines = shapely.linestrings(np.stack([np.column_stack([x[:k], y[:k]]), np.column_stack([x[k:], y[k:]])], axis=1))
    flags = np.array([off_grade(o.ways[int(o.way[s])].tags, network) for s in keep])
    return lines, flags


def rule_distance(lines, flags, tree, pt, network: str) -> tuple[float, bool]:
    """(distance to the road the rule picks, whether that road is at grade)."""
    near = tree.query(pt, predicate="dwithin", distance=2000.0)
    d = shapely.distance(lines[near], pt)
    d_any = float(d.min())
    at_grade = d[~flags[near]]
    d_grade = float(at_grade.min()) if len(at_grade) else np.inf
    if d_any <= ON_ROAD_M and d_grade > d_any + 0.01:
        return d_any, False
    if d_grade <= TOLERANCE_M[network]:
        return d_grade, True
    return d_any, bool(d_grade == d_any)


@pytest.mark.parametrize("network", ["drive", "walk"])
def test_points_beside_bridges_and_tunnels_join_the_road_the_rule_picks(shanghai_engine, shanghai_ways, network):
    router = shanghai_engine.router_for(network)
    lines, flags = segments(shanghai_ways, network, router.net.crs)
    tree = shapely.STRtree(lines)
    # points 10 m to the side of the middle of off-grade segments at least 30 m long
    lengths = shapely.length(lines)
    picks = np.flatnonzero(flags & (lengths >= 30))
    picks = np.random.default_rng(5).choice(picks, min(150, len(picks)), replace=False)
    tr = Transformer.from_crs(router.net.crs, "EPSG:4326", always_xy=True)
    moved = 0
    for s in picks:
        (x0, y0), (x1, y1) = shapely.get_coordinates(lines[s])
        n = np.array([y0 - y1, x1 - x0]) / np.hypot(x1 - x0, y1 - y0)
        px, py = (x0 + x1) / 2 + 10 * n[0], (y0 + y1) / 2 + 10 * n[1]
        want, grade = rule_distance(lines, flags, tree, shapely.Point(px, py), network)
        got = router.snap(*tr.transform(px, py))
        assert got.dist_m == pytest.approx(want, abs=0.05), (network, int(s), got.dist_m, want)
        moved += grade
    # most such points are put on an at-grade road; a nearest-road snap would put none there
    assert moved >= 0.5 * len(picks), (moved, len(picks))


def test_a_point_at_the_tunnel_entrance_reaches_the_next_street_directly(shanghai_engine):
    """张杨路 at the Pudong entrance of the one-way 复兴东路隧道 (upper deck), to the nearest
    junction of 浦城路 188 m away: a short drive, not 5.6 km through the tunnel and back (486 s)."""
    at_tunnel = (121.5107503, 31.2289187)  # the junction of the tunnel and 张杨路 (OSM)
    pucheng = (121.5089425, 31.2282473)  # a junction of 浦城路
    (_, t, m), *_ = shanghai_engine.matrix([at_tunnel], [pucheng], profile="drive")
    assert 5 < t[0] < 40 and m[0] < 400, (t, m)
