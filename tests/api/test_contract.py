"""The contract is what is served.

A bounded schemathesis run over every operation of the OpenAPI document, against the ASGI app over
the two demo regions and a fresh registry, an editor key sent on every request. Checks: no 5xx,
every status code documented, every body matching its documented schema, the documented content
type. Per operation, ``EXAMPLES`` inputs of each of three kinds:

* positive: valid by the schema, as generated (mostly points far from any region, unknown names);
* anchored: positive inputs steered to the happy path (points and ids inside the demo regions,
  region names, no free-text filters), so that the 200/201 bodies are checked too;
* negative: inputs that break the schema (must be 4xx, documented, in our error shape).

Driven through ``APIOperation.as_strategy`` and Hypothesis directly rather than the schemathesis
pytest plugin (its fixture-based loader fails under pytest 9: ``Function`` has no ``_nodeid``),
which also lets one run report every failing operation, each with a request that shows it.

Also here: 405 answers name every allowed method (``Allow``) and 415 for bodies that are not JSON.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# per operation and kind (positive, anchored, negative): ~2,500 requests, ~30 s on 2 cores
EXAMPLES = int(os.environ.get("GEOSERVICE_CONTRACT_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALL_TIMEOUT_S = 120  # schemathesis's default 10 s is too short beside the parallel part's other tests

REGIONS = ("monaco", "andorra")
POINTS = {  # on the road network of each demo region
    "monaco": [(7.4236, 43.7384), (7.4200, 43.7370), (7.4180, 43.7330), (7.4270, 43.7410)],
    "andorra": [(1.5212, 42.5069), (1.5836, 42.5359), (1.5340, 42.5080)],
}
# free-text filters and names a generator fills with noise (a 404/422 every time): dropped when anchoring
NOISE = (
    "level",
    "capability",
    "capabilities",
    "status",
    "q",
    "at",
    "bbox",
    "scenario",
    "region",
    "facility_id",
    "actor",
    "opening_hours",
    "access",
    "remove",
    "if-match",
)


@pytest.fixture
def served(andorra, monaco, tmp_path):
    """(OpenAPI schema over the ASGI app, editor key, Monaco facility ids), over a fresh registry."""
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry
    from geoservice.service.settings import Settings
    from geoservice.service.usecases import queries
    from geoservice.sources.schema import FacilityFilter

    # hundreds of edits in seconds: lift the per-key write limit so that edits are really exercised;
    # the test runs beside others (its own xdist group): a request may take longer than the 30 s
    # after which the service answers 503, which the contract does not ask about
    svc = GeoService(
        [andorra, monaco],
        registry=Registry(tmp_path / "registry.sqlite"),
        settings=Settings.of(writes_per_minute=1_000_000, request_timeout_s=120.0),
    )
    roles = ("editor", "responder", "dispatcher")
    token = {role: svc.registry.create_key(f"contract-{role}", role)[1] for role in roles}
    layer = queries.facility_layer(svc, FacilityFilter.parse(type=None, allow_all=True), region="monaco")
    ids = [f.properties["id"] for f in layer.features]
    assert ids
    config = schemathesis.Config.from_dict({"generation": {"database": "none"}})
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(svc), config=config), token, ids


def _anchor(case: Any, i: int, ids: list[str]) -> Any:
    """Steer a generated valid case to the happy path (``i`` picks region, point, id, type)."""
    from geoservice.sources.schema import FACILITY_TYPES

    path = case.path.removeprefix("/v1")
    region = REGIONS[i % 2] if case.path_parameters and "name" in case.path_parameters else "monaco"
    if "coverage" in path or "service-areas" in path:
        region = REGIONS[i % 2]
    lon, lat = POINTS[region][i % len(POINTS[region])]
    for part in (case.query, case.headers, case.body):
        if isinstance(part, dict):
            for k in NOISE:
                part.pop(k, None)
    if case.path_parameters:
        pp = case.path_parameters
        if "name" in pp:
            pp["name"] = region
        if "type" in pp:
            pp["type"] = [*FACILITY_TYPES, "all"][i % (len(FACILITY_TYPES) + 1)]
        if "id" in pp:
            pp["id"] = ids[i % len(ids)]
        if {"z", "x", "y"} <= set(pp):  # the vector tile holding the point, at a zoom the set has
            import math

            z = 12 + i % 3
            pp["z"], pp["x"] = z, int((lon + 180) / 360 * 2**z)
            pp["y"] = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    q = case.query if isinstance(case.query, dict) else None
    if q is not None:
        if "lon" in q:
            q["lon"], q["lat"] = lon, lat
        if path in ("/coverage", "/service-areas"):
            q["region"] = region
    b = case.body if isinstance(case.body, dict) else None
    if b is not None:
        if "lon" in b:
            b["lon"], b["lat"] = lon + (i % 7) * 1e-4, lat
        if path == "/whatif":
            b["region"] = region
            b["add"] = [{"lon": x, "lat": y} for x, y in POINTS[region][: i % 3]]
    if case.method.upper() == "PATCH" and i % 2 == 0:
        case.body = {"name": f"Renamed by the contract test {i}"}  # a change valid on any record
    return case


def _runner(strategy, where: str, headers: dict, failures: dict[str, list[str]], seen: dict[str, set[int]]):
    """The Hypothesis test of one operation and kind. Failures are recorded, not raised: no
    shrinking (each report is the request that failed), and every operation's failures are listed.
    The strategies get no schemathesis feedback: it learns from earlier answers, which Hypothesis
    reports as flaky generation in longer runs."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=CALL_TIMEOUT_S)
        except (AssertionError, FailureGroup) as exc:
            found = failures.setdefault(where, [])
            text = str(exc)
            if len(found) < 3 and text.split("Reproduce with")[0] not in [f.split("Reproduce with")[0] for f in found]:
                found.append(text)
            return
        seen.setdefault(case.operation.label, set()).add(response.status_code)

    return run


