"""``geoservice access`` on central Shanghai: its files say what the analyses say, and bad input is
one line naming the flag, exit status 2."""

from __future__ import annotations

import csv
import json

import pytest

from geoservice.analyses.access import access_report
from geoservice.analyses.equity import access_equity
from geoservice.faces.cli import main


def _rows(path):
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_access_folder(regions_dir, shanghai_engine, tmp_path, capsys):
    out = tmp_path / "access"
    argv = ["access", "--region", str(regions_dir / "shanghai"), "--type", "chest_pain_center", "--equity"]
    assert main([*argv, "--standards", "--aed-per-100k", "0.5", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no capacities given: every facility counts 1" in err and "黄浦区" in err
    res = access_report(shanghai_engine, type="chest_pain_center", minutes=30)
    units = {r["admin_code"]: r for r in _rows(out / "units.csv")}
    for u in res.units:
        assert float(units[u.admin_code]["score_per_100k"]) == pytest.approx(u.score_per_100k)
        assert units[u.admin_code]["unit_type"] == "urban"
    points = _rows(out / "points.csv")
    assert sum(float(p["population"]) for p in points) == pytest.approx(res.population)
    acc, tt = access_equity(res)
    eq = {r["measure"]: r for r in _rows(out / "equity.csv")}
    assert float(eq["access"]["gini"]) == pytest.approx(acc.gini) and float(
        eq["travel_time"]["theil_t"]
    ) == pytest.approx(tt.theil_t)
    std = [r for r in _rows(out / "standards.csv") if r["measure"] == "aed_per_100k" and r["admin_code"] == ""]
    assert std[0]["target"] == "0.5" and std[0]["met"] == "True" and std[0]["source"] == "given target (--aed-per-100k)"
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["region"] == "shanghai" and doc["equity"]["access"]["gini"] == pytest.approx(acc.gini)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap" in html and "E2SFCA" in html


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--decay", "zones", "--zones", "10-1"], "--zones"),
        (["--minutes", "0"], "--minutes"),
        (["--standards", "--fetch-minutes", "0"], "--fetch-minutes"),
        (["--standards", "--share-target", "2"], "--share-target"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(regions_dir, tmp_path, capsys, extra, flag):
    argv = ["access", "--region", str(regions_dir / "shanghai"), "--type", "chest_pain_center", *extra]
    assert main([*argv, "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geoservice: error: {flag}: ") and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()
