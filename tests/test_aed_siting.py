"""AED siting on foot with opening hours (analyses/aed_siting.py, `aed-site`, `POST /plans/aed-siting`)
against exhaustive search: every set of new AEDs among a dozen real candidates, scored hour by hour
from the walking cost matrix and each site's hours."""

from __future__ import annotations

import itertools
import json
from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest

from geoservice.analyses.aed_candidates import facility_candidates, osm_candidates
from geoservice.analyses.aed_siting import AedCandidate, AedHours, aed_siting, parse_objective
from geoservice.analyses.aed_week import open_states, week_cells
from geoservice.analyses.demand import population_demand
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main

WEEK = date(2026, 11, 23)
T = 240.0
OFFICE = "Mo-Fr 08:00-18:00"


def _exhaustive(engine, cands, add, *, hours_weight, unknown_open=False, default="24/7"):
    """(best objective, all best sets) by trying every set of ``add`` candidates."""
    demand = population_demand(engine, "walk")
    fac = engine.facilities
    ex = fac[fac["type"] == "aed"]
    pts = [(g.x, g.y) for g in ex.geometry] + [(c.lon, c.lat) for c in cands]
    # per demand item (the people off the walking network have no seed: never reached)
    reach = demand.item_matrix(demand.nodes, engine.cost_matrix(demand.nodes, pts, profile="walk")) <= T
    cells = week_cells(WEEK)
    st_ex = open_states([h if isinstance(h, str) else None for h in ex["opening_hours"]], cells)
    st_c = open_states([c.opening_hours or default for c in cands], cells)
    open_ex = (st_ex == 1) | ((st_ex == -1) & unknown_open)
    open_c = st_c == 1
    nf = len(ex)
    base = (reach[:, :nf].astype(int) @ open_ex.astype(int)) > 0  # demand x hours

    def score(combo) -> float:
        cov = base.copy()
        for j in combo:
            cov |= reach[:, nf + j][:, None] & open_c[j][None, :]
        return float((demand.weights[:, None] * cov * hours_weight[None, :]).sum())

    scores = {combo: score(combo) for combo in itertools.combinations(range(len(cands)), add)}
    best = max(scores.values())
    return best, score(()), {c for c, v in scores.items() if abs(v - best) < 1e-6}


@pytest.fixture(scope="module")
def shanghai_candidates(shanghai_engine):
    """12 real candidate places (registry hospitals and health centres without an AED), a third
    of them with office hours, so that hours change the answer."""
    cands = facility_candidates(shanghai_engine)[:12]
    return [
        AedCandidate(c.id, c.name, c.lon, c.lat, c.source, OFFICE if i % 3 == 0 else None) for i, c in enumerate(cands)
    ]


@pytest.mark.parametrize("objective,add", [("week", 2), ("week", 3), ("Su03", 2), ("Tu10", 3)])
def test_equals_exhaustive_search(shanghai_engine, shanghai_candidates, objective, add):
    target = parse_objective(objective)
    weight = np.ones(168) if target is None else np.eye(168)[target]
    best, before, best_sets = _exhaustive(shanghai_engine, shanghai_candidates, add, hours_weight=weight)
    rep = aed_siting(shanghai_engine, shanghai_candidates, add=add, hours=AedHours(objective, WEEK))
    ids = [c.id for c in shanghai_candidates]
    chosen = tuple(sorted(ids.index(a.id) for a in rep.added))
    assert rep.covered_after == pytest.approx(best, abs=0.5) and rep.covered_before == pytest.approx(before, abs=0.5)
    assert chosen in best_sets
    assert sum(a.gain for a in rep.added) == pytest.approx(best - before, abs=1.0)
    assert rep.objective == objective and rep.existing == 15 and rep.population_data


def test_hours_matter(shanghai_engine, shanghai_candidates):
    """At 03:00 on Sunday an office-hours candidate covers no one: it is never chosen then."""
    rep = aed_siting(shanghai_engine, shanghai_candidates, add=3, hours=AedHours("Su03", WEEK))
    assert all(a.opening_hours == "24/7" for a in rep.added)
    assert rep.unknown_hours == "closed" and "24/7" in rep.method


def test_osm_gathering_places_on_monaco(monaco_engine):
    """Candidates read from the bundle's own OSM extract (schools, stations, malls, sports venues);
    Monaco's AEDs have no hours: counted closed by default (so the model sites from scratch), or
    open, and both equal exhaustive search."""
    cands = osm_candidates(monaco_engine.region)
    kinds = {c.source for c in cands}
    assert len(cands) >= 30 and {"OSM school (ODbL)", "OSM station (ODbL)", "OSM sports (ODbL)"} <= kinds
    for unknown in ("closed", "open"):
        rep = aed_siting(monaco_engine, cands, add=2, hours=AedHours(week_of=WEEK, unknown_hours=unknown))
        best, before, best_sets = _exhaustive(
            monaco_engine, cands, 2, hours_weight=np.ones(168), unknown_open=unknown == "open"
        )
        ids = [c.id for c in cands]
        assert rep.covered_after == pytest.approx(best, abs=0.5) and rep.covered_before == pytest.approx(
            before, abs=0.5
        )
        assert tuple(sorted(ids.index(a.id) for a in rep.added)) in best_sets
    assert before > 0  # with unknown hours counted open, the existing AEDs cover some


def test_user_errors(shanghai_engine, shanghai_candidates, tmp_path):
    with pytest.raises(GeoserviceError) as e:
        aed_siting(shanghai_engine, shanghai_candidates, add=13, hours=AedHours(week_of=WEEK))
    assert e.value.field == "add" and "only 12 candidate" in e.value.message
    with pytest.raises(GeoserviceError) as e:
        parse_objective("Xx99")
    assert e.value.field == "objective"
    with pytest.raises(GeoserviceError) as e:
        aed_siting(shanghai_engine, shanghai_candidates, add=1, hours=AedHours(candidate_hours="whenever"))
    assert e.value.field == "candidate_hours"
    gone = SimpleNamespace(
        name="x", meta={"inputs": [{"role": "osm", "path": str(tmp_path / "no.pbf"), "sha256": "0"}]}
    )
    with pytest.raises(GeoserviceError) as e:
        osm_candidates(gone)
    assert e.value.field == "candidates" and "stores no gathering places" in e.value.message


def test_cli_and_api(regions_dir, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    out = tmp_path / "aed-site"
    capsys.readouterr()
    rc = main(
        ["aed-site", "--region", str(regions_dir / "monaco"), "--add", "2", "--week-of", "2026-11-23", "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    assert {p.name for p in out.iterdir()} == {"sites.csv", "sites.geojson", "sites.gpkg", "report.json", "map.html"}
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(rep["added"]) == 2 and rep["candidate_source"].startswith("the bundle's OSM extract")
    svc = GeoService([regions_dir / "monaco"])
    client = TestClient(create_app(svc))
    body = client.post("/plans/aed-siting", json={"add": 2, "week_of": "2026-11-23"}).json()
    assert [a["id"] for a in body["added"]] == [a["id"] for a in rep["added"]]
    pts = [{"lon": a["lon"], "lat": a["lat"], "name": a["name"]} for a in rep["added"]] + [
        {"lon": 7.42, "lat": 43.735, "opening_hours": OFFICE}
    ]
    body = client.post("/plans/aed-siting", json={"add": 2, "candidates": pts, "week_of": "2026-11-23"}).json()
    assert body["covered_after"] == rep["covered_after"] and body["candidates"] == 3
    bad = client.post("/plans/aed-siting", json={"add": 2, "objective": "someday"})
    assert bad.status_code == 422 and bad.json()["field"] == "objective"
