"""The responder registry and POST /dispatch over HTTP, on SQLite and on PostgreSQL.

Responder positions are SYNTHETIC points around Place du Casino, Monaco (no real volunteer is
tracked). What is checked: who may do what (responder / dispatcher roles), positions seen by
every worker, never audited, gone after the TTL, and the CLI printing the API's answer.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.registry import responders as responders_mod

ARREST = {"lon": 7.4236, "lat": 43.7384, "at": "2026-11-29T03:00"}
SYNTHETIC = {  # responder name -> synthetic position near the arrest
    "resp-a": (7.4250, 43.7390),
    "resp-b": (7.4210, 43.7370),
    "resp-c": (7.4270, 43.7405),
    "resp-d": (7.4180, 43.7335),
}


@pytest.fixture
def tokens(state):
    reg = state.registry
    out = {name: reg.create_key(name, "responder")[1] for name in SYNTHETIC}
    out["dispatcher"] = reg.create_key("desk-1", "dispatcher")[1]
    out["admin"] = reg.create_key("boss", "admin")[1]
    out["editor"] = reg.create_key("ed", "editor")[1]
    out["viewer"] = reg.create_key("view", "viewer")[1]
    return out


def h(token: str) -> dict[str, str]:
    return {"X-API-Key": token}


def post_all(client, tokens, **extra):
    for name, (lon, lat) in SYNTHETIC.items():
        r = client.post("/responders/position", json={"lon": lon, "lat": lat, **extra}, headers=h(tokens[name]))
        assert r.status_code == 200, r.text


def rows(state) -> int:
    with state.registry.db.read() as q:
        r = q.one("SELECT COUNT(*) AS n FROM responder_positions")
    assert r is not None
    return int(r["n"])


def test_roles(client, tokens):
    pos = {"lon": 7.425, "lat": 43.739}
    for who in ("dispatcher", "admin", "editor", "viewer"):
        r = client.post("/responders/position", json=pos, headers=h(tokens[who]))
        assert r.status_code == 403 and "responder" in r.json()["detail"], who
    r = client.post("/responders/position", json=pos, headers=h(tokens["resp-a"]))
    assert r.status_code == 200 and r.json()["responder"] == "resp-a" and r.json()["available"] is True
    for who in ("resp-a", "editor", "viewer"):
        assert client.post("/dispatch", json=ARREST, headers=h(tokens[who])).status_code == 403, who
        assert client.get("/responders", headers=h(tokens[who])).status_code == 403, who
    for who in ("dispatcher", "admin"):
        assert client.post("/dispatch", json=ARREST, headers=h(tokens[who])).status_code == 200, who
        assert client.get("/responders", headers=h(tokens[who])).json()["count"] == 1, who
    # a responder or dispatcher key does not read the audit
    for who in ("resp-a", "dispatcher"):
        assert client.get("/audit", headers=h(tokens[who])).status_code == 403, who
    assert client.post("/dispatch", json=ARREST).status_code == 401
    assert client.post("/responders/position", json=pos).status_code == 401


def test_positions_are_never_audited(client, state, tokens):
    versions = state.registry.region_versions()
    post_all(client, tokens)
    post_all(client, tokens, available=False)
    r = client.delete("/responders/position", headers=h(tokens["resp-a"]))
    assert r.status_code == 200 and r.json() == {"responder": "resp-a", "removed": True}
    assert client.get("/audit", headers=h(tokens["viewer"])).json()["count"] == 0
    with state.registry.db.read() as q:
        assert q.one("SELECT COUNT(*) AS n FROM audit")["n"] == 0
    assert state.registry.region_versions() == versions
    listed = client.get("/responders", headers=h(tokens["dispatcher"])).json()
    assert sorted(r["responder"] for r in listed["responders"]) == ["resp-b", "resp-c", "resp-d"]
    assert all(r["available"] is False for r in listed["responders"])


def test_no_position_outlives_its_ttl(client, state, tokens, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(responders_mod, "wall_clock", lambda: now[0])
    post_all(client, tokens)
    ttl = state.settings.server.responder_ttl_s
    assert ttl == 120 and rows(state) == 4
    now[0] += ttl - 1
    r = client.get("/responders", headers=h(tokens["dispatcher"])).json()
    assert r["count"] == 4 and all(p["expires_in_s"] == 1 for p in r["responders"])
    # resp-a posts again: it alone stays
    lon, lat = SYNTHETIC["resp-a"]
    client.post("/responders/position", json={"lon": lon, "lat": lat}, headers=h(tokens["resp-a"]))
    now[0] += 1
    assert [
        p["responder"] for p in client.get("/responders", headers=h(tokens["dispatcher"])).json()["responders"]
    ] == ["resp-a"]
    assert rows(state) == 1  # the expired rows are deleted, not hidden
    now[0] += ttl
    ans = client.post("/dispatch", json=ARREST, headers=h(tokens["dispatcher"])).json()
    assert ans["responders_considered"] == 0 and ans["aed_plan"] is None
    assert rows(state) == 0


def test_every_worker_sees_the_positions(andorra, monaco, open_reg, tokens):
    """Two services on one registry stand for two uvicorn workers (or a worker and the CLI)."""
    a = TestClient(create_app(GeoService([andorra, monaco], registry=open_reg())))
    b = TestClient(create_app(GeoService([andorra, monaco], registry=open_reg())))
    with a, b:
        post_all(a, tokens)
        listed = b.get("/responders", headers=h(tokens["dispatcher"])).json()
        assert listed["count"] == 4
        ans = b.post("/dispatch", json=ARREST, headers=h(tokens["dispatcher"])).json()
        assert ans["responders_considered"] == 4 and ans["responders_source"] == "registry"
        assert a.delete("/responders/position", headers=h(tokens["resp-c"])).json()["removed"] is True
        assert b.get("/responders", headers=h(tokens["dispatcher"])).json()["count"] == 3


def test_dispatch_plan_over_http(client, tokens):
    post_all(client, tokens)
    # an unavailable responder is not sent
    lon, lat = SYNTHETIC["resp-a"]
    client.post("/responders/position", json={"lon": lon, "lat": lat, "available": False}, headers=h(tokens["resp-a"]))
    r = client.post("/dispatch", json=ARREST, headers=h(tokens["dispatcher"]))
    assert r.status_code == 200, r.text
    ans = r.json()
    sent = {d["responder"]["id"] for d in ans["direct"]} | {ans["aed_plan"]["responder"]["id"]}
    assert sent == {"resp-b", "resp-c", "resp-d"} and ans["responders_considered"] == 3
    assert all(d["responder"]["age_s"] is not None for d in ans["direct"])
    plan = ans["aed_plan"]
    assert plan["aed"]["type"] == "aed" and plan["open_at"] is None  # Monaco's OSM AEDs have no hours
    assert plan["time_s"] == pytest.approx(plan["to_aed"]["time_s"] + plan["to_patient"]["time_s"], abs=0.11)
    assert plan["to_aed"]["route"]["type"] == "LineString"
    amb = ans["ambulance"]
    assert amb["station"]["type"] == "ems_station" and amb["station"]["demo"] is True
    assert amb["eta_s"] == pytest.approx(60 + amb["drive"]["time_s"] + amb["access_s"], abs=0.11)
    shock = ans["first_shock"]
    bys = ans["bystander_aed"]  # what to tell the caller: an AED fetched from the patient, there and back
    assert bys["time_s"] == pytest.approx(bys["to_aed"]["time_s"] + bys["back"]["time_s"], abs=0.11)
    assert shock["time_s"] == pytest.approx(min(plan["shock_s"], bys["shock_s"], amb["shock_s"]), abs=0.01)
    assert shock["target_met"] is (shock["time_s"] <= 240)
    # bad input names its field
    bad = client.post("/dispatch", json={**ARREST, "at": "noon"}, headers=h(tokens["dispatcher"]))
    assert bad.status_code == 422 and bad.json()["field"] == "at"
    far = client.post("/dispatch", json={"lon": 100.0, "lat": 10.0}, headers=h(tokens["dispatcher"]))
    assert far.status_code == 404 and far.json()["field"] == "lon,lat"


def test_gcj02_positions_are_stored_as_wgs84(shanghai, monaco, open_reg):
    from geoservice.sources.coords import wgs84_to_gcj02

    # in China, where GCJ-02 differs: a region there is served (a position in none is refused)
    state = GeoService([shanghai, monaco], registry=open_reg())
    token = state.registry.create_key("resp-b", "responder")[1]
    lon, lat = 121.4540, 31.2185
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    with TestClient(create_app(state)) as client:
        r = client.post("/responders/position", json={"lon": glon, "lat": glat, "crs": "gcj02"}, headers=h(token))
    assert r.status_code == 200, r.text
    with state.registry.db.read() as q:
        row = q.one("SELECT lon, lat FROM responder_positions WHERE responder=?", ("resp-b",))
    assert row["lon"] == pytest.approx(lon, abs=1e-6) and row["lat"] == pytest.approx(lat, abs=1e-6)


def test_cli_prints_the_api_answer(client, state, tokens, registry_target, regions_dir, capsys):
    post_all(client, tokens)
    api = client.post("/dispatch", json=ARREST, headers=h(tokens["dispatcher"])).json()
    code = main(
        ["dispatch", "--region", str(regions_dir / "monaco"), "--db", registry_target, "--lon", "7.4236",
         "--lat", "43.7384", "--at", "2026-11-29T03:00"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    cli = json.loads(out)

    def without_ages(obj):
        if isinstance(obj, dict):
            return {k: without_ages(v) for k, v in obj.items() if k != "age_s"}
        if isinstance(obj, list):
            return [without_ages(v) for v in obj]
        return obj

    assert without_ages(cli) == without_ages(api)
    assert cli["responders_considered"] == 4


def test_postgres_table_is_unlogged(state):
    if state.registry.path is not None:
        pytest.skip("PostgreSQL only")
    with state.registry.db.read() as q:
        r = q.one("SELECT relpersistence FROM pg_class WHERE oid = to_regclass('responder_positions')")
    assert r is not None and r["relpersistence"] == "u"
