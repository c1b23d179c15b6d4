"""Engine results against networkx Dijkstra on the exported graph, and isochrone properties."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.engine.engine import Engine, QueryError
from geoservice.engine.router import SnapError
from geoservice.errors import GeoserviceError
from geoservice.questions import NearestQuestion
from geoservice.sources.schema import FacilityFilter


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded by the test's own name: the sample does not depend on test order."""
    return np.random.default_rng(sum(map(ord, name)))


@pytest.fixture(scope="module")
def drive_graph(andorra):
    return network_to_networkx(andorra.networks["drive"], geometry=False)


@pytest.fixture(scope="module")
def walk_graph(monaco):
    return network_to_networkx(monaco.networks["walk"], geometry=False)


def _nx_point_time(G, router, a, b, profile):
    """Time from snapped point a to snapped point b with networkx: seeds of a, Dijkstra, seeds of b."""
    sa = router.seeds(a, profile, "from")
    sb = router.seeds(b, profile, "to")
    best = router.along_same_edge(a, b, profile)
    w = f"travel_time_{profile}"
    for n0, c0 in zip(sa.node, sa.cost):
        lengths = nx.single_source_dijkstra_path_length(G, int(n0), weight=w)
        for n1, c1 in zip(sb.node, sb.cost):
            if int(n1) in lengths:
                best = min(best, c0 + lengths[int(n1)] + c1)
    return best


@pytest.mark.parametrize("profile", ["drive", "ambulance"])
def test_node_times_equal_networkx(andorra_engine, drive_graph, profile):
    router = andorra_engine.router_for(profile)
    n = router.net.n_nodes
    for src in rng_for("test_node_times_equal_networkx").choice(n, 5, replace=False):
        ref = nx.single_source_dijkstra_path_length(drive_graph, int(src), weight=f"travel_time_{profile}")
        dist, *_ = router.search([src], [0.0], profile=profile, direction="from")
        got = {i: d for i, d in enumerate(dist) if np.isfinite(d)}
        assert set(got) == set(ref)  # strongly connected: every node reached
        assert max(abs(got[k] - ref[k]) for k in ref) < 1e-6
        # reverse search = times *to* src
        rdist, *_ = router.search([src], [0.0], profile=profile, direction="to")
        back = nx.single_source_dijkstra_path_length(
            drive_graph.reverse(copy=False), int(src), weight=f"travel_time_{profile}"
        )
        assert max(abs(rdist[k] - back[k]) for k in back) < 1e-6


def test_oneway_streets_make_directions_differ(andorra_engine, drive_graph):
    oneway = sum(1 for *_, d in drive_graph.edges(data=True) if d["oneway"])
    assert oneway > 0
    router = andorra_engine.router_for("drive")
    src = 0
    to_t, *_ = router.search([src], [0.0], profile="drive", direction="to")
    from_t, *_ = router.search([src], [0.0], profile="drive", direction="from")
    assert not np.allclose(to_t, from_t)


def test_walk_times_equal_networkx(monaco_engine, walk_graph):
    router = monaco_engine.router_for("walk")
    src = int(rng_for("test_walk_times_equal_networkx").integers(router.net.n_nodes))
    ref = nx.single_source_dijkstra_path_length(walk_graph, src, weight="travel_time_walk")
    dist, *_ = router.search([src], [0.0], profile="walk", direction="from")
    assert max(abs(dist[k] - ref[k]) for k in ref) < 1e-6


def test_point_to_point_matrix_equals_networkx(andorra_engine, drive_graph):
    router = andorra_engine.router_for("drive")
    net = router.net
    i = rng_for("test_point_to_point_matrix_equals_networkx").choice(net.n_nodes, 6, replace=False)
    pts = [(float(net.node_lon[k]) + 0.0004, float(net.node_lat[k]) + 0.0003) for k in i]
    rows = {o: (t, d) for o, t, d in andorra_engine.matrix(pts, pts, profile="drive")}
    snaps = router.snap_many([p[0] for p in pts], [p[1] for p in pts])
    for o in range(len(pts)):
        for d in range(len(pts)):
            ref = _nx_point_time(drive_graph, router, snaps[o], snaps[d], "drive")
            assert rows[o][0][d] == pytest.approx(ref, abs=1e-6)
        assert rows[o][0][o] == pytest.approx(0.0, abs=1e-9)
        assert rows[o][1][o] == pytest.approx(0.0, abs=1e-6)


