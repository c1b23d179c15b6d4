"""Every worker answers from the current registry: ``serve --workers 2`` and a second server
process on one registry, concurrent edits to two regions through both, then 50 reads (spread
over every worker) that all agree and all contain every acknowledged edit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _serve(regions: list[Path], db: Path, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    env["GEOSERVICE_WRITES_PER_MINUTE"] = "100000"
    cmd = [
        sys.executable,
        "-m",
        "geoservice",
        "serve",
        "--db",
        str(db),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    for r in regions:
        cmd += ["--region", str(r)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://{HOST}:{port}"
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            pytest.fail("serve did not start in 120 s")
        time.sleep(0.3)


def test_workers_and_processes_agree_after_concurrent_edits(regions_dir, tmp_path):
    from geoservice.service.registry import Registry

    db = tmp_path / "registry.sqlite"
    regions = [regions_dir / "andorra", regions_dir / "monaco"]
    reg = Registry(db)
    token = reg.create_key("workers-test", "editor")[1]
    reg.close()
    procs = []
    try:
        p1, two_workers = _serve(regions, db, 2, tmp_path / "serve2.log")
        procs.append(p1)
        p2, one_worker = _serve(regions, db, 1, tmp_path / "serve1.log")
        procs.append(p2)
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
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
