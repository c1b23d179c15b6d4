"""Bad input to ``geoservice calibrate`` (issue 19 item 6): every bad row is a rejection with its
reason, every bad file or argument one line ``geoservice: error: --flag: …`` with exit status 2,
a file in the wrong coordinate system is refused (the check of facility files, on the trips'
own positions), and nothing is written when a run fails."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from geoservice.analyses.calibration_routes import prepare
from geoservice.analyses.calibration_synthetic import synthetic_trips
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main
from geoservice.sources.coords import wgs84_to_gcj02
from geoservice.sources.trips import REQUIRED, read_trips

HEADER = ",".join(REQUIRED)
GOOD = "t1,121.4540,31.2185,121.4700,31.2300,2026-03-02T08:15,900"


@pytest.fixture(scope="module")
def rows(shanghai_engine):
    return synthetic_trips(shanghai_engine, 60, seed=3)


def write(path: Path, rows: list[dict], **extra) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(REQUIRED) + list(extra), extrasaction="ignore")
        w.writeheader()
        w.writerows(dict(r, **extra) for r in rows)
    return path


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


# ------------------------------------------------------------------------------ rows
def test_bad_rows_are_rejected_with_their_reason(tmp_path):
    body = [
        "# provenance: a comment line before the header",
        HEADER + ",priority",
        GOOD + ",yes",
        "t2,121.4540,31.2185,121.4700,31.2300,2026-03-02,900,no",
        "t1,121.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,900,no",
        "t3,121.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,-60,no",
        "t4,121.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,0,no",
        "t5,121.4540,abc,121.4700,31.2300,2026-03-02T09:00,600,no",
        "t6,221.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,600,no",
        "t7,121.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,600,maybe",
        ",121.4540,31.2185,121.4700,31.2300,2026-03-02T09:00,600,no",
        "t8,121.4540,31.2185,121.4700,31.2300,08:00,600,no",
        "t9,121.4540,31.2185,121.4700,31.2300,2026-03-07 17:45:10,600,0",
    ]
    path = tmp_path / "trips.csv"
    path.write_text("\n".join(body) + "\n")
    t = read_trips(path)
    assert t.trip_id == ["t1", "t9"] and t.hour.tolist() == [8, 17] and t.priority.tolist() == [True, False]
    assert t.weekday.tolist() == [True, False]  # 2026-03-07 is a Saturday
    got = {(r.row, r.reason) for r in t.rejected}
    assert got == {
        (2, "no_hour"),
        (3, "duplicate_id"),
        (4, "bad_time"),
        (5, "bad_time"),
        (6, "bad_row"),
        (7, "bad_coordinates"),
        (8, "bad_flag"),
        (9, "bad_row"),
        (10, "bad_row"),
    }
    detail = {r.row: r.detail for r in t.rejected}
    assert "no time of day" in detail[2] and "already on row 1" in detail[3] and "origin_lat 'abc'" in detail[6]
    assert t.rows_read == 11


def test_gb18030_and_weekday_column(tmp_path):
    path = tmp_path / "trips.csv"
    text = HEADER + ",weekday,备注\n" + GOOD + ",no,调休\n"
    path.write_bytes(text.encode("gb18030"))
    t = read_trips(path)
    assert len(t) == 1 and t.weekday.tolist() == [False]  # the column wins over the date (a Monday)


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        (HEADER + "\n", "has a header but no trips"),
        ("trip_id,origin_lon,origin_lat\nt1,1,2\n", "lacks column(s) destination_lon"),
    ],
)
def test_unreadable_files_are_errors(tmp_path, text, message):
    path = tmp_path / "trips.csv"
    path.write_text(text)
    with pytest.raises(GeoserviceError) as err:
        read_trips(path)
    assert err.value.field == "trips" and message in err.value.message


# ------------------------------------------------------------------------------ on the network
def test_network_checks_name_each_trip(shanghai_engine, rows, tmp_path):
    bad = [dict(r) for r in rows[:12]]
    bad[0]["origin_lon"], bad[0]["origin_lat"] = 121.4, 31.05  # 10 km south of the extract
    bad[1]["observed_s"] = 20.0
    bad[2]["destination_lon"], bad[2]["destination_lat"] = bad[2]["origin_lon"], bad[2]["origin_lat"]
    t = read_trips(write(tmp_path / "t.csv", bad))
    tn, rejected = prepare(shanghai_engine, t, "drive", region="shanghai")
    why = {r.trip_id: (r.reason, r.detail) for r in rejected}
    assert why[bad[0]["trip_id"]][0] == "off_network" and "from the nearest drive road" in why[bad[0]["trip_id"]][1]
    assert why[bad[1]["trip_id"]][0] == "too_fast" and "km/h" in why[bad[1]["trip_id"]][1]
    assert why[bad[2]["trip_id"]][0] == "too_short"
    assert len(tn.keep) == 9 and tn.top_speed_kmh > 50


def test_wrong_coordinate_system_is_refused(shanghai_engine, rows, tmp_path, regions_dir, capsys):
    """Trips converted to GCJ-02 (AMap) but declared WGS-84 are refused, naming --crs; declared
    as what they are they load with none off the network."""
    gcj = [dict(r) for r in rows]
    for r in gcj:
        r["origin_lon"], r["origin_lat"] = (float(v) for v in wgs84_to_gcj02(r["origin_lon"], r["origin_lat"]))
        r["destination_lon"], r["destination_lat"] = (
            float(v) for v in wgs84_to_gcj02(r["destination_lon"], r["destination_lat"])
        )
    path = write(tmp_path / "gcj.csv", gcj)
    out = tmp_path / "out"
    code, err = run(
        ["calibrate", "--region", str(regions_dir / "shanghai"), "--trips", str(path), "--out", str(out)], capsys
    )
    assert code == 2 and err.count("\n") == 0
    assert err.startswith("geoservice: error: --crs: ") and "GCJ-02" in err and "pass --crs gcj02" in err
    assert not out.exists()
    tn, rejected = prepare(shanghai_engine, read_trips(path, "gcj02"), "drive", region="shanghai")
    assert not [r for r in rejected if r.reason == "off_network"] and len(tn.keep) >= 58


# ------------------------------------------------------------------------------ the command
@pytest.mark.parametrize(
    "extra,flag",
    [
        (["--folds", "1"], "--folds"),
        (["--folds", "99"], "--folds"),
        (["--max-iterations", "0"], "--max-iterations"),
    ],
)
def test_bad_arguments_exit_2_in_one_line(tmp_path, regions_dir, capsys, extra, flag):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "\n" + GOOD + "\n")
    argv = ["calibrate", "--region", str(regions_dir / "shanghai"), "--trips", str(path), "--out", str(tmp_path / "o")]
    code, err = run(argv + extra, capsys)
    assert code == 2 and err.startswith(f"geoservice: error: {flag}: ") and "\n" not in err


@pytest.mark.parametrize(
    "argv_tail,starts",
    [
        (["--crs", "utm"], "geoservice: error: argument --crs: invalid choice"),
        (["--profile", "walk"], "geoservice: error: argument --profile: invalid choice"),
    ],
)
def test_bad_choices_exit_2_in_one_line(tmp_path, capsys, argv_tail, starts):
    code, err = run(["calibrate", "--trips", "x.csv", "--out", str(tmp_path / "o"), *argv_tail], capsys)
    assert code == 2 and err.startswith(starts) and "\n" not in err


def test_bad_files_exit_2_naming_the_flag(tmp_path, regions_dir, rows, capsys):
    region = ["--region", str(regions_dir / "shanghai")]
    out = tmp_path / "o"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, err = run(["calibrate", *region, "--trips", str(empty), "--out", str(out)], capsys)
    assert code == 2 and err.startswith("geoservice: error: --trips: ") and "is empty" in err
    code, err = run(["calibrate", *region, "--trips", str(tmp_path / "nope.csv"), "--out", str(out)], capsys)
    assert code == 2 and "--trips: file not found" in err
    far = [dict(r, origin_lon=116.39, origin_lat=39.90, destination_lon=116.41, destination_lat=39.92) for r in rows]
    code, err = run(["calibrate", *region, "--trips", str(write(tmp_path / "far.csv", far)), "--out", str(out)], capsys)
    assert code == 2 and err.startswith("geoservice: error: --trips: ") and "roads of region 'shanghai'" in err
    few = write(tmp_path / "few.csv", rows[:12])
    code, err = run(["calibrate", *region, "--trips", str(few), "--out", str(out)], capsys)
    assert code == 2 and "--trips: only 12 of the 12 trips" in err and "nothing fitted" in err
    bad_profile = tmp_path / "hours.csv"
    bad_profile.write_text("road_class,h00\n")
    code, err = run(
        ["calibrate", *region, "--trips", str(few), "--out", str(out), "--hourly-profiles", str(bad_profile)], capsys
    )
    assert code == 2 and err.startswith("geoservice: error: --hourly-profiles: ")
    assert not out.exists() and "\n" not in err


def test_all_rows_bad_is_an_error_not_an_empty_fit(tmp_path, regions_dir, capsys):
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER + "\n" + "\n".join(f"t{i},121.45,31.21,121.47,31.23,2026-03-02,600" for i in range(5)) + "\n"
    )
    code, err = run(
        ["calibrate", "--region", str(regions_dir / "shanghai"), "--trips", str(path), "--out", str(tmp_path / "o")],
        capsys,
    )
    assert code == 2 and "--trips: no row of" in err and "5 rejected" in err


def test_too_fast_uses_the_straight_line(shanghai_engine, rows, tmp_path):
    """A trip is impossible when even the straight line would need more than the network's top
    speed; a merely fast one is left to the fit."""
    r = dict(rows[0])
    km = np.hypot(
        (r["destination_lon"] - r["origin_lon"]) * 111.32 * np.cos(np.radians(r["origin_lat"])),
        (r["destination_lat"] - r["origin_lat"]) * 111.32,
    )
    tn, _ = prepare(shanghai_engine, read_trips(write(tmp_path / "a.csv", [r])), "drive", region="shanghai")
    top = tn.top_speed_kmh
    fast = dict(r, trip_id="fast", observed_s=3600 * km / (top * 1.05))
    ok = dict(r, trip_id="ok", observed_s=3600 * km / (top * 0.95))
    _, rejected = prepare(
        shanghai_engine, read_trips(write(tmp_path / "b.csv", [fast, ok])), "drive", region="shanghai"
    )
    assert [(x.trip_id, x.reason) for x in rejected] == [("fast", "too_fast")]
