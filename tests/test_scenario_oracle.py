"""Scenarios wherever the engine searches from a point: nearest, all-node nearest (coverage) and
siting's cost matrix under ``peak`` equal networkx's Dijkstra on the exported graph with peak
weights computed here from each edge's own ``highway`` and ``travel_time_drive`` (the oracle
never calls the engine's routing). Snapped points are spliced into the oracle graph by cutting
their road piece at the snap fraction, so the partial-edge costs are checked too; the test
points are mid-piece on purpose. Siting's CCH cost matrix is also checked against the one
reverse Dijkstra per site it replaced, and chooses the same sites, on central Shanghai."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer

from geoservice.analyses.coverage import coverage_report
from geoservice.analyses.demand_grid import aggregate_demand
from geoservice.analyses.siting import SitingOptions, candidate_sites, site_report, solve_model
from geoservice.bundle.population import load_population
from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.questions import CoverageQuestion, NearestQuestion
from geoservice.sources.schema import FacilityFilter
from geoservice.sources.speeds import SCENARIOS

PEAK = SCENARIOS["peak"]


@pytest.fixture(scope="module")
def peak_graph(andorra):
    """The exported drive graph with a ``peak`` weight per edge: its drive time times the peak
    factor of its own road class."""
    G = network_to_networkx(andorra.networks["drive"], geometry=False)
    for _, _, d in G.edges(data=True):
        d["peak"] = d["travel_time_drive"] * PEAK.get(d["highway"], 1.0)
    return G


WALK_MS = 5.0 / 3.6  # the documented pace of a point's off-network leg


def with_points(
    G: nx.MultiDiGraph, net, snaps: dict[str, object], where: dict[str, tuple[float, float]] | None = None
) -> nx.MultiDiGraph:
    """A copy of ``G`` with a node per named snapped point: each road piece that holds points is
    replaced by a chain u - points (by fraction) - v, each part weighted by its share of the
    piece's peak time, in each direction the piece can be driven. A point given in ``where``
    (its own lon, lat) is joined to its place on the road by its off-network leg, walked both
    ways (metres in the network's CRS / WALK_MS)."""
    to_m = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    H = G.copy()
    for name, (lon, lat) in (where or {}).items():
        s = snaps[name]
        (x0, x1), (y0, y1) = to_m.transform([lon, s.lon], [lat, s.lat])
        leg = float(np.hypot(x1 - x0, y1 - y0)) / WALK_MS
        H.add_edge(name, f"{name}@road", peak=leg)
        H.add_edge(f"{name}@road", name, peak=leg)
    named = {f"{n}@road" if n in (where or {}) else n: s for n, s in snaps.items()}
    snaps = named
    by_id = {d["edge_id"]: (u, v, k) for u, v, k, d in G.edges(keys=True, data=True)}
    on_piece = defaultdict(list)
    for name, s in snaps.items():
        on_piece[s.geom].append((s.frac, name))
    for g, pts in on_piece.items():
        chain = [(0.0, int(net.geom_u[g])), *sorted(pts), (1.0, int(net.geom_v[g]))]
        for e, forward in ((int(net.geom_fwd[g]), True), (int(net.geom_bwd[g]), False)):
            if e < 0:
                continue
            u, v, k = by_id[e]
            w = G.edges[u, v, k]["peak"]
            H.remove_edge(u, v, k)
            for (f0, n0), (f1, n1) in zip(chain, chain[1:]):
                H.add_edge(*((n0, n1) if forward else (n1, n0)), peak=(f1 - f0) * w)
    return H


def mid_piece_points(net, n: int, rng) -> list[tuple[float, float]]:
    """Points on inner vertices of random road pieces (so they snap between the piece's ends)."""
    long = np.flatnonzero(net.geom_b - net.geom_a >= 2)
    out = []
    for g in rng.choice(long, n, replace=False):
        i = (int(net.geom_a[g]) + int(net.geom_b[g])) // 2
        out.append((float(net.lon[i]), float(net.lat[i])))
    return out


def facility_snaps(eng, ftype: str) -> dict[str, object]:
    idx = eng.select("drive", type=ftype)
    return {str(eng.facilities.iloc[int(r)]["id"]): s for r, s in zip(idx.rows, idx.snaps)}


def facility_places(eng, ftype: str) -> dict[str, tuple[float, float]]:
    """Each facility's own position (not its snap): the far end of its off-network leg."""
    fac = eng.facilities[eng.facilities["type"] == ftype]
    return {str(i): (g.x, g.y) for i, g in zip(fac["id"], fac.geometry)}


@pytest.mark.parametrize("direction", ["to", "from"])
def test_nearest_under_peak_equals_networkx(andorra_engine, peak_graph, direction):
    eng = andorra_engine
    router = eng.router_for("drive")
    net = router.net
    ftype = "chest_pain_center" if direction == "to" else "ems_station"
    fac = facility_snaps(eng, ftype)
    assert any(0.05 < s.frac < 0.95 for s in fac.values())  # partial edges at the facilities too
    rng = np.random.default_rng(11)
    slower = 0
    for lon, lat in mid_piece_points(net, 8, rng):
        origin = router.snap(lon, lat)
        assert 0 < origin.frac < 1
        H = with_points(peak_graph, net, {"P": origin, **fac}, facility_places(eng, ftype))
        graph = H if direction == "to" else H.reverse(copy=False)  # "from": facility -> point
        ref = nx.single_source_dijkstra_path_length(graph, "P", weight="peak")
        want = sorted((ref[f], f) for f in fac if f in ref)
        res = eng.nearest(NearestQuestion.of(lon, lat, type=ftype, k=len(fac), direction=direction), scenario="peak")
        got = [(h.time_s, h.facility["id"]) for h in res.hits]
        assert [f for _, f in got] == [f for _, f in want]
        np.testing.assert_allclose([t for t, _ in got], [t for t, _ in want], atol=0.05 + 1e-9)
        free = eng.nearest(NearestQuestion.of(lon, lat, type=ftype, k=1, direction=direction))
        slower += got[0][0] > free.hits[0].time_s
    assert slower >= 6  # peak is slower on real trips


def test_all_nearest_and_coverage_under_peak_equal_networkx(andorra_engine, peak_graph):
    """Coverage's node times (one multi-source search from the facilities) and its population
    within T, under peak, against networkx's multi-source Dijkstra towards the facilities."""
    eng = andorra_engine
    net = eng.router_for("drive").net
    fac = facility_snaps(eng, "chest_pain_center")
    H = with_points(peak_graph, net, fac, facility_places(eng, "chest_pain_center"))
    ref = nx.multi_source_dijkstra_path_length(H.reverse(copy=False), set(fac), weight="peak")
    want = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
    dist, _ = eng.all_nearest(where=FacilityFilter.parse(type="chest_pain_center"), scenario="peak")
    assert np.array_equal(np.isfinite(dist), np.isfinite(want))
    np.testing.assert_allclose(dist[np.isfinite(want)], want[np.isfinite(want)], rtol=0, atol=1e-6)
    free, _ = eng.all_nearest(where=FacilityFilter.parse(type="chest_pain_center"))
    assert (dist[np.isfinite(free)] >= free[np.isfinite(free)] - 1e-9).all() and (dist > free + 1).mean() > 0.5
    pop = load_population(eng.region, "drive").population
    T = 10 * 60.0
    rep = coverage_report(
        eng, CoverageQuestion.of(type="chest_pain_center", minutes=10, gaps=False, by="none"), scenario="peak"
    )
    assert rep.overall.population_covered == pytest.approx(round(float(pop[want <= T].sum()), 1))
    free_rep = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=10, gaps=False, by="none"))
    assert rep.overall.population_covered < free_rep.overall.population_covered


