"""Time of day through every face: ``depart=HH:MM`` / ``--depart`` picks the hour's traffic on
nearest, isochrones, service areas, coverage, what-if and matrices; it excludes ``scenario``;
walking ignores traffic; a user's hourly profile file is read at start; every answer says which
scenario or hour it used. The hour's times are checked against the named scenario whose factors
the default curve gives that hour (08 = peak, 03 = free flow, 12 = off-peak)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from geoservice.errors import GeoserviceError
from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.questions import NearestQuestion, TrafficAsk
from geoservice.service.core import GeoService
from geoservice.service.settings import Settings
from geoservice.service.traffic import resolve
from geoservice.service.usecases import queries
from geoservice.sources.speeds import ROAD_CLASSES, SCENARIOS

CENTRE = {"lon": 1.5836, "lat": 42.5359}  # Andorra: Encamp road
MONACO = {"lon": 7.4236, "lat": 43.7384}
HEADER = "road_class," + ",".join(f"h{h:02d}" for h in range(24))


@pytest.fixture(scope="module")
def svc(andorra, monaco):
    return GeoService([andorra, monaco])


@pytest.fixture(scope="module")
def client(svc):
    with TestClient(create_app(svc)) as c:
        yield c


def times(ans: dict) -> list[float]:
    return [r["time_s"] for r in ans["results"]]


# ------------------------------------------------------------------------------ API
def test_nearest_depart_is_the_hours_scenario_and_says_so(client):
    q = dict(CENTRE, type="chest_pain_center", k=3)
    peak = client.get("/nearest", params=dict(q, scenario="peak")).json()
    at8 = client.get("/nearest", params=dict(q, depart="08:30")).json()
    free = client.get("/nearest", params=q).json()
    night = client.get("/nearest", params=dict(q, depart="03:10")).json()
    assert times(at8) == times(peak) and times(night) == times(free)
    assert all(p > f for p, f in zip(times(peak), times(free)))  # real trips, slower at peak
    assert (at8["scenario"], at8["depart"]) == ("hour_08", "08:30")
    assert (peak["scenario"], peak["depart"]) == ("peak", None)
    assert (free["scenario"], night["scenario"]) == ("free_flow", "hour_03")


@pytest.mark.parametrize(
    "params,field",
    [
        ({"scenario": "peak", "depart": "08:00"}, "depart"),
        ({"scenario": "free_flow", "depart": "08:00"}, "depart"),
        ({"depart": "24:00"}, "depart"),
        ({"depart": "8h"}, "depart"),
    ],
)
def test_bad_or_double_traffic_is_422_naming_the_field(client, params, field):
    for path, base in (
        ("/nearest", dict(CENTRE, type="chest_pain_center")),
        ("/isochrones", dict(CENTRE, minutes="5")),
        ("/coverage", {"type": "chest_pain_center", "region": "andorra"}),
        ("/service-areas", {"type": "chest_pain_center", "region": "andorra"}),
    ):
        r = client.get(path, params=dict(base, **params))
        assert r.status_code == 422 and r.json()["field"] == field, (path, r.text)


def test_walking_ignores_traffic_on_every_face(client):
    """AEDs go on foot: a departure time or a traffic scenario is an error naming it; free flow
    (what the planner sends for AEDs) is fine."""
    aed = dict(MONACO, type="aed")
    for params, field in (({"depart": "08:00"}, "depart"), ({"scenario": "peak"}, "scenario")):
        for path, q in (
            ("/nearest", aed),
            ("/isochrones", dict(MONACO, minutes="4", profile="walk")),
            ("/coverage", {"type": "aed", "region": "monaco"}),
        ):
            r = client.get(path, params=dict(q, **params))
            assert r.status_code == 422 and r.json()["field"] == field, (path, r.text)
            assert "walking ignores traffic" in r.json()["detail"]
    ok = client.get("/coverage", params={"type": "aed", "region": "monaco", "scenario": "free_flow"})
    assert ok.status_code == 200 and ok.json()["scenario"] == "free_flow"


def test_walk_rule_lives_in_the_engine(monaco_engine):
    walk = monaco_engine.router_for("walk")
    with pytest.raises(GeoserviceError) as err:
        walk.weights("walk", "peak")
    assert err.value.field == "scenario"
    with pytest.raises(GeoserviceError):
        walk.weights("walk", {"footway": 1.5})
    assert walk.weights("walk", {"footway": 1.0}) is walk.net.times("walk")  # no change: accepted
    with pytest.raises(GeoserviceError):
        monaco_engine.nearest(NearestQuestion.of(7.4236, 43.7384, type="aed", profile="walk"), scenario="peak")


def test_isochrones_and_service_areas_with_depart(client):
    peak = client.get("/isochrones", params=dict(CENTRE, minutes="5,10", scenario="peak")).json()
    at8 = client.get("/isochrones", params=dict(CENTRE, minutes="5,10", depart="08:00")).json()
    assert [f["geometry"] for f in at8["features"]] == [f["geometry"] for f in peak["features"]]
    assert {(f["properties"]["scenario"], f["properties"]["depart"]) for f in at8["features"]} == {("hour_08", "08:00")}
    q = {"type": "chest_pain_center", "region": "andorra", "minutes": 10}
    areas = client.get("/service-areas", params=dict(q, depart="17:45")).json()["features"]
    peak_areas = client.get("/service-areas", params=dict(q, scenario="peak")).json()["features"]
    assert [f["geometry"] for f in areas] == [f["geometry"] for f in peak_areas]
    assert {f["properties"]["scenario"] for f in areas} == {"hour_17"}
    assert {f["properties"]["scenario"] for f in peak_areas} == {"peak"}  # cached apart
    csv_name = client.get("/service-areas", params=dict(q, depart="17:45", format="csv")).headers["content-disposition"]
    assert "depart-17-45" in csv_name


def test_coverage_and_whatif_with_depart(client):
    q = {"type": "chest_pain_center", "region": "andorra", "minutes": 10, "gaps": "false"}
    at8 = client.get("/coverage", params=dict(q, depart="08:00")).json()
    peak = client.get("/coverage", params=dict(q, scenario="peak")).json()
    free = client.get("/coverage", params=q).json()
    assert at8["overall"] == peak["overall"] and at8["overall"] != free["overall"]
    assert (at8["scenario"], at8["depart"], at8["hour"]) == ("hour_08", "08:00", 8)
    assert "depart 08:00" in at8["method"] and peak["scenario"] == "peak" and "depart" not in peak
    body = {"type": "chest_pain_center", "minutes": 10, "region": "andorra", "add": [{"lon": 1.6671, "lat": 42.5769}]}
    w8 = client.post("/whatif", json=dict(body, depart="08:00")).json()
    wp = client.post("/whatif", json=dict(body, scenario="peak")).json()
    assert w8["after"]["overall"] == wp["after"]["overall"] and w8["before"]["overall"] == peak["overall"]
    assert w8["after"]["scenario"] == "hour_08" and w8["before"]["depart"] == "08:00"
    both = client.post("/whatif", json=dict(body, scenario="peak", depart="08:00"))
    assert both.status_code == 422 and both.json()["field"] == "depart"


def test_depart_hours_for_the_planner(client):
    ans = client.get("/depart-hours").json()
    hours = ans["hours"]
    assert [h["depart"] for h in hours] == [f"{h:02d}:00" for h in range(24)]
    level = {h["hour"]: h["level"] for h in hours}
    assert level[3] == "free_flow" and level[8] == level[18] == "peak" and level[12] == "off_peak"
    assert level[9] == "mixed" and hours[8]["max_factor"] == max(SCENARIOS["peak"].values())
    assert "AMap" in ans["source"]


# ------------------------------------------------------------------------------ hourly profile file
def write_profile(path, rows: dict[str, list[float]]):
    lines = [HEADER] + [f"{cls}," + ",".join(f"{f:g}" for f in facs) for cls, facs in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_users_hourly_profile_file(andorra, tmp_path):
    """GEOSERVICE_HOURLY_PROFILES: its hour's factors are the table depart uses; a bad file stops
    the settings from being made, with an error naming hourly_profiles."""
    f = write_profile(tmp_path / "hours.csv", {"primary": [1.0] * 10 + [2.5] + [1.0] * 13, "secondary": [1.3] * 24})
    svc = GeoService([andorra], settings=Settings.of(hourly_profiles=f))
    near = NearestQuestion.of(**CENTRE, type="chest_pain_center", k=3)
    at10 = queries.nearest(svc, replace(near, traffic=TrafficAsk(depart="10:15")))
    table = queries.nearest(svc, replace(near, traffic=TrafficAsk({"primary": 2.5, "secondary": 1.3})))
    at11 = queries.nearest(svc, replace(near, traffic=TrafficAsk({"secondary": 1.3})))
    assert [h.time_s for h in at10.results] == [h.time_s for h in table.results]
    assert [h.time_s for h in at10.results] != [h.time_s for h in at11.results]
    tr = resolve(svc.settings, walking=False, depart="10:15")
    assert tr.scenario == {"primary": 2.5, "secondary": 1.3} and tr.source == str(f)
    bad = write_profile(tmp_path / "bad.csv", {"primary": [1.0] * 23 + [0.0]})
    for path in (bad, tmp_path / "missing.csv"):
        with pytest.raises(GeoserviceError) as err:
            Settings.of(hourly_profiles=path)
        assert err.value.field == "hourly_profiles"


# ------------------------------------------------------------------------------ CLI
def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_depart_on_nearest_isochrone_matrix_coverage(regions_dir, tmp_path, capsys, client):
    reg = ("--region", regions_dir / "andorra")
    pt = ("--lon", CENTRE["lon"], "--lat", CENTRE["lat"])
    code, out, err = cli(capsys, "nearest", *reg, *pt, "--type", "chest_pain_center", "--k", 3, "--depart", "08:30")
    assert code == 0, err
    api = client.get("/nearest", params=dict(CENTRE, type="chest_pain_center", k=3, depart="08:30")).json()
    assert json.loads(out) == api
    code, out, err = cli(capsys, "isochrone", *reg, *pt, "--minutes", "5", "--depart", "18:00")
    assert code == 0 and json.loads(out)["features"][0]["properties"]["scenario"] == "hour_18"
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\na,1.5836,42.5359\nb,1.5212,42.5069\nc,1.6671,42.5769\n", encoding="utf-8")
    for args in (("--depart", "08:00"), ("--scenario", "peak")):
        out = tmp_path / "m.csv"
        code, _, err = cli(capsys, "matrix", *reg, "--origins", pts, "--destinations", pts, "-o", out, *args)
        assert code == 0, err
        with open(out, encoding="utf-8") as fh:
            rows = [(r["origin_id"], r["destination_id"], r["time_s"]) for r in csv.DictReader(fh)]
        if args[0] == "--depart":
            at8 = rows
            assert "depart 08:00 (hour 08" in err
    assert at8 == rows and len(rows) == 9
    code, _, err = cli(capsys, "coverage", *reg, "--type", "chest_pain_center", "--minutes", 10, "--depart", "08:00",
                       "--no-gaps", "-o", tmp_path / "cov")  # fmt: skip
    assert code == 0, err
    rep = json.loads((tmp_path / "cov" / "report.json").read_text(encoding="utf-8"))
    assert rep["depart"] == "08:00" and rep["hour"] == 8 and "hour_08" in err
    api = client.get("/coverage", params={"type": "chest_pain_center", "region": "andorra", "minutes": 10,
                                          "scenario": "peak", "gaps": "false"}).json()  # fmt: skip
    assert rep["overall"] == api["overall"]


@pytest.mark.parametrize(
    "args,flag",
    [
        (("--scenario", "peak", "--depart", "08:00"), "--depart"),
        (("--depart", "7:60"), "--depart"),
        (("--depart", "08:00", "--hourly-profiles", "/nonexistent/hours.csv"), "--hourly-profiles"),
    ],
)
def test_cli_traffic_errors_name_the_flag(regions_dir, capsys, args, flag):
    reg = ("--region", regions_dir / "andorra")
    pt = ("--lon", CENTRE["lon"], "--lat", CENTRE["lat"])
    code, _, err = cli(capsys, "nearest", *reg, *pt, "--type", "chest_pain_center", *args)
    assert code == 2 and err.startswith(f"geoservice: error: {flag}: "), err


def test_cli_walking_depart_is_an_error(regions_dir, capsys):
    code, _, err = cli(capsys, "nearest", "--region", regions_dir / "monaco", "--lon", MONACO["lon"], "--lat",
                       MONACO["lat"], "--type", "aed", "--depart", "08:00")  # fmt: skip
    assert code == 2 and err.startswith("geoservice: error: --depart: walking ignores traffic")


def test_cli_hourly_profiles_flag(regions_dir, tmp_path, capsys):
    f = write_profile(tmp_path / "h.csv", {cls: [1.0] * 6 + [3.0] + [1.0] * 17 for cls in ROAD_CLASSES})
    reg = ("--region", regions_dir / "andorra")
    pt = ("--lon", CENTRE["lon"], "--lat", CENTRE["lat"])
    base = ("nearest", *reg, *pt, "--type", "chest_pain_center")
    code, out, err = cli(capsys, *base, "--depart", "06:30", "--hourly-profiles", f)
    assert code == 0, err
    code, free, err = cli(capsys, *base)
    r6, r0 = json.loads(out)["results"][0], json.loads(free)["results"][0]
    legs = r0["access_s"] + r0["facility_access_s"]  # walked off the road: no traffic there
    assert r6["access_s"] + r6["facility_access_s"] == pytest.approx(legs)
    # every drive road three times slower, nothing else
    assert r6["time_s"] == pytest.approx(3 * (r0["time_s"] - legs) + legs, abs=0.3)
