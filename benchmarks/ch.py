"""Contraction hierarchy benchmark: the default build with its customizable hierarchy (CCH), the
customisation for a new congestion table, and 100x100 matrices under free flow and peak.

    python -m benchmarks ch /tmp/mosaic-12x12.osm.pbf --bundle /tmp/r12 [--classic]

Builds the bundle with the default options (drive + walk networks, OSM POIs, the CCH of the drive
network) in a child process when ``--bundle`` does not hold one built from the OSM file (in a
temporary directory without ``--bundle``), timing it and reading its peak RSS. Then prints the
CCH's size, the order / contraction time (``build_cch`` alone), the customisation time for a
new congestion table, and the 100x100 matrix between random points by ``Engine.matrix`` under
free flow, ``peak`` and that table, each checked against one Dijkstra per origin under the same
weights. ``--classic`` also builds the classic witness-search CH for free flow and times its
matrix kernel against the CCH's on the same snapped points, for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import write_json

ROOT = Path(__file__).resolve().parents[1]

GOALS = {"build_s": 90, "build_peak_rss_gb": 2.0, "customise_new_table_s": 10, "peak_over_free": 2.0}
TABLE = {"primary": 1.83, "secondary": 1.61, "tertiary": 1.37, "trunk": 1.52, "residential": 1.18}


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


def region_for(osm: Path, bundle: Path | None, tmp: Path, res: dict):
    """Load the bundle, first building it with the default options in a child process (timed,
    its peak RSS read from the kernel's accounting of finished children)."""
    from geoservice.bundle.store import is_current_bundle, load_region

    out = bundle or tmp / osm.stem
    if is_current_bundle(out):
        built_from = json.loads((out / "meta.json").read_text())["inputs"][0]["path"]
        if Path(built_from).resolve() != osm.resolve():
            sys.exit(f"{out} was built from {built_from}, not {osm}")
        print(f"loading {out} (delete it to time the build)", flush=True)
    else:
        print(f"building {out} from {osm} (default build) ...", flush=True)
        code = (
            "import sys; from geoservice.bundle.build import build_region; "
            "build_region(sys.argv[1], sys.argv[2], quiet=True)"
        )
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(osm), str(out)], check=True, cwd=ROOT)
        res["build_s"] = time.perf_counter() - t0
        res["build_peak_rss_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    region = load_region(out)
    res["load_s"] = time.perf_counter() - t0
    res["cch_files_mb"] = sum(f.stat().st_size for f in (out / "cch_drive").glob("*.npy")) / 1024**2
    return region


def matrix(eng, origins, dests, **kw) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    rows = sorted(eng.matrix(origins, dests, **kw), key=lambda r: r[0])
    return np.vstack([r[1] for r in rows]), time.perf_counter() - t0


def best_of(k: int, fn):
    out, best = None, np.inf
    for _ in range(k):
        out, t = fn()
        best = min(best, t)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("osm", type=Path)
    ap.add_argument("--bundle", type=Path, help="bundle directory to load, or to build into")
    ap.add_argument("--n", type=int, default=100, help="origins and destinations (default 100)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--classic", action="store_true", help="also build and time the classic witness CH")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()

    from geoservice.bundle.cch import CCHTopology, build_cch
    from geoservice.bundle.contraction import build_ch
    from geoservice.engine.cch import cch_many_to_many
    from geoservice.engine.engine import Engine
    from geoservice.engine.hierarchy_matrix import ch_matrix, seed_arrays

    res: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        region = region_for(args.osm, args.bundle, Path(tmp), res)
        eng = Engine(region)
        router = eng.router_for("drive")
        net = router.net
        top = CCHTopology.from_network(net)
        if top is None:
            sys.exit("the bundle carries no CCH: build it with the default --ch drive")
        res["nodes"], res["edges"] = net.n_nodes, net.n_edges
        res["cch_arcs"], res["cch_triangles"] = top.n_arcs, top.n_triangles

        build_cch(np.array([0, 1]), np.array([1, 0]), np.zeros(2), np.zeros(2), 2)  # compile outside the timing
        reset_peak_rss()
        rss0 = _status_gb("VmRSS")
        t0 = time.perf_counter()
        again = build_cch(net.edge_u, net.edge_v, net.node_x, net.node_y, net.n_nodes)
        res["cch_build_s"] = time.perf_counter() - t0
        res["cch_build_extra_gb"] = _status_gb("VmHWM") - rss0
        res["cch_same_as_bundle"] = int(np.array_equal(again.tri, top.tri))
        del again

        rng = np.random.default_rng(args.seed)
        idx = rng.choice(net.n_nodes, 2 * args.n, replace=False)
        pts = [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]
        origins, dests = pts[: args.n], pts[args.n :]
        matrix(eng, origins[:2], dests[:2])  # compile / warm up, customises free flow

        router.metric("drive", {"primary": 1.01})  # compile the customisation outside the timing
        t0 = time.perf_counter()
        router.metric("drive", TABLE)
        res["customise_new_table_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        router.metric("drive", "peak")
        res["customise_peak_s"] = time.perf_counter() - t0

        mats = {}
        for name, sc in (("free", None), ("peak", "peak"), ("table", TABLE)):
            mats[name], res[f"matrix{args.n}_{name}_s"] = best_of(
                3, lambda sc=sc: matrix(eng, origins, dests, scenario=sc)
            )
        res["peak_over_free"] = res[f"matrix{args.n}_peak_s"] / res[f"matrix{args.n}_free_s"]

        router._cch = False  # the same matrices by one Dijkstra per origin
        for name, sc in (("free", None), ("peak", "peak")):
            ref, res[f"dijkstra{args.n}_{name}_s"] = matrix(eng, origins, dests, scenario=sc)
            fin = np.isfinite(ref)
            res[f"{name}_inf_mismatches"] = int((np.isfinite(mats[name]) != fin).sum())
            res[f"{name}_max_diff_s"] = float(np.abs(mats[name][fin] - ref[fin]).max()) if fin.any() else 0.0
        router._cch = None

        if args.classic:
            w = net.times("drive")
            t0 = time.perf_counter()
            ch = build_ch(net.edge_u, net.edge_v, w, net.edge_len, net.n_nodes)
            res["classic_ch_build_s"] = time.perf_counter() - t0
            res["classic_ch_arcs"] = ch.n_arcs
            osn = router.snap_many([p[0] for p in origins], [p[1] for p in origins])
            dsn = router.snap_many([p[0] for p in dests], [p[1] for p in dests])

            metric = router.metric("drive", None)

            def classic() -> tuple[np.ndarray, float]:
                t0 = time.perf_counter()
                times, _ = ch_matrix(ch, router, osn, dsn, "drive")
                return times, time.perf_counter() - t0

            def customised() -> tuple[np.ndarray, float]:
                t0 = time.perf_counter()
                src, dst = seed_arrays(router, osn, "drive", "from"), seed_arrays(router, dsn, "drive", "to")
                times, _ = cch_many_to_many(metric, src, dst)
                return times, time.perf_counter() - t0

            classic()
            _, res[f"classic_ch_kernel{args.n}_free_s"] = best_of(3, classic)
            _, res[f"cch_kernel{args.n}_free_s"] = best_of(3, customised)

    print(f"\n== {args.osm.name} (drive)")
    for k, v in res.items():
        goal = GOALS.get(k)
        mark = "" if goal is None else f"  (goal <= {goal}: {'OK' if v <= goal else 'MISSED'})"
        print(f"  {k:28s} {v:14.4f}{mark}" if isinstance(v, float) else f"  {k:28s} {v:14d}{mark}")
    write_json(args.json, {"osm": str(args.osm), **res})


if __name__ == "__main__":
    main()
