"""Memory bounded per request and in total (issue 18, item 2).

Before: the answer caches counted entries, not bytes; one anonymous walking service-areas request
of 200 minutes on central Shanghai answered 240 MB of GeoJSON and grew ``serve`` by ~870 MB, and
150 such requests grew one server to 21 GB. Now the caches hold at most ``cache_bytes`` (and
``cache_region_bytes`` a region), one answer at most ``max_answer_bytes``, walking at most
``max_walk_minutes``, and each facility's service area is cached on its own, so an edit recomputes
only the facility it moved.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import pytest

from geoservice.questions import ServiceAreaQuestion
from geoservice.service.caches import BoundedCache, CacheBudget, StableKey, estimate_bytes
from geoservice.service.core import GeoService
from geoservice.service.registry.store import open_registry
from geoservice.service.settings import Settings
from geoservice.service.usecases import areas, queries

MB = 1 << 20
CACHE_BYTES = 3 * MB
REGION_BYTES = 2 * MB
OPEN = dict(public_rate_per_s=1e9, public_burst=1e9, request_timeout_s=300.0)  # anonymous, never throttled


def _service(andorra, monaco, path, **settings) -> GeoService:
    return GeoService([andorra, monaco], registry=open_registry(str(path)), settings=Settings.of(**OPEN, **settings))


@pytest.fixture(scope="module")
def bounded(andorra, monaco, tmp_path_factory):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app

    path = tmp_path_factory.mktemp("memory") / "registry.sqlite"
    svc = _service(andorra, monaco, path, cache_bytes=CACHE_BYTES, cache_region_bytes=REGION_BYTES)
    with TestClient(create_app(svc)) as client:
        yield svc, client
    svc.close()


def _rss() -> int:
    psutil = pytest.importorskip("psutil")
    gc.collect()
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)  # what the server's heap trimmer does every 2 s
    return int(psutil.Process().memory_info().rss)


def _heavy_requests(n: int = 150) -> list[dict]:
    """``n`` distinct service-area questions, mostly on foot up to the walking limit."""
    kinds = [
        ("monaco", "hospital", "walk"),
        ("monaco", "aed", "walk"),
        ("andorra", "grassroots_unit", "walk"),
        ("andorra", "hospital", "walk"),
        ("monaco", "stroke_center", "walk"),
        ("andorra", "grassroots_unit", "drive"),
    ]
    out: list[dict] = []
    i = 0
    while len(out) < n:
        region, type_, profile = kinds[i % len(kinds)]
        minutes = 60 - (i // len(kinds)) * 2 if profile == "walk" else 120 - (i // len(kinds)) * 3
        out.append({"type": type_, "profile": profile, "minutes": minutes, "region": region})
        i += 1
    assert len({tuple(sorted(q.items())) for q in out}) == n
    return out


def test_150_distinct_heavy_requests_stay_within_the_cache_budget(bounded, monkeypatch):
    """In the serving process itself (heavy requests otherwise run in a child process, whose
    memory goes with it): every byte of every answer is allocated here, the hardest case."""
    svc, client = bounded
    try:
        from geoservice.faces.api import cancellable
    except ImportError:
        pass
    else:
        monkeypatch.setattr(cancellable, "fork_is_safe", lambda: False)
    caches = [e.cache for e in svc.regions.values()]
    assert client.get("/service-areas", params={"type": "aed", "region": "monaco"}).status_code == 200  # warm
    before = _rss()
    peak, answered = 0, 0
    for q in _heavy_requests():
        r = client.get("/service-areas", params=q)
        assert r.status_code == 200, (q, r.text)
        answered += len(r.content)
        assert svc.cache_budget.used == sum(c.bytes for c in caches)
        assert svc.cache_budget.used <= CACHE_BYTES, q
        assert all(c.bytes <= REGION_BYTES for c in caches), q
        peak = max(peak, svc.cache_budget.used)
    # the budget was the bound: far more was answered than is kept, least recently used dropped
    assert answered > 5 * CACHE_BYTES and sum(c.evicted for c in caches) > 0
    assert peak > CACHE_BYTES // 2
    grown = _rss() - before
    # what the cache holds plus a generous margin for the interpreter's own pools (before the byte
    # bounds, each of these answers was kept whole: 150 of them)
    assert grown < CACHE_BYTES + 150 * MB, f"RSS grew by {grown / MB:.0f} MB"


def test_a_walk_beyond_the_limit_is_422_naming_minutes(bounded):
    _, client = bounded
    r = client.get("/service-areas", params={"type": "hospital", "profile": "walk", "minutes": 200})
    assert r.status_code == 422 and r.json()["field"] == "minutes"
    assert "max_walk_minutes" in r.json()["detail"] and "60" in r.json()["detail"]
    iso = client.get("/isochrones", params={"lon": 7.42, "lat": 43.735, "minutes": "10,90", "profile": "walk"})
    assert iso.status_code == 422 and iso.json()["field"] == "minutes"
    # driving keeps its 240 minutes, walking up to the limit is answered
    assert (
        client.get("/service-areas", params={"type": "hospital", "minutes": 200, "region": "monaco"}).status_code == 200
    )
    ok = client.get("/isochrones", params={"lon": 7.42, "lat": 43.735, "minutes": "60", "profile": "walk"})
    assert ok.status_code == 200


def test_an_answer_beyond_the_byte_budget_is_422_naming_the_limit(bounded, monkeypatch):
    svc, client = bounded
    monkeypatch.setattr(svc.settings.limits, "max_answer_bytes", 1 << 16)
    q = {"type": "hospital", "profile": "walk", "minutes": 45, "region": "monaco"}
    r = client.get("/service-areas", params=q)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == "max_answer_bytes"
    assert "0.1 MB" in body["detail"] and "fewer facilities" in body["detail"] and "fewer minutes" in body["detail"]
    # a narrower question fits
    assert client.get("/service-areas", params=dict(q, minutes=5)).status_code == 200


def test_an_edit_recomputes_only_the_facility_it_moved(andorra, monaco, tmp_path):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app

    svc = _service(andorra, monaco, tmp_path / "registry.sqlite")
    editor = {"X-API-Key": svc.registry.create_key("t-editor", "editor")[1]}
    q = {"type": "grassroots_unit", "minutes": 10, "region": "andorra"}

    def area_keys() -> set:
        return {k for k in svc.regions["andorra"].cache._data if isinstance(k, StableKey)}

    with TestClient(create_app(svc)) as client:
        first = client.get("/service-areas", params=q).json()["features"]
        n = len(first)
        assert n >= 5 and len(area_keys()) == n
        moved = first[2]["properties"]["id"]
        lon, lat = (client.get(f"/facilities/{moved}").json()[k] for k in ("lon", "lat"))
        r = client.patch(f"/facilities/{moved}", json={"lon": lon + 0.0005, "lat": lat}, headers=editor)
        assert r.status_code == 200, r.text
        keys = area_keys()
        second = client.get("/service-areas", params=q).json()["features"]
        assert len(area_keys() - keys) == 1  # one new polygon: the moved facility's; the rest reused
        by_id = {f["properties"]["id"]: f for f in first}
        for f in second:
            if f["properties"]["id"] != moved:
                assert f == by_id[f["properties"]["id"]]
        assert {f["properties"]["id"] for f in second} == set(by_id)
        # renaming recomputes nothing: the polygon is the position's
        renamed = first[0]["properties"]["id"]
        assert client.patch(f"/facilities/{renamed}", json={"name": "Renamed"}, headers=editor).status_code == 200
        keys = area_keys()
        third = client.get("/service-areas", params=q).json()["features"]
        assert area_keys() == keys
        assert {f["properties"]["name"] for f in third if f["properties"]["id"] == renamed} == {"Renamed"}

    # in the service itself (no child process): the polygons built are counted
    computed = areas.COMPUTED.n
    queries.service_areas(svc, ServiceAreaQuestion.of(type="grassroots_unit", minutes=12, region="andorra"))
    assert areas.COMPUTED.n - computed == n
    from geoservice.service.usecases import edits

    fid = first[4]["properties"]["id"]
    rec = svc.registry.get("andorra", fid)[0]

    key = svc.registry.check_key(editor["X-API-Key"])
    edits.patch_facility(svc, fid, {"lon": rec["lon"] - 0.0005, "lat": rec["lat"]}, actor=key)
    computed = areas.COMPUTED.n
    queries.service_areas(svc, ServiceAreaQuestion.of(type="grassroots_unit", minutes=12, region="andorra"))
    assert areas.COMPUTED.n - computed == 1
    svc.close()


def test_simplified_outlines_stay_close_to_the_exact_ones(andorra, monaco, tmp_path):
    """The only change to the answer's content: positions on a 1e-6 degree grid and the outline
    simplified to a quarter lattice step; area_simplify_cells=0 answers the engine's own polygons."""
    import shapely
    from shapely.geometry import shape

    exact = _service(andorra, monaco, tmp_path / "a.sqlite", area_simplify_cells=0)
    simple = _service(andorra, monaco, tmp_path / "b.sqlite")
    for profile, minutes in (("walk", 30), ("drive", 15)):
        q = ServiceAreaQuestion.of(type="hospital", profile=profile, minutes=minutes, region="monaco")
        a = queries.service_areas(exact, q).features
        b = queries.service_areas(simple, q).features
        eng = exact.engine("monaco")
        for fa, fb in zip(a, b, strict=True):
            assert fa.properties == fb.properties
            rec = eng.facilities[eng.facilities["id"] == fa.properties["id"]].iloc[0]
            own = eng.isochrones(rec.geometry.x, rec.geometry.y, [minutes], profile=profile, facility=True)[0]
            assert fa.geometry.model_dump()["coordinates"] == [
                [list(r) for r in p] for p in own["geometry"]["coordinates"]
            ]
            ga, gb = shape(fa.geometry.model_dump()), shape(fb.geometry.model_dump())
            assert gb.is_valid and gb.geom_type == "MultiPolygon"
            assert shapely.get_num_coordinates(gb) < shapely.get_num_coordinates(ga)
            assert ga.symmetric_difference(gb).area < 0.06 * ga.area
            coords = shapely.get_coordinates(gb)
            assert (abs(coords * 1e6 - (coords * 1e6).round()) < 1e-6).all()
    exact.close()
    simple.close()


