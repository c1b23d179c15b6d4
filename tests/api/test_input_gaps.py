"""Input gaps of the HTTP API (issue 18, item 6), each on SQLite and on PostgreSQL: bad input is a
4xx naming the field, never a 500 and never stored.

* a NUL byte (or another control character) in an id, a name, a location or a filter: 422
  naming the field (PostgreSQL cannot even compare with such a string: it was a 500 there, and
  SQLite stored it);
* ids ``.`` and ``..`` (a URL path cannot name them) are refused;
* a responder position in no served region is refused;
* ``week_of`` is a day written YYYY-MM-DD (``0`` was read as 1970-01-01);
* ``If-Match`` is read as RFC 9110 says: a malformed field or a weak ETag never matches (412);
* ``OPTIONS /facilities/import`` names the methods of that path (not those of ``/facilities/{id}``);
* a bulk import of 5,000 facilities with ordinary fields (1.35 MB) fits its body limit;
* ``type``, ``level`` and ``scenario`` are enums in the OpenAPI document.
"""

from __future__ import annotations

import json

import pytest

from geoservice.sources.schema import ALL_LEVELS, FACILITY_TYPES
from geoservice.sources.speeds import SCENARIOS

AED = {"type": "aed", "name": "Lobby AED", "lon": 7.4201, "lat": 43.7349, "access": "yes"}
MONACO_AED = "osm-node-2475270782"  # an AED of the demo registry


def _stored(client, editor) -> tuple[int, int]:
    """(facilities served, audit rows): both unchanged by a refused request."""
    return client.get("/facilities").json()["count"], client.get("/audit", headers=editor).json()["count"]


