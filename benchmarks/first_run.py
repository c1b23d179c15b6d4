"""A first run as a new user has it: `serve` on a fresh install, then the first questions.

Measures, with an empty numba cache and no demo bundles yet (a fresh regions folder):

* first page: seconds from starting `geoservice serve` until `/` answers 200;
* ready: until every demo region is served (`/health` says nothing is being prepared);
* first `/nearest` after ready (a chest pain center from central Shanghai), then a second one;
* first CLI `matrix` on the demo afterwards (a new process: kernels from numba's cache).

Goals (issue 20): first page <= 15 s, first /nearest after ready <= 1 s, first CLI matrix <= 5 s.
`--fresh-venv DIR` first makes a new venv there and installs this checkout into it (not timed);
by default the current interpreter's install is used, with the numba cache emptied.

    python -m benchmarks first_run [--fresh-venv /tmp/gs-venv] [--port 8797]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def wait(url: str, ok, limit_s: float) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        try:
            r = httpx.get(url, timeout=2)
            if ok(r):
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fresh-venv", type=Path, help="make a new venv here and pip install this checkout (not timed)")
    ap.add_argument("--port", type=int, default=8797)
    args = ap.parse_args()
    bin_dir = Path(sys.executable).parent
    if args.fresh_venv:
        shutil.rmtree(args.fresh_venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(args.fresh_venv)], check=True)
        bin_dir = args.fresh_venv / "bin"
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "-e", str(ROOT)], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="gs-first-run-"))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba"), GEOSERVICE_REGIONS_DIR=str(tmp / "regions"))
    env["GEOSERVICE_DB_PATH"] = str(tmp / "registry.sqlite")
    env.pop("GEOSERVICE_REGIONS", None)
    base = f"http://127.0.0.1:{args.port}"
    log = (tmp / "serve.log").open("w")
    t0 = time.perf_counter()
    serve = subprocess.Popen(
        [str(bin_dir / "geoservice"), "serve", "--port", str(args.port), "--no-access-log"], env=env, stderr=log
    )
    try:
        page = wait(base + "/", lambda r: r.status_code == 200, 600)
        ready = wait(base + "/health", lambda r: r.status_code == 200 and not r.json().get("preparing"), 900)
        ready_s = time.perf_counter() - t0 if ready is not None else None
        q = {"lon": 121.47, "lat": 31.23, "type": "chest_pain_center"}
        t1 = time.perf_counter()
        first = httpx.get(base + "/nearest", params=q, timeout=120)
        first_s = time.perf_counter() - t1
        t1 = time.perf_counter()
        httpx.get(base + "/nearest", params={**q, "lon": 121.46}, timeout=120)
        second_s = time.perf_counter() - t1
    finally:
        serve.terminate()
        serve.wait(30)
    towns = ROOT / "examples" / "andorra_towns.csv"
    t1 = time.perf_counter()
    cli = subprocess.run(
        [str(bin_dir / "geoservice"), "matrix", "--origins", str(towns), "--destinations", str(towns),
         "-o", str(tmp / "od.csv")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    matrix_s = time.perf_counter() - t1
    print(f"first page after serve starts : {page:.1f} s (goal <= 15 s)" if page else "first page: never")
    print(f"every demo region served      : {ready_s:.1f} s" if ready_s else "ready: never")
    print(f"first /nearest after ready    : {first_s:.2f} s (HTTP {first.status_code}; goal <= 1 s)")
    print(f"second /nearest               : {second_s:.3f} s")
    print(f"first CLI matrix (5 x 5)      : {matrix_s:.1f} s (exit {cli.returncode}; goal <= 5 s)")
    print(f"serve's log: {tmp / 'serve.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
