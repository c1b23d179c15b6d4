"""Ambulance station models (analyses/ems_models.py, `ems-site`, `GET /plans/ems-siting`) against
exhaustive search over the real central Shanghai demo: every pair (and, on a subset, every triple)
of new stations scored by expected coverage sum w (1 - q^k) and by (twice, once) covered; the
drive times station -> patient against networkx."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.demand import population_demand
from geoservice.analyses.ems_models import MEXCLP, BackupCoverage, ems_report, station_times
from geoservice.analyses.siting import candidate_sites
from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main

MIN = 4.0
T = MIN * 60
Q = 0.3


@pytest.fixture(scope="module")
def problem(shanghai_engine):
    """(weights, cost demand x [4 existing stations, candidates], n existing, candidates)."""
    eng = shanghai_engine
    demand = population_demand(eng, "ambulance")
    fac = eng.facilities
    ex = fac[fac["type"] == "ems_station"]
    cands = candidate_sites(eng, "facilities", type="ems_station", profile="ambulance")
    pts = [(g.x, g.y) for g in ex.geometry] + [(c["lon"], c["lat"]) for c in cands]
    cost = demand.item_matrix(demand.nodes, station_times(eng, pts, demand.nodes, profile="ambulance", scenario=None))
    return demand.weights, cost, len(ex), cands, pts, demand


def _expected(cost, w, cols):
    k = (cost[:, cols] <= T).sum(axis=1)
    return float((w * (1 - Q**k)).sum())


def _counts(cost, w, cols):
    k = (cost[:, cols] <= T).sum(axis=1)
    return float(w[k >= 2].sum()), float(w[k >= 1].sum())


def test_station_times_equal_networkx(shanghai, problem):
    """Ambulance times *from* a station (one-way streets matter) against networkx on the exported graph."""
    _, cost, nf, _, pts, demand = problem
    G = network_to_networkx(shanghai.networks["drive"], geometry=False)
    from geoservice.engine.engine import Engine

    router = Engine(shanghai).router_for("ambulance")
    for j in (0, 2, nf + 5):
        seeds = router.seeds(router.snap(*pts[j]), "ambulance", "from")
        G.add_node("s")
        for n, c in zip(seeds.node, seeds.cost):
            G.add_edge("s", int(n), travel_time_ambulance=float(c))
        ref = nx.single_source_dijkstra_path_length(G, "s", weight="travel_time_ambulance")
        G.remove_node("s")
        want = np.array([ref.get(int(n), np.inf) for n in demand.nodes])
        assert np.allclose(cost[:, j], want, rtol=0, atol=1e-6)


def _pairs(cost, w, nf, score):
    """Every pair of candidates scored by ``score(k)`` (k: coverage count per demand row), vectorised
    over the second member of the pair."""
    reach = cost <= T
    k0 = reach[:, :nf].sum(axis=1)
    cand = reach[:, nf:].astype(np.int64)
    out = {}
    for a in range(cand.shape[1]):
        k = k0[:, None] + cand[:, a][:, None] + cand[:, a + 1 :]
        for b, v in zip(range(a + 1, cand.shape[1]), score(k)):
            out[(a, b)] = float(v)
    return out


def test_mexclp_equals_exhaustive_search(problem):
    w, cost, nf, cands, _, _ = problem
    fixed = list(range(nf))
    scores = _pairs(cost, w, nf, lambda k: w @ (1 - Q**k))
    assert len(cands) == 127 and len(scores) == 8001  # every pair of the README's example
    best = max(scores.values())
    m = MEXCLP.from_cost_matrix(cost, w, T, 2, n_fixed=nf, q=Q).solve()
    assert m.expected == pytest.approx(best, abs=0.5)
    assert scores[tuple(sorted(j - nf for j in m.chosen))] == pytest.approx(best, abs=0.5)
    assert best > _expected(cost, w, fixed)  # the new stations add something


def test_mexclp_triples_and_q0_is_mclp(problem):
    w, cost, nf, _, _, _ = problem
    sub = cost[:, : nf + 15]  # 15 candidates: every triple
    fixed = list(range(nf))
    best3 = max(_expected(sub, w, fixed + [nf + j for j in c]) for c in itertools.combinations(range(15), 3))
    assert MEXCLP.from_cost_matrix(sub, w, T, 3, n_fixed=nf, q=Q).solve().expected == pytest.approx(best3, abs=0.5)
    once = max(_counts(sub, w, fixed + [nf + j for j in c])[1] for c in itertools.combinations(range(15), 3))
    m0 = MEXCLP.from_cost_matrix(sub, w, T, 3, n_fixed=nf, q=0.0).solve()
    assert m0.expected == pytest.approx(once, abs=0.5)  # q = 0: expected coverage = covered once


def test_backup_equals_exhaustive_search(problem):
    w, cost, nf, cands, _, _ = problem
    twice = _pairs(cost, w, nf, lambda k: w @ (k >= 2))
    once = _pairs(cost, w, nf, lambda k: w @ (k >= 1))
    scores = {p: (twice[p], once[p]) for p in twice}
    assert len(scores) == len(cands) * (len(cands) - 1) // 2
    best = max(scores.values())  # (twice, once): lexicographic
    b = BackupCoverage.from_cost_matrix(cost, w, T, 2, n_fixed=nf).solve()
    assert (b.twice, b.once) == (pytest.approx(best[0], abs=0.5), pytest.approx(best[1], abs=0.5))
    assert scores[tuple(sorted(j - nf for j in b.chosen))] == (
        pytest.approx(best[0], abs=0.5),
        pytest.approx(best[1], abs=0.5),
    )


def test_report_and_user_errors(shanghai_engine, problem):
    w, cost, nf, cands, _, _ = problem
    rep = ems_report(shanghai_engine, model="mexclp", add=2, minutes=MIN, busy_fraction=Q)
    assert rep.expected_after == pytest.approx(max(_pairs(cost, w, nf, lambda k: w @ (1 - Q**k)).values()), abs=0.5)
    assert rep.expected_before == pytest.approx(_expected(cost, w, list(range(nf))), abs=0.5)
    assert rep.covered_twice_after >= rep.covered_twice_before and len(rep.existing) == 4 and len(rep.added) == 2
    with pytest.raises(GeoserviceError) as e:
        ems_report(shanghai_engine, busy_fraction=1.0)
    assert e.value.field == "busy_fraction"
    with pytest.raises(GeoserviceError) as e:
        MEXCLP.from_cost_matrix(cost[:, : nf + 3], w, T, 4, n_fixed=nf)
    assert e.value.field == "add" and "only 3 candidate" in e.value.message


def test_cli_and_api(regions_dir, tmp_path, capsys, shanghai_engine):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    out = tmp_path / "ems"
    capsys.readouterr()
    rc = main(
        [
            "ems-site",
            "--region",
            str(regions_dir / "shanghai"),
            "--model",
            "backup",
            "--add",
            "2",
            "--minutes",
            "4",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 0, err and "covered twice" in err
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    direct = ems_report(shanghai_engine, model="backup", add=2, minutes=MIN)
    assert rep["covered_twice_after"] == direct.covered_twice_after and rep["model"] == "backup"
    svc = GeoService([regions_dir / "shanghai"])
    body = (
        TestClient(create_app(svc)).get("/plans/ems-siting", params={"add": 2, "minutes": 4, "busy_fraction": Q}).json()
    )
    assert (
        body["model"] == "mexclp"
        and body["expected_after"] == ems_report(shanghai_engine, add=2, minutes=MIN, busy_fraction=Q).expected_after
    )
