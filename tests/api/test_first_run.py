"""A first ``serve`` answers at once (issue 20, item 3): while the demo regions are prepared the
pages load, ``/config`` and ``/health`` say what is being done, questions get 503 with
Retry-After; each region is served as soon as it is loaded, its kernels compiled first."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geoservice.engine.warmup import warm_kernels
from geoservice.faces.api.app import create_app
from geoservice.service.core import GeoService

Q = {"lon": 7.4236, "lat": 43.7384, "type": "hospital"}


def test_questions_wait_for_a_region_and_pages_do_not(monaco, tmp_path):
    svc = GeoService([], preparing="building demo region 1 of 3 (shanghai)")
    with TestClient(create_app(svc)) as c:
        assert c.get("/").status_code == 200  # the page, at once
        cfg = c.get("/config").json()
        assert cfg["regions"] == [] and cfg["preparing"] == "building demo region 1 of 3 (shanghai)"
        r = c.get("/nearest", params=Q)
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        assert "being prepared" in r.text
        compiled = []
        svc.add_region(monaco.path, before_serving=lambda e: compiled.append(warm_kernels(e.engine_)))
        svc.preparing = None
        assert compiled and compiled[0] >= 0
        assert c.get("/config").json()["regions"][0]["name"] == "monaco"
        ok = c.get("/nearest", params=Q)
        assert ok.status_code == 200 and ok.json()["results"]
        assert c.get("/health").json() == {"status": "ok", "regions": ["monaco"], "preparing": None}


def test_warming_compiles_every_kind_of_question(andorra_engine):
    assert warm_kernels(andorra_engine) >= 0  # every network's questions asked, nothing raised
