"""The /v1 prefix (issue 22 item 6): every API operation is served under /v1 and, for one release,
at its old unprefixed path too, where it answers the same, is marked ``deprecated`` in the
OpenAPI document and says so in a ``Deprecation`` header with a ``Link`` to its successor."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

# one request per operation that answers without changing anything (reads with their happy-path
# parameters; writes without a key, or with an empty body, so each one is refused the same way)
POINT = {"lon": 7.4201, "lat": 43.7349, "region": "monaco"}
FILL = {"name": "monaco", "type": "aed", "z": "14", "x": "8508", "y": "5975"}
QUERIES = {
    "/nearest": {**POINT, "type": "aed"},
    "/isochrones": {**POINT, "minutes": "5", "profile": "walk"},
    "/service-areas": {"region": "monaco", "type": "aed", "minutes": "5"},
    "/coverage": {"region": "monaco", "type": "aed", "minutes": "5"},
    "/places": {"q": "Monaco"},
    "/facilities": {"region": "monaco", "type": "aed"},
    "/plans/aed-week": {"region": "monaco"},
    "/plans/targets": {"region": "monaco"},
}


@pytest.fixture(scope="module")
def app(andorra, monaco, tmp_path_factory):
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    svc = GeoService([andorra, monaco], registry=Registry(tmp_path_factory.mktemp("v1") / "registry.sqlite"))
    yield create_app(svc)
    svc.close()


@pytest.fixture(scope="module")
def doc(app):
    return app.openapi()


def _operations(doc) -> list[tuple[str, str]]:
    return [(m, p) for p, item in doc["paths"].items() for m in item if m in ("get", "post", "put", "patch", "delete")]


def _same(op: dict) -> str:
    """The operation without what names it (its id, the titles FastAPI makes of the id)."""
    body = {k: v for k, v in op.items() if k not in ("operationId", "deprecated")}
    return re.sub(r'"title": "(Response|Body) [^"]*"', "", json.dumps(body, sort_keys=True))


def test_every_operation_has_a_v1_path_and_a_deprecated_alias(doc):
    ops = _operations(doc)
    v1 = {(m, p.removeprefix("/v1")) for m, p in ops if p.startswith("/v1/")}
    old = {(m, p) for m, p in ops if not p.startswith("/v1/")}
    assert len(v1) >= 30 and v1 == old  # the same operations, once each
    for m, p in ops:
        op = doc["paths"][p][m]
        if p.startswith("/v1/"):
            assert not op.get("deprecated"), (m, p)
            twin = doc["paths"][p.removeprefix("/v1")][m]
            assert op["operationId"] != twin["operationId"]
            assert _same(op) == _same(twin), (m, p)  # same parameters, bodies, answers
        else:
            assert op.get("deprecated") is True, (m, p)
    assert "`/v1`" in doc["info"]["description"]


def _url(path: str) -> str:
    for k, v in FILL.items():
        path = path.replace("{" + k + "}", v)
    return path


def test_every_operation_answers_the_same_under_v1_and_unprefixed(app, doc):
    with TestClient(app) as client:
        listed = client.get("/v1/facilities", params={"region": "monaco", "type": "aed"}).json()
        FILL["id"] = listed["facilities"][0]["id"]
        compared = 0
        for method, path in _operations(doc):
            if not path.startswith("/v1/"):
                continue
            old = path.removeprefix("/v1")
            kw: dict = {"params": QUERIES.get(old, {})} if method == "get" else {"json": {}}
            a = client.request(method.upper(), _url(path), **kw)
            b = client.request(method.upper(), _url(old), **kw)
            where = f"{method.upper()} {old}"
            assert a.status_code == b.status_code, (where, a.status_code, b.status_code, a.text[:300])
            assert a.status_code < 500, (where, a.text[:300])
            assert a.content == b.content or (old == "/health" and a.status_code == 200), where
            assert "deprecation" not in a.headers, where
            assert b.headers["deprecation"] == "true", where
            assert b.headers["link"] == f'<{_url(path)}>; rel="successor-version"', where
            compared += 1
        assert compared >= 30
        # the happy paths were among them: answers, not only refusals
        assert (
            client.get("/v1/nearest", params=QUERIES["/nearest"]).json()
            == client.get("/nearest", params=QUERIES["/nearest"]).json()
        )
        # pages, static files, the docs and the document itself have no prefix and no header
        for path in ("/", "/planner", "/dispatcher", "/docs", "/openapi.json", "/static/common.js"):
            r = client.get(path)
            assert r.status_code == 200 and "deprecation" not in r.headers, path
        assert client.get("/v1/planner").status_code == 404


def test_an_edit_under_v1_is_limited_and_audited_like_its_alias(app):
    """Body limits, request classes and keys key on the unprefixed path: /v1 gets the same."""
    from geoservice.faces.api.admission import request_class

    for path in ("/nearest", "/coverage", "/plans/aed-siting", "/facilities", "/dispatch", "/regions"):
        for method in ("GET", "POST"):
            assert request_class(method, "/v1" + path) == request_class(method, path), (method, path)
    reg = app.state.geo.registry
    key = reg.create_key("v1-editor", "editor")[1]
    aed = {"type": "aed", "name": "V1 AED", "lon": 7.4201, "lat": 43.7349, "access": "yes"}
    with TestClient(app) as client:
        r = client.post("/v1/facilities", json=aed, headers={"X-API-Key": key})
        assert r.status_code == 201, r.text
        fid, audit_id = r.json()["facility"]["id"], r.json()["audit_id"]
        assert client.get(f"/facilities/{fid}").json()["name"] == "V1 AED"
        audit = client.get("/v1/audit", headers={"X-API-Key": key}).json()
        assert [(e["facility_id"], e["action"]) for e in audit["entries"] if e["id"] == audit_id] == [(fid, "create")]
        big = {"features": [{"x": "y" * 2_000_000}]}
        assert client.post("/v1/facilities", json=big, headers={"X-API-Key": key}).status_code == 413
