"""API hardening: security headers, CORS, body limits, field limits, key and write limits, time
limit, and the error answers declared in the OpenAPI document."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient

NEW_AED = {"type": "aed", "name": "Hardening AED", "lon": 7.4201, "lat": 43.7349, "access": "yes"}


@pytest.fixture
def make_app(andorra, monaco, tmp_path):
    """An app over the demo regions with these settings (fresh registry)."""
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry
    from geoservice.service.settings import Settings

    made: list = []

    def _make(**settings):
        svc = GeoService(
            [andorra, monaco], registry=Registry(tmp_path / f"reg{len(made)}.sqlite"), settings=Settings.of(**settings)
        )
        made.append(svc)
        return create_app(svc)

    yield _make
    for svc in made:
        svc.close()


def _editor(app, name="hard-editor"):
    return {"X-API-Key": app.state.geo.registry.create_key(name, "editor")[1]}


def _error(r, status, field):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["field"] == field, body
    assert body["detail"].startswith(f"{field}: "), body
    return body


# --------------------------------------------------------------------------- security headers
def _assert_secure(r):
    h = r.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin")
    assert h["x-frame-options"] == "DENY"
    csp = h["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["img-src"][:2] == ["'self'", "data:"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["style-src"] == ["'self'"]
    return directives


def test_security_headers_on_every_kind_of_answer(make_app):
    from fastapi import HTTPException

    app = make_app()

    @app.get("/_bug", include_in_schema=False)
    def bug():
        raise RuntimeError("a program bug")

    @app.get("/_http", include_in_schema=False)
    def http():
        raise HTTPException(418, "teapot")

    with TestClient(app, raise_server_exceptions=False) as c:
        for path, status in [
            ("/", 200),  # citizen page
            ("/planner", 200),
            ("/health", 200),  # API
            ("/static/leaflet.js", 200),  # static file
            ("/static/nope.js", 404),
            ("/nowhere", 404),
            ("/nearest?lon=999&lat=0", 422),
            ("/layers/spaceport", 422),
            ("/openapi.json", 200),
            ("/_http", 418),
            ("/_bug", 500),
        ]:
            r = c.get(path)
            assert r.status_code == status, (path, r.text)
            _assert_secure(r)
        bug = c.get("/_bug")
        assert bug.json() == {"detail": "internal error", "field": None}
        assert "RuntimeError" not in bug.text
        r = c.post("/facilities", json=NEW_AED)  # 401 error from a dependency
        assert r.status_code == 401
        _assert_secure(r)


def test_docs_page_allows_only_its_own_inline_script(make_app):
    from geoservice.faces.api.middleware import inline_script_hashes

    with TestClient(make_app()) as c:
        r = c.get("/docs")
    assert r.status_code == 200
    d = _assert_secure(r)
    hashes = inline_script_hashes(r.text)
    assert len(hashes) == 1
    assert d["script-src"] == ["'self'", f"'{hashes[0]}'"]


def test_csp_allows_the_configured_tile_host(make_app):
    app = make_app(basemap_tiles="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8")
    with TestClient(app) as c:
        d = _assert_secure(c.get("/"))
    assert d["img-src"] == ["'self'", "data:", "https://*.is.autonavi.com"]
    assert d["connect-src"] == ["'self'"]


@pytest.mark.parametrize(
    "url,source",
    [
        (None, None),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://localhost:8080/tiles/{z}/{x}/{y}.png", "http://localhost:8080"),
        ("https://{s}.com/{z}.png", None),  # a wildcard over a whole public suffix: left out
        ("javascript:alert(1)", None),
        ("https://evil.example; script-src *", None),
    ],
)
def test_tile_source(url, source):
    from geoservice.faces.api.middleware import tile_source

    assert tile_source(url) == source


def test_cors_off_unless_configured(make_app):
    origin = {"Origin": "https://planner.example"}
    with TestClient(make_app()) as c:
        r = c.get("/health", headers=origin)
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        pre = c.options("/facilities", headers={**origin, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers
    with TestClient(make_app(cors_origins=["https://planner.example"])) as c:
        r = c.get("/health", headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://planner.example"
        _assert_secure(r)
        pre = c.options(
            "/facilities",
            headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"},
        )
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://planner.example"
        other = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# --------------------------------------------------------------------------- body limits
def test_body_over_limit_is_413(make_app):
    app = make_app(max_body_bytes=2000)
    editor = _editor(app)
    big = {**NEW_AED, "address": "x" * 150, "source": "y" * 290, "remove": ["z" * 199] * 10}
    with TestClient(app) as c:
        n = c.get("/facilities").json()["count"]
        # by Content-Length, before anything is read
        r = c.post("/whatif", content=b"{" + b" " * 3000 + b"}", headers={"Content-Type": "application/json"})
        body = _error(r, 413, "body")
        assert "2000" in body["detail"]
        _assert_secure(r)
        # any method, any route
        _error(c.request("GET", "/health", content=b"x" * 2001), 413, "body")
        r = c.post("/facilities", json=big, headers=editor)
        _error(r, 413, "body")
        assert c.get("/facilities").json()["count"] == n
        # a body of exactly the limit is read
        exact = b'{"type": "aed"}'.ljust(2000)
        r = c.post("/whatif", content=exact, headers={"Content-Type": "application/json"})
        assert r.status_code != 413


def test_streamed_body_over_limit_is_413_without_content_length(make_app):
    app = make_app(max_body_bytes=1000)
    sent = []

    def chunks():
        for _ in range(50):  # 50 kB in all, never announced
            sent.append(1)
            yield b" " * 1000

    with TestClient(app) as c:
        r = c.post("/whatif", content=chunks(), headers={"Content-Type": "application/json"})
        _error(r, 413, "body")
        assert "content-length" not in {k.lower() for k in r.request.headers}

        def small():
            yield b'{"type": "aed", '
            yield b'"region": "monaco"}'

        r = c.post("/whatif", content=small(), headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "headers,content",
    [
        ({"Content-Type": "text/plain"}, b'{"type": "aed"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"type=aed"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
        ({"Content-Type": "application/jsonp"}, b'{"type": "aed"}'),
        ({}, b'{"type": "aed"}'),  # no Content-Type with a body
    ],
)
def test_non_json_body_is_415(make_app, headers, content):
    app = make_app()
    editor = _editor(app)
    with TestClient(app) as c:
        n = c.get("/facilities").json()["count"]
        _error(c.post("/whatif", content=content, headers=headers), 415, "Content-Type")
        _error(c.post("/facilities", content=content, headers={**headers, **editor}), 415, "Content-Type")
        _error(c.put("/facilities/x", content=content, headers={**headers, **editor}), 415, "Content-Type")
        assert c.get("/facilities").json()["count"] == n


def test_json_content_types_pass(make_app):
    app = make_app()
    with TestClient(app) as c:
        for ctype in ("application/json", "application/json; charset=utf-8", "application/merge-patch+json"):
            r = c.post("/whatif", content=b'{"type": "aed", "region": "monaco"}', headers={"Content-Type": ctype})
            assert r.status_code == 200, (ctype, r.text)
        # DELETE and GET need no Content-Type
        assert c.get("/health").status_code == 200
        assert c.delete("/facilities/nope", headers=_editor(app)).status_code == 404


# --------------------------------------------------------------------------- field limits
BAD_FIELDS = [
    ({"id": "has space"}, "id"),
    ({"id": "a/b"}, "id"),
    ({"id": "x" * 65}, "id"),
    ({"id": ""}, "id"),
    ({"name": "n" * 201}, "name"),
    ({"address": "a" * 201}, "address"),
    ({"opening_hours": "Mo-Fr 08:00-18:00; " * 20}, "opening_hours"),
    ({"source": "s" * 301}, "source"),
    ({"level": "l" * 41}, "level"),
    ({"status": "s" * 41}, "status"),
    ({"access": "a" * 41}, "access"),
    ({"admin_code": "1" * 41}, "admin_code"),
    ({"capabilities": ["evt"] * 11}, "capabilities"),
    ({"capabilities": "e" * 201}, "capabilities"),
    ({"door_to_needle_min": 601}, "door_to_needle_min"),
    ({"lat": 91}, "lat"),
    ({"lon": -181}, "lon"),
    ({"region": "r" * 201}, "region"),
]


@pytest.mark.parametrize("change,field", BAD_FIELDS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_FIELDS)])
def test_facility_field_limits(client, editor, change, field):
    r = client.post("/facilities", json={**NEW_AED, **change}, headers=editor)
    body = _error(r, 422, field)
    assert body["errors"][0]["field"] == field


def test_facility_id_pattern_accepts_usual_ids(client, editor):
    for fid in ("osm-node-1", "demo-chest_pain_center-99", "cn:420100.aed.7", "A" * 64):
        r = client.post("/facilities", json={**NEW_AED, "id": fid}, headers=editor)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "change,field",
    [
        ({"scenario": "s" * 41}, "scenario"),
        ({"level": "l" * 101}, "level"),
        ({"capability": "c" * 101}, "capability"),
        ({"region": "r" * 201}, "region"),
        ({"remove": ["x" * 201]}, "remove.0"),
        ({"remove": ["x"] * 501}, "remove"),
        ({"add": [{"lon": 7.42, "lat": 43.73}] * 51}, "add"),
        ({"add": [{"lon": 7.42, "lat": 91}]}, "add.0.lat"),
        ({"add": [{"lon": 7.42, "lat": 43.73, "z": 1}]}, "add.0.z"),
        ({"minutes": 241}, "minutes"),
    ],
)
def test_whatif_field_limits(client, change, field):
    _error(client.post("/whatif", json={"type": "aed", "region": "monaco", **change}), 422, field)


def test_facility_patch_model():
    from pydantic import ValidationError

    from geoservice.faces.api.schemas import FacilityIn, FacilityPatch

    assert FacilityPatch().model_dump(exclude_unset=True) == {}
    p = FacilityPatch(opening_hours="24/7", status=None)
    assert p.model_dump(exclude_unset=True) == {"opening_hours": "24/7", "status": None}
    assert set(FacilityPatch.model_fields) == set(FacilityIn.model_fields)
    for bad in ({"colour": "red"}, {"id": "a b"}, {"name": "n" * 201}, {"door_to_needle_min": -1}, {"type": "x"}):
        with pytest.raises(ValidationError):
            FacilityPatch(**bad)


def test_openapi_keeps_enums_and_limits(client):
    spec = client.get("/openapi.json").json()
    comps = spec["components"]["schemas"]
    fin = comps["FacilityIn"]["properties"]
    from geoservice.sources.schema import FACILITY_TYPES

    assert fin["type"]["enum"] == list(FACILITY_TYPES)
    assert fin["crs"]["enum"] == ["wgs84", "gcj02", "bd09"]
    assert fin["name"]["anyOf"][0]["maxLength"] == 200
    assert fin["id"]["anyOf"][0]["pattern"] == r"^[A-Za-z0-9_.:-]{1,64}$"
    assert comps["WhatIfRequest"]["properties"]["type"]["enum"] == list(FACILITY_TYPES)
    assert comps["WhatIfRequest"]["properties"]["crs"]["enum"] == ["wgs84", "gcj02"]


# --------------------------------------------------------------------------- key and write limits
def test_wrong_keys_get_429_but_never_lock_out_the_right_key(make_app):
    app = make_app(failed_key_limit=3, failed_keys_per_address=5, failed_key_window_s=60)
    editor = _editor(app)
    now = [1000.0]
    app.state.limits.set_clock(lambda: now[0])
    wrong = {"X-API-Key": "gsk_wrongAAAAAAAAAAAAAAAAAAAA"}
    with TestClient(app) as c, TestClient(app, client=("10.0.0.2", 5000)) as other:
        for _ in range(3):
            _error(c.post("/facilities", json=NEW_AED, headers=wrong), 401, "X-API-Key")
        r = c.post("/facilities", json=NEW_AED, headers=wrong)
        body = _error(r, 429, "X-API-Key")
        assert r.headers["retry-after"] == "60" and body["retry_after"] == 60
        assert "a valid key is still accepted" in body["detail"]
        _assert_secure(r)
        # the right key from the same address (an editor behind the same NAT) is not locked out
        assert c.post("/facilities", json={**NEW_AED, "id": "same-nat"}, headers=editor).status_code == 201
        assert c.get("/audit", headers={"Authorization": f"Bearer {editor['X-API-Key']}"}).status_code == 200
        # other wrong keys from that address: counted per address too (5), then 429 for any wrong key
        for i in range(2):
            _error(
                c.post("/facilities", json=NEW_AED, headers={"X-API-Key": f"gsk_guess{i}BBBBBBBBBBB"}), 401, "X-API-Key"
            )
        _error(c.post("/facilities", json=NEW_AED, headers={"X-API-Key": "gsk_guess9CCCCCCCCCC"}), 429, "X-API-Key")
        assert c.post("/facilities", json={**NEW_AED, "id": "still-right"}, headers=editor).status_code == 201
        # reads stay public; another address is not affected
        assert c.get("/health").status_code == 200
        _error(other.post("/facilities", json=NEW_AED, headers=wrong), 401, "X-API-Key")
        now[0] += 45
        assert c.post("/facilities", json=NEW_AED, headers=wrong).headers["retry-after"] == "15"
        now[0] += 15.5  # the window has passed
        _error(c.post("/facilities", json=NEW_AED, headers=wrong), 401, "X-API-Key")
        # a missing key is a 401 but not a guess
        for _ in range(5):
            assert c.post("/facilities", json=NEW_AED).status_code == 401
        assert c.post("/facilities", json={**NEW_AED, "id": "after-window"}, headers=editor).status_code == 201


def test_failed_key_tracking_is_bounded():
    from geoservice.faces.api.limits import SlidingWindow

    now = [0.0]
    w = SlidingWindow(2, 10, max_names=3, clock=lambda: now[0])
    for ip in ("a", "b", "c"):
        w.record(ip)
        w.record(ip)
    assert len(w) == 3 and w.retry_after("a") == 10
    w.record("d")  # the least recently seen ("a") is forgotten
    assert len(w) == 3 and w.retry_after("a") == 0 and w.retry_after("b") == 10
    for _ in range(100):
        w.record("b")
    assert w.count("b") == 2  # at most `limit` timestamps per name
    now[0] = 10.0
    assert w.retry_after("b") == 0 and w.retry_after("c") == 0


def test_write_burst_per_key_is_429(make_app):
    app = make_app(writes_per_minute=2)
    now = [0.0]
    app.state.limits.writes.clock = lambda: now[0]
    ed1, ed2 = _editor(app, "e1"), _editor(app, "e2")
    with TestClient(app) as c:
        assert c.post("/facilities", json={**NEW_AED, "id": "w1"}, headers=ed1).status_code == 201
        assert c.put("/facilities/w1", json={**NEW_AED, "id": "w1", "name": "renamed"}, headers=ed1).status_code == 200
        now[0] = 20.0
        r = c.delete("/facilities/w1", headers=ed1)
        body = _error(r, 429, "X-API-Key")
        assert r.headers["retry-after"] == "40" and "e1" in body["detail"]
        # reads with the same key, and another key's writes, go on
        assert c.get("/audit", headers=ed1).status_code == 200
        assert c.delete("/facilities/w1", headers=ed2).status_code == 200
        now[0] = 60.5
        assert c.post("/facilities", json={**NEW_AED, "id": "w2"}, headers=ed1).status_code == 201


# --------------------------------------------------------------------------- time limit
def test_slow_requests_get_503(make_app):
    app = make_app(request_timeout_s=0.3)
    finished = threading.Event()

    @app.get("/_slow_async", include_in_schema=False)
    async def slow_async():
        await asyncio.sleep(5)
        return {"late": True}

    @app.get("/_slow_sync", include_in_schema=False)
    def slow_sync():
        time.sleep(1.0)
        finished.set()
        return {"late": True}

    with TestClient(app) as c:
        for path in ("/_slow_async", "/_slow_sync"):
            t0 = time.perf_counter()
            r = c.get(path)
            assert time.perf_counter() - t0 < 0.9, path
            body = _error(r, 503, "request")
            assert r.headers["retry-after"] == "1" and body["retry_after"] == 1
            _assert_secure(r)
        # the sync work could not be interrupted: it finishes in the background, its answer dropped
        assert not finished.is_set()
        assert finished.wait(3)
        assert c.get("/health").status_code == 200


# --------------------------------------------------------------------------- OpenAPI
def test_openapi_declares_the_errors_we_send(client):
    spec = client.get("/openapi.json").json()
    comps = spec["components"]["schemas"]
    assert "HTTPValidationError" not in comps
    assert "errors" in comps["ErrorResponse"]["properties"] and "FieldError" in comps
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            res = op["responses"]
            if "422" in res:
                assert res["422"]["content"]["application/json"]["schema"] == ref, (path, method)
            assert "503" in res and "Retry-After" in res["503"]["headers"]
            if method in ("post", "put", "patch"):
                assert {"413", "415", "422"} <= set(res), (path, method)
            else:
                assert "413" not in res and "415" not in res
    create = spec["paths"]["/facilities"]["post"]["responses"]
    assert {"401", "403", "429"} <= set(create)
    assert "Retry-After" in create["429"]["headers"]
    assert "429" in spec["paths"]["/nearest"]["get"]["responses"]  # the budget of requests without a key
    assert "422" in spec["paths"]["/regions/{name}/basemap"]["get"]["responses"]


def test_validation_errors_list_every_field(client):
    r = client.post("/whatif", json={"type": "spaceport", "minutes": -1})
    body = _error(r, 422, "type")
    assert [e["field"] for e in body["errors"]] == ["type", "minutes"]
