"""AED coverage through the week (analyses/aed_week.py, `aed-week`, `coverage --week`,
`GET /plans/aed-week`) against an independent computation: each AED's walking times by networkx
Dijkstra on the exported walk graph, each AED's opening hours read by hand, and per hour the
population of the nodes within 4 minutes of an AED open then."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.aed_week import DAYS, aed_week, hour_spans, open_states, week_cells
from geoservice.bundle.population import load_population
from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.faces.cli import main

WEEK = date(2026, 11, 25)  # a Wednesday: the week of Monday 2026-11-23
T = 240.0


def _hand_open(spec, day: int, hour: int) -> bool | None:
    """The demo's hours read by hand (state in the middle of the hour), independent of the parser."""
    if spec is None:
        return None
    if spec == "24/7":
        return True
    if spec == "Mo-Fr 08:00-17:00; Sa 08:00-12:00":
        return (day < 5 and 8 <= hour < 17) or (day == 5 and 8 <= hour < 12)
    if spec == "Mo-Fr 08:00-18:00":
        return day < 5 and 8 <= hour < 18
    raise AssertionError(f"demo hours not read by hand: {spec!r}")


def test_hours_of_the_week_by_hand():
    cells = week_cells(WEEK)
    assert (
        len(cells) == 168 and cells[0] == datetime(2026, 11, 23, 0, 30) and cells[-1] == datetime(2026, 11, 29, 23, 30)
    )
    specs = ["24/7", "Mo-Fr 08:00-17:00; Sa 08:00-12:00", "Mo-Fr 08:00-18:00", None, "not hours"]
    s = open_states(specs, cells)
    tue10, sun3, mon17, sat11, sat12 = 1 * 24 + 10, 6 * 24 + 3, 17, 5 * 24 + 11, 5 * 24 + 12
    assert s[0].tolist() == [1] * 168
    assert (s[1, tue10], s[1, sun3], s[1, mon17], s[1, sat11], s[1, sat12]) == (1, 0, 0, 1, 0)
    assert s[2, mon17] == 1 and s[2, sun3] == 0
    assert (s[3] == -1).all() and (s[4] == -1).all()  # no hours / unreadable: unknown, never open
    assert hour_spans([0, 1, 2, 24, 25, 26, 30]) == "Mo 00-02; Tu 00-02,06"
    assert hour_spans([d * 24 + h for d in range(5) for h in (8, 9)] + [6 * 24]) == "Mo-Fr 08-09; Su 00"


@pytest.fixture(scope="module")
def walk_times(shanghai, shanghai_engine):
    """Per AED of the demo: walking time (s) from every walk-network node to it, by networkx on
    the exported graph (reversed, from the AED's own snapped point)."""
    net = shanghai.networks["walk"]
    G = network_to_networkx(net, geometry=False).reverse(copy=True)
    router = shanghai_engine.router_for("walk")
    fac = shanghai_engine.facilities
    out = {}
    for _, r in fac[fac["type"] == "aed"].iterrows():
        snap = router.snap(r.geometry.x, r.geometry.y)
        seeds = router.seeds(snap, "walk", "to")
        G.add_node("aed")
        for n, c in zip(seeds.node, seeds.cost):
            G.add_edge("aed", int(n), travel_time_walk=float(c))
        d = nx.single_source_dijkstra_path_length(G, "aed", weight="travel_time_walk")
        G.remove_node("aed")
        t = np.full(net.n_nodes, np.inf)
        for n, v in d.items():
            if n != "aed":
                t[n] = v
        out[str(r["id"])] = (t, r["opening_hours"] if isinstance(r["opening_hours"], str) else None)
    return out


def test_each_hour_equals_brute_force(shanghai, shanghai_engine, walk_times):
    rep = aed_week(shanghai_engine, minutes=4, week_of=WEEK)
    pop = load_population(shanghai, "walk").population
    assert rep.aeds == len(walk_times) == 15 and rep.population_data
    assert (rep.aeds_24_7, rep.aeds_limited, rep.aeds_unknown_hours) == (6, 7, 2)
    for j, h in enumerate(rep.hours):
        day, hour = divmod(j, 24)
        assert (h.day, h.hour) == (DAYS[day], hour)
        states = {i: _hand_open(spec, day, hour) for i, (_, spec) in walk_times.items()}
        for key, want in (("covered_open", (True,)), ("covered_open_or_unknown", (True, None))):
            near = np.zeros(len(pop), bool)
            for i, (t, _) in walk_times.items():
                if states[i] in want:
                    near |= t <= T + 1e-6
            assert getattr(h, key) == pytest.approx(float(pop[near].sum()), abs=0.5), (h.day, h.hour, key)
    everyone = np.zeros(len(pop), bool)
    for t, _ in walk_times.values():
        everyone |= t <= T + 1e-6
    assert rep.baseline_covered == pytest.approx(float(pop[everyone].sum()), abs=0.5)
    # the cost of limited hours, from the hours themselves
    lost = 1 - sum(h.covered_open for h in rep.hours) / (168 * rep.baseline_covered)
    assert rep.lost_share_open == pytest.approx(lost, abs=1e-5)
    assert rep.hour("Su", 3).covered_open < rep.hour("Tu", 10).covered_open <= rep.baseline_covered
    # the lowest level: nights and Sundays, when only the 24/7 AEDs are open
    assert rep.worst[0].when == "Mo-Fr 00-07,18-23; Sa 00-07,12-23; Su 00-23" and rep.worst[0].hours == 114