def test_nearest_matches_brute_force(andorra_engine, drive_graph):
    router = andorra_engine.router_for("drive")
    lon, lat = 1.5800, 42.5400  # Encamp
    res = andorra_engine.nearest(NearestQuestion.of(lon, lat, type="chest_pain_center", k=3))
    assert len(res.hits) == 3
    origin = router.snap(lon, lat)
    fac = andorra_engine.select("drive", type="chest_pain_center")
    brute = sorted(_nx_point_time(drive_graph, router, origin, s, "drive") for s in fac.snaps)
    got = [r.time_s for r in res.hits]
    assert got == pytest.approx(brute, abs=0.1)
    assert got == sorted(got)
    first = res.hits[0]
    route = first.route["coordinates"]
    # the route starts at the snapped origin and ends at the facility's snapped position
    assert route[0] == pytest.approx([origin.lon, origin.lat], abs=1e-6)
    fs = router.snap(first.facility["lon"], first.facility["lat"])
    assert route[-1] == pytest.approx([fs.lon, fs.lat], abs=1e-6)
    assert first.distance_m > 0 and first.snap_m == pytest.approx(origin.dist_m, abs=0.1)


def test_nearest_direction_from_is_ambulance_out(andorra_engine, drive_graph):
    router = andorra_engine.router_for("drive")
    lon, lat = 1.5800, 42.5400
    res = andorra_engine.nearest(NearestQuestion.of(lon, lat, type="ems_station", k=1, direction="from"))
    point = router.snap(lon, lat)
    fac = andorra_engine.select("drive", type="ems_station")
    brute = min(_nx_point_time(drive_graph, router, s, point, "drive") for s in fac.snaps)
    assert res.hits[0].time_s == pytest.approx(brute, abs=0.1)


def test_nearest_filters_by_capability_and_level(andorra_engine):
    res = andorra_engine.nearest(NearestQuestion.of(1.58, 42.54, type="stroke_center", capability="evt", k=5))
    assert res.hits and all("evt" in r.facility["capabilities"] for r in res.hits)
    res = andorra_engine.nearest(NearestQuestion.of(1.58, 42.54, type="chest_pain_center", level="standard", k=5))
    assert [r.facility["level"] for r in res.hits] == ["standard"]


def test_all_nearest_matches_single_searches(andorra_engine):
    router = andorra_engine.router_for("drive")
    dist, label = andorra_engine.all_nearest(where=FacilityFilter.parse(type="stroke_center"))
    fac = andorra_engine.select("drive", type="stroke_center")
    per = []
    for s in fac.snaps:
        sd = router.seeds(s, "drive", "to")
        d, *_ = router.search(sd.node, sd.cost, profile="drive", direction="to")
        per.append(d)
    per = np.vstack(per)
    assert np.allclose(dist, per.min(axis=0))
    assert np.array_equal(fac.rows[per.argmin(axis=0)], label) or np.allclose(
        per[np.searchsorted(fac.rows, label), np.arange(len(label))], dist
    )


def test_peak_scenario_is_slower(andorra_engine):
    free, _ = andorra_engine.all_nearest(where=FacilityFilter.parse(type="chest_pain_center"))
    peak, _ = andorra_engine.all_nearest(where=FacilityFilter.parse(type="chest_pain_center"), scenario="peak")
    assert np.all(peak >= free - 1e-9) and peak.mean() > free.mean() * 1.2
    with pytest.raises(GeoserviceError, match="scenario") as ei:
        andorra_engine.all_nearest(where=FacilityFilter.parse(type="chest_pain_center"), scenario="rush")
    assert ei.value.field == "scenario"