def test_siting_cost_matrix_under_peak_equals_networkx(andorra_engine, peak_graph):
    from geoservice.analyses.siting import cost_matrix

    eng = andorra_engine
    net = eng.router_for("drive").net
    rng = np.random.default_rng(3)
    pts = mid_piece_points(net, 6, rng)
    snaps = {f"S{j}": eng.router_for("drive").snap(*p) for j, p in enumerate(pts)}
    demand = np.sort(rng.choice(net.n_nodes, 200, replace=False))
    got = cost_matrix(eng, demand, pts, scenario="peak")
    H = with_points(peak_graph, net, snaps).reverse(copy=False)
    for j in range(len(pts)):
        ref = nx.single_source_dijkstra_path_length(H, f"S{j}", weight="peak")
        want = np.array([ref.get(int(i), np.inf) for i in demand])
        assert np.array_equal(np.isfinite(got[:, j]), np.isfinite(want))
        np.testing.assert_allclose(got[np.isfinite(want), j], want[np.isfinite(want)], rtol=0, atol=1e-6)


def dijkstra_cost_matrix(eng, demand, pts, scenario):
    """The siting cost matrix as it was computed before the hierarchy: one reverse search per site."""
    router = eng.router_for("drive")
    w = router.weights("drive", scenario)
    out = np.full((len(demand), len(pts)), np.inf)
    lon, lat = [p[0] for p in pts], [p[1] for p in pts]
    for j, s in enumerate(router.snap_many(lon, lat, strict=False, max_snap_m=router.facility_max_snap_m)):
        if s is not None:
            sd = router.seeds(s, "drive", "to", weights=w)
            dist, *_ = router.search(sd.node, sd.cost, profile="drive", direction="to", weights=w)
            out[:, j] = dist[demand]
    return out


