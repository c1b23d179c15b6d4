"""coverage_report against a brute-force networkx computation on the exported graph."""

from __future__ import annotations

import json
import time

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.coverage import CoverageError, coverage_report
from geoservice.bundle.population import load_population
from geoservice.bundle.to_networkx import network_to_networkx


def brute_force_times(engine, *, type, profile="drive", add_sites=()):
    """Multi-source Dijkstra with networkx on the reversed exported graph, from a super source
    joined to each facility's snapped road piece."""
    router = engine.router_for(profile)
    net = router.net
    G = network_to_networkx(net, geometry=False).reverse(copy=True)
    fac = engine.facilities[engine.facilities["type"] == type]
    pts = list(zip(fac.geometry.x, fac.geometry.y)) + list(add_sites)
    snaps = router.snap_many([p[0] for p in pts], [p[1] for p in pts], strict=False)
    src = "SRC"
    G.add_node(src)
    for s in snaps:
        if s is None:
            continue
        sd = router.seeds(s, profile, "to")
        for n, c in zip(sd.node, sd.cost):
            G.add_edge(src, int(n), **{f"travel_time_{profile}": float(c)})
    d = nx.single_source_dijkstra_path_length(G, src, weight=f"travel_time_{profile}")
    return np.array([d.get(i, np.inf) for i in range(net.n_nodes)])


@pytest.mark.parametrize("region,type,minutes,profile", [
    ("andorra", "chest_pain_center", 10, "drive"),
    ("monaco", "stroke_center", 6, "drive"),
    ("monaco", "aed", 4, "walk"),
])
def test_population_share_matches_brute_force(request, region, type, minutes, profile):
    eng = request.getfixturevalue(f"{region}_engine")
    rep = coverage_report(eng, type=type, minutes=minutes, profile=profile)
    t = brute_force_times(eng, type=type, profile=profile)
    net = eng.router_for(profile).net
    pop = load_population(eng.region, net.name).population
    covered = float(pop[t <= minutes * 60 + 1e-6].sum())
    assert rep["overall"]["population"] == pytest.approx(pop.sum())
    assert rep["overall"]["population_covered"] == pytest.approx(covered, abs=0.5)
    assert rep["overall"]["population_share"] == pytest.approx(covered / pop.sum(), abs=1e-5)
    assert 0 < rep["overall"]["population_share"] < 1   # a threshold that actually splits
    # per unit sums to overall
    assert sum(u["population_covered"] for u in rep["by_unit"]) == pytest.approx(covered, abs=1)
    json.dumps(rep)


def test_what_if_add_and_remove(andorra_engine):
    eng = andorra_engine
    base = coverage_report(eng, type="chest_pain_center", minutes=10)
    site = (1.5980302, 42.5667074)  # Canillo
    more = coverage_report(eng, type="chest_pain_center", minutes=10, add_sites=[site])
    t = brute_force_times(eng, type="chest_pain_center", add_sites=[site])
    pop = load_population(eng.region, "drive").population
    assert more["overall"]["population_covered"] == pytest.approx(float(pop[t <= 600 + 1e-6].sum()), abs=0.5)
    assert more["overall"]["population_covered"] > base["overall"]["population_covered"]
    less = coverage_report(eng, type="chest_pain_center", minutes=10, remove_ids=["demo-chest_pain_center-2"])
    assert less["overall"]["population_covered"] < base["overall"]["population_covered"]
    t0 = time.perf_counter()
    coverage_report(eng, type="chest_pain_center", minutes=30, add_sites=[site], remove_ids=["demo-chest_pain_center-3"])
    assert time.perf_counter() - t0 < 2.0


def test_peak_covers_less_and_shares_monotone(andorra_engine):
    free = coverage_report(andorra_engine, type="chest_pain_center", minutes=10)
    peak = coverage_report(andorra_engine, type="chest_pain_center", minutes=10, scenario="peak")
    assert peak["overall"]["population_covered"] < free["overall"]["population_covered"]
    wider = coverage_report(andorra_engine, type="chest_pain_center", minutes=15)
    for k in ("population_share", "area_share", "road_share"):
        assert wider["overall"][k] >= free["overall"][k]
    assert free["gaps"]["features"] and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon")
                                            for f in free["gaps"]["features"])
    assert free["farthest"][0]["time_s"] > 600


@pytest.mark.parametrize("kw,field", [
    (dict(type="hotel", minutes=30), "type"),
    (dict(type="chest_pain_center", minutes=-3), "minutes"),
    (dict(type="chest_pain_center", minutes=30, profile="boat"), "profile"),
    (dict(type="chest_pain_center", minutes=30, scenario="rush"), "scenario"),
    (dict(type="chest_pain_center", minutes=30, remove_ids=["nope"]), "remove_ids"),
    (dict(type="chest_pain_center", minutes=30, add_sites=[(500, 1)]), "add_sites"),
])
def test_bad_inputs(andorra_engine, kw, field):
    with pytest.raises(CoverageError) as ei:
        coverage_report(andorra_engine, **kw)
    assert ei.value.field == field
