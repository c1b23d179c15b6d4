"""Isochrone benchmark on one bundle: the polygon as the API asks for it, and where its time goes.

    python -m benchmarks isochrone /tmp/geoservice-mosaics/bundle-mosaic-12x12
    python -m benchmarks isochrone BUNDLE --minutes 30 --n 50 --profile drive --seed 1 --repeat 2

For ``--n`` random origins (points at random network nodes, fixed ``--seed``) it times
``Engine.isochrones(lon, lat, minutes)`` (snap included, as ``GET /isochrones`` calls it): median
and p90 of wall time and of this process's CPU time (all threads: road points and field run in
two), and the outline's vertex count; then, in a second run of the same origins, the median and
p90 of each stage of ``isochrone_geojson`` (wall): search (seeds + bounded Dijkstra), samples (the
reached road pieces and their points), field (reach field on the lattice), cut (late junctions
kept out), contour (settle + contourpy), geojson. With ``--repeat`` each origin runs that many
times and its fastest run counts. Prints the 1-minute load average before and after: figures
taken while other work runs on the machine are not comparable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks import write_json

STAGES = ("search", "samples", "field", "cut", "contour", "geojson")


def p90(xs: list[float]) -> float:
    return float(np.percentile(xs, 90))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--minutes", type=float, nargs="+", default=[30.0])
    ap.add_argument("--n", type=int, default=30, help="random origins")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="drive")
    ap.add_argument("--repeat", type=int, default=1, help="runs per origin (the fastest counts)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()

    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine
    from geoservice.engine.isochrone import isochrone_geojson

    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    eng = Engine(load_region(args.bundle))
    router = eng.router_for(args.profile)
    net = router.net
    print(
        f"bundle {args.bundle.name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges ({args.profile}),"
        f" loaded in {time.perf_counter() - t0:.1f} s"
    )
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(net.n_nodes, args.n, replace=False)
    origins = [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]
    # warm-up: compiled kernels come from numba's disk cache on first call; the adjacency is built once
    for lon, lat in origins[:2]:
        eng.isochrones(lon, lat, args.minutes, profile=args.profile)

    wall, cpu, verts = [], [], []
    for lon, lat in origins:
        best = (np.inf, np.inf)
        for _ in range(args.repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            feats = eng.isochrones(lon, lat, args.minutes, profile=args.profile)
            best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
        wall.append(best[0] * 1000)
        cpu.append(best[1] * 1000)
        poly = feats[-1]["geometry"]
        verts.append(sum(len(ring) for part in poly["coordinates"] for ring in part))
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for lon, lat in origins:
        snap = router.snap(lon, lat)
        runs = []
        for _ in range(args.repeat):
            tm: dict[str, float] = {}
            isochrone_geojson(router, snap, args.minutes, profile=args.profile, timings=tm)
            runs.append(tm)
        tm = min(runs, key=lambda t: sum(t.values()))
        for s in STAGES:
            stages[s].append(tm.get(s, 0.0) * 1000)
    mins = ",".join(f"{m:g}" for m in args.minutes)
    med = statistics.median
    print(
        f"isochrones [{mins}] min, {args.n} origins: wall median {med(wall):.1f} ms, p90 {p90(wall):.1f} ms;"
        f" CPU median {med(cpu):.1f} ms, p90 {p90(cpu):.1f} ms; outline vertices median {int(med(verts))}"
    )
    print("stages (median / p90 ms): " + ", ".join(f"{s} {med(v):.1f}/{p90(v):.1f}" for s, v in stages.items()))
    print(f"sum of stage medians {sum(med(v) for v in stages.values()):.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    write_json(
        args.json,
        {
            "bundle": str(args.bundle),
            "profile": args.profile,
            "minutes": args.minutes,
            "origins": args.n,
            "wall_ms": {"median": med(wall), "p90": p90(wall)},
            "cpu_ms": {"median": med(cpu), "p90": p90(cpu)},
            "outline_vertices_median": int(med(verts)),
            "stages_ms": {s: {"median": med(v), "p90": p90(v)} for s, v in stages.items()},
        },
    )


if __name__ == "__main__":
    main()
