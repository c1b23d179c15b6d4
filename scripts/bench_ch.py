"""Contraction hierarchy benchmark: preprocessing cost and the 100x100 matrix, CH against Dijkstra.

    python scripts/bench_ch.py /work/mosaics/m12.osm.pbf --bundle /tmp/r12

Loads the bundle given by ``--bundle`` when it was built from the OSM file (otherwise builds it
there, or in a temporary directory without ``--bundle``), contracts the drive network, and
prints: CH preprocessing time and peak extra memory, arcs, save/load times, and the 100x100
matrix between random points by CH (ch_matrix plus the engine's same-geometry step, and the
ch_many_to_many kernel alone) and by Engine.matrix (one Dijkstra per origin), with the largest
difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOALS = {"ch_build_s": 60, "ch_build_extra_gb": 1.5, "ch_matrix100_s": 1.0}


def _status_gb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def reset_peak_rss() -> None:
    """Make VmHWM restart from the current RSS (Linux), so the next peak is the step's own."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def region_for(osm: Path, bundle: Path | None, tmp: Path):
    """Load the bundle, building it first in a child process (so that the build's freed
    memory does not hide the CH build's own peak)."""
    from geoservice.bundle.store import is_current_bundle, load_region

    out = bundle or tmp / osm.stem
    if is_current_bundle(out):
        built_from = json.loads((out / "meta.json").read_text())["inputs"][0]["path"]
        if Path(built_from).resolve() != osm.resolve():
            sys.exit(f"{out} was built from {built_from}, not {osm}")
        print(f"loading {out}", flush=True)
    else:
        print(f"building {out} from {osm} ...", flush=True)
        code = (
            "import sys; from geoservice.bundle.build import build_region; "
            "build_region(sys.argv[1], sys.argv[2], quiet=True, networks=('drive',))"
        )
        subprocess.run([sys.executable, "-c", code, str(osm), str(out)], check=True, cwd=ROOT)
    return load_region(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("osm", type=Path)
    ap.add_argument("--bundle", type=Path, help="bundle directory to load, or to build into")
    ap.add_argument("--n", type=int, default=100, help="origins and destinations (default 100)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from geoservice.bundle.contraction import CH, build_ch
    from geoservice.engine.ch import ch_many_to_many, ch_matrix, seed_arrays
    from geoservice.engine.engine import Engine

    res: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        region = region_for(args.osm, args.bundle, Path(tmp))
        eng = Engine(region)
        router = eng.router_for("drive")
        net = router.net
        res["nodes"], res["edges"] = net.n_nodes, net.n_edges
        w = net.times("drive")

        build_ch(np.array([0, 1]), np.array([1, 0]), np.ones(2), np.ones(2), 2)  # compile outside the timing
        reset_peak_rss()
        rss0 = _status_gb("VmRSS")
        t0 = time.perf_counter()
        ch = build_ch(net.edge_u, net.edge_v, w, net.edge_len, net.n_nodes)
        res["ch_build_s"] = time.perf_counter() - t0
        res["ch_build_extra_gb"] = _status_gb("VmHWM") - rss0
        res["ch_arcs"] = ch.n_arcs
        res["ch_arcs_per_edge"] = ch.n_arcs / net.n_edges

        path = Path(tmp) / "ch_drive.npz"
        t0 = time.perf_counter()
        ch.save(path)
        res["ch_save_s"] = time.perf_counter() - t0
        res["ch_file_mb"] = path.stat().st_size / 1024**2
        t0 = time.perf_counter()
        ch = CH.load(path)
        res["ch_load_s"] = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed)
    idx = rng.choice(net.n_nodes, 2 * args.n, replace=False)
    pts = [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]
    origins, dests = pts[: args.n], pts[args.n :]

    def ch_full() -> np.ndarray:
        """What Engine.matrix does with a CH: snap, CH times, then pairs on one geometry."""
        osn = router.snap_many([p[0] for p in origins], [p[1] for p in origins])
        dsn = router.snap_many([p[0] for p in dests], [p[1] for p in dests])
        times, _ = ch_matrix(ch, router, osn, dsn, "drive")
        for i, o in enumerate(osn):
            for j, d in enumerate(dsn):
                if o.geom == d.geom:
                    times[i, j] = min(times[i, j], router.along_same_edge(o, d, "drive"))
        return times

    ch_full()  # compile / warm up
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        mat_ch = ch_full()
        runs.append(time.perf_counter() - t0)
    res["ch_matrix100_s"] = min(runs)
    osn = router.snap_many([p[0] for p in origins], [p[1] for p in origins])
    dsn = router.snap_many([p[0] for p in dests], [p[1] for p in dests])
    src, dst = seed_arrays(router, osn, "drive", "from"), seed_arrays(router, dsn, "drive", "to")
    t0 = time.perf_counter()
    ch_many_to_many(ch, *src, *dst)
    res["ch_kernel100_s"] = time.perf_counter() - t0

    eng.matrix(origins[:2], dests[:2], profile="drive")  # compile / warm up
    t0 = time.perf_counter()
    mat_dij = np.vstack([r[1] for r in sorted(eng.matrix(origins, dests, profile="drive"), key=lambda r: r[0])])
    res["dijkstra_matrix100_s"] = time.perf_counter() - t0
    fin = np.isfinite(mat_dij)
    res["inf_mismatches"] = int((np.isfinite(mat_ch) != fin).sum())
    res["max_diff_s"] = float(np.abs(mat_ch[fin] - mat_dij[fin]).max()) if fin.any() else 0.0
    res["speedup"] = res["dijkstra_matrix100_s"] / res["ch_matrix100_s"]

    print(f"\n== {args.osm.name} (drive)")
    for k, v in res.items():
        goal = GOALS.get(k)
        mark = "" if goal is None else f"  (goal <= {goal}: {'OK' if v <= goal else 'MISSED'})"
        print(f"  {k:22s} {v:14.4f}{mark}" if isinstance(v, float) else f"  {k:22s} {v:14d}{mark}")


if __name__ == "__main__":
    main()
