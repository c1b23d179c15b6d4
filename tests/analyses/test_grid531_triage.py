"""531 assignment (capacity, optimality), triage rule at thresholds, timeline, CLI errors."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from geoservice.analyses.grid531 import capacitated_assignment, grid531
from geoservice.analyses.timeline import TimelineParams, timeline_report
from geoservice.analyses.triage import TriageRule, triage_report, triage_rule
from geoservice.errors import GeoserviceError


def brute_assignment(cost, cap, T):
    n, m = cost.shape
    best = None
    for choice in product(range(-1, m), repeat=n):
        counts = np.bincount([c for c in choice if c >= 0], minlength=m)
        if (counts > cap).any() or any(c >= 0 and cost[i, c] > T for i, c in enumerate(choice)):
            continue
        linked = sum(c >= 0 for c in choice)
        total = sum(cost[i, c] for i, c in enumerate(choice) if c >= 0)
        key = (-linked, total)
        if best is None or key < best:
            best = key
    return best


def test_handmade_county_capacity_and_optimality():
    # 7 township units, 2 basic centers with capacity 5 -> one center cannot take them all
    cost = np.array([[5, 40], [6, 30], [7, 35], [8, 50], [9, 20], [10, 12], [4, 90.0]]) * 60
    asg = capacitated_assignment(cost, 5, 60 * 60)
    assert (asg >= 0).all()
    assert np.bincount(asg, minlength=2).max() <= 5
    total = sum(cost[i, asg[i]] for i in range(7))
    assert (-7, total) == brute_assignment(cost, np.array([5, 5]), 3600)
    # greedy nearest would put all 7 at center 0; capacity forces the two cheapest moves
    assert np.bincount(asg).tolist() == [5, 2]


def test_threshold_leaves_units_unlinked_and_capacity_binds():
    cost = np.array([[10, 200], [20, 300], [30, 250], [500, 600.0]])
    asg = capacitated_assignment(cost, np.array([2, 2]), 100)
    assert asg[3] == -1 and (asg[:3] == 0).sum() == 2 and (asg[:3] == -1).sum() == 1
    key = brute_assignment(cost, np.array([2, 2]), 100)
    assert key == (-2, 30.0)
    rng = np.random.default_rng(3)
    for _ in range(5):
        c = rng.uniform(0, 100, (6, 3))
        a = capacitated_assignment(c, np.array([2, 1, 2]), 70)
        linked = int((a >= 0).sum())
        tot = float(sum(c[i, a[i]] for i in range(6) if a[i] >= 0))
        bl, bt = brute_assignment(c, np.array([2, 1, 2]), 70)
        assert (-linked, tot) == pytest.approx((bl, bt))


def test_grid531_on_demo(andorra_engine):
    eng = andorra_engine
    rep = grid531(eng, scope="region", threshold_min=60)
    tiers = {s.tier: s for s in rep.summary}
    assert tiers["grassroots->basic"].linked == 9 and tiers["basic->standard"].linked == 2
    assert rep.note is None and rep.unlinked == []
    fac = eng.facilities.set_index(eng.facilities["id"].astype(str))
    for tier, cap in (("grassroots->basic", 5), ("basic->standard", 3)):
        links = [ln for ln in rep.links if ln.tier == tier]
        # each link's time is the network time unit -> center, within the threshold
        for ln in links:
            ((_, times, _),) = list(eng.matrix([(ln.from_lon, ln.from_lat)], [(ln.to_lon, ln.to_lat)]))
            assert ln.time_s == pytest.approx(float(times[0]), abs=0.1) and 0 < ln.time_s <= 3600
            assert fac.loc[ln.from_id, "name"] == ln.from_name and fac.loc[ln.to_id, "name"] == ln.to_name
        # the assignment is optimal: same (links, total time) as exhaustive search over the centers
        units = sorted({ln.from_id for ln in links})
        centers = sorted(
            fac.index[
                (fac["type"] == "chest_pain_center")
                & (fac["level"] == ("basic" if tier.startswith("grass") else "standard"))
            ]
        )
        cost = np.array(
            [
                list(
                    eng.matrix(
                        [(fac.loc[u].geometry.x, fac.loc[u].geometry.y)],
                        [(fac.loc[c].geometry.x, fac.loc[c].geometry.y) for c in centers],
                    )
                )[0][1]
                for u in units
            ]
        )
        if len(units) <= 6:
            best = brute_assignment(cost, np.full(len(centers), cap), 3600)
            assert best == pytest.approx((-len(links), sum(ln.time_s for ln in links)), abs=1)
        per_center = np.unique([ln.to_id for ln in links], return_counts=True)[1]
        assert per_center.max() <= cap
        assert tiers[tier].total_time_s == pytest.approx(sum(ln.time_s for ln in links), abs=0.5)


def test_grid531_counties_by_name(andorra_engine):
    from geoservice.bundle.population import load_population

    units = load_population(andorra_engine.region, "drive").units
    names = dict(zip(units["admin_code"].astype(str), units["name"].astype(str), strict=True))
    county = grid531(andorra_engine, scope="county", threshold_min=60)
    assert county.unlinked and county.links
    for x in county.links + county.unlinked + county.summary:
        assert x.county_code in names and x.county == names[x.county_code], x
    for u in county.unlinked:
        assert (
            u.reason == "no basic chest_pain_center in the county"
            or u.reason.startswith("no standard")
            or "within 60 min" in u.reason
            or "capacity" in u.reason
        ), u.reason
    doc = county.to_json()
    assert doc["links"][0]["county"] in names.values() and doc["links"][0]["county_code"] in names


def test_grid531_nothing_to_link_says_so(monaco_engine):
    rep = grid531(monaco_engine, scope="county", threshold_min=60)
    assert rep.links == [] and rep.unlinked == []
    assert rep.note == "no grassroots units / basic centers to link in monaco"
    assert rep.to_json()["note"] == rep.note


@pytest.mark.parametrize(
    "t_ivt,t_evt,expect",
    [
        (600, 600 + 15 * 60, "direct_evt"),  # exactly the acceptable extra
        (600, 600 + 15 * 60 + 1, "drip_and_ship"),  # one second more
        (600, 300, "direct_evt"),  # EVT center nearer
        (np.inf, 900, "direct_evt"),
        (600, np.inf, "ivt_only"),
        (np.inf, np.inf, "unreachable"),
    ],
)
def test_triage_rule_at_thresholds(t_ivt, t_evt, expect):
    assert triage_rule([t_ivt], [t_evt], TriageRule(max_extra_min=15))[0] == expect


def test_triage_rule_configurable_and_validated():
    assert triage_rule([0], [30 * 60], TriageRule(max_extra_min=30))[0] == "direct_evt"
    assert triage_rule([0], [30 * 60], TriageRule(max_extra_min=29.9))[0] == "drip_and_ship"
    with pytest.raises(GeoserviceError, match="non-negative") as ei:
        TriageRule(max_extra_min=-1)
    assert ei.value.field == "max_extra_min"


def test_triage_and_timeline_reports(andorra_engine):
    rep = triage_report(andorra_engine, rule=TriageRule(max_extra_min=0))
    s = rep.population_by_recommendation
    assert s["drip_and_ship"] > 0 and sum(s.values()) == pytest.approx(83888)
    for f in rep.layer["features"]:
        p = f["properties"]
        if p["recommendation"] == "drip_and_ship":
            assert p["extra_min"] >= 0 and p["ivt_center"] != p["evt_center"]
    tl = timeline_report(andorra_engine, params=TimelineParams(onset_to_call_min=30, dispatch_min=3))
    assert tl.ems_stations and 0 < tl.share_transport_met <= 1
    strict = timeline_report(andorra_engine, params=TimelineParams(dispatch_min=50))
    assert strict.share_transport_met < tl.share_transport_met
    late = timeline_report(andorra_engine, params=TimelineParams(onset_to_call_min=61))
    assert late.share_chain_met == 0


def test_cli_outputs_and_errors(regions_dir, tmp_path, capsys):
    from geoservice.faces.cli import main

    region = str(regions_dir / "andorra")
    out = tmp_path / "cov"
    assert (
        main(
            [
                "coverage",
                "--region",
                region,
                "--type",
                "chest_pain_center",
                "--minutes",
                "10",
                "--scenario",
                "peak",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    for f in ("coverage.csv", "gaps.geojson", "map.html", "report.json", "farthest.csv"):
        assert (out / f).is_file()
    import pyogrio

    gaps = json.loads((out / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    assert gaps and pyogrio.read_info(out / "gaps.gpkg", layer="gaps")["features"] == len(gaps)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap" in html and "ODbL" in html
    from geoservice.faces.maps.publish import check_self_contained

    check_self_contained(html)  # opens offline: no CDN script, stylesheet or image
    assert '"kind":"water"' in html.replace(" ", "")  # our own water layer is drawn
    assert "dasymetric" in json.loads((out / "report.json").read_text(encoding="utf-8"))["method"]
    assert (
        main(
            [
                "site",
                "--region",
                region,
                "--type",
                "chest_pain_center",
                "--minutes",
                "10",
                "--add",
                "1",
                "-o",
                str(tmp_path / "site"),
            ]
        )
        == 0
    )
    assert main(["grid531", "--region", region, "--scope", "region", "-o", str(tmp_path / "g")]) == 0
    capsys.readouterr()
    x = str(tmp_path / "x")
    for argv, expect in (
        (["coverage", "--type", "chest_pain_center", "--minutes", "0"], "--minutes: must be in (0, "),
        (["coverage", "--type", "aed", "--scenario", "rush"], "--scenario: unknown scenario 'rush'"),
        (["coverage", "--type", "chest_pain_center", "--remove", "nope"], "--remove: unknown facility id(s): nope"),
        (["site", "--type", "chest_pain_center", "--minutes", "2", "--model", "lscp"], "--minutes: LSCP is infeasible"),
        (["grid531", "--per-basic", "0"], "--per-basic/--per-standard: capacities must be >= 1"),
    ):
        assert main([*argv, "--region", region, "-o", x]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"geoservice: error: {expect}") and "\n" not in err, err
    assert main(["coverage", "--region", str(tmp_path), "--type", "aed", "-o", x]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geoservice: error: --region: ") and "\n" not in err, err
    assert not Path(x).exists()
