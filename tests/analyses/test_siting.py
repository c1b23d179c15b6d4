"""Siting models against exhaustive search on small instances (real network costs)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from geoservice.analyses.siting import SitingError, site_report, solve_model


def test_mclp_pmedian_lscp_match_exhaustive_search_handmade():
    rng = np.random.default_rng(7)
    cost = rng.uniform(0, 100, size=(30, 8))
    w = rng.integers(1, 50, size=30).astype(float)
    T = 35.0
    for model in ("mclp", "pmedian"):
        chosen = solve_model(model, cost, w, T, n_fixed=2, add=2)
        best, _ = brute_force(model, cost, w, T, n_fixed=2, add=2)
        cols = [0, 1] + chosen
        val = (
            float(w[(cost[:, cols] <= T).any(axis=1)].sum())
            if model == "mclp"
            else float((w * cost[:, cols].min(axis=1)).sum())
        )
        assert len(chosen) == 2 and val == pytest.approx(best)
    cost2 = cost.copy()
    cost2[:, 2] = 10.0  # one site covering everyone
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
    assert np.isfinite(cost).any(axis=1).all()  # every demand point reaches some site
    T = 600.0
    for model in ("mclp", "pmedian"):
        chosen = solve_model(model, cost, w, T, n_fixed=len(fixed), add=2)
        best, _ = brute_force(model, cost, w, T, n_fixed=len(fixed), add=2)
        cols = list(range(len(fixed))) + chosen
        val = (
            float(w[(cost[:, cols] <= T).any(axis=1)].sum())
            if model == "mclp"
            else float((w * cost[:, cols].min(axis=1)).sum())
        )
        assert val == pytest.approx(best, rel=1e-9)
    rep = site_report(eng, type="chest_pain_center", minutes=10, model="mclp", add=2)
    assert rep.covered_after == pytest.approx(rep.covered_before + sum(a.population_gained for a in rep.added))
    gains = [a.population_gained for a in rep.added]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0 and rep.note is None
    doc = rep.to_json()
    assert list(doc["added"][0]) == ["id", "name", "lon", "lat", "source", "population_gained"]
    assert doc["note"] is None and doc["method"].startswith("MCLP")


def test_infeasible_and_bad_inputs(andorra_engine):
    with pytest.raises(SitingError, match="infeasible") as ei:
        site_report(andorra_engine, type="chest_pain_center", minutes=2, model="lscp", add=None)
    assert ei.value.field == "minutes"
    with pytest.raises(SitingError, match="exceeds") as ei:
        site_report(andorra_engine, type="chest_pain_center", minutes=10, model="mclp", add=99)
    assert ei.value.field == "add"
    with pytest.raises(SitingError, match="model must be one of") as ei:
        site_report(andorra_engine, type="chest_pain_center", minutes=10, model="magic")
    assert ei.value.field == "model"


class _InfeasibleSolver:
    """A PuLP solver that reports the model infeasible (as CBC does), for spopt's check_status."""

    def __new__(cls):
        import pulp

        class S(pulp.LpSolver):
            def actualSolve(self, lp):
                lp.assignStatus(pulp.LpStatusInfeasible)
                return lp.status

        return S(msg=False)


@pytest.mark.parametrize("model,add,field", [("mclp", 1, "add"), ("pmedian", 1, "add"), ("lscp", None, "minutes")])
def test_solver_runtime_error_becomes_siting_error(monkeypatch, model, add, field):
    """spopt raises RuntimeError('Model is not solved: Infeasible') when the solver fails."""
    from geoservice.analyses import siting

    monkeypatch.setattr(siting, "_solver", _InfeasibleSolver)
    cost = np.array([[1.0, 5.0], [2.0, 1.0]])
    with pytest.raises(SitingError, match="infeasible") as ei:
        solve_model(model, cost, np.array([1.0, 1.0]), 10.0, add=add)
    assert ei.value.field == field


def test_fully_covered_region_says_sites_add_no_one(andorra_engine):
    rep = site_report(andorra_engine, type="chest_pain_center", minutes=30, model="mclp", add=2)
    assert rep.share_before == 1.0 and len(rep.added) == 2
    assert all(a.population_gained == 0 for a in rep.added)
    assert rep.note == "already 100% covered within 30 min: the 2 sites proposed add no one"
    lscp = site_report(andorra_engine, type="chest_pain_center", minutes=30, model="lscp", add=None)
    assert lscp.added == [] and lscp.note == "already 100% covered within 30 min: no new site needed"


def brute_force(
    model: str, cost: np.ndarray, weights: np.ndarray, T: float, *, n_fixed: int = 0, add: int | None = None
):
    """Exhaustive search: (best objective, best set of new columns)."""
    cand = range(n_fixed, cost.shape[1])
    fixed = list(range(n_fixed))
    if model == "lscp":
        for k in range(0, len(cand) + 1):
            for combo in combinations(cand, k):
                cols = fixed + list(combo)
                if cols and (cost[:, cols] <= T).any(axis=1).all():
                    return k, combo
        return None, None
    best, arg = None, None
    for combo in combinations(cand, add or 0):
        cols = fixed + list(combo)
        if model == "mclp":
            val = float(weights[(cost[:, cols] <= T).any(axis=1)].sum())
            better = best is None or val > best + 1e-9
        else:
            val = float((weights * cost[:, cols].min(axis=1)).sum())
            better = best is None or val < best - 1e-9
        if better:
            best, arg = val, combo
    return best, arg
