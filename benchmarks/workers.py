#!/usr/bin/env python
"""Memory of ``geoservice serve`` with 1 and with N workers on one region: what each extra worker costs.

Bundle arrays are memory-mapped read-only (bundle/store.py), so the worker processes of one
machine share one copy of a region's pages. This measures it: it builds (or reuses) a bundle,
seeds a throwaway registry with the bundle's facilities plus synthetic chest pain centers and
AEDs (labelled "benchmark (synthetic)", never published), starts ``geoservice serve --workers 1``
and then ``--workers N`` on it (``GEOSERVICE_REGIONS=[bundle]``, 127.0.0.1 only), warms every
worker with concurrent /nearest and /isochrones requests until each one has the region mapped,
and reads every server process's RSS, PSS and USS from ``/proc/<pid>/smaps_rollup``.

PSS (proportional set size) charges each shared page to the processes mapping it in equal parts,
so the sum over processes counts the region once: it is the honest figure for what N workers
cost together. RSS counts shared pages in every process. Printed per extra worker:
(total with N workers - total with 1) / (N - 1), for RSS, PSS and USS. Goal: <= 150 MB (PSS).

``serve --workers N`` loads the region once and then forks its workers (gunicorn with uvicorn
workers, ``faces/api/prefork.py``), so what loading builds is shared copy-on-write as well, and it
caps glibc's malloc arenas (``--server-env MALLOC_ARENA_MAX=…`` still overrides that).

Usage (default: the 12x12 mosaic of central Shanghai, built once into /tmp/geoservice-mosaics)::

    .venv/bin/python -m benchmarks workers [--region DIR | --osm FILE] [--workers 4] [--server-env K=V] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
MOSAICS = Path("/tmp/geoservice-mosaics")
SHARED_OSM = REPO.parent / "shared" / "data" / "osm" / "shanghai-center.osm"
MAKE_MOSAIC = REPO.parent / "shared" / "tools" / "make_mosaic_osm.py"
GOAL_MB = 150.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def ensure_bundle(region: str | None, osm: str | None, tiles: str) -> Path:
    """The bundle to serve: ``region`` as given, else built from ``osm`` (default: the mosaic,
    made first when missing) unless a current bundle of it is already there."""
    from geoservice.bundle.store import is_current_bundle

    if region:
        if not is_current_bundle(region):
            sys.exit(f"{region} is not a bundle of this geoservice version; rebuild it")
        return Path(region)
    src = Path(osm) if osm else MOSAICS / f"mosaic-{tiles}.osm.pbf"
    if not src.is_file():
        if osm or not MAKE_MOSAIC.is_file():
            sys.exit(f"no OSM file {src}; give --osm or --region")
        MOSAICS.mkdir(parents=True, exist_ok=True)
        print(f"making {src} with {MAKE_MOSAIC.name} ...", flush=True)
        cmd = [sys.executable, str(MAKE_MOSAIC), str(SHARED_OSM), "--tiles", tiles, "-o", str(src)]
        subprocess.run(cmd, check=True)
    out = src.parent / f"bundle-{src.name.split('.')[0]}"
    if is_current_bundle(out):
        print(f"reusing {out}", flush=True)
        return out
    print(f"building {out} from {src} (default build) ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "geoservice", "build", "--osm", str(src), "--out", str(out), "--quiet"], check=True
    )
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def seed_registry(bundle: Path, db: Path, n_centers: int = 100, n_aeds: int = 300) -> tuple[list, list]:
    """The bundle's facilities plus synthetic ones at random road nodes; returns sample query
    points (drive, walk): nodes of each network, so every request is answered."""
    from benchmarks.api import synthetic_facility  # the same synthetic records as the API benchmark
    from geoservice.bundle.store import load_region
    from geoservice.service.registry.store import Registry

    region = load_region(bundle)
    reg = Registry(str(db))
    reg.seed(region.name, region.facilities, region.meta.get("created"))
    key, _ = reg.create_key("bench-workers", "editor")
    rng = np.random.default_rng(11)
    recs, pts = [], {}
    for kind, ftype, n in (("drive", "chest_pain_center", n_centers), ("walk", "aed", n_aeds)):
        net = region.networks[kind]
        nodes = rng.integers(0, net.n_nodes, n + 200)
        pts[kind] = [(float(net.node_lon[v]), float(net.node_lat[v])) for v in nodes[n:]]
        level = "standard" if ftype == "chest_pain_center" else None
        recs += [
            synthetic_facility(f"bench-{ftype}-{i}", ftype, f"benchmark {ftype} {i} (synthetic)", net, v, level)
            for i, v in enumerate(nodes[:n])
        ]
    reg.import_records(region.name, recs, actor=key)
    reg.close()
    return pts["drive"], pts["walk"]


def process_tree(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) of one process, MB, from smaps_rollup."""
    kb: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kb[parts[0].rstrip(":")] = int(parts[1])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return {"rss": kb.get("Rss", 0) / 1024, "pss": kb.get("Pss", 0) / 1024, "uss": uss / 1024}


