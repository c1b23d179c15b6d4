"""Every worker answers from the current registry: ``serve --workers 2`` and a second server
process on one registry, concurrent edits to two regions through both, then 50 reads (spread
over every worker) that all agree and all contain every acknowledged edit."""

from __future__ import annotations

import threading

import httpx
import pytest

from benchmarks.servers import Served, serve

pytestmark = pytest.mark.slow


def test_workers_and_processes_agree_after_concurrent_edits(regions_dir, tmp_path):
    from geoservice.service.registry.store import Registry

    db = tmp_path / "registry.sqlite"
    regions = [regions_dir / "andorra", regions_dir / "monaco"]
    reg = Registry(db)
    token = reg.create_key("workers-test", "editor")[1]
    reg.close()
    procs: list[Served] = []
    try:
        many_writes = {"writes_per_minute": "100000"}
        procs.append(serve(regions, db, workers=2, log=tmp_path / "serve2.log", settings=many_writes))
        procs.append(serve(regions, db, workers=1, log=tmp_path / "serve1.log", settings=many_writes))
        two_workers, one_worker = procs[0].base, procs[1].base
        bases = [two_workers, one_worker]
        for b in bases:  # every worker loads both regions before the edits
            for _ in range(6):
                httpx.get(b + "/layers/aed", params={"region": "monaco"}, timeout=30)
                httpx.get(b + "/layers/chest_pain_center", params={"region": "andorra"}, timeout=30)
        edits = [
            {
                "id": f"w-aed-{i}",
                "type": "aed",
                "name": f"Worker AED {i}",
                "lon": 7.4230 + 1e-4 * i,
                "lat": 43.7384,
                "source": "test",
            }
            for i in range(6)
        ]
        edits += [
            {
                "id": f"w-cpc-{i}",
                "type": "chest_pain_center",
                "level": "basic",
                "demo": True,
                "name": f"Worker CPC {i} [DEMO designation]",
                "lon": 1.5836 + 1e-4 * i,
                "lat": 42.5359,
                "source": "test",
            }
            for i in range(6)
        ]
        acked, errors = [], []

        def post(i: int, body: dict) -> None:
            r = httpx.post(bases[i % 2] + "/facilities", json=body, headers={"X-API-Key": token}, timeout=60)
            (acked if r.status_code == 201 else errors).append(body["id"] if r.status_code == 201 else r.text)

        threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate(edits)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(acked) == len(edits)
        answers = set()
        for i in range(50):
            b = bases[i % 2]
            aeds = httpx.get(b + "/layers/aed", params={"region": "monaco"}, timeout=30).json()["features"]
            cpcs = httpx.get(b + "/layers/chest_pain_center", params={"region": "andorra"}, timeout=30).json()
            near = httpx.get(b + "/nearest", params={"lon": 7.4235, "lat": 43.7384, "type": "aed"}, timeout=30).json()
            answers.add(
                (
                    frozenset(f["properties"]["id"] for f in aeds),
                    frozenset(f["properties"]["id"] for f in cpcs["features"]),
                    near["results"][0]["facility"]["id"],
                )
            )
        assert len(answers) == 1, answers
        aed_ids, cpc_ids, nearest_id = next(iter(answers))
        assert {e["id"] for e in edits} <= aed_ids | cpc_ids
        assert nearest_id.startswith("w-aed-")
    finally:
        for p in procs:
            p.stop()
