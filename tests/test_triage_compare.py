"""Stroke triage by time of day (analyses/triage_compare.py, `triage-compare`,
`GET /plans/triage-compare`) against an independent computation: networkx Dijkstra on the exported
drive graph weighted with each scenario's ambulance times, today's rule applied by hand."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.triage import TriageRule
from geoservice.analyses.triage_compare import parse_scenarios, triage_compare
from geoservice.bundle.population import load_population
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main

MAX_EXTRA = 5.0


def _times_to(G, router, centers, weights):
    """Per node: ambulance time to the nearest of ``centers`` (rows of the facility table)."""
    R = G.reverse(copy=True)
    for *_, d in R.edges(data=True):
        d["w"] = float(weights[d["edge_id"]])
    R.add_node("c")
    for _, r in centers.iterrows():
        seeds = router.seeds(router.snap(r.geometry.x, r.geometry.y), "ambulance", "to", weights=weights)
        for n, c in zip(seeds.node, seeds.cost):
            R.add_edge("c", int(n), w=float(c))
    d = nx.single_source_dijkstra_path_length(R, "c", weight="w")
    t = np.full(router.net.n_nodes, np.inf)
    for n, v in d.items():
        if n != "c":
            t[n] = v
    return t


def _by_hand(t_ivt, t_evt, max_extra):
    if not math.isfinite(t_evt):
        return "ivt_only" if math.isfinite(t_ivt) else "unreachable"
    if not math.isfinite(t_ivt) or t_evt - t_ivt <= max_extra * 60 + 1e-9:
        return "direct_evt"
    return "drip_and_ship"


def test_changes_equal_networkx(shanghai, shanghai_engine):
    from geoservice.bundle.to_networkx import network_to_networkx

    eng = shanghai_engine
    router = eng.router_for("ambulance")
    G = network_to_networkx(shanghai.networks["drive"], geometry=False)
    fac = eng.facilities
    sc = fac[fac["type"] == "stroke_center"]
    ivt = sc[sc["capabilities"].fillna("").str.contains("ivt")]
    evt = sc[sc["capabilities"].fillna("").str.contains("evt")]
    rec = {}
    for scen in ("free_flow", "peak"):
        w = router.weights("ambulance", scen)
        ti, te = _times_to(G, router, ivt, w), _times_to(G, router, evt, w)
        rec[scen] = [_by_hand(a, b, MAX_EXTRA) for a, b in zip(ti, te)]
    pop = load_population(shanghai, "drive").population
    nodes = np.flatnonzero(pop > 0)
    changed = [n for n in nodes if rec["free_flow"][n] != rec["peak"][n]]
    cmp = triage_compare(eng, rule=TriageRule(max_extra_min=MAX_EXTRA))
    assert cmp.locations == len(nodes) and cmp.changed_locations == len(changed) > 0
    assert cmp.population_changed == pytest.approx(float(pop[changed].sum()), abs=0.5)
    assert cmp.share_changed == pytest.approx(float(pop[changed].sum() / pop[nodes].sum()), abs=1e-6)
    want = {}
    for n in changed:
        key = f"{rec['free_flow'][n]} -> {rec['peak'][n]}"
        want[key] = want.get(key, 0.0) + float(pop[n])
    assert cmp.transitions == pytest.approx(want, abs=0.5)
    net = router.net
    coords = {(round(float(net.node_lon[n]), 6), round(float(net.node_lat[n]), 6)) for n in changed}
    got = {tuple(f["geometry"]["coordinates"]) for f in cmp.layer["features"] if f["properties"]["changed"]}
    assert got == coords
    # the changed area: one 300 m cell per distinct cell holding a changed location
    lat0 = sum(c[1] for c in coords) / len(coords)
    dy, dx = 300 / 111_320.0, 300 / (111_320.0 * math.cos(math.radians(lat0)))
    cells = {(math.floor(x / dx), math.floor(y / dy)) for x, y in coords}
    assert cmp.changed_area["features"][0]["properties"]["cells"] == len(cells)
    assert cmp.changed_area_km2 == pytest.approx(len(cells) * 0.09, abs=1e-3)


def test_no_change_and_errors(shanghai_engine):
    cmp = triage_compare(shanghai_engine)  # 15 min extra allowed: direct everywhere in both
    assert cmp.changed_locations == 0 and cmp.changed_area["features"] == [] and cmp.transitions == {}
    with pytest.raises(GeoserviceError) as e:
        parse_scenarios("peak")
    assert e.value.field == "scenarios"


def test_cli_and_api(regions_dir, tmp_path, capsys, shanghai_engine):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    out = tmp_path / "cmp"
    region = str(regions_dir / "shanghai")
    capsys.readouterr()
    rc = main(["triage-compare", "--region", region, "--max-extra", "5", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert {p.name for p in out.iterdir()} == {
        "compare.csv",
        "compare.geojson",
        "compare.gpkg",
        "changed_area.geojson",
        "changed_area.gpkg",
        "report.json",
        "map.html",
    }
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    direct = triage_compare(shanghai_engine, rule=TriageRule(max_extra_min=5))
    assert rep["population_changed"] == direct.population_changed and "locations change recommendation" in err
    svc = GeoService([regions_dir / "shanghai"])
    client = TestClient(create_app(svc))
    body = client.get("/plans/triage-compare", params={"max_extra": 5}).json()
    assert body["changed_locations"] == direct.changed_locations and body["layer"] is None
    bad = client.get("/plans/triage-compare", params={"scenarios": "free_flow,rush"})
    assert bad.status_code == 422 and bad.json()["field"] == "scenarios"
    assert main(["triage-compare", "--region", region, "--scenarios", "peak", "-o", str(tmp_path / "x")]) == 2
    assert "--scenarios: give two different scenarios" in capsys.readouterr().err
