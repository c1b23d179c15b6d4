"""Siting models against exhaustive search on small instances (real network costs)."""

from __future__ import annotations

import numpy as np
import pytest

from geoservice.analyses.siting import SitingError, brute_force, solve_model, site_report


def test_mclp_pmedian_lscp_match_exhaustive_search_handmade():
    rng = np.random.default_rng(7)
    cost = rng.uniform(0, 100, size=(30, 8))
    w = rng.integers(1, 50, size=30).astype(float)
    T = 35.0
    for model in ("mclp", "pmedian"):
        chosen = solve_model(model, cost, w, T, n_fixed=2, add=2)
        best, _ = brute_force(model, cost, w, T, n_fixed=2, add=2)
        cols = [0, 1] + chosen
        val = float(w[(cost[:, cols] <= T).any(axis=1)].sum()) if model == "mclp" else \
            float((w * cost[:, cols].min(axis=1)).sum())
        assert len(chosen) == 2 and val == pytest.approx(best)
    cost2 = cost.copy(); cost2[:, 2] = 10.0  # one site covering everyone
    k, _ = brute_force("lscp", cost2, w, T, n_fixed=0)
    assert len(solve_model("lscp", cost2, w, T)) == k == 1


def test_siting_on_network_matches_exhaustive(andorra_engine):
    from geoservice.analyses.siting import candidate_sites, cost_matrix
    from geoservice.bundle.population import load_population

    eng = andorra_engine
    layer = load_population(eng.region, "drive")
    demand = np.flatnonzero(layer.population > 0)
    w = layer.population[demand]
    fixed = eng.facilities[eng.facilities["type"] == "chest_pain_center"]
    cands = candidate_sites(eng, "facilities", type="chest_pain_center")
    pts = [(g.x, g.y) for g in fixed.geometry] + [(c["lon"], c["lat"]) for c in cands]
    cost = cost_matrix(eng, demand, pts)
    assert np.isfinite(cost).any(axis=1).all()   # every demand point reaches some site
    T = 600.0
    for model in ("mclp", "pmedian"):
        chosen = solve_model(model, cost, w, T, n_fixed=len(fixed), add=2)
        best, _ = brute_force(model, cost, w, T, n_fixed=len(fixed), add=2)
        cols = list(range(len(fixed))) + chosen
        val = float(w[(cost[:, cols] <= T).any(axis=1)].sum()) if model == "mclp" else \
            float((w * cost[:, cols].min(axis=1)).sum())
        assert val == pytest.approx(best, rel=1e-9)
    rep = site_report(eng, type="chest_pain_center", minutes=10, model="mclp", add=2)
    assert rep["covered_after"] == pytest.approx(rep["covered_before"] + sum(a["population_gained"] for a in rep["added"]))
    gains = [a["population_gained"] for a in rep["added"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0


def test_infeasible_and_bad_inputs(andorra_engine):
    with pytest.raises(SitingError, match="infeasible"):
        site_report(andorra_engine, type="chest_pain_center", minutes=2, model="lscp", add=None)
    with pytest.raises(SitingError, match="exceeds"):
        site_report(andorra_engine, type="chest_pain_center", minutes=10, model="mclp", add=99)
    with pytest.raises(SitingError):
        site_report(andorra_engine, type="chest_pain_center", minutes=10, model="magic")
