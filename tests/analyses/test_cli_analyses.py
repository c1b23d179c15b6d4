"""The analysis commands through ``geoservice.faces.cli.main``: empty results still write a whole
folder, a failed run leaves the folder as it was, CSVs read cleanly, notes on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geoservice.faces.cli import main


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_coverage_without_gaps_writes_whole_folder(regions_dir, tmp_path, capsys):
    out = tmp_path / "cov"
    rc, err = _run(capsys, "coverage", "--region", regions_dir / "andorra", "--type", "chest_pain_center", "-o", out)
    assert rc == 0, err
    assert {p.name for p in out.iterdir()} == {
        "coverage.csv",
        "farthest.csv",
        "gaps.geojson",
        "gaps.gpkg",
        "map.html",
        "report.json",
    }
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["gaps"]["features"] == [] and rep["overall"]["population_share"] == 1.0 and rep["minutes"] == 30
    assert pyogrio.read_info(out / "gaps.gpkg", layer="gaps")["features"] == 0
    assert "no gap polygons" in err
    # a later run with gaps into the same folder, then one without: no stale gap layer stays behind
    assert (
        _run(
            capsys,
            "coverage",
            "--region",
            regions_dir / "andorra",
            "--type",
            "chest_pain_center",
            "--minutes",
            "10",
            "-o",
            out,
        )[0]
        == 0
    )
    assert pyogrio.read_info(out / "gaps.gpkg", layer="gaps")["features"] > 0
    assert (
        _run(capsys, "coverage", "--region", regions_dir / "andorra", "--type", "chest_pain_center", "-o", out)[0] == 0
    )
    assert pyogrio.read_info(out / "gaps.gpkg", layer="gaps")["features"] == 0


def test_site_on_covered_region_says_so_and_lscp_writes_no_sites(regions_dir, tmp_path, capsys):
    region = regions_dir / "andorra"
    rc, err = _run(
        capsys, "site", "--region", region, "--type", "chest_pain_center", "--add", "3", "-o", tmp_path / "s"
    )
    assert rc == 0, err
    assert "already 100% covered within 30 min: the 3 sites proposed add no one" in err
    rep = json.loads((tmp_path / "s" / "report.json").read_text(encoding="utf-8"))
    assert rep["note"] == "already 100% covered within 30 min: the 3 sites proposed add no one"
    rc, err = _run(
        capsys, "site", "--region", region, "--type", "chest_pain_center", "--model", "lscp", "-o", tmp_path / "l"
    )
    assert rc == 0, err
    assert "no new site needed" in err
    out = tmp_path / "l"
    assert {p.name for p in out.iterdir()} == {"sites.csv", "sites.geojson", "sites.gpkg", "map.html", "report.json"}
    assert len(pd.read_csv(out / "sites.csv")) == 0
    assert pyogrio.read_info(out / "sites.gpkg", layer="sites")["features"] == 0


def test_site_candidates_file_missing(regions_dir, tmp_path, capsys):
    rc, err = _run(
        capsys,
        "site",
        "--region",
        regions_dir / "andorra",
        "--type",
        "chest_pain_center",
        "--candidates",
        tmp_path / "nosuch.csv",
        "-o",
        tmp_path / "s",
    )
    assert rc == 2
    assert err.strip() == f"geoservice: error: --candidates: file not found: {tmp_path / 'nosuch.csv'}"
    assert not (tmp_path / "s").exists()


def test_grid531_nothing_to_link(regions_dir, tmp_path, capsys):
    out = tmp_path / "g"
    rc, err = _run(capsys, "grid531", "--region", regions_dir / "monaco", "-o", out)
    assert rc == 0, err
    assert "no grassroots units / basic centers to link in monaco" in err
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["note"] == "no grassroots units / basic centers to link in monaco" and rep["links"] == []
    assert {p.name for p in out.iterdir()} == {
        "links.csv",
        "unlinked.csv",
        "links.geojson",
        "links.gpkg",
        "map.html",
        "report.json",
    }
    assert len(pd.read_csv(out / "links.csv")) == 0 and len(pd.read_csv(out / "unlinked.csv")) == 0
    assert pyogrio.read_info(out / "links.gpkg", layer="links")["features"] == 0


def test_grid531_cli_reports_county_names(regions_dir, tmp_path, capsys):
    out = tmp_path / "g"
    assert _run(capsys, "grid531", "--region", regions_dir / "andorra", "-o", out)[0] == 0
    links = pd.read_csv(out / "links.csv")
    assert set(links["county"]) <= {
        "Andorra la Vella",
        "Canillo",
        "Encamp",
        "Escaldes-Engordany",
        "La Massana",
        "Ordino",
        "Sant Julià de Lòria",
    }
    assert links["county_code"].str.startswith("osm-r").all()


@pytest.mark.parametrize("late_failure", ["unknown_remove", "map_crash"])
def test_failed_run_leaves_folder_unchanged(regions_dir, tmp_path, capsys, monkeypatch, late_failure):
    out = tmp_path / "cov"
    out.mkdir()
    (out / "marker.txt").write_text("keep me\n", encoding="utf-8")
    (out / "report.json").write_text('{"old": true}\n', encoding="utf-8")
    before = _snapshot(out)
    argv = [
        "coverage",
        "--region",
        regions_dir / "andorra",
        "--type",
        "chest_pain_center",
        "--minutes",
        "10",
        "-o",
        out,
    ]
    if late_failure == "unknown_remove":
        rc, err = _run(capsys, *argv, "--remove", "demo-chest_pain_center-1,nope")
        assert rc == 2 and err.strip() == "geoservice: error: --remove: unknown facility id(s): nope"
    else:  # fails after the CSVs, layers and report.json are staged
        import geoservice.faces.maps.analyses as maps

        def boom(*a, **k):
            raise RuntimeError("map failed")

        monkeypatch.setattr(maps, "coverage_map", boom)
        with pytest.raises(RuntimeError, match="map failed"):
            main([str(a) for a in argv])
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cov"]  # no staging folder left


def test_csvs_read_cleanly_and_method_in_report(regions_dir, tmp_path, capsys):
    region = regions_dir / "andorra"
    runs = {
        "coverage": ["--type", "chest_pain_center", "--minutes", "10"],
        "site": ["--type", "chest_pain_center", "--minutes", "10", "--add", "1"],
        "grid531": [],
        "triage": [],
    }
    for cmd, extra in runs.items():
        out = tmp_path / cmd
        rc, err = _run(capsys, cmd, "--region", region, *extra, "-o", out)
        assert rc == 0, err
        csvs = sorted(out.glob("*.csv"))
        assert csvs, cmd
        for f in csvs:
            text = f.read_text(encoding="utf-8")
            assert not any(line.startswith("#") for line in text.splitlines()), f
            df = pd.read_csv(f)
            assert len(df.columns) > 2 and not any(str(c).startswith("#") for c in df.columns), f
            assert len(df) > 0, f
        rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert "OpenStreetMap" in rep["method"], cmd
    cov = pd.read_csv(tmp_path / "coverage" / "coverage.csv")
    assert cov.iloc[0]["admin_code"] == "ALL" and cov["population_share"].between(0, 1).all()