@pytest.mark.slow
def test_contract(served):
    schema, token, ids = served
    # each operation with the key of the role it is for (the rest take the editor's)
    role_of = {"/responders/position": "responder", "/responders": "dispatcher", "/dispatch": "dispatcher"}
    only = os.environ.get("GEOSERVICE_CONTRACT_ONLY")  # e.g. "PUT /facilities", to look into one operation
    failures: dict[str, list[str]] = {}  # "<operation> [<kind>]" -> its distinct failures (each with a curl)
    seen: dict[str, set[int]] = {}
    runs = 0
    t0 = time.perf_counter()
    for result in schema.get_all_operations():
        op = result.ok()
        if only and only not in op.label:
            continue
        if op.definition.raw.get("deprecated"):
            continue  # an unprefixed alias: the same route as its /v1 twin (tests/api/test_v1_prefix.py)
        kinds = {
            "positive": op.as_strategy(GenerationMode.POSITIVE, feedback=NO_FEEDBACK),
            "anchored": st.tuples(
                op.as_strategy(GenerationMode.POSITIVE, feedback=NO_FEEDBACK), st.integers(0, 1000)
            ).map(lambda t: _anchor(t[0], t[1], ids)),
            "negative": op.as_strategy(GenerationMode.NEGATIVE, feedback=NO_FEEDBACK),
        }
        headers = {"X-API-Key": token[role_of.get(op.path.removeprefix("/v1"), "editor")]}
        for kind, strategy in kinds.items():
            run = _runner(strategy, f"{op.label} [{kind}]", headers, failures, seen)
            runs += 1
            try:
                run()
            except Unsatisfiable:
                assert kind == "negative", op.label  # an operation without parameters: nothing to get wrong
    elapsed = time.perf_counter() - t0
    assert only or runs >= 3 * 18, f"only {runs} runs: is the schema complete?"
    listed = [f"{where}: {text}" for where, found in failures.items() for text in found]
    assert not listed, f"contract failures in {len(failures)} runs ({elapsed:.0f} s):\n\n" + "\n\n".join(listed)
    # the happy paths were reached, so their bodies were checked against the schema
    ok = {label for label, codes in seen.items() if codes & {200, 201}}
    missing = {label for label in seen if label not in ok}
    assert not missing, f"never answered 200/201: {sorted(missing)}; seen {seen}"


# --------------------------------------------------------------------------- 405 / 415
def test_405_names_every_allowed_method(client):
    r = client.delete("/nearest")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"detail": "method: DELETE is not allowed here; allowed: GET", "field": "method"}
    # several routes on one path: all of their methods, not only the first route's
    assert client.post("/facilities/some-id").headers["allow"] == "GET, PUT, PATCH, DELETE"
    r = client.put("/facilities", json={})
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST" and r.json()["field"] == "method"
    # static files keep their own answer
    assert client.post("/static/app.js").headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/facilities", "/whatif"])
def test_415_for_bodies_that_are_not_json(client, editor, path):
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = client.post(path, content=b"type=aed", headers={**editor, "Content-Type": ctype})
        assert r.status_code == 415, (ctype, r.text)
        assert r.json()["field"] == "Content-Type" and ctype[:10] in r.json()["detail"]
    r = client.post(path, content=b"type=aed", headers=editor)  # a body without Content-Type
    assert r.status_code == 415 and r.json()["field"] == "Content-Type"
    # JSON types pass the check (and then fail validation, naming the field)
    r = client.post(path, content=b"{}", headers={**editor, "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422 and r.json()["field"] != "Content-Type"


def test_unreadable_json_is_422_naming_the_body(client, editor):
    for raw in (b"{bad", b"\xff\xfe\x05"):  # bad JSON; not UTF-8 (FastAPI's own answer would be a bare 400)
        r = client.post("/facilities", content=raw, headers={**editor, "Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.text)
        assert r.json()["field"] == "body" and r.json()["detail"].startswith("body: ")