# ---------------------------------------------------------------- isochrones
@pytest.mark.parametrize("direction", ["to", "from"])
def test_isochrones_nested_valid_and_honest(andorra_engine, direction):
    lon, lat = 1.5212, 42.5069  # Andorra la Vella
    feats = andorra_engine.isochrones(lon, lat, [10, 20, 30], direction=direction)
    polys = [shapely.geometry.shape(f["geometry"]) for f in feats]
    assert [f["properties"]["minutes"] for f in feats] == [10, 20, 30]
    for p in polys:
        assert p.is_valid and not p.is_empty
    for small, big in zip(polys, polys[1:]):
        assert big.buffer(1e-9).contains(small)
        assert big.area > small.area
    # every graph node inside the 10-minute polygon is reached within 600 s
    router = andorra_engine.router_for("drive")
    snap = router.snap(lon, lat)
    sd = router.seeds(snap, "drive", "from" if direction == "from" else "to")
    dist, *_ = router.search(sd.node, sd.cost, profile="drive", direction="from" if direction == "from" else "to")
    net = router.net
    pts = shapely.points(net.node_lon, net.node_lat)
    for minutes, poly in zip([10, 20, 30], polys):
        inside = shapely.contains(poly, pts)
        assert inside.sum() > 10
        assert dist[inside].max() <= minutes * 60 + 1e-6
        # and most reached nodes are inside (the polygon is not trivially small)
        reached = dist <= minutes * 60
        assert inside[reached].mean() > 0.8


def test_isochrone_leaves_mountains_out(andorra_engine):
    """Andorra is mountain valleys: a 30-minute drive covers far less than the country's hull."""
    feats = andorra_engine.isochrones(1.5212, 42.5069, [30])
    poly = shapely.geometry.shape(feats[0]["geometry"])
    net = andorra_engine.router_for("drive").net
    hull = shapely.MultiPoint(np.column_stack([net.node_lon, net.node_lat])).convex_hull
    assert poly.area < 0.5 * hull.area


def test_walk_isochrone_for_aed(monaco_engine):
    feats = monaco_engine.isochrones(7.4200, 43.7370, [2, 4], profile="walk")
    small, big = (shapely.geometry.shape(f["geometry"]) for f in feats)
    assert big.buffer(1e-9).contains(small)
    # 4 minutes at 5 km/h is 333 m: the polygon stays within ~350 m + margin of the point
    from geoservice.bundle.network import haversine_m

    xy = np.asarray(
        big.exterior.coords if big.geom_type == "Polygon" else np.vstack([g.exterior.coords for g in big.geoms])
    )
    far = haversine_m(7.4200, 43.7370, xy[:, 0], xy[:, 1]).max()
    assert 150 < far < 400


# ---------------------------------------------------------------- bad input
def test_point_off_network_names_distance(andorra_engine):
    with pytest.raises(SnapError) as err:
        andorra_engine.nearest(NearestQuestion.of(1.0, 42.5, type="chest_pain_center"))
    assert err.value.distance_m > 10_000
    assert "m from the nearest drive road" in str(err.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"minutes": [0]}, "minutes"),
        ({"minutes": [-5]}, "minutes"),
        ({"minutes": []}, "minutes"),
        ({"minutes": [float("nan")]}, "minutes"),
        ({"minutes": [10], "direction": "up"}, "direction"),
        ({"minutes": [10], "profile": "bike"}, "profile"),
    ],
)
def test_isochrone_bad_parameters(andorra_engine, kwargs, field):
    with pytest.raises(QueryError) as err:
        andorra_engine.isochrones(1.5212, 42.5069, **kwargs)
    assert err.value.field == field


def test_nearest_bad_k():
    with pytest.raises(GeoserviceError) as err:
        NearestQuestion.of(1.5212, 42.5069, type="chest_pain_center", k=0)
    assert err.value.field == "k"


