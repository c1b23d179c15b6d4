#!/usr/bin/env python
"""Latency (p50/p99) and throughput of the HTTP API under a bounded load, on 127.0.0.1 only.

Starts ``geoservice serve --workers 2`` on a free loopback port in a subprocess, then:

1. /nearest (AED, walking, Monaco) at a fixed open-loop rate (default 200 req/s for 10 s);
2. /isochrones (walk, 5 and 10 min, Monaco) at a lower fixed rate (default 20 req/s for 5 s);
3. /nearest closed-loop with a few concurrent clients for a few seconds (peak throughput);
4. a mixed open-loop load (default 100 req/s for 10 s): 70% /nearest AED, 10% /nearest chest pain
   center, 8% /isochrones walk, 5% /layers/aed in a ~1 km box, 7% edits (POST /facilities, synthetic AEDs, the
   benchmark's editor key), with the server's resident memory (VmRSS, all its processes) before/after;

overload (issue 18), each client named by X-Forwarded-For (loopback is a trusted proxy here):

5. reads at 3x capacity: the capacity is the throughput of /isochrones from 16 closed-loop
   clients, then 3x that rate open loop: accepted p50/p99, the share refused (503/429) and how fast;
6. /nearest open loop (default 100 req/s) while 4 clients send POST /plans/aed-siting (300
   candidates) back to back, saturating the planning share;
7. 8 POST /plans/aed-siting with 2,000 candidates at once, each longer than the server's
   request_timeout_s (--request-timeout, default 10 s): the server's CPU time after the last answer
   and how long until it is idle;

and limits (a second server, default proxy trust, WRITES_PER_MINUTE=5, FAILED_KEY_LIMIT=10):

8. 16 edits with one key over connections held by both workers; 10 wrong keys from an address then
   its valid key; 12 wrong keys from loopback each with another X-Forwarded-For.

Every phase has a fixed request count and a time cap; the servers are stopped at the end.
``--server-src DIR`` serves from another checkout (``git archive``) for before/after figures.
Usage: .venv/bin/python -m benchmarks api [--phases base,overload,limits] [--rate 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.servers import HOST, RawConn, children, serve, worker_of
from benchmarks.servers import stop as stop_server

REPO = Path(__file__).resolve().parents[1]


def sample_points(region_dir: Path, n: int, seed: int = 1, profile: str = "walk") -> list[tuple[float, float]]:
    """Random points of the region that snap to its ``profile`` network (so every request is a 200)."""
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine

    eng = Engine(load_region(region_dir))
    router = eng.router_for(profile)
    x0, y0, x1, y1 = eng.region.bbox
    rng = random.Random(seed)
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        cand = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(200)]
        snaps = router.snap_many([c[0] for c in cand], [c[1] for c in cand], strict=False, max_snap_m=150)
        pts += [c for c, s in zip(cand, snaps) if s is not None]
    return pts[:n]


def server_cpu_s(root: int) -> float:
    """CPU seconds (user+system) used so far by the server process and its workers (Linux /proc),
    with what their children that have ended used (heavy requests' child processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    kids: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            parts = f.rsplit(")", 1)[1].split()
            stats[int(d)] = parts
            kids.setdefault(int(parts[1]), []).append(int(d))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += sum(int(v) for v in stats[pid][11:15]) / tick  # utime stime cutime cstime
        todo += kids.get(pid, [])
    return total


def server_rss_mb(root: int) -> tuple[float, int]:
    """Resident memory (MB, VmRSS summed) of the server process and its workers, and how many."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    total_kb, n, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
                n += 1
        todo += kids.get(pid, [])
    return round(total_kb / 1024, 1), n


def summary(lat_ms: list[float], errors: int, wall_s: float, n: int) -> dict:
    a = np.array(lat_ms) if lat_ms else np.array([np.nan])
    return {
        "requests": n,
        "ok": len(lat_ms),
        "errors": errors,
        "wall_s": round(wall_s, 2),
        "throughput_rps": round(len(lat_ms) / wall_s, 1) if wall_s > 0 else None,
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p90_ms": round(float(np.percentile(a, 90)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "max_ms": round(float(a.max()), 2),
    }


class Pool:
    """Minimal HTTP/1.1 keep-alive GET client on asyncio streams: far less client CPU than httpx,
    which matters when client and server share two cores."""

    def __init__(self, port: int, size: int):
        self.port, self.size = port, size
        self.free: asyncio.Queue = asyncio.Queue()
        self.opened = 0

    async def _conn(self):
        if self.free.empty() and self.opened < self.size:
            self.opened += 1
            return await asyncio.open_connection(HOST, self.port)
        return await self.free.get()

    async def get(self, url: str) -> int:
        return await self.request("GET", url)

    async def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> int:
        reader, writer = await self._conn()
        try:
            head = f"{method} {url} HTTP/1.1\r\nHost: {HOST}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + (body or b""))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
        except Exception:
            writer.close()
            self.opened -= 1
            raise
        self.free.put_nowait((reader, writer))
        return status

    async def close(self):
        while not self.free.empty():
            _, w = self.free.get_nowait()
            w.close()


async def open_loop(base: str, make_url, rate: float, seconds: float, cap_s: float) -> dict:
    """Send ``rate*seconds`` requests at fixed times; latency from the scheduled send time
    (so a server that falls behind is charged for the queueing, no coordinated omission)."""
    n = int(rate * seconds)
    lat, errors = [], 0
    client = Pool(int(base.rsplit(":", 1)[1]), 64)
    if True:
        t0 = time.perf_counter() + 0.2

        async def one(i: int):
            nonlocal errors
            sched = t0 + i / rate
            delay = sched - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await asyncio.wait_for(client.get(make_url(i)), timeout=cap_s)
                if status == 200:
                    lat.append((time.perf_counter() - sched) * 1000)
                else:
                    errors += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1

        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=seconds + cap_s + 5)
        wall = time.perf_counter() - start
        await client.close()
    return summary(lat, errors, wall, n)


async def closed_loop(base: str, make_url, clients: int, seconds: float, max_requests: int) -> dict:
    lat, errors, count = [], 0, 0
    deadline = time.perf_counter() + seconds
    client = Pool(int(base.rsplit(":", 1)[1]), clients)
    if True:

        async def worker(w: int):
            nonlocal errors, count
            while time.perf_counter() < deadline and count < max_requests:
                i = count
                count += 1
                t = time.perf_counter()
                try:
                    status = await asyncio.wait_for(client.get(make_url(i)), timeout=10)
                    if status == 200:
                        lat.append((time.perf_counter() - t) * 1000)
                    else:
                        errors += 1
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        wall = time.perf_counter() - start
        await client.close()
    return summary(lat, errors, wall, count)


MIX = (("nearest_aed", 70), ("nearest_cpc", 10), ("isochrones_walk", 8), ("layers_aed", 5), ("edit", 7))


async def mixed_open_loop(base: str, plan: list, rate: float, cap_s: float) -> dict:
    """Open loop over ``plan`` (one (kind, method, url, body, headers) per request, sent at fixed
    times, latency from the scheduled time): the summary, plus per kind and per error status."""
    n = len(plan)
    seconds = n / rate
    lat: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    statuses: dict[str, int] = {}
    client = Pool(int(base.rsplit(":", 1)[1]), 64)
    t0 = time.perf_counter() + 0.2

    async def one(i: int):
        nonlocal errors
        kind, method, url, body, headers = plan[i]
        sched = t0 + i / rate
        delay = sched - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            status = await asyncio.wait_for(client.request(method, url, body, headers), timeout=cap_s)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors += 1
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            return
        if status in (200, 201):
            ms = (time.perf_counter() - sched) * 1000
            lat.append(ms)
            by_kind.setdefault(kind, []).append(ms)
        else:
            errors += 1
            statuses[str(status)] = statuses.get(str(status), 0) + 1

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=seconds + cap_s + 5)
    wall = time.perf_counter() - start
    await client.close()
    res = summary(lat, errors, wall, n)
    res["error_statuses"] = statuses
    res["by_kind"] = {
        kind: {
            "sent": sum(1 for p in plan if p[0] == kind),
            "ok": len(v),
            "p50_ms": round(float(np.percentile(v, 50)), 2),
            "p99_ms": round(float(np.percentile(v, 99)), 2),
        }
        for kind, v in sorted(by_kind.items())
    }
    return res


def mixed_plan(pts, drive_pts, rate: float, seconds: float, token: str, seed: int = 3) -> list:
    """The mixed phase's requests, in sending order: kinds drawn with the ``MIX`` weights (chest
    pain centers from ``drive_pts``, near drive roads; the rest from ``pts``, on the walk network)."""
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    plan = []
    for i in range(int(rate * seconds)):
        kind = rng.choices(kinds, weights)[0]
        where = drive_pts if kind == "nearest_cpc" else pts
        x, y = where[rng.randrange(len(where))]
        if kind == "nearest_aed":
            plan.append((kind, "GET", f"/nearest?lon={x:.6f}&lat={y:.6f}&type=aed", None, None))
        elif kind == "nearest_cpc":
            plan.append((kind, "GET", f"/nearest?lon={x:.6f}&lat={y:.6f}&type=chest_pain_center", None, None))
        elif kind == "isochrones_walk":
            plan.append((kind, "GET", f"/isochrones?lon={x:.6f}&lat={y:.6f}&minutes=5,10&profile=walk", None, None))
        elif kind == "layers_aed":
            # what a phone shows around the patient: the AEDs of a ~1 km box (as the citizen page asks)
            d = 0.006
            bbox = f"{x - d:.6f},{y - d:.6f},{x + d:.6f},{y + d:.6f}"
            plan.append((kind, "GET", f"/layers/aed?bbox={bbox}", None, None))
        else:
            body = {
                "id": f"bench-mixed-{i}",
                "type": "aed",
                "name": f"benchmark mixed AED {i} (synthetic)",
                "lon": round(x + 1e-5, 6),
                "lat": round(y + 1e-5, 6),
                "source": "benchmark (synthetic)",
                "demo": True,
            }
            plan.append((kind, "POST", "/facilities", json.dumps(body).encode(), {"X-API-Key": token}))
    return plan


def synthetic_facility(fid: str, ftype: str, name: str, net, node: int, level: str | None = None) -> dict:
    """A registry record of a benchmark facility beside road node ``node`` of ``net``, labelled
    synthetic (source and demo), so that it is never taken for a real one."""
    return {
        "id": fid,
        "type": ftype,
        "name": name,
        "level": level,
        "capabilities": "",
        "address": None,
        "admin_code": None,
        "status": "unknown",
        "opening_hours": None,
        "access": None,
        "door_to_needle_min": None,
        "source": "benchmark (synthetic)",
        "demo": True,
        "lon": float(net.node_lon[node]) + 1e-5,
        "lat": float(net.node_lat[node]) + 1e-5,
    }


def add_synthetic_aeds(region: Path, db: str, n: int) -> str:
    """Seed the benchmark's own registry with the region's facilities plus ``n`` synthetic AEDs
    (labelled so, never published); returns an editor key."""
    import numpy as np

    from geoservice.bundle.store import load_region
    from geoservice.service.registry.store import Registry

    reg = Registry(db)
    r = load_region(region)
    reg.seed(r.name, r.facilities, r.meta.get("created"))
    key, token = reg.create_key("bench-editor", "editor")
    if n:
        net = r.networks["walk"]
        nodes = np.random.default_rng(7).integers(0, net.n_nodes, n)
        recs = [
            synthetic_facility(f"bench-aed-{i}", "aed", f"benchmark AED {i} (synthetic)", net, v)
            for i, v in enumerate(nodes)
        ]
        reg.import_records(r.name, recs, actor=key)
    reg.close()
    return token


def time_edits(base: str, token: str, pts, n: int = 15) -> float:
    """Median wall time (ms) of adding one AED through the API, the answers reloaded. One kept-alive
    connection, as an editing client holds: a new client per request would add its own set-up
    (about 20 ms for httpx) to every figure."""
    times = []
    with httpx.Client(timeout=120, headers={"X-API-Key": token}) as client:
        client.get(base + "/health")
        for i in range(n):
            x, y = pts[i]
            body = {
                "id": f"bench-edit-{i}",
                "type": "aed",
                "name": f"benchmark edit {i} (synthetic)",
                "lon": x,
                "lat": y,
                "source": "benchmark (synthetic)",
                "demo": True,
            }
            t0 = time.perf_counter()
            r = client.post(base + "/facilities", json=body)
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                raise RuntimeError(f"edit failed: {r.status_code} {r.text[:200]}")
    return round(sorted(times)[len(times) // 2], 1)


# --------------------------------------------------------------------------- overload (issue 18)
def client_address(i: int) -> str:
    """A benchmark client's address (198.18.0.0/15, the range RFC 2544 sets aside for benchmarks),
    sent as X-Forwarded-For by the load generator, which the server trusts as a proxy."""
    return f"198.18.{(i // 250) % 250}.{i % 250 + 1}"


def rejected(status: int | str) -> bool:
    return status in (429, 503)


def outcome(results: list[tuple]) -> dict:
    """Counts and latencies (ms) of answers: accepted (2xx), refused (429/503), other (errors,
    client time-outs); with open-loop results, how late the client was in sending (its own lag
    on a shared machine, included in every latency)."""
    ok = [r[1] for r in results if isinstance(r[0], int) and 200 <= r[0] < 300]
    refused = [r[1] for r in results if rejected(r[0])]
    lags = [r[2] for r in results if len(r) > 2]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1

    def pct(v: list[float], q: float) -> float | None:
        return round(float(np.percentile(v, q)), 1) if v else None

    return {
        "sent": len(results),
        "accepted": len(ok),
        "refused": len(refused),
        "other": len(results) - len(ok) - len(refused),
        "refused_share": round(len(refused) / max(len(results), 1), 3),
        "accepted_p50_ms": pct(ok, 50),
        "accepted_p99_ms": pct(ok, 99),
        "accepted_max_ms": round(max(ok), 1) if ok else None,
        "refused_p50_ms": pct(refused, 50),
        "refused_p99_ms": pct(refused, 99),
        "refused_max_ms": round(max(refused), 1) if refused else None,
        "statuses": statuses,
        "client_lag_p99_ms": pct(lags, 99),
    }


async def timed(client: Pool, req: tuple, cap_s: float, since: float) -> tuple[int | str, float]:
    """(status or exception name, ms from ``since``) of one request."""
    method, url, body, headers = req
    try:
        status = await asyncio.wait_for(client.request(method, url, body, headers), timeout=cap_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return type(exc).__name__, (time.perf_counter() - since) * 1000
    return status, (time.perf_counter() - since) * 1000


async def closed_loop_requests(port: int, make, clients: int, seconds: float, cap_s: float = 10) -> tuple:
    """``clients`` each sending the next request as soon as the last is answered: results, wall."""
    results: list[tuple[int | str, float]] = []
    client = Pool(port, clients)
    deadline = time.perf_counter() + seconds
    count = 0

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            i = count
            count += 1
            results.append(await timed(client, make(i), cap_s, time.perf_counter()))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - start
    await client.close()
    return results, wall


async def open_loop_requests(port: int, make, rate: float, seconds: float, cap_s: float, conns: int = 256) -> list:
    """``rate * seconds`` requests at fixed times, latency from the scheduled time; each result is
    (status, ms, lag ms: how late this client itself was in sending it)."""
    n = int(rate * seconds)
    client = Pool(port, conns)
    t0 = time.perf_counter() + 0.2

    async def one(i: int):
        sched = t0 + i / rate
        delay = sched - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = (time.perf_counter() - sched) * 1000
        return (*await timed(client, make(i), cap_s, sched), lag)

    results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=seconds + cap_s + 10)
    await client.close()
    return list(results)


def wait_idle(pid: int, cap_s: float = 300.0, window_s: float = 1.0, busy_s: float = 0.1) -> tuple[float, float]:
    """Seconds until the server's processes use less than ``busy_s`` CPU seconds in a
    ``window_s`` window, and the CPU seconds they used until then (capped at ``cap_s``)."""
    start = time.perf_counter()
    c_start = last = server_cpu_s(pid)
    while True:
        time.sleep(window_s)
        now = server_cpu_s(pid)
        if now - last < busy_s:
            return round(time.perf_counter() - start - window_s, 2), round(last - c_start, 2)
        last = now
        if time.perf_counter() - start > cap_s:
            return round(time.perf_counter() - start, 2), round(now - c_start, 2)


def siting_body(pts, n: int, seed: int) -> bytes:
    """POST /plans/aed-siting with ``n`` candidate points (random in the region's walk network)."""
    rng = random.Random(seed)
    cands = [{"lon": round(x, 6), "lat": round(y, 6)} for x, y in (pts[rng.randrange(len(pts))] for _ in range(n))]
    return json.dumps({"add": 3, "candidates": cands}).encode()


def overload_phases(port: int, pid: int, pts, args) -> dict:
    """Issue 18's goals: 3x capacity of reads, planning saturating its share while citizens ask
    /nearest, and the CPU after timed-out planning requests."""
    out: dict = {}
    rng = random.Random(18)

    def iso(i: int) -> tuple:
        x, y = pts[rng.randrange(len(pts))]
        url = f"/isochrones?lon={x:.6f}&lat={y:.6f}&minutes={args.overload_minutes}&profile=walk"
        return "GET", url, None, {"X-Forwarded-For": client_address(rng.randrange(2000))}

    def nearest(i: int) -> tuple:
        x, y = pts[rng.randrange(len(pts))]
        return "GET", f"/nearest?lon={x:.6f}&lat={y:.6f}&type=aed", None, {"X-Forwarded-For": client_address(i)}

    # warm-up in every worker (compiled kernels, caches), not measured
    asyncio.run(closed_loop_requests(port, iso, 16, 3.0))
    asyncio.run(closed_loop_requests(port, nearest, 16, 2.0))

    # 1. reads at 3x capacity: capacity = closed-loop throughput of /isochrones (16 clients)
    wait_idle(pid)
    cap = 0.0
    for _ in range(2):  # the better of two: other jobs on the machine only ever lower it
        res, wall = asyncio.run(closed_loop_requests(port, iso, 16, args.capacity_seconds))
        cap = max(cap, sum(1 for st, _ in res if st == 200) / wall)
    rate = min(3 * cap, 1500.0)
    c0 = server_cpu_s(pid)
    t0 = time.perf_counter()
    res = asyncio.run(open_loop_requests(port, iso, rate, args.overload_seconds, cap_s=30))
    wall = time.perf_counter() - t0  # until the last answer
    out["reads_3x"] = dict(
        outcome(res),
        accepted_rps=round(sum(1 for r in res if r[0] == 200) / wall, 1),
        capacity_rps=round(cap, 1),
        minutes=args.overload_minutes,
        rate_rps=round(rate, 1),
        server_cpu_s=round(server_cpu_s(pid) - c0, 1),
    )

    # 2. planning saturating its share while citizens ask /nearest (first /nearest alone: the
    # machine's own noise, for comparison)
    wait_idle(pid)
    alone = asyncio.run(open_loop_requests(port, nearest, args.nearest_rate, args.overload_seconds, 10, conns=64))
    body = siting_body(pts, args.plan_candidates, 5)
    stop = time.perf_counter() + args.overload_seconds + 1.0
    heavy: list[tuple[int | str, float]] = []

    async def planner(k: int) -> None:
        client = Pool(port, 1)
        j = 0
        while time.perf_counter() < stop:
            j += 1
            hdr = {"X-Forwarded-For": client_address(1000 + 50 * k + j % 50)}
            st, ms = await timed(
                client, ("POST", "/plans/aed-siting", body, hdr), args.request_timeout + 30, time.perf_counter()
            )
            heavy.append((st, ms))
            if rejected(st):
                await asyncio.sleep(0.2)  # a client told to come back later
        await client.close()

    async def saturated() -> list:
        planners = [asyncio.ensure_future(planner(k)) for k in range(args.planners)]
        await asyncio.sleep(1.0)  # the planners first
        citizens = await open_loop_requests(port, nearest, args.nearest_rate, args.overload_seconds, cap_s=10, conns=64)
        await asyncio.gather(*planners)
        return citizens

    citizens = asyncio.run(saturated())
    out["nearest_while_planning"] = dict(
        outcome(citizens),
        rate_rps=args.nearest_rate,
        planners=args.planners,
        planning=outcome(heavy),
        alone=outcome(alone),
    )

    # 3. CPU after timed-out planning requests: 8 at once, each longer than request_timeout_s
    wait_idle(pid)
    big = [siting_body(pts, 2000, 100 + k) for k in range(8)]

    async def eight() -> list:
        clients = [Pool(port, 1) for _ in range(8)]
        t = time.perf_counter()
        hdrs = [{"X-Forwarded-For": client_address(1900 + k)} for k in range(8)]
        res = await asyncio.gather(
            *(
                timed(c, ("POST", "/plans/aed-siting", b, h), args.request_timeout + 600, t)
                for c, b, h in zip(clients, big, hdrs)
            )
        )
        for c in clients:
            await c.close()
        return list(res)

    c0 = server_cpu_s(pid)
    res = asyncio.run(eight())
    answered = server_cpu_s(pid)
    idle_s, cpu_after = wait_idle(pid, cap_s=600)
    out["timeouts"] = dict(
        outcome(res),
        request_timeout_s=args.request_timeout,
        cpu_until_answered_s=round(answered - c0, 1),
        idle_after_last_answer_s=idle_s,
        cpu_after_last_answer_s=cpu_after,
    )
    return out


# --------------------------------------------------------------------------- limits (issue 18)
def limits_phase(region: Path, tmp: str, args) -> dict:
    """A second server with the default proxy trust, WRITES_PER_MINUTE=5 and FAILED_KEY_LIMIT=10
    over 2 workers: edits accepted in a minute when both workers take them, a valid key after 10
    wrong ones from its address, wrong keys with a spoofed X-Forwarded-For from loopback."""
    db = os.path.join(tmp, "limits.sqlite")
    token = add_synthetic_aeds(region, db, 0)
    from geoservice.service.registry.store import Registry

    reg = Registry(db)
    other = reg.create_key("bench-editor-2", "editor")[1]  # its budget of edits untouched by the first part
    reg.close()
    env = {"GEOSERVICE_WRITES_PER_MINUTE": "5", "GEOSERVICE_FAILED_KEY_LIMIT": "10"}
    proc, port = start_server(region, db, 2, env, args.server_src)
    out: dict = {}
    conns: list[RawConn] = []
    try:
        deadline = time.time() + 60
        while len(children(proc.pid)) < 2 and time.time() < deadline:
            time.sleep(0.2)
        workers = children(proc.pid)
        by_worker: dict[int, list[RawConn]] = {}
        for _ in range(200):  # kept-alive connections until each worker holds 8
            c = RawConn(port)
            c.request("GET", "/health")
            conns.append(c)
            w = worker_of(c.sock, port, workers)
            if w is not None and len(by_worker.setdefault(w, [])) < 8:
                by_worker[w].append(c)
            if len(by_worker) == 2 and all(len(v) == 8 for v in by_worker.values()):
                break
        order = [c for pair in zip(*by_worker.values()) for c in pair] if len(by_worker) == 2 else conns[:16]
        key = {"X-API-Key": token}
        codes = [
            c.request("POST", "/facilities", {**LIMITS_AED, "id": f"limits-{i}", "name": f"limits AED {i}"}, key)
            for i, c in enumerate(order[:16])
        ]
        out["writes_per_minute_5_two_workers"] = {
            "sent": len(codes),
            "accepted": codes.count(201),
            "over_workers": len(by_worker),
        }
        c = conns[0]
        wrong = [
            c.request("POST", "/facilities", LIMITS_AED, {"X-API-Key": "gsk_benchwrongAAAAAAAAAAAAAAAAAA"})
            for _ in range(10)
        ]
        valid = c.request("POST", "/facilities", {**LIMITS_AED, "id": "limits-valid"}, {"X-API-Key": other})
        out["valid_key_after_10_wrong_from_its_address"] = {"wrong": wrong, "valid_key_status": valid}
        spoof = {"X-API-Key": "gsk_benchspoofedBBBBBBBBBBBBBBBB"}
        spoofed = [
            c.request("POST", "/facilities", LIMITS_AED, {**spoof, "X-Forwarded-For": client_address(i)})
            for i in range(12)
        ]
        out["wrong_keys_with_spoofed_forwarded_for"] = {"statuses": spoofed, "refused_429": spoofed.count(429)}
    finally:
        for c in conns:
            c.close()
        stop_server(proc)
    return out


LIMITS_AED = {"type": "aed", "name": "limits AED (synthetic)", "lon": 7.4201, "lat": 43.7349, "demo": True}


# --------------------------------------------------------------------------- server
def start_server(region: Path, db: str, workers: int, env_extra: dict, src: str | None) -> tuple[subprocess.Popen, int]:
    """``geoservice serve`` on a free loopback port (from ``src`` if given: another checkout)."""
    settings = {k.removeprefix("GEOSERVICE_").lower(): v for k, v in env_extra.items()}
    served = serve([region], db, workers=workers, settings=settings, src=src)
    return served.proc, served.port


def print_overload(res: dict) -> None:
    r = res["reads_3x"]
    print(
        f"{'reads at 3x capacity':22s} /isochrones walk {r['minutes']} min, capacity {r['capacity_rps']} req/s "
        f"(16 closed-loop clients), sent {r['rate_rps']} req/s: {r['accepted']}/{r['sent']} accepted "
        f"({r['accepted_rps']} req/s until the last answer), "
        f"p50 {r['accepted_p50_ms']} ms, "
        f"p99 {r['accepted_p99_ms']} ms, max {r['accepted_max_ms']} ms; refused {r['refused']} "
        f"({100 * r['refused_share']:.1f}%, statuses {r['statuses']}) p50 {r['refused_p50_ms']} ms, "
        f"p99 {r['refused_p99_ms']} ms, max {r['refused_max_ms']} ms; other {r['other']}; "
        f"client's own sending lag p99 {r['client_lag_p99_ms']} ms"
    )
    r = res["nearest_while_planning"]
    h = r["planning"]
    print(
        f"{'nearest while planning':22s} /nearest {r['rate_rps']} req/s while {r['planners']} clients send "
        f"POST /plans/aed-siting: {r['accepted']}/{r['sent']} ok, p50 {r['accepted_p50_ms']} ms, "
        f"p99 {r['accepted_p99_ms']} ms, max {r['accepted_max_ms']} ms, other {r['other']} {r['statuses']} "
        f"(alone before: p50 {r['alone']['accepted_p50_ms']} ms, p99 {r['alone']['accepted_p99_ms']} ms); "
        f"planning: {h['accepted']} answered (p50 {h['accepted_p50_ms']} ms), {h['refused']} refused "
        f"(p99 {h['refused_p99_ms']} ms), other {h['other']}"
    )
    r = res["timeouts"]
    print(
        f"{'timed-out planning':22s} 8 x POST /plans/aed-siting (2,000 candidates), request_timeout_s "
        f"{r['request_timeout_s']:g}: statuses {r['statuses']}, answered after p50 {r['refused_p50_ms']} ms / "
        f"max {r['refused_max_ms']} ms; server CPU until the last answer {r['cpu_until_answered_s']} s, "
        f"after it {r['cpu_after_last_answer_s']} s; idle {r['idle_after_last_answer_s']} s after the last answer"
    )
    ok = (
        res["reads_3x"]["accepted_p99_ms"] is not None
        and res["reads_3x"]["accepted_p99_ms"] <= 1000
        and (res["reads_3x"]["refused_p99_ms"] or 0) <= 100
    )
    print(f"goal at 3x capacity accepted p99 <= 1 s, refusals within 100 ms: {'met' if ok else 'NOT met'}")
    ok = (res["nearest_while_planning"]["accepted_p99_ms"] or 1e9) <= 50
    print(f"goal /nearest p99 <= 50 ms while planning saturates its share: {'met' if ok else 'NOT met'}")
    ok = res["timeouts"]["idle_after_last_answer_s"] <= 5
    print(f"goal CPU idle within 5 s of a timed-out request: {'met' if ok else 'NOT met'}")


def print_limits(res: dict) -> None:
    w = res["writes_per_minute_5_two_workers"]
    print(
        f"{'writes per minute':22s} WRITES_PER_MINUTE=5, 2 workers ({w['over_workers']} used): "
        f"{w['accepted']}/{w['sent']} edits accepted"
    )
    v = res["valid_key_after_10_wrong_from_its_address"]
    print(
        f"{'lockout':22s} 10 wrong keys from an address {v['wrong']}; then a valid key from it: {v['valid_key_status']}"
    )
    s = res["wrong_keys_with_spoofed_forwarded_for"]
    print(f"{'spoofed forwarding':22s} 12 wrong keys from loopback, each with another X-Forwarded-For: {s['statuses']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", help="bundle with AEDs (default: the Monaco demo, built on first use)")
    ap.add_argument(
        "--phases",
        default="base,overload,limits",
        help="comma-separated: base (phases 1-4), overload (5-7), limits (8)",
    )
    ap.add_argument("--rate", type=float, default=200.0, help="/nearest requests per second")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--iso-rate", type=float, default=20.0)
    ap.add_argument("--iso-seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=8, help="closed-loop clients for peak throughput")
    ap.add_argument("--mixed-rate", type=float, default=100.0, help="mixed-phase requests per second")
    ap.add_argument("--mixed-seconds", type=float, default=10.0)
    ap.add_argument("--capacity-seconds", type=float, default=5.0, help="closed loop measuring read capacity")
    ap.add_argument(
        "--overload-minutes",
        default="10,20,30,40",
        help="walking isochrones of the 3x-capacity phase (~9 ms of CPU each on Monaco: the work, not the HTTP "
        "handling, bounds the capacity)",
    )
    ap.add_argument("--overload-seconds", type=float, default=10.0, help="3x capacity, and planning saturation")
    ap.add_argument("--nearest-rate", type=float, default=100.0, help="/nearest req/s while planning saturates")
    ap.add_argument("--planners", type=int, default=4, help="clients sending planning requests back to back")
    ap.add_argument("--plan-candidates", type=int, default=300, help="candidates of each saturating siting request")
    ap.add_argument("--request-timeout", type=float, default=10.0, help="the server's request_timeout_s")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    ap.add_argument("--server-src", help="serve from this source tree (another checkout: before/after figures)")
    ap.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="a setting of the measured server (GEOSERVICE_NAME)"
    )
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument(
        "--facilities",
        type=int,
        default=0,
        help="add this many synthetic AEDs (random walk-network nodes) before measuring",
    )
    args = ap.parse_args()
    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not phases <= {"base", "overload", "limits"}:
        ap.error("--phases: base, overload, limits")
    if not (
        0 < args.rate <= 2000
        and 0 < args.seconds <= 60
        and 0 < args.iso_rate <= 200
        and 0 < args.iso_seconds <= 60
        and 0 < args.mixed_rate <= 1000
        and 0 < args.mixed_seconds <= 60
        and 0 < args.capacity_seconds <= 30
        and 0 < args.overload_seconds <= 60
        and 0 < args.nearest_rate <= 500
        and 1 <= args.planners <= 16
        and 1 <= args.plan_candidates <= 2000
        and 1 <= args.request_timeout <= 120
    ):
        ap.error(
            "keep the load bounded: rate <= 2000/s, iso-rate <= 200/s, mixed-rate <= 1000/s, nearest-rate <= 500/s, "
            "at most 60 s per phase, planners <= 16, request-timeout <= 120 s"
        )

    from geoservice.bundle.demo import ensure_demo
    from geoservice.service.settings import get_settings

    s = get_settings()
    p = s.paths
    region = Path(args.region) if args.region else ensure_demo("monaco", p.data_dir, p.regions_dir, quiet=True)
    pts = sample_points(region, 500)
    drive_pts = sample_points(region, 500, seed=2, profile="drive")
    tmp = tempfile.mkdtemp(prefix="geoservice-bench-")
    if not 0 <= args.facilities <= 200_000:
        ap.error("--facilities must be 0-200000")
    editor = add_synthetic_aeds(region, os.path.join(tmp, "registry.sqlite"), args.facilities)
    LIMITS_AED.update(lon=round(pts[0][0], 6), lat=round(pts[0][1], 6))
    # The load comes from this one address: the anonymous budget is lifted (the overload phases
    # measure the classes' slots, as many clients would meet them, each named by X-Forwarded-For
    # from loopback, a trusted proxy here); the mixed phase's edits (7% of it) may pass the
    # default 120 edits per key per minute.
    env = {
        "GEOSERVICE_WRITES_PER_MINUTE": "1000000",
        "GEOSERVICE_PUBLIC_RATE_PER_S": "1000000",
        "GEOSERVICE_PUBLIC_BURST": "1000000",
        "GEOSERVICE_TRUSTED_PROXIES": '["127.0.0.1"]',
        "GEOSERVICE_REQUEST_TIMEOUT_S": str(args.request_timeout),
    }
    for item in args.set or []:
        name, _, value = item.partition("=")
        env[f"GEOSERVICE_{name.strip().upper()}"] = value
    res: dict = {
        "cpus": os.cpu_count(),
        "region": str(region),
        "server": f"geoservice serve --workers {args.workers}, 127.0.0.1"
        + (f", from {args.server_src}" if args.server_src else ""),
        "loadavg_before": os.getloadavg()[0],
    }
    if phases & {"base", "overload"}:
        proc, port = start_server(region, os.path.join(tmp, "registry.sqlite"), args.workers, env, args.server_src)
        base = f"http://{HOST}:{port}"
        try:
            if "base" in phases:
                base_phases(res, proc, port, base, pts, drive_pts, editor, args)
            if "overload" in phases:
                res["overload"] = overload_phases(port, proc.pid, pts, args)
        finally:
            stop_server(proc)
    if "limits" in phases:
        res["limits"] = limits_phase(region, tmp, args)
    res["loadavg_after"] = os.getloadavg()[0]
    if "base" in phases:
        print_base(res, args)
    if "overload" in phases:
        print_overload(res["overload"])
    if "limits" in phases:
        print_limits(res["limits"])
    print(
        f"load average before/after: {res['loadavg_before']:.2f} / {res['loadavg_after']:.2f} "
        f"(other processes on the machine skew latency; server CPU per request does not depend on them)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


def base_phases(res: dict, proc, port: int, base: str, pts, drive_pts, editor: str, args) -> None:
    """Phases 1-4: /nearest open and closed loop, isochrones, edits, the mixed load."""

    def nearest_url(i):
        x, y = pts[i % len(pts)]
        return f"/nearest?lon={x:.6f}&lat={y:.6f}&type=aed"

    def iso_url(i):
        x, y = pts[i % len(pts)]
        return f"/isochrones?lon={x:.6f}&lat={y:.6f}&minutes=5,10&profile=walk"

    # warm-up (JIT, caches), not measured
    async def warm():  # concurrent, so that every worker compiles its kernels before measuring
        await asyncio.gather(*(Pool(port, 1).get(nearest_url(i)) for i in range(40 * args.workers)))

    for _ in range(3):
        asyncio.run(warm())
    for i in range(5):
        httpx.get(base + iso_url(i), timeout=30)

    def phase(name, coro, **extra):
        c0 = server_cpu_s(proc.pid)
        r = asyncio.run(coro)
        # server CPU per request: independent of other load on the machine
        r["server_cpu_ms_per_req"] = round((server_cpu_s(proc.pid) - c0) * 1000 / max(r["requests"], 1), 2)
        res[name] = dict(r, **extra)

    res["aeds"] = len(httpx.get(base + "/layers/aed", timeout=60).json()["features"])
    phase("nearest_open_loop", open_loop(base, nearest_url, args.rate, args.seconds, 10), target_rps=args.rate)
    res["edit_ms"] = time_edits(base, editor, pts)
    phase(
        "isochrones_open_loop",
        open_loop(base, iso_url, args.iso_rate, args.iso_seconds, 30),
        target_rps=args.iso_rate,
    )
    phase("nearest_closed_loop", closed_loop(base, nearest_url, args.clients, 5, 20000), clients=args.clients)

    async def warm_cpc():  # the chest pain center query (drive network) too, in every worker; not measured
        urls = [f"/nearest?lon={x:.6f}&lat={y:.6f}&type=chest_pain_center" for x, y in drive_pts[: 10 * args.workers]]
        await asyncio.gather(*(Pool(port, 1).get(u) for u in urls))

    asyncio.run(warm_cpc())
    rss_before = server_rss_mb(proc.pid)
    plan = mixed_plan(pts, drive_pts, args.mixed_rate, args.mixed_seconds, editor)
    phase("mixed_open_loop", mixed_open_loop(base, plan, args.mixed_rate, 30), target_rps=args.mixed_rate)
    rss_after = server_rss_mb(proc.pid)
    res["mixed_open_loop"].update(rss_before_mb=rss_before[0], rss_after_mb=rss_after[0], server_processes=rss_after[1])


def print_base(res: dict, args) -> None:
    for name in ("nearest_open_loop", "isochrones_open_loop", "nearest_closed_loop"):
        r = res[name]
        extra = f" target {r['target_rps']}/s" if "target_rps" in r else f" {r['clients']} clients"
        print(
            f"{name:22s}{extra}: {r['ok']}/{r['requests']} ok, {r['throughput_rps']} req/s, "
            f"p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms; "
            f"server CPU {r['server_cpu_ms_per_req']} ms/req"
        )
    r = res["mixed_open_loop"]
    mix = "/".join(str(w) for _, w in MIX)
    print(
        f"{'mixed_open_loop':22s} target {r['target_rps']}/s ({mix}% nearest AED/CPC, iso, layer, edit): "
        f"{r['ok']}/{r['requests']} ok, {r['errors']} errors, {r['throughput_rps']} req/s, "
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms; "
        f"server CPU {r['server_cpu_ms_per_req']} ms/req; "
        f"server RSS {r['rss_before_mb']} -> {r['rss_after_mb']} MB ({r['server_processes']} processes)"
    )
    goal = res["nearest_open_loop"]
    verdict = "met" if goal["p99_ms"] <= 50 and goal["errors"] == 0 and args.rate >= 200 else "NOT met"
    print(f"goal /nearest p99 <= 50 ms at 200 req/s on {res['cpus']} cores: {verdict}")
    print(f"AEDs served: {res['aeds']}; one edit (POST /facilities, answers reloaded): median {res['edit_ms']} ms")


if __name__ == "__main__":
    sys.exit(main())