def test_unknown_hours_are_reported_apart(monaco_engine):
    """Monaco's 5 real OSM AEDs have no opening_hours: 'open' covers no one, 'open or unknown'
    everyone the 24/7 baseline covers, at every hour."""
    rep = aed_week(monaco_engine, week_of=WEEK)
    assert rep.aeds_unknown_hours == rep.aeds == 5
    assert all(h.covered_open == 0 and h.covered_open_or_unknown == rep.baseline_covered for h in rep.hours)
    assert rep.lost_share_open == 1.0 and rep.lost_share_open_or_unknown == 0.0 and rep.note


def test_demand_points_file(shanghai_engine, walk_times, tmp_path, capsys, regions_dir):
    """A demand file instead of the population: a point at a 24/7 AED is covered every hour, one
    at an office-hours AED only in office hours, one 2 km from any AED never."""
    fac = shanghai_engine.facilities.set_index("id")
    always = fac.loc["demo-aed-way-538432095"].geometry  # 24/7
    office = fac.loc["demo-aed-way-981198286"].geometry  # Mo-Fr 08:00-18:00
    net = shanghai_engine.router_for("walk").net
    far = int(np.argmax(np.minimum.reduce([t for t, _ in walk_times.values()])))  # a node far from every AED
    assert min(t[far] for t, _ in walk_times.values()) > 2 * T
    f = tmp_path / "arrests.csv"
    f.write_text(
        f"lon,lat,weight\n{always.x},{always.y},2\n{office.x},{office.y},1\n"
        f"{net.node_lon[far]},{net.node_lat[far]},5\n121.0,31.0,7\n"
    )
    out = tmp_path / "week"
    capsys.readouterr()
    rc = main(
        [
            "aed-week",
            "--region",
            str(regions_dir / "shanghai"),
            "--demand",
            str(f),
            "--week-of",
            "2026-11-23",
            "-o",
            str(out),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["population_data"] is False and rep["demand_total"] is None and rep["demand_off_network"] == 1
    share = {(h["day"], h["hour"]): h["share_open"] for h in rep["hours"]}
    assert share[("Tu", 10)] == pytest.approx(3 / 8) and share[("Su", 3)] == pytest.approx(2 / 8)
    assert share[("Mo", 18)] == pytest.approx(2 / 8)


def test_cli_coverage_week_and_api_agree(regions_dir, tmp_path, capsys, shanghai_engine):
    """`coverage --type aed --week` writes the 7x24 table and the heat maps; the API answers the
    same figures; --week with another type is a user error."""
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    out = tmp_path / "cov-week"
    region = str(regions_dir / "shanghai")
    capsys.readouterr()
    rc = main(["coverage", "--region", region, "--type", "aed", "--week", "--week-of", "2026-11-23", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "Tu 10:00" in err and "Su 03:00" in err and "limited hours cost" in err
    assert {p.name for p in out.iterdir()} >= {
        "week.csv",
        "week_open_or_unknown.csv",
        "hours.csv",
        "week.png",
        "week.html",
        "report.json",
    }
    with open(out / "week.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["day"] for r in rows] == list(DAYS) and len(rows[0]) == 25
    rep = aed_week(shanghai_engine, week_of=WEEK)
    assert (
        float(rows[1]["10"]) == rep.hour("Tu", 10).share_open and float(rows[6]["03"]) == rep.hour("Su", 3).share_open
    )
    assert (out / "week.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svc = GeoService([regions_dir / "shanghai"])
    body = TestClient(create_app(svc)).get("/plans/aed-week", params={"week_of": "2026-11-27"}).json()
    assert body["region"] == "shanghai" and body["week_of"] == "2026-11-23" and len(body["hours"]) == 168
    assert body["hours"][34] == rep.hours[34].to_json() and body["lost_share_open"] == rep.lost_share_open
    assert main(["coverage", "--region", region, "--type", "stroke_center", "--week", "-o", str(tmp_path / "x")]) == 2
    assert "--week: --week is for --type aed" in capsys.readouterr().err