def test_engine_reflects_facility_edits(andorra):
    eng = Engine(andorra)
    before = eng.nearest(NearestQuestion.of(1.6671, 42.5769, type="chest_pain_center")).hits[0].time_s
    fac = eng.facilities.copy()
    soldeu = fac[fac["name"].str.startswith("Soldeu")].iloc[[0]].copy()
    soldeu["id"] = "new-cpc"
    soldeu["type"] = "chest_pain_center"
    soldeu["level"] = "basic"
    import pandas as pd

    eng.set_facilities(pd.concat([fac, soldeu], ignore_index=True))
    after = eng.nearest(NearestQuestion.of(1.6671, 42.5769, type="chest_pain_center")).hits[0]
    assert after.facility["id"] == "new-cpc" and after.time_s < before


def test_snap_is_the_nearest_segment(andorra_engine):
    """Snapping against brute force over every road segment (projected metres)."""
    router = andorra_engine.router_for("drive")
    net = router.net
    a, b = net.geom_a, net.geom_b
    starts = np.concatenate([np.arange(s, e) for s, e in zip(a, b)])
    segs = shapely.linestrings(
        np.stack(
            [np.column_stack([net.x[starts], net.y[starts]]), np.column_stack([net.x[starts + 1], net.y[starts + 1]])],
            axis=1,
        )
    )
    rng = np.random.default_rng(3)
    lon = rng.uniform(net.node_lon.min(), net.node_lon.max(), 200)
    lat = rng.uniform(net.node_lat.min(), net.node_lat.max(), 200)
    snaps = router.snap_many(lon, lat, max_snap_m=5000, strict=False)
    px, py = router.to_xy(lon, lat)
    brute = shapely.distance(shapely.points(px, py)[:, None], segs[None, :]).min(axis=1)
    got = np.array([s.dist_m if s is not None else np.inf for s in snaps])
    within = brute <= 5000
    assert within.sum() > 50
    assert np.allclose(got[within], brute[within], atol=1e-6)
    assert np.all(~np.isfinite(got[~within]))


def test_nearest_at_widens_past_closed_facilities(monaco):
    """Twenty AEDs closed ("off") around the point and one open 24/7 farther away: the search
    widens until it reaches an open one, and unknown hours count as reachable but not as open."""
    import pandas as pd

    eng = Engine(monaco)
    net = eng.router_for("walk").net
    x, y = 7.4236, 43.7384
    d = (net.node_lon - x) ** 2 + (net.node_lat - y) ** 2
    near = np.argsort(d)[:200]
    base = eng.facilities.iloc[[0]].copy()
    rows = []
    for i, nd in enumerate(near[:20]):
        r = base.copy()
        r["id"], r["type"], r["name"], r["opening_hours"] = f"closed-{i}", "aed", f"Closed {i}", "off"
        r["lon"], r["lat"] = float(net.node_lon[nd]), float(net.node_lat[nd])
        rows.append(r)
    far = near[-1]
    r = base.copy()
    r["id"], r["type"], r["name"], r["opening_hours"] = "open-far", "aed", "Open far", "24/7"
    r["lon"], r["lat"] = float(net.node_lon[far]), float(net.node_lat[far])
    rows.append(r)
    import geopandas as gpd

    fac = pd.concat(rows, ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry=gpd.points_from_xy(fac["lon"], fac["lat"]), crs="EPSG:4326")
    eng.set_facilities(fac)
    when = __import__("datetime").datetime(2026, 11, 23, 10, 0)
    res = eng.nearest(NearestQuestion.of(x, y, type="aed", profile="walk", at=when))
    assert [h.facility["id"] for h in res.hits] == ["open-far"] and res.hits[0].open_at is True
    plain = eng.nearest(NearestQuestion.of(x, y, type="aed", profile="walk", k=3))
    assert all(h.facility["id"].startswith("closed-") for h in plain.hits)
    # the same as filtering every facility first and searching among the open ones
    brute = eng.select("walk", type="aed", at=when)
    assert [str(eng.facilities.iloc[int(r)]["id"]) for r in brute.rows] == ["open-far"]