def maps_bundle(pid: int, bundle: Path) -> bool:
    """Whether the process has the region's arrays mapped (it has loaded the region)."""
    try:
        return str(bundle.resolve()) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


async def _burst(base: str, urls: list[str]) -> list[int]:
    """All ``urls`` at once, one connection each, so that the workers share them."""

    async def one(u: str) -> int:
        async with httpx.AsyncClient(timeout=300) as c:
            for _ in range(20):  # a class of requests full (load shedding): wait as the answer says
                r = await c.get(base + u)
                if r.status_code != 503:
                    break
                await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), 2.0))
            return r.status_code

    return await asyncio.gather(*(one(u) for u in urls))


def serve_and_measure(
    bundle: Path, db: Path, workers: int, drive_pts: list, walk_pts: list, server_env: dict[str, str]
) -> dict:
    port = free_port()
    base = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "geoservice", "serve", "--host", HOST, "--port", str(port), "--db", str(db)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    env = dict(os.environ, **server_env, GEOSERVICE_REGIONS=json.dumps([str(bundle.resolve())]))
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.time() + 600
        while True:
            if proc.poll() is not None:
                sys.exit(proc.stderr.read().decode()[-2000:] if proc.stderr else "server exited")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                sys.exit("server did not start in 600 s")
            time.sleep(0.5)
        t0 = time.perf_counter()
        rounds, codes = 0, []
        while True:
            k = rounds * 4 * workers
            urls = []
            for i in range(k, k + 4 * workers):
                (dx, dy), (wx, wy) = drive_pts[i % len(drive_pts)], walk_pts[i % len(walk_pts)]
                urls.append(f"/nearest?lon={dx:.6f}&lat={dy:.6f}&type=chest_pain_center&k=3")
                urls.append(f"/nearest?lon={wx:.6f}&lat={wy:.6f}&type=aed")
                urls.append(f"/isochrones?lon={dx:.6f}&lat={dy:.6f}&minutes=10,30&profile=drive")
                urls.append(f"/isochrones?lon={wx:.6f}&lat={wy:.6f}&minutes=5,10&profile=walk")
            codes += asyncio.run(_burst(base, urls))
            rounds += 1
            pids = process_tree(proc.pid)
            loaded = [p for p in pids if maps_bundle(p, bundle)]
            if len(loaded) >= workers and rounds >= 3:
                break
            if rounds >= 40:
                sys.exit(f"only {len(loaded)} of {workers} workers loaded the region after {rounds} rounds")
        warm_s = time.perf_counter() - t0
        if any(c != 200 for c in codes):
            sys.exit(f"warm-up answered {sorted(set(codes))}")
        time.sleep(1.0)
        procs = []
        for pid in process_tree(proc.pid):
            try:
                m = memory_mb(pid)
            except OSError:
                continue
            procs.append({"pid": pid, "serves": maps_bundle(pid, bundle), **{k: round(v, 1) for k, v in m.items()}})
        total = {k: round(sum(p[k] for p in procs), 1) for k in ("rss", "pss", "uss")}
        return {
            "workers": workers,
            "requests": len(codes),
            "warm_s": round(warm_s, 1),
            "processes": procs,
            "total": total,
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def measure(bundle: Path, workers: int, server_env: dict[str, str] | None = None) -> dict:
    """Serve ``bundle`` with 1 and with ``workers`` workers on a throwaway registry; the memory of
    every server process and what each extra worker costs (MB)."""
    with tempfile.TemporaryDirectory(prefix="geoservice-bench-workers-") as tmp:
        db = Path(tmp) / "registry.sqlite"
        drive_pts, walk_pts = seed_registry(bundle, db)
        runs = [serve_and_measure(bundle, db, n, drive_pts, walk_pts, server_env or {}) for n in (1, workers)]
    one, many = runs
    extra = {k: round((many["total"][k] - one["total"][k]) / (workers - 1), 1) for k in ("rss", "pss", "uss")}
    return {
        "bundle": str(bundle),
        "server_env": server_env or {},
        "runs": runs,
        "per_extra_worker_mb": extra,
        "goal_mb": GOAL_MB,
    }


def figures(bundle: Path, workers: int = 4) -> dict[str, float]:
    """``measure`` as flat figures (MB) for another benchmark's table: total RSS and PSS of the
    server with 1 and with ``workers`` workers, and PSS per extra worker."""
    res = measure(bundle, workers)
    one, many = res["runs"]
    return {
        "serve_1_worker_rss_mb": one["total"]["rss"],
        "serve_1_worker_pss_mb": one["total"]["pss"],
        f"serve_{workers}_workers_rss_mb": many["total"]["rss"],
        f"serve_{workers}_workers_pss_mb": many["total"]["pss"],
        "extra_worker_pss_mb": res["per_extra_worker_mb"]["pss"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", help="an existing bundle (default: build the mosaic's)")
    ap.add_argument("--osm", help="OSM file to build the bundle from (default: the mosaic)")
    ap.add_argument("--tiles", default="12x12", help="mosaic size when building the default (12x12)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment of the server (repeatable), e.g. MALLOC_ARENA_MAX=2 to measure the allocator's share",
    )
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if not 2 <= args.workers <= 16:
        ap.error("--workers must be 2-16")
    if any("=" not in kv for kv in args.server_env):
        ap.error("--server-env takes KEY=VALUE")
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    bundle = ensure_bundle(args.region, args.osm, args.tiles)
    res = measure(bundle, args.workers, server_env)
    runs, extra = res["runs"], res["per_extra_worker_mb"]
    print(f"bundle {bundle}" + (f"; server environment {server_env}" if server_env else ""))
    for r in runs:
        print(f"serve --workers {r['workers']}: {r['requests']} warm-up requests in {r['warm_s']} s")
        print(f"  {'pid':>8} {'serves':>6} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8}")
        for p in r["processes"]:
            serves = "yes" if p["serves"] else "no"
            print(f"  {p['pid']:>8} {serves:>6} {p['rss']:>8.1f} {p['pss']:>8.1f} {p['uss']:>8.1f}")
        t = r["total"]
        print(f"  {'total':>15} {t['rss']:>8.1f} {t['pss']:>8.1f} {t['uss']:>8.1f}")
    verdict = "met" if extra["pss"] <= GOAL_MB else "missed"
    print(
        f"per extra worker (total with {args.workers} - total with 1) / {args.workers - 1}: "
        f"RSS {extra['rss']:.1f} MB, PSS {extra['pss']:.1f} MB, USS {extra['uss']:.1f} MB "
        f"(goal <= {GOAL_MB:.0f} MB PSS: {verdict})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