def test_siting_over_the_hierarchy_equals_the_dijkstra_path_on_shanghai(shanghai_engine):
    """Central Shanghai (real roads, 2020 census): MCLP under peak chooses the same sites from the
    CCH cost matrix as from one Dijkstra per site, with the same population figures."""
    eng = shanghai_engine
    layer = load_population(eng.region, "drive")
    demand = np.flatnonzero(layer.population > 0)
    weights = layer.population[demand]
    fixed = eng.facilities[eng.facilities["type"] == "chest_pain_center"]
    cands = candidate_sites(eng, "facilities", type="chest_pain_center")
    pts = [(g.x, g.y) for g in fixed.geometry] + [(c["lon"], c["lat"]) for c in cands]
    old = dijkstra_cost_matrix(eng, demand, pts, "peak")
    new = eng.cost_matrix(demand, pts, scenario="peak")
    assert np.array_equal(np.isfinite(old), np.isfinite(new)) and np.isfinite(old).mean() > 0.8
    np.testing.assert_allclose(new[np.isfinite(old)], old[np.isfinite(old)], rtol=0, atol=1e-6)
    T = 8 * 60.0
    rep = site_report(eng, type="chest_pain_center", minutes=8, model="mclp", add=3, scenario="peak")
    chosen = solve_model("mclp", old, weights, T, n_fixed=len(fixed), add=3)
    assert {a.id for a in rep.added} == {cands[j - len(fixed)]["id"] for j in chosen}
    covered = float(weights[(old[:, list(range(len(fixed))) + chosen] <= T).any(axis=1)].sum())
    assert rep.covered_after == pytest.approx(covered) and rep.population == pytest.approx(float(weights.sum()))
    assert "scenario peak" in rep.method and "populated nodes x" in rep.method


def test_demand_aggregation_keeps_the_people_and_bounds_the_points(shanghai_engine):
    eng = shanghai_engine
    net = eng.router_for("drive").net
    layer = load_population(eng.region, "drive")
    nodes = np.flatnonzero(layer.population > 0)
    w = layer.population[nodes]
    agg = aggregate_demand(nodes, w, net.node_x, net.node_y, max_points=300)
    assert 250 <= len(agg.nodes) <= 300 and agg.cell_m is not None
    assert agg.weights.sum() == pytest.approx(w.sum(), rel=1e-12) and len(set(agg.nodes)) == len(agg.nodes)
    # each point is the most populated node of its cell (cells of agg.cell_m from the demand's corner)
    cell = agg.cell_m
    x0, y0 = net.node_x[nodes].min(), net.node_y[nodes].min()

    def key(n):
        return (int((net.node_x[n] - x0) // cell), int((net.node_y[n] - y0) // cell))

    heaviest: dict[tuple[int, int], tuple[float, int]] = {}
    for n, p in zip(nodes, w):
        k = key(n)
        if k not in heaviest or (p, -n) > (heaviest[k][0], -heaviest[k][1]):
            heaviest[k] = (p, int(n))
    assert sorted(int(n) for n in agg.nodes) == sorted(n for _, n in heaviest.values())
    same = aggregate_demand(nodes, w, net.node_x, net.node_y, max_points=len(nodes))
    assert same.cell_m is None and np.array_equal(same.nodes, nodes)
    rep = site_report(
        eng, type="chest_pain_center", minutes=8, model="mclp", add=2, options=SitingOptions(max_demand=300)
    )
    assert "aggregated to" in rep.method and rep.population == pytest.approx(float(w.sum()))
