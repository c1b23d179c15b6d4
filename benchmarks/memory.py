#!/usr/bin/env python
"""Memory of one ``geoservice serve`` under a burst of heavy anonymous requests (issue 18, item 2).

Starts ``geoservice serve`` (one process, 127.0.0.1 only, a throwaway registry) on the given
bundles, sends ``--requests`` distinct heavy service-area questions one after another (walking
service areas of every hospital, ``--minutes`` down by ``--step`` each time; distinct minutes, so
no answer is a cache hit), and reads the server's RSS (``/proc/<pid>/status`` VmRSS) after each,
its peak (VmHWM) and, after a pause (the heap trimmer runs every 2 s), what it keeps. Prints one
line per request and a summary (``--json F`` writes it); the anonymous request budget is lifted
(``GEOSERVICE_PUBLIC_BURST``) so that every request is answered or refused on its merits.

Usage::

    .venv/bin/python -m benchmarks memory --region ~/.cache/geoservice/regions/shanghai \
        --type hospital --profile walk --minutes 60 --step 0.1 --requests 150 [--server-env K=V]
"""

from __future__ import annotations

import argparse
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

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--region", action="append", required=True, help="bundle directory; repeatable")
    ap.add_argument("--type", default="hospital")
    ap.add_argument("--profile", default="walk")
    ap.add_argument("--minutes", type=float, default=60.0, help="the first request's minutes")
    ap.add_argument("--step", type=float, default=0.1, help="minutes fewer for each next request")
    ap.add_argument("--requests", type=int, default=150)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    ap.add_argument("--server-env", action="append", default=[], help="K=V for the server; repeatable")
    ap.add_argument("--max-rss-mb", type=float, default=8000, help="stop the burst when the server holds more")
    ap.add_argument("--json", help="write the summary here")
    args = ap.parse_args()

    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="geoservice-bench-memory-"))
    env = dict(
        os.environ,
        GEOSERVICE_PUBLIC_BURST="1e9",
        GEOSERVICE_PUBLIC_RATE_PER_S="1e9",
        GEOSERVICE_REQUEST_TIMEOUT_S=str(args.timeout),
    )
    env.update(kv.split("=", 1) for kv in args.server_env)
    cmd = [sys.executable, "-m", "geoservice", "serve", "--port", str(port), "--host", HOST, "--no-access-log"]
    for r in args.region:
        cmd += ["--region", r]
    cmd += ["--db", str(tmp / "registry.sqlite")]
    server = subprocess.Popen(cmd, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://{HOST}:{port}"
    try:
        with httpx.Client(base_url=url, timeout=args.timeout + 30) as client:
            for _ in range(600):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None:
                    sys.exit(f"the server stopped: {server.stderr.read().decode()[-2000:] if server.stderr else ''}")
                time.sleep(0.5)
            time.sleep(3)
            loaded = status_kb(server.pid, "VmRSS") / 1024
            print(f"loaded: RSS {loaded:.0f} MB")
            rows = []
            t0 = time.perf_counter()
            for i in range(args.requests):
                minutes = round(args.minutes - i * args.step, 3)
                q = {"type": args.type, "profile": args.profile, "minutes": minutes}
                t = time.perf_counter()
                r = client.get("/service-areas", params=q)
                rss = status_kb(server.pid, "VmRSS") / 1024
                row = dict(
                    minutes=minutes, status=r.status_code, bytes=len(r.content), s=round(time.perf_counter() - t, 2)
                )
                row["rss_mb"] = round(rss)
                if r.status_code != 200:
                    row["detail"] = r.json().get("detail", "")[:160]
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                if rss > args.max_rss_mb:
                    print(f"stopped: the server holds {rss:.0f} MB (--max-rss-mb)")
                    break
            burst_s = time.perf_counter() - t0
            time.sleep(5)  # the heap trimmer runs every 2 s
            summary = dict(
                requests=len(rows),
                answered=sum(r["status"] == 200 for r in rows),
                largest_answer_mb=round(max(r["bytes"] for r in rows) / 1e6, 1),
                answered_mb=round(sum(r["bytes"] for r in rows) / 1e6, 1),
                rss_loaded_mb=round(loaded),
                rss_peak_mb=round(status_kb(server.pid, "VmHWM") / 1024),
                rss_after_mb=round(status_kb(server.pid, "VmRSS") / 1024),
                burst_s=round(burst_s, 1),
            )
            print(json.dumps(summary))
            if args.json:
                Path(args.json).write_text(json.dumps(dict(summary, rows=rows), indent=1, ensure_ascii=False))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
