"""Issue 19 item 4: answers at a percentile of the spread of real trips around the model: the
region's calibrated spread (attach-profile --report), else a documented default (said so)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient

from geoservice.analyses.travel_spread import DEFAULT_SIGMA, default_spread, spread_from_report
from geoservice.bundle.traffic_profile import attach_profile
from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.sources.speeds import ROAD_CLASSES

POINT = {"lon": 121.4541, "lat": 31.2228, "type": "chest_pain_center"}


def test_default_spread_is_the_documented_lognormal():
    s = default_spread()
    assert not s.calibrated and "default spread" in s.label and "assumption" in s.label
    assert s.multiplier(50) == pytest.approx(1.0)
    assert s.multiplier(90) == pytest.approx(math.exp(DEFAULT_SIGMA * 1.2815516), abs=1e-3)
    p = s.prob_within(np.array([60.0, 600.0, np.inf]), 600.0)
    assert p[0] > 0.99 and p[1] == pytest.approx(0.5, abs=0.01) and p[2] == 0


def test_calibrated_spread_uses_the_hour_band():
    rep = {
        "trips": {"used": 500},
        "evaluation": {
            "trips_scored": 480,
            "time_multipliers": {"p50": 1.0, "p90": 1.3},
            "time_multipliers_by_hour_band": {"am_peak": {"trips": 100, "p50": 1.1, "p90": 1.6}},
        },
    }
    s = spread_from_report(rep)
    assert s.calibrated and "480" in s.label
    assert s.multiplier(90, hour=8) == 1.6 and s.multiplier(90, hour=12) == 1.3
    assert 1.0 < s.multiplier(80) < 1.3  # not in the report: the lognormal through p50 and p90


@pytest.fixture(scope="module")
def calibrated(regions_dir, tmp_path_factory):
    """A copy of the Shanghai demo with a profile and a spread attached (p50 1.0, p90 1.3)."""
    d = tmp_path_factory.mktemp("pct")
    region = d / "shanghai"
    shutil.copytree(regions_dir / "shanghai", region)
    rows = ["road_class," + ",".join(f"h{h:02d}" for h in range(24))]
    rows += [c + "," + ",".join("1.2" for _ in range(24)) for c in ROAD_CLASSES]
    (d / "profile.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rep = {
        "region": "shanghai",
        "date_range": ["2026-03-02", "2026-03-08"],
        "trips": {"read": 1505, "used": 1499},
        "evaluation": {"trips_scored": 1490, "models": {}, "time_multipliers": {"p50": 1.0, "p80": 1.18, "p90": 1.3}},
    }
    (d / "report.json").write_text(json.dumps(rep), encoding="utf-8")
    attach_profile(region, d / "profile.csv", d / "report.json")
    return region


def _nearest(capsys, region, *extra):
    argv = ["nearest", "--region", str(region), *[f"--{k}={v}" for k, v in POINT.items()], *extra]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_nearest_p90_is_slower_and_names_its_spread(regions_dir, calibrated, capsys):
    p50 = _nearest(capsys, calibrated, "--depart", "08:30", "--percentile", "50")
    p90 = _nearest(capsys, calibrated, "--depart", "08:30", "--percentile", "90")
    assert p90["results"][0]["time_s"] >= p50["results"][0]["time_s"]
    assert p90["percentile"] == 90 and p90["time_multiplier"] == 1.3
    assert "calibrated from 1,490" in p90["spread"]
    # the walking legs are not scaled
    assert p90["results"][0]["access_s"] == p50["results"][0]["access_s"]
    plain = _nearest(capsys, regions_dir / "shanghai", "--percentile", "90")
    assert "default spread" in plain["spread"] and "assumption" in plain["spread"]


def test_percentile_on_foot_is_an_error(calibrated, capsys):
    argv = ["nearest", "--region", str(calibrated), "--lon=121.4541", "--lat=31.2228", "--type=aed"]
    assert main([*argv, "--percentile", "90"]) == 2
    assert "percentile" in capsys.readouterr().err


def test_coverage_band_and_faces_agree(calibrated, tmp_path, capsys):
    out = tmp_path / "cov"
    argv = ["coverage", "--region", str(calibrated), "--type", "chest_pain_center", "--minutes", "10"]
    assert main([*argv, "--depart", "08:30", "--percentile", "90", "-o", str(out)]) == 0
    capsys.readouterr()
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    band = rep["band"]
    o = band["overall"]
    assert o["covered_p90"] <= o["expected_covered"] <= o["covered_p50"]
    assert o["share_p90"] <= o["expected_share"] <= o["share_p50"]
    assert band["by_unit"] and all(u["covered_p90"] <= u["covered_p50"] for u in band["by_unit"] if u["population"])
    assert "calibrated from 1,490" in band["spread"] and "P90" in rep["traffic"]
    with TestClient(create_app(GeoService.open(regions=[calibrated]))) as c:
        r = c.get(
            "/coverage",
            params={"type": "chest_pain_center", "minutes": 10, "depart": "08:30", "percentile": 90, "gaps": False},
        )
        assert r.status_code == 200, r.text
        api = r.json()
    assert api["band"]["overall"] == band["overall"]
    assert api["overall"]["population_covered"] == rep["overall"]["population_covered"]
    assert api["percentile"] == 90 and api["spread"] == band["spread"]
    with TestClient(create_app(GeoService.open(regions=[calibrated]))) as c:
        n = c.get("/nearest", params={**POINT, "depart": "08:30", "percentile": 90}).json()
    assert n["results"][0]["time_s"] == pytest.approx(
        _nearest(capsys, calibrated, "--depart", "08:30", "--percentile", "90")["results"][0]["time_s"]
    )


def test_isochrone_p90_is_smaller(calibrated):
    with TestClient(create_app(GeoService.open(regions=[calibrated]))) as c:
        params = {"lon": 121.4541, "lat": 31.2228, "minutes": "5"}
        a = c.get("/isochrones", params={**params, "percentile": 50}).json()
        b = c.get("/isochrones", params={**params, "percentile": 90}).json()
    pa, pb = a["features"][0]["properties"], b["features"][0]["properties"]
    assert pa["percentile"] == 50
    assert pb["percentile"] == 90 and "spread" in pb
    area = [f["properties"].get("area_km2") for f in (a["features"][0], b["features"][0])]
    if None not in area:
        assert area[1] <= area[0]
