"""The plan's county targets and stroke quality tiers (analyses/plan_targets.py, stroke_tiers.py,
`plan-targets`, `publish --thrombolysis-rates`, `GET /plans/targets`, `POST /plans/stroke-tiers`):
on the central Shanghai demo against an independent count (geopandas spatial join, the OSM id in
each facility id), on a hand-made table for the name rule, and the tier thresholds by hand."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import geopandas as gpd
import pytest
import shapely

from geoservice.analyses.plan_targets import PlanTargets, plan_targets_report
from geoservice.analyses.stroke_tiers import read_rates, stroke_tiers, tier_of
from geoservice.bundle.population import PopulationLayer, load_population
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main

DEMO_RATES = "geoservice/data/shanghai/thrombolysis_rates_DEMO.csv"


def _osm_suffix(fid: str) -> str:
    """``demo-chest_pain_center-way-177598821`` / ``osm-way-177598821`` -> ``way-177598821``."""
    parts = fid.split("-")
    return "-".join(parts[-2:])


def test_shanghai_units_against_a_spatial_join(shanghai, shanghai_engine):
    rep = plan_targets_report(shanghai_engine)
    units = load_population(shanghai, "drive").units[["admin_code", "geometry"]].rename(columns={"admin_code": "unit"})
    fac = shanghai_engine.facilities
    joined = gpd.sjoin(fac, units, how="left", predicate="within")
    cpc_ids = {_osm_suffix(i) for i in fac.loc[fac["type"] == "chest_pain_center", "id"]}
    gu_ids = {_osm_suffix(i) for i in fac.loc[fac["type"] == "grassroots_unit", "id"]}
    by_code = {u.admin_code: u for u in rep.units}
    assert len(rep.units) == 9 and rep.units[-1].name == "outside the admin units"
    for code, rows in joined.groupby("unit"):
        u = by_code[code]
        hosp = rows[(rows["type"] == "hospital") & (rows["level"] == "hospital")]
        inst = rows[(rows["type"] == "hospital") & rows["name"].str.contains("社区卫生|卫生院")]
        assert u.stroke_centers == int((rows["type"] == "stroke_center").sum())
        assert (u.hospitals, u.hospitals_with_cpc) == (len(hosp), int(hosp["id"].map(_osm_suffix).isin(cpc_ids).sum()))
        assert (u.grassroots_institutions, u.institutions_with_unit) == (
            len(inst),
            int(inst["id"].map(_osm_suffix).isin(gu_ids).sum()),
        )
        assert u.cpc_met is (u.hospitals_with_cpc / u.hospitals >= 0.7)
        assert u.stroke_met is (u.stroke_centers >= 1)
    # every chest pain center and grassroots unit of the demo designates a facility of the layer
    assert sum(u.hospitals_with_cpc for u in rep.units) == len(cpc_ids) == 8
    assert sum(u.institutions_with_unit for u in rep.units) == len(gu_ids) == 8
    assert all(u.cpc_not_in_layer == 0 and u.units_not_in_layer == 0 for u in rep.units)
    assert "no hospital grades" in rep.notes[0]
    hp = by_code["310101"]  # 黄浦区, checked by hand: 3 stroke centers, 2 of 15 hospitals, 3 of 5 centres
    assert (hp.stroke_centers, hp.hospitals_with_cpc, hp.hospitals, hp.institutions_with_unit) == (3, 2, 15, 3)
    assert (hp.grassroots_institutions, hp.targets_met, hp.targets_applicable) == (5, 1, 3)


def _fake_engine(rows):
    """An engine-like object over a hand-made facility table and two square units."""
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    units = gpd.GeoDataFrame({"admin_code": ["A", "B"], "name": ["县A", "县B"]}, geometry=[a, b], crs="EPSG:4326")
    layer = PopulationLayer(None, None, units, "m", "s", True)  # type: ignore[arg-type]
    region = SimpleNamespace(name="fake", extras={"population:drive": layer})
    fac = gpd.GeoDataFrame(
        [dict(r, source=r.get("source")) for r in rows],
        geometry=[shapely.Point(r["x"], r["y"]) for r in rows],
        crs="EPSG:4326",
    )
    return SimpleNamespace(facilities=fac, region=region)


def test_name_rule_by_hand():
    """A chest pain center named differently (上海市 = 上海) within 1 km is the hospital; the same
    name 2 km away is not (counted apart); a 服务站 is no community health service center."""
    rows = [
        dict(id="h1", type="hospital", level="hospital", name="上海市第一人民医院", x=0.5, y=0.5),
        dict(id="h2", type="hospital", level="hospital", name="县A人民医院", x=0.2, y=0.2),
        dict(
            id="c1",
            type="chest_pain_center",
            level="standard",
            name="上海第一人民医院 [DEMO designation]",
            x=0.503,
            y=0.5,
        ),
        dict(id="c2", type="chest_pain_center", level="basic", name="县A人民医院", x=0.2, y=0.22),  # 2.2 km
        dict(id="s1", type="stroke_center", level="center", name="x", x=1.5, y=0.5),
        dict(id="g0", type="hospital", level="clinic", name="某某镇卫生院", x=1.2, y=0.5),
        dict(id="g1", type="hospital", level="clinic", name="某某社区卫生服务中心", x=1.3, y=0.5),
        dict(id="g2", type="hospital", level="clinic", name="某某社区卫生服务中心某某服务站", x=1.4, y=0.5),
        dict(id="u1", type="grassroots_unit", level=None, name="某某镇卫生院", x=1.2, y=0.5),
        dict(id="u2", type="grassroots_unit", level=None, name="乙乡卫生院", x=1.6, y=0.6),  # not in the layer
    ]
    rep = plan_targets_report(_fake_engine(rows), targets=PlanTargets(1, 0.5, 0.7))
    a, b = rep.units
    assert (a.stroke_centers, a.stroke_met, a.hospitals, a.hospitals_with_cpc, a.cpc_share) == (0, False, 2, 1, 0.5)
    assert a.cpc_met is True and a.cpc_not_in_layer == 1 and a.grassroots_share is None
    assert (a.targets_met, a.targets_applicable) == (1, 2)
    # B: 镇卫生院 (unit), 社区卫生服务中心 (none), 乙乡卫生院 (a unit named as one, not in the layer)
    assert (b.grassroots_institutions, b.institutions_with_unit, b.grassroots_share) == (3, 2, 0.6667)
    assert b.grassroots_met is False and b.hospitals == 0 and b.cpc_share is None and b.stroke_met is True
    with pytest.raises(GeoserviceError):
        PlanTargets(1, 1.5, 0.7)


def test_tiers_by_hand(shanghai):
    assert [tier_of(r) for r in (5.01, 5.0, 4.2, 3.0, 2.99, 0.0)] == [
        "high",
        "middle",
        "middle",
        "middle",
        "low",
        "low",
    ]
    rows = read_rates(DEMO_RATES)
    assert len(rows) == 8 and all(r.demo and "DEMO" in (r.note or "") for r in rows)
    tiers, unmatched, geoms = stroke_tiers(load_population(shanghai, "drive").units, rows)
    got = {t.name: (t.tier, t.action) for t in tiers}
    assert got["黄浦区"] == ("high", "advanced training and quality-control plan")
    assert got["静安区"][0] == got["普陀区"][0] == "middle"  # 5.0 and 3.0: both ends in "3-5%"
    assert got["浦东新区"] == ("low", "inspection tours") and not unmatched and len(geoms) == 8
    with pytest.raises(GeoserviceError) as e:
        stroke_tiers(load_population(shanghai, "drive").units, [rows[0].__class__("武汉市", None, 4.0, False, None, 1)])
    assert e.value.field == "thrombolysis_rates" and "matches an admin unit" in e.value.message


def test_cli_api_publish(regions_dir, tmp_path, capsys, shanghai_engine):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.settings import Settings

    region = str(regions_dir / "shanghai")
    out = tmp_path / "targets"
    capsys.readouterr()
    rc = main(["plan-targets", "--region", region, "--thrombolysis-rates", DEMO_RATES, "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "0 of 8 admin units meet every target" in err and "no hospital grades" in err
    assert {p.name for p in out.iterdir()} >= {"targets.csv", "targets.geojson", "tiers.csv", "report.json", "map.html"}
    with open(out / "targets.csv", newline="", encoding="utf-8") as fh:
        table = {r["admin_code"]: r for r in csv.DictReader(fh)}
    assert table["310101"]["hospitals"] == "15" and table["310101"]["cpc_share"] == "0.1333"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["thrombolysis_tiers"]["tiers"][0]["demo"] is True
    assert "[演示]" in (out / "map.html").read_text(encoding="utf-8")  # the invented rates tagged, in Chinese
    # the API, with the targets from the settings
    svc = GeoService([regions_dir / "shanghai"], settings=Settings.of(plan_cpc_share=0.1))
    client = TestClient(create_app(svc))
    body = client.get("/plans/targets", params={"layer": "false"}).json()
    hp = next(u for u in body["units"] if u["admin_code"] == "310101")
    assert body["targets"]["cpc_share"] == 0.1 and hp["cpc_met"] is True and body["layer"] is None
    tiers = client.post(
        "/plans/stroke-tiers",
        json={"rates": [{"name": "黄浦", "thrombolysis_rate_pct": 2}, {"name": "x", "thrombolysis_rate_pct": 9}]},
    )
    assert tiers.json()["tiers"][0]["tier"] == "low" and tiers.json()["unmatched"] == ["x"]
    none = client.post("/plans/stroke-tiers", json={"rates": [{"name": "x", "thrombolysis_rate_pct": 9}]}).json()
    assert none["tiers"] == [] and none["unmatched"] == ["x"]  # the API lists what matches nothing
    # the published stroke map carries the tiers, the demo rates named invented on its face
    maps = tmp_path / "maps"
    rc = main(["publish", "--region", region, "--thrombolysis-rates", DEMO_RATES, "--out", str(maps), "--no-png"])
    assert rc == 0, capsys.readouterr().err
    stroke = (maps / "shanghai_stroke_emergency.html").read_text(encoding="utf-8")
    assert "卒中质量分级" in stroke and "演示数据：溶栓率为虚构" in stroke and "进阶培训与质控计划" in stroke
    assert "卒中质量分级" not in (maps / "shanghai_chest_pain_centers.html").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,thrombolysis_rate_pct\n黄浦区,abc\n", encoding="utf-8")
    assert main(["publish", "--region", region, "--thrombolysis-rates", str(bad), "--out", str(maps), "--no-png"]) == 2
    assert "--thrombolysis-rates: " in capsys.readouterr().err
