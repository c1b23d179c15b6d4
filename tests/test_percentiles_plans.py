"""Percentiles on siting and dispatch too (issue 19, item 4): the ambulance of a dispatch plan and
the drive times a siting model sees are at the asked percentile of the spread, and say so."""

from __future__ import annotations

import json
from datetime import datetime

from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.usecases import dispatch as dispatch_service

ARREST = (121.4540, 31.2185)
MONDAY_8 = datetime(2026, 11, 30, 8, 0)


def test_dispatch_ambulance_at_p90_is_slower_and_says_so(shanghai):
    svc = GeoService([shanghai])
    typical = dispatch_service.dispatch(svc, dispatch_service.DispatchAsk(*ARREST, at=MONDAY_8), responders=[])
    ask = dispatch_service.DispatchAsk(*ARREST, at=MONDAY_8, percentile=90)
    bad = dispatch_service.dispatch(svc, ask, responders=[])
    assert bad.ambulance is not None and typical.ambulance is not None
    assert bad.ambulance.drive.time_s > typical.ambulance.drive.time_s * 1.3  # rush hour x P90 spread
    assert any(n.startswith("ambulance drive at P90: depart 08:00") and "default spread" in n for n in bad.notes)
    assert not any("P90" in n for n in typical.notes)


def test_site_at_p90_covers_fewer_people(regions_dir, tmp_path, capsys):
    base = ["site", "--region", str(regions_dir / "andorra"), "--type", "chest_pain_center", "--minutes", "10",
            "--add", "1"]  # fmt: skip
    assert main([*base, "-o", str(tmp_path / "p50")]) == 0
    assert main([*base, "--percentile", "90", "-o", str(tmp_path / "p90")]) == 0
    capsys.readouterr()
    p50 = json.loads((tmp_path / "p50" / "report.json").read_text(encoding="utf-8"))
    p90 = json.loads((tmp_path / "p90" / "report.json").read_text(encoding="utf-8"))
    assert p90["covered_before"] < p50["covered_before"]
    assert "P90" in p90["method"]