def _field(r, status: int, field: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["field"] == field and body["detail"].startswith(f"{field}: "), body
    return body["detail"]


# --------------------------------------------------------------------------- NUL bytes
NUL_REQUESTS = [
    # (method, path, params, json body, needs the editor key, field at fault)
    ("GET", "/facilities/a\x00b", None, None, False, "id"),  # anonymous
    ("GET", "/facilities", {"region": "mona\x00co"}, None, False, "region"),
    ("GET", "/layers/aed", {"q": "lobby\x00"}, None, False, "q"),
    ("GET", "/layers/chest_pain_center", {"level": "basic\x00"}, None, False, "level"),
    ("GET", "/places", {"q": "AED\x00"}, None, False, "q"),
    ("GET", "/audit", {"facility_id": "a\x00"}, None, True, "facility_id"),
    ("GET", "/audit", {"actor": "a\x00"}, None, True, "actor"),
    ("GET", "/audit", {"region": "monaco\x00"}, None, True, "region"),
    ("POST", "/facilities", None, {**AED, "name": "Lobby\x00AED"}, True, "name"),
    ("POST", "/facilities", None, {**AED, "location": "1F\x00lobby"}, True, "location"),
    ("POST", "/facilities", None, {**AED, "address": "Quai\x1b[31m"}, True, "address"),  # an escape sequence
    ("PUT", f"/facilities/{MONACO_AED}\x00", None, AED, True, "id"),
    ("PATCH", f"/facilities/{MONACO_AED}", None, {"name": "x\x00"}, True, "name"),
    ("DELETE", f"/facilities/{MONACO_AED}\x00", None, None, True, "id"),
    ("POST", "/facilities/import", None, {"facilities": [{**AED, "name": "A\x00"}]}, True, "facilities[1].name"),
    ("POST", "/facilities/import", None, {"facilities": [{**AED, "location": "\x00"}]}, True, "facilities[1].location"),
]


@pytest.mark.parametrize(
    "method, path, params, body, keyed, field", NUL_REQUESTS, ids=[f"{m} {p} {f}" for m, p, _, _, _, f in NUL_REQUESTS]
)
def test_nul_byte_is_422_naming_the_field_and_nothing_is_stored(
    client, editor, method, path, params, body, keyed, field
):
    before = _stored(client, editor)
    r = client.request(method, path.replace("\x00", "%00"), params=params, json=body, headers=editor if keyed else {})
    assert "control character (U+0000 NUL)" in _field(r, 422, field) or "U+001B" in r.text
    assert _stored(client, editor) == before


def test_nul_byte_is_refused_by_the_service_too(state):
    """The same rule below the API (CLI, scripts): the service names the field before any query."""
    from geoservice.errors import GeoserviceError
    from geoservice.service.usecases import edits
    from geoservice.sources.facility_rows import validate_records
    from geoservice.sources.schema import FacilityFilter

    with pytest.raises(GeoserviceError) as exc:
        edits.find_facility(state, "a\x00b")
    assert exc.value.field == "id" and exc.value.status == 422
    with pytest.raises(GeoserviceError) as exc:
        state.registry.audit(actor="x\x00")
    assert exc.value.field == "actor"
    with pytest.raises(GeoserviceError) as exc:
        FacilityFilter.parse(name_contains="lobby\x00")
    assert exc.value.field == "name_contains"
    res = validate_records([{**AED, "name": "Lobby\x00", "source": "t"}, {**AED, "name": "Two\nlines", "source": "t"}])
    assert [(e.row, e.field) for e in res.errors] == [(1, "name")] and len(res.records) == 1  # line breaks are text


# --------------------------------------------------------------------------- ids . and ..
@pytest.mark.parametrize("fid", [".", ".."])
def test_ids_dot_and_dotdot_are_refused(client, editor, fid):
    before = _stored(client, editor)
    _field(client.post("/facilities", json={**AED, "id": fid}, headers=editor), 422, "id")
    r = client.post("/facilities/import", json={"facilities": [{**AED, "id": fid}]}, headers=editor)
    _field(r, 422, "facilities[1].id")
    assert _stored(client, editor) == before


# --------------------------------------------------------------------------- responders
def test_responder_position_outside_every_region_is_refused(client, state):
    responder = {"X-API-Key": state.registry.create_key("volunteer-1", "responder")[1]}
    dispatcher = {"X-API-Key": state.registry.create_key("desk-1", "dispatcher")[1]}
    r = client.post("/responders/position", json={"lon": 100.0, "lat": 10.0}, headers=responder)
    assert "in no served region" in _field(r, 422, "lon,lat")
    assert client.get("/responders", headers=dispatcher).json()["count"] == 0
    ok = client.post("/responders/position", json={"lon": 7.4236, "lat": 43.7384}, headers=responder)
    assert ok.status_code == 200 and client.get("/responders", headers=dispatcher).json()["count"] == 1


# --------------------------------------------------------------------------- week_of
@pytest.mark.parametrize("week_of", ["0", "86400"])  # pydantic read both as days of 1970
def test_week_of_must_be_a_day(client, week_of):
    r = client.get("/plans/aed-week", params={"week_of": week_of, "region": "monaco"})
    _field(r, 422, "week_of")
    r = client.post("/plans/aed-siting", json={"week_of": int(week_of), "region": "monaco"})
    _field(r, 422, "week_of")


# --------------------------------------------------------------------------- If-Match
@pytest.mark.parametrize("if_match", ["yesterday", '"1', "1, 2", '"1" "2"', "W/1"])
def test_malformed_if_match_is_412(client, editor, if_match):
    assert client.post("/facilities", json={**AED, "id": "etag-aed"}, headers=editor).status_code == 201
    r = client.patch("/facilities/etag-aed", json={"name": "Changed"}, headers={**editor, "If-Match": if_match})
    _field(r, 412, "If-Match")
    r = client.delete("/facilities/etag-aed", headers={**editor, "If-Match": if_match})
    _field(r, 412, "If-Match")
    got = client.get("/facilities/etag-aed")
    assert got.json()["name"] == AED["name"] and got.headers["ETag"] == '"1"'


def test_weak_etag_in_if_match_never_matches(client, editor):
    assert client.post("/facilities", json={**AED, "id": "etag-aed"}, headers=editor).headers["ETag"] == '"1"'
    weak = client.put("/facilities/etag-aed", json={**AED, "name": "Weak"}, headers={**editor, "If-Match": 'W/"1"'})
    assert "weak" in _field(weak, 412, "If-Match")
    assert client.get("/facilities/etag-aed").json()["name"] == AED["name"]
    # a list of ETags matches when one of them is the current version (compared strongly)
    listed = {**editor, "If-Match": 'W/"1", "7", "1"'}
    assert client.put("/facilities/etag-aed", json={**AED, "name": "Strong"}, headers=listed).status_code == 200


# --------------------------------------------------------------------------- OPTIONS
def test_options_on_the_import_lists_its_real_methods(client):
    r = client.options("/facilities/import")
    assert r.status_code == 405 and r.headers["Allow"] == "POST", (r.headers, r.text)
    assert r.json()["field"] == "method" and r.json()["detail"].endswith("allowed: POST")
    r = client.options(f"/facilities/{MONACO_AED}")  # a facility: its own methods
    assert r.headers["Allow"] == "GET, PUT, PATCH, DELETE"


# --------------------------------------------------------------------------- bulk import size
def test_5000_row_import_with_ordinary_fields_fits_its_body_limit(client, editor, state):
    rows = [
        {
            "id": f"bulk-aed-{i:05d}",
            "type": "aed",
            "name": f"Résidence du Port, hall {i}",
            "lon": round(7.4180 + (i % 100) * 0.00008, 6),
            "lat": round(43.7330 + (i // 100) * 0.00002, 6),
            "address": f"{i} boulevard Albert 1er, 98000 Monaco",
            "opening_hours": "Mo-Fr 08:00-19:00",
            "access": "yes",
            "location": "ground floor, next to the lifts",
            "floor": "0",
            "source": "municipal survey 2026",
        }
        for i in range(5000)
    ]
    body = json.dumps({"region": "monaco", "facilities": rows}).encode()
    assert len(body) > 1.3e6 and len(body) > state.settings.limits.max_body_bytes  # more than other routes take
    r = client.post("/facilities/import", content=body, headers={**editor, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]
    assert r.json()["written"] == 5000 and client.get("/facilities/bulk-aed-04999").status_code == 200
    # every other route keeps max_body_bytes
    r = client.post("/facilities", content=body, headers={**editor, "Content-Type": "application/json"})
    assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"]


def test_import_body_limit_is_its_own_setting(andorra, monaco, open_reg):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.settings import Settings

    svc = GeoService([andorra, monaco], registry=open_reg(), settings=Settings.of(max_import_body_bytes=2000))
    key = {"X-API-Key": svc.registry.create_key("bulk", "editor")[1]}
    with TestClient(create_app(svc)) as c:
        r = c.post("/facilities/import", json={"facilities": [AED] * 40}, headers=key)
        assert r.status_code == 413 and r.json()["detail"] == (
            "body: request body is larger than 2000 bytes (max_import_body_bytes)"
        )


# --------------------------------------------------------------------------- enums in OpenAPI
def _enum_of(schema: dict, components: dict) -> list[str] | None:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "enum" in schema:
        return schema["enum"]
    for alt in schema.get("anyOf", []) + schema.get("oneOf", []):
        if (found := _enum_of(alt, components)) is not None:
            return found
    return None


def test_type_level_scenario_are_enums_in_the_openapi_document(client):
    doc = client.get("/openapi.json").json()
    comps = doc["components"]["schemas"]
    expected = {"type": set(FACILITY_TYPES), "level": set(ALL_LEVELS), "scenario": set(SCENARIOS)}
    seen: dict[str, list[str]] = {k: [] for k in expected}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            schemas = [(p["name"], p["schema"], where) for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                ref = body.get("$ref", "").rsplit("/", 1)[-1]
                props = comps.get(ref, {}).get("properties", {})
                schemas += [(k, s, f"{where} body") for k, s in props.items()]
            for name, schema, at in schemas:
                if name in expected:
                    enum = _enum_of(schema, comps)
                    assert enum is not None, f"{at}: {name} is not an enum: {schema}"
                    assert set(enum) - {"all"} == expected[name], (at, name, enum)
                    seen[name].append(at)
    assert all(len(v) >= 3 for v in seen.values()), seen
    assert "GET /facilities" in seen["type"] and "GET /layers/{type}" in seen["type"]
    assert "GET /coverage" in seen["level"] and "POST /whatif body" in seen["scenario"]