def test_bounded_cache_counts_bytes_across_regions():
    budget = CacheBudget(10_000)
    a: BoundedCache[bytes] = BoundedCache(100, 8_000, budget=budget, sizeof=len)
    b: BoundedCache[bytes] = BoundedCache(100, 8_000, budget=budget, sizeof=len)
    a.put("a1", b"x" * 3000)  # 3,200 bytes with the entry's bookkeeping
    b.put("b1", b"x" * 3000)
    a.put("a2", b"x" * 3000)
    assert budget.used == 9600 and len(a) == 2 and len(b) == 1
    a.put("a3", b"x" * 3000)  # over the shared budget: the least recently used of both goes
    assert "a1" not in a and budget.used == 9600
    assert b.get("b1") is not None  # used again: now a2 is the oldest
    a.put("a4", b"x" * 3000)
    assert "a2" not in a and "b1" in b and budget.used == a.bytes + b.bytes == 9600
    assert not a.put("huge", b"x" * 9000) and "huge" not in a  # larger than a limit: answered, not kept
    a.put(StableKey(("area", 1)), b"x" * 100)
    a.put("answer", b"x" * 100)
    a.clear(keep_stable=True)
    assert StableKey(("area", 1)) in a and "answer" not in a and budget.used == a.bytes + b.bytes
    assert estimate_bytes({"coordinates": [[(1.5, 2.5)] * 1000]}) > 1000 * 100
