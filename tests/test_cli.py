"""The CLI contract: stable keys and formats, one-line errors with exit status 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import networkx as nx
import pytest

from geoservice.faces.cli import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_nearest_json_keys(capsys, regions_dir):
    code, out, err = run(
        capsys,
        "nearest",
        "--region",
        regions_dir / "andorra",
        "--lon",
        1.58,
        "--lat",
        42.54,
        "--type",
        "chest_pain_center",
        "--k",
        2,
    )
    assert code == 0, err
    res = json.loads(out)
    assert len(res["results"]) == 2
    r = res["results"][0]
    assert {"facility", "time_s", "distance_m", "snap_m", "route"} <= set(r)
    assert r["route"]["type"] == "LineString" and len(r["route"]["coordinates"]) > 2


def test_nearest_aed_walks_and_filters_by_hours(capsys, regions_dir):
    code, out, err = run(
        capsys,
        "nearest",
        "--region",
        regions_dir / "monaco",
        "--lon",
        7.4200,
        "--lat",
        43.7370,
        "--type",
        "aed",
        "--at",
        "2026-11-22T03:00",
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["profile"] == "walk" and res["results"]
    # Monaco's OSM AEDs carry no opening_hours: at 3 am they are kept, with their hours unknown
    # (never reported as open). AEDs with hours are tested in test_faces_agree.py.
    assert all(r["facility"]["opening_hours"] is None and r["open_at"] is None for r in res["results"])


def test_isochrone_minutes_sorted_and_deduplicated(capsys, regions_dir):
    args = ["isochrone", "--region", regions_dir / "andorra", "--lon", 1.5212, "--lat", 42.5069]
    code, out, err = run(capsys, *args, "--minutes", "10,5,10")
    assert code == 0, err
    assert [f["properties"]["minutes"] for f in json.loads(out)["features"]] == [5, 10]


def test_matrix_blames_the_file_and_row_at_fault(capsys, regions_dir, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("id,lon,lat\na,1.5212,42.5069\nb,1.5836,42.5359\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,1.5212,42.5069\nb,1.5836,42.5359\nc,1.0,42.5\n")
    code, _, err = run(
        capsys,
        "matrix",
        "--region",
        regions_dir / "andorra",
        "--origins",
        good,
        "--destinations",
        bad,
        "-o",
        tmp_path / "m.csv",
    )
    assert code == 2 and err.startswith("geoservice: error: --destinations: row 3: point (1.000000, 42.500000)")
    bad.write_text("id,lon,lat\na,1.5212,42.5069\nb,east,42.5\n")
    code, _, err = run(
        capsys,
        "matrix",
        "--region",
        regions_dir / "andorra",
        "--origins",
        good,
        "--destinations",
        bad,
        "-o",
        tmp_path / "m.csv",
    )
    assert code == 2 and "--destinations" in err and "row 2: lon/lat are not numbers" in err


def test_site_for_aeds_walks(capsys, regions_dir, tmp_path):
    code, _, err = run(
        capsys,
        "site",
        "--region",
        regions_dir / "monaco",
        "--type",
        "aed",
        "--add",
        "1",
        "--candidates",
        "grid",
        "--grid-km",
        "0.5",
        "-o",
        tmp_path / "s",
    )
    assert code == 0, err
    rep = json.loads((tmp_path / "s" / "report.json").read_text())
    assert rep["profile"] == "walk" and rep["minutes"] == 4


def test_isochrone_geojson(capsys, regions_dir, tmp_path):
    out = tmp_path / "iso.geojson"
    code, _, err = run(
        capsys,
        "isochrone",
        "--region",
        regions_dir / "andorra",
        "--lon",
        1.5212,
        "--lat",
        42.5069,
        "--minutes",
        "10,30",
        "-o",
        out,
    )
    assert code == 0, err
    fc = json.loads(out.read_text())
    assert [f["properties"]["minutes"] for f in fc["features"]] == [10, 30]
    assert "OpenStreetMap" in fc["attribution"]


def test_matrix_csv(capsys, regions_dir, tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\nvella,1.5212,42.5069\nencamp,1.5836,42.5359\nsantjulia,1.4920,42.4666\n")
    out = tmp_path / "m.csv"
    code, _, err = run(
        capsys, "matrix", "--region", regions_dir / "andorra", "--origins", pts, "--destinations", pts, "-o", out
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["origin_id", "destination_id", "time_s", "distance_m"]
    assert len(rows) == 9
    t = {(r["origin_id"], r["destination_id"]): float(r["time_s"]) for r in rows}
    assert t[("vella", "vella")] == 0
    assert t[("vella", "encamp")] > 300


def test_export_graph_is_the_engine_graph(capsys, regions_dir, tmp_path, andorra_engine):
    out = tmp_path / "g.graphml"
    code, _, err = run(capsys, "export-graph", "--region", regions_dir / "andorra", "-o", out)
    assert code == 0, err
    import osmnx as ox

    G = ox.io.load_graphml(out, edge_dtypes={"travel_time_drive": float, "travel_time_ambulance": float})
    net = andorra_engine.router_for("drive").net
    assert G.number_of_nodes() == net.n_nodes and G.number_of_edges() == net.n_edges
    # times from the file agree with the engine
    ref = nx.single_source_dijkstra_path_length(G, 0, weight="travel_time_drive")
    dist, *_ = andorra_engine.router_for("drive").search([0], [0.0], profile="drive", direction="from")
    assert max(abs(dist[int(k)] - v) for k, v in ref.items()) < 1e-3
    gpkg = tmp_path / "g.gpkg"
    assert main(["export-graph", "--region", str(regions_dir / "andorra"), "-o", str(gpkg)]) == 0
    import pyogrio

    assert {"nodes", "edges"} <= {n for n, _ in pyogrio.list_layers(gpkg)}


def test_import_layer_reports_rows(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text("id,name,lon,lat,opening_hours\n1,Gare,7.42,43.73,24/7\n2,Bad,abc,43.7,\n3,Far,7.5,95,\n")
    out = tmp_path / "aeds.geojson"
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "-o", out)
    assert code == 0
    assert "row 2" in err and "row 3" in err and "1 rows loaded, 2 rejected" in err
    assert len(json.loads(out.read_text())["features"]) == 1
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict")
    assert code == 2 and "bad rows" in err


def test_import_layer_converts_bd09(capsys, real_data, tmp_path):
    out = tmp_path / "w.geojson"
    code, _, err = run(
        capsys,
        "import-layer",
        real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv",
        "--type",
        "hospital",
        "--crs",
        "bd09",
        "--lon-col",
        "lng",
        "-o",
        out,
    )
    assert code == 0, err
    first = json.loads(out.read_text())["features"][0]["geometry"]["coordinates"]
    # BD-09 (114.304382, 30.594185) lies ~1 km east-north-east of its WGS-84 position
    assert first[0] < 114.304382 - 0.008 and first[1] < 30.594185 - 0.002


@pytest.mark.parametrize(
    "args, message",
    [
        (["isochrone", "--lon", "1.52", "--lat", "42.5", "--minutes", "ten"], "--minutes"),
        (["isochrone", "--lon", "200", "--lat", "42.5", "--minutes", "10"], "--lon"),
        (["isochrone", "--lon", "1.0", "--lat", "42.5", "--minutes", "10"], "m from the nearest drive road"),
        (["isochrone", "--lon", "1.52", "--lat", "42.5", "--minutes", "0"], "minutes"),
        (["isochrone", "--lon", "1.52", "--lat", "42.5", "--minutes", "10", "--profile", "bike"], "profile"),
        (["nearest", "--lon", "1.52", "--lat", "42.5", "--type", "aed", "--at", "noon"], "--at"),
        (
            ["nearest", "--lon", "1.52", "--lat", "42.5", "--type", "chest_pain_center", "--k", "0"],
            "--k: must be 1 to 20",
        ),
        (
            ["nearest", "--lon", "1.52", "--lat", "42.5", "--type", "chest_pain_center", "--level", "gold"],
            "--level: unknown level of chest_pain_center 'gold'; valid: standard, basic",
        ),
        (["matrix", "--origins", "nope.csv", "--destinations", "nope.csv", "-o", "x.csv"], "--origins"),
        (["export-graph", "-o", "graph.shp"], ".graphml or .gpkg"),
        (["build", "--osm", "nothing.osm.pbf", "--out", "x"], "OSM file not found"),
        (["import-layer", "nothing.csv", "--type", "aed"], "nothing.csv"),
    ],
)
def test_bad_input_one_line_error(capsys, regions_dir, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if args[0] in ("isochrone", "nearest", "matrix", "export-graph"):
        args = args + ["--region", str(regions_dir / "andorra")]
    code, out, err = run(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoservice: error:") and message in lines[0]
    assert "Traceback" not in err


def test_matrix_bad_rows_leave_no_output(capsys, regions_dir, tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\na,1.52,42.50\nb,1.0,42.5\n")  # b is 35 km from any road
    out = tmp_path / "m.csv"
    code, _, err = run(
        capsys, "matrix", "--region", regions_dir / "andorra", "--origins", pts, "--destinations", pts, "-o", out
    )
    assert code == 2 and "--origins: row 2: point (1.000000, 42.500000) is" in err and "m from the nearest" in err
    assert not out.exists() and not list(tmp_path.glob(".m.csv*"))
    cols = tmp_path / "cols.csv"
    cols.write_text("name,x,y\na,1,2\n")
    code, _, err = run(
        capsys, "matrix", "--region", regions_dir / "andorra", "--origins", cols, "--destinations", pts, "-o", out
    )
    assert code == 2 and "lacks column(s) id, lat, lon" in err


def test_console_script_exit_status(tmp_path):
    exe = [sys.executable, "-m", "geoservice"]
    p = subprocess.run(
        exe + ["build", "--osm", str(tmp_path / "x.osm"), "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "not found" in p.stderr


def test_point_picks_its_region(capsys, regions_dir, tmp_path):
    regions = ["--region", regions_dir / "andorra", "--region", regions_dir / "monaco"]
    code, out, err = run(capsys, "nearest", *regions, "--lon", 7.4200, "--lat", 43.7370, "--type", "aed")
    assert code == 0, err
    assert json.loads(out)["results"][0]["facility"]["type"] == "aed"  # Monaco's AEDs
    code, out, err = run(capsys, "nearest", *regions, "--lon", 1.5836, "--lat", 42.5359, "--type", "chest_pain_center")
    assert code == 0, err
    assert "DEMO" in json.loads(out)["results"][0]["facility"]["name"]
    code, _, err = run(capsys, "nearest", *regions, "--lon", 2.35, "--lat", 48.85, "--type", "aed")
    assert code == 2 and "--lon/--lat: point (2.350000, 48.850000) is in no served region" in err
    # matrix picks its region from its points, as nearest does
    pts = tmp_path / "a.csv"
    pts.write_text("id,lon,lat\na,7.4200,43.7370\nb,7.4246,43.7384\n")
    code, _, err = run(capsys, "matrix", *regions, "--origins", pts, "--destinations", pts, "-o", tmp_path / "m.csv")
    assert code == 0 and "region monaco" in err


def test_serve_refuses_an_address_it_cannot_listen_on_before_loading(capsys, regions_dir, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for workers in ("1", "2"):
            code, _, err = run(
                capsys, "serve", "--region", regions_dir / "andorra", "--db", tmp_path / "r.sqlite",
                "--port", port, "--workers", workers,
            )  # fmt: skip
            assert code == 2 and err.strip() == (
                f"geoservice: error: --port: cannot listen on 127.0.0.1:{port}: Address already in use"
            )
    assert not (tmp_path / "r.sqlite").exists()  # refused before opening anything
    code, _, err = run(capsys, "serve", "--region", regions_dir / "andorra", "--host", "no-such-host.invalid")
    assert code == 2 and err.startswith("geoservice: error: --host: cannot resolve 'no-such-host.invalid'")
