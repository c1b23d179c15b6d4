"""Issue 19 item 3: a calibrated profile kept in the region's bundle (attach-profile, build
--hourly-profiles), used by default for --depart, named by every answer; the built-in curve is
called an assumption."""

from __future__ import annotations

import json
import shutil

import pytest

from geoservice.bundle.traffic_profile import TRAFFIC_JSON, attach_profile, stored_profile
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main
from geoservice.sources.speeds import ROAD_CLASSES

POINT = ["--lon", "121.4541", "--lat", "31.2228", "--type", "chest_pain_center"]


def _profile(path, factor: float) -> None:
    rows = ["road_class," + ",".join(f"h{h:02d}" for h in range(24))]
    rows += [c + "," + ",".join(f"{factor if 7 <= h <= 9 else 1.0:.3f}" for h in range(24)) for c in ROAD_CLASSES]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _report(path, used: int = 3000) -> None:
    path.write_text(
        json.dumps(
            {
                "region": "shanghai",
                "profile": "drive",
                "trips_file": "trips.csv",
                "trips_file_sha256": "ab" * 32,
                "date_range": ["2026-11-02", "2026-12-20"],
                "trips": {"read": used + 5, "used": used, "rejected": 5},
                "evaluation": {
                    "trips_scored": used - 10,
                    "models": {"after": {"median_abs_error_s": 70.0, "median_abs_error_pct": 13.0}},
                    "time_multipliers": {"p10": 0.8, "p50": 1.0, "p80": 1.2, "p90": 1.3, "p95": 1.4},
                },
            }
        ),
        encoding="utf-8",
    )


@pytest.fixture
def region(regions_dir, tmp_path):
    dst = tmp_path / "shanghai"
    shutil.copytree(regions_dir / "shanghai", dst)
    return dst


def nearest(capsys, region, *extra):
    assert main(["nearest", "--region", str(region), *POINT, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_attach_then_depart_uses_it_and_names_it(region, tmp_path, capsys):
    before = nearest(capsys, region, "--depart", "08:30")
    assert "assumption (built-in curve)" in before["traffic"]
    _profile(tmp_path / "profile.csv", 3.0)
    _report(tmp_path / "report.json")
    argv = ["attach-profile", "--region", str(region), "--profile", str(tmp_path / "profile.csv")]
    assert main([*argv, "--report", str(tmp_path / "report.json")]) == 0
    assert "calibrated 2026-12 (3,000 trips)" in capsys.readouterr().err
    after = nearest(capsys, region, "--depart", "08:30")
    assert "calibrated 2026-12 (3,000 trips)" in after["traffic"]
    assert after["results"][0]["time_s"] > before["results"][0]["time_s"] * 1.5  # factor 3 at 08
    # an explicit file still wins, and is named
    _profile(tmp_path / "flat.csv", 1.0)
    flat = nearest(capsys, region, "--depart", "08:30", "--hourly-profiles", str(tmp_path / "flat.csv"))
    assert "flat.csv" in flat["traffic"]
    assert flat["results"][0]["time_s"] < after["results"][0]["time_s"]
    # free flow (no depart) is as before
    assert nearest(capsys, region)["results"][0]["time_s"] == pytest.approx(
        nearest(capsys, region, "--depart", "03:00", "--hourly-profiles", str(tmp_path / "flat.csv"))["results"][0][
            "time_s"
        ]
    )
    data = json.loads((region / TRAFFIC_JSON).read_text(encoding="utf-8"))
    prov = data["provenance"]
    assert prov["trips_used"] == 3000 and prov["date_range"] == ["2026-11-02", "2026-12-20"]
    assert prov["trips_file_sha256"] == "ab" * 32 and len(prov["profile_sha256"]) == 64
    assert prov["errors"]["after"]["median_abs_error_s"] == 70.0
    assert (region / "traffic_profile.csv").read_text() == (tmp_path / "profile.csv").read_text()


def test_api_names_the_stored_profile(region, tmp_path):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    _profile(tmp_path / "profile.csv", 2.0)
    _report(tmp_path / "report.json", used=1234)
    attach_profile(region, tmp_path / "profile.csv", tmp_path / "report.json")
    with TestClient(create_app(GeoService.open(regions=[region]))) as c:
        r = c.get("/nearest", params={"lon": 121.4541, "lat": 31.2228, "type": "chest_pain_center", "depart": "08:00"})
        assert r.status_code == 200, r.text
        assert "calibrated 2026-12 (1,234 trips)" in r.json()["traffic"]


def test_bad_profile_leaves_the_bundle_as_it_was(region, tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("road_class,h00\nprimary,x\n", encoding="utf-8")
    code = main(["attach-profile", "--region", str(region), "--profile", str(tmp_path / "bad.csv")])
    assert code == 2
    assert "--profile" in capsys.readouterr().err
    assert not (region / TRAFFIC_JSON).exists() and stored_profile(region) is None
    with pytest.raises(GeoserviceError) as e:
        attach_profile(tmp_path, tmp_path / "bad.csv")
    assert e.value.field == "region"


def test_without_report_the_label_says_so(region, tmp_path):
    _profile(tmp_path / "profile.csv", 1.5)
    data = attach_profile(region, tmp_path / "profile.csv")
    assert "no calibration report" in data["label"]
    sp = stored_profile(region)
    assert sp is not None and not sp.spread.calibrated
