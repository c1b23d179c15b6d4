"""Time of day: 24 hourly travel-time factors per road class, a CSV format for one's own, and the
congestion table of a departure hour, which the engine turns into weights like any scenario."""

from __future__ import annotations

import datetime as dt

import pytest

from geoservice.errors import GeoserviceError
from geoservice.sources.speeds import (
    HOUR_LEVELS,
    ROAD_CLASSES,
    SCENARIOS,
    default_hourly_profiles,
    parse_depart,
    read_hourly_profiles,
    scenario_for_depart,
)

HEADER = "road_class," + ",".join(f"h{h:02d}" for h in range(24))


def test_default_curve_follows_the_tables():
    """Night is free flow, the report peaks (07-09, 17-19) are the peak table, the day the
    off-peak table, and the shoulder hours lie between them."""
    prof = default_hourly_profiles()
    assert set(prof) == set(ROAD_CLASSES) and all(len(f) == 24 for f in prof.values())
    for cls, f in prof.items():
        assert all(f[h] == 1.0 for h in (0, 1, 2, 3, 4, 5, 23))
        assert all(f[h] == SCENARIOS["peak"].get(cls, 1.0) for h in (7, 8, 17, 18))
        assert all(f[h] == SCENARIOS["off_peak"].get(cls, 1.0) for h in range(10, 16))
        lo, hi = SCENARIOS["off_peak"].get(cls, 1.0), SCENARIOS["peak"].get(cls, 1.0)
        assert f[9] == pytest.approx((lo + hi) / 2) and f[16] == f[19] == f[9]
    assert prof["primary"][6] == pytest.approx(1.05)  # half way from free flow to off-peak's 1.1
    assert max(HOUR_LEVELS) == 2.0 and min(HOUR_LEVELS) == 0.0


@pytest.mark.parametrize(
    "depart,want",
    [("08:30", "peak"), ("17:05", "peak"), ("03:00", "free_flow"), ("12:00", "off_peak"), (dt.time(7, 59), "peak")],
)
def test_scenario_for_depart_is_the_hour_table(depart, want):
    assert scenario_for_depart(depart) == SCENARIOS[want]


@pytest.mark.parametrize("bad", ["24:00", "8h", "7:60", "", None, 25, True, "07:00:00"])
def test_bad_departure_names_the_field(bad):
    with pytest.raises(GeoserviceError) as err:
        parse_depart(bad)
    assert err.value.field == "depart"


def test_hour_of_datetime_and_int():
    assert (
        parse_depart(dt.datetime(2026, 11, 22, 18, 45)) == 18 and parse_depart(0) == 0 and parse_depart(" 9:05 ") == 9
    )


def test_csv_profiles(tmp_path):
    path = tmp_path / "hours.csv"
    primary = [1.0] * 7 + [2.2, 2.4] + [1.3] * 8 + [2.5, 2.1] + [1.2] * 5
    path.write_text(
        HEADER + "\nprimary," + ",".join(map(str, primary)) + "\n\nmotorway," + ",".join(["1.5"] * 24) + "\n"
    )
    prof = read_hourly_profiles(path)
    assert prof["primary"] == tuple(primary) and prof["motorway"] == (1.5,) * 24
    assert prof["residential"] == (1.0,) * 24  # not listed: free flow all day
    assert scenario_for_depart("08:10", prof) == {"primary": 2.4, "motorway": 1.5}
    assert scenario_for_depart("02:00", prof) == {"motorway": 1.5}


@pytest.mark.parametrize(
    "body,message",
    [
        ("road_class,h0\nprimary,1", "header"),
        (HEADER + "\nhighway," + ",".join(["1"] * 24), "row 2: unknown road class 'highway'"),
        (HEADER + "\nprimary," + ",".join(["1"] * 23), "24 hourly factors needed, got 23"),
        (HEADER + "\nprimary," + ",".join(["1"] * 23 + ["0"]), "row 2, h23: '0'"),
        (HEADER + "\nprimary," + ",".join(["fast"] + ["1"] * 23), "h00: 'fast'"),
        (
            HEADER + "\nprimary," + ",".join(["1"] * 24) + "\nprimary," + ",".join(["1"] * 24),
            "row 3: road class 'primary' given twice",
        ),
    ],
)
def test_csv_errors_name_the_row(tmp_path, body, message):
    path = tmp_path / "hours.csv"
    path.write_text(body + "\n")
    with pytest.raises(GeoserviceError) as err:
        read_hourly_profiles(path)
    assert err.value.field == "speed_profile" and message in str(err.value)


def test_engine_uses_the_hour_table(andorra_engine):
    """A departure at 08:00 gives the peak table, hence the very same customised hierarchy and
    the same matrix as scenario="peak"; at night, free flow."""
    router = andorra_engine.router_for("drive")
    assert router.metric("drive", scenario_for_depart("08:00")) is router.metric("drive", "peak")
    assert router.metric("drive", scenario_for_depart("04:00")) is router.metric("drive", None)
    pts = [(1.5212, 42.5069), (1.5836, 42.5359), (1.4866, 42.5456)]
    peak = [r[1].tolist() for r in andorra_engine.matrix(pts, pts, scenario="peak")]
    assert [r[1].tolist() for r in andorra_engine.matrix(pts, pts, scenario=scenario_for_depart("08:00"))] == peak
