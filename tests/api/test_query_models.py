"""The query parameters of /access, /layers/{type}, /coverage and /nearest as the OpenAPI document
states them (name, in, required, schema, description), pinned in tests/data/openapi_query_params.json:
moving them into pydantic query models (issue 22) must leave what clients read unchanged, and an
unknown query parameter must still be ignored, not refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PINNED = Path(__file__).parent.parent / "data" / "openapi_query_params.json"
ROUTES = ("/access", "/layers/{type}", "/coverage", "/nearest")


def _params(doc: dict) -> dict[str, list[dict]]:
    out = {}
    for prefix in ("", "/v1"):
        for route in ROUTES:
            op = doc["paths"][prefix + route]["get"]
            out[prefix + route] = op.get("parameters", [])
    return out


@pytest.fixture(scope="module")
def app(andorra, monaco, tmp_path_factory):
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    svc = GeoService([andorra, monaco], registry=Registry(tmp_path_factory.mktemp("qm") / "registry.sqlite"))
    yield create_app(svc)
    svc.close()


def test_query_parameters_as_pinned(app):
    got = _params(app.openapi())
    want = json.loads(PINNED.read_text(encoding="utf-8"))
    assert set(got) == set(want)
    for route in want:
        assert got[route] == want[route], route


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/nearest", {"lon": 7.42, "lat": 43.73, "type": "aed"}),
        ("/layers/aed", {"region": "monaco"}),
        ("/coverage", {"region": "monaco", "type": "aed", "minutes": 5, "gaps": "false"}),
        ("/access", {"region": "monaco", "type": "aed", "minutes": 4}),
        ("/access", {"region": "monaco", "type": "aed", "points": "true", "layer": "true", "standards": "true"}),
        ("/coverage", {"region": "monaco", "type": "aed", "format": "csv"}),
        ("/layers/aed", {"region": "monaco", "q": "a", "bbox": "7.4,43.7,7.5,43.8"}),
    ],
)
def test_unknown_query_parameter_ignored(app, path, query):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        plain = c.get(path, params=query)
        extra = c.get(path, params={**query, "no_such_parameter": "1"})
    assert plain.status_code == 200, plain.text
    assert extra.status_code == 200, extra.text
    assert extra.content == plain.content


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/nearest", {"lon": 7.42, "lat": 43.73, "k": 0}, "k"),
        ("/nearest", {"lat": 43.73}, "lon"),
        ("/layers/aed", {"q": "x" * 101}, "q"),
        ("/coverage", {"type": "aed", "minutes": -1}, "minutes"),
        ("/access", {"type": "aed", "share_target": 2}, "share_target"),
    ],
)
def test_bad_query_names_the_field(app, path, query, field):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        r = c.get(path, params=query)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
