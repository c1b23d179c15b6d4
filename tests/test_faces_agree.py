"""Every face gives the same answer: an edit made through the API is seen by the CLI's nearest,
coverage and publish on the same registry, and the API and CLI coverage figures are equal."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService

NEW_AED = {
    "id": "e2e-aed",
    "type": "aed",
    "name": "Casino lobby AED (test)",
    "lon": 7.4236,
    "lat": 43.7386,
    "opening_hours": "Mo-Fr 08:00-18:00",
    "access": "yes",
    "source": "test",
}
NEW_CPC = {
    "id": "e2e-cpc",
    "type": "chest_pain_center",
    "level": "basic",
    "name": "Soldeu CPC [DEMO designation]",
    "lon": 1.6671,
    "lat": 42.5769,
    "demo": True,
    "source": "test",
}


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shared(regions_dir, tmp_path, capsys):
    """A registry file, an editor key made by the CLI, and the API over the same registry."""
    db = tmp_path / "registry.sqlite"
    regions = [regions_dir / "andorra", regions_dir / "monaco"]
    code, token, err = cli(capsys, "apikey", "create", "--db", db, "--name", "e2e", "--role", "editor")
    assert code == 0, err
    svc = GeoService.open(regions=regions, db=db)
    with TestClient(create_app(svc)) as client:
        yield client, {"X-API-Key": token.strip()}, db, [a for r in regions for a in ("--region", r)]
    svc.close()


def test_api_edit_is_seen_by_cli_nearest_coverage_and_publish(shared, capsys, tmp_path):
    client, key, db, regions = shared
    for rec in (NEW_AED, NEW_CPC):
        r = client.post("/facilities", json=rec, headers=key)
        assert r.status_code == 201, r.text

    # nearest: the API and the CLI name the new AED (on foot) and the new center (by car)
    api = client.get("/nearest", params={"lon": 7.4236, "lat": 43.7384, "type": "aed"}).json()
    code, out, err = cli(capsys, "nearest", *regions, "--db", db, "--lon", 7.4236, "--lat", 43.7384, "--type", "aed")
    assert code == 0, err
    assert json.loads(out) == api
    assert api["profile"] == "walk" and api["results"][0]["facility"]["id"] == "e2e-aed"
    code, out, err = cli(
        capsys, "nearest", *regions, "--db", db, "--lon", 1.6675, "--lat", 42.5772, "--type", "chest_pain_center"
    )
    assert code == 0, err
    assert json.loads(out)["results"][0]["facility"]["id"] == "e2e-cpc"
    # without the registry the CLI answers from the bundle, which does not have them
    code, out, _ = cli(
        capsys,
        "nearest",
        *regions,
        "--db",
        tmp_path / "none.sqlite",
        "--lon",
        7.4236,
        "--lat",
        43.7384,
        "--type",
        "aed",
    )
    assert code == 0 and json.loads(out)["results"][0]["facility"]["id"] != "e2e-aed"

    # coverage of AEDs in Monaco: on foot in both faces, equal figures, and the new AED counts
    api_cov = client.get("/coverage", params={"type": "aed", "region": "monaco", "gaps": False}).json()
    code, _, err = cli(capsys, "coverage", "--region", regions[3], "--db", db, "--type", "aed", "-o", tmp_path / "cov")
    assert code == 0, err
    rep = json.loads((tmp_path / "cov" / "report.json").read_text())
    assert rep["profile"] == api_cov["profile"] == "walk" and rep["minutes"] == api_cov["minutes"] == 4
    assert rep["overall"]["population_share"] == api_cov["overall"]["population_share"]
    assert rep["overall"]["road_share"] == api_cov["overall"]["road_share"]
    code, _, err = cli(
        capsys,
        "coverage",
        "--region",
        regions[3],
        "--db",
        tmp_path / "none.sqlite",
        "--type",
        "aed",
        "-o",
        tmp_path / "cov-bundle",
    )
    assert code == 0, err
    bundle_rep = json.loads((tmp_path / "cov-bundle" / "report.json").read_text())
    assert bundle_rep["overall"]["road_share"] < rep["overall"]["road_share"]

    # the published chest pain map draws the new center
    code, _, err = cli(capsys, "publish", "--region", regions[1], "--db", db, "--out", tmp_path / "maps", "--no-png")
    assert code == 0, err
    html = (tmp_path / "maps" / "andorra_chest_pain_centers.html").read_text(encoding="utf-8")
    assert "Soldeu CPC [DEMO designation]" in html


def test_opening_hours_filter_on_aeds_with_hours(shared, capsys):
    """AEDs with hours are left out when closed; unknown hours are reported as unknown, never open."""
    client, key, db, regions = shared
    assert client.post("/facilities", json=NEW_AED, headers=key).status_code == 201
    args = ("nearest", *regions, "--db", db, "--lon", 7.4236, "--lat", 43.7384, "--type", "aed", "--k", "3")
    code, out, err = cli(capsys, *args, "--at", "2026-11-23T10:00")  # a Monday morning: open
    assert code == 0, err
    monday = json.loads(out)["results"]
    assert monday[0]["facility"]["id"] == "e2e-aed" and monday[0]["open_at"] is True
    # the OSM AEDs of Monaco carry no opening_hours: unknown, not open
    assert all(r["open_at"] is None for r in monday if r["facility"]["opening_hours"] is None)
    code, out, err = cli(capsys, *args, "--at", "2026-11-22T03:00")  # a Sunday night: closed
    assert code == 0, err
    sunday = json.loads(out)["results"]
    assert "e2e-aed" not in {r["facility"]["id"] for r in sunday} and sunday
    api = client.get(
        "/nearest", params={"lon": 7.4236, "lat": 43.7384, "type": "aed", "k": 3, "at": "2026-11-22T03:00"}
    ).json()["results"]
    assert [r["facility"]["id"] for r in api] == [r["facility"]["id"] for r in sunday]


def test_bad_opening_hours_rejected_by_api(shared):
    client, key, _, _ = shared
    r = client.post(
        "/facilities", json={**NEW_AED, "id": "bad-hours", "opening_hours": "when the janitor is in"}, headers=key
    )
    assert r.status_code == 422 and r.json()["field"] == "opening_hours"


def test_settings_act_on_cli_and_api(regions_dir, monkeypatch, capsys, tmp_path):
    """GEOSERVICE_MAX_SNAP_DRIVE_M limits snapping in the CLI and the API alike."""
    from geoservice.service import settings as settings_mod

    monkeypatch.setenv("GEOSERVICE_MAX_SNAP_DRIVE_M", "5")
    settings_mod.get_settings.cache_clear()
    try:
        far = {"lon": 1.5226, "lat": 42.5069}  # tens of metres off a road in Andorra la Vella
        code, _, err = cli(
            capsys,
            "nearest",
            "--region",
            regions_dir / "andorra",
            "--db",
            tmp_path / "r.sqlite",
            "--lon",
            far["lon"],
            "--lat",
            far["lat"],
            "--type",
            "chest_pain_center",
        )
        assert code == 2 and "the limit is 5 m" in err
        svc = GeoService.open(regions=[regions_dir / "andorra"], db=tmp_path / "r.sqlite")
        with TestClient(create_app(svc)) as client:
            r = client.get("/nearest", params={**far, "type": "chest_pain_center"})
        assert r.status_code == 422 and "the limit is 5 m" in r.json()["detail"]
    finally:
        settings_mod.get_settings.cache_clear()


def test_regions_and_db_settings_act_on_cli_and_api(regions_dir, monkeypatch, capsys, tmp_path):
    """GEOSERVICE_REGIONS and GEOSERVICE_DB_PATH pick the same regions and registry for both faces."""
    from geoservice.service import settings as settings_mod

    db = tmp_path / "configured.sqlite"
    monkeypatch.setenv("GEOSERVICE_REGIONS", json.dumps([str(regions_dir / "monaco")]))
    monkeypatch.setenv("GEOSERVICE_DB_PATH", str(db))
    settings_mod.get_settings.cache_clear()
    try:
        svc = GeoService.open()
        assert list(svc.regions) == ["monaco"] and svc.registry is not None and svc.registry.path == db
        _, token = svc.registry.create_key("configured", "editor")
        with TestClient(create_app(svc)) as client:
            r = client.post("/facilities", json=NEW_AED, headers={"X-API-Key": token})
            assert r.status_code == 201, r.text
        code, out, err = cli(capsys, "nearest", "--lon", 7.4236, "--lat", 43.7384, "--type", "aed")
        assert code == 0, err
        assert json.loads(out)["results"][0]["facility"]["id"] == "e2e-aed"
        code, _, err = cli(capsys, "nearest", "--lon", 1.5836, "--lat", 42.5359, "--type", "chest_pain_center")
        assert code == 2 and "m from the nearest drive road" in err  # only Monaco is served
    finally:
        settings_mod.get_settings.cache_clear()


def test_help_lists_types_and_levels(capsys):
    code = main(["nearest", "--help"])
    out = capsys.readouterr().out
    assert code == 0
    for word in ("chest_pain_center", "stroke_center", "aed", "standard", "basic", "advanced", "evt", "ivt"):
        assert word in out, word
