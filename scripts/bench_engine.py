"""Engine benchmark: geoservice against networkx on the same graphs, and at province scale.

    python scripts/bench_engine.py                       # demo, campo-grande, shanghai-center
    python scripts/bench_engine.py --mosaic 12x12 17x17  # + mosaics made by ../shared/tools/make_mosaic_osm.py

Prints, per graph: build time and peak memory (build runs in a child process, without the
contraction hierarchy, which is timed on its own), bundle load time, resident memory of a loaded
region, 30-min isochrone polygon time (median of 10 random origins), 100x100 matrix time by
one Dijkstra per origin and over the CH (checked equal), all-node nearest facility time for 100
facilities, and the
networkx time for the same matrix / all-node work where networkx is run (small graphs), with
the largest difference between the two.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOALS = {
    "12x12": {"build_s": 90, "build_gb": 2, "iso_ms": 50, "allnear_s": 0.5, "matrix_s": 1},
    "17x17": {"build_s": 180, "build_gb": 4, "allnear_s": 1, "load_s": 3, "rss_gb": 2},
    "demo": {"iso_ms": 10, "matrix_s": 0.01},
}


def rss_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def build(osm: Path, out: Path, facilities: list[Path] | None = None) -> tuple[float, float]:
    """Build in a child process; return (seconds, peak GB of that child)."""
    code = (
        "import sys; from pathlib import Path; from geoservice.bundle.build import build_region; "
        "build_region(sys.argv[1], sys.argv[2], quiet=True, ch_profiles=(), "
        "facilities=[(Path(f), {}) for f in sys.argv[3:]])"
    )
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code, str(osm), str(out), *map(str, facilities or [])], check=True)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: report it with that caveat
    return secs, max(peak, before) / 1024**2


def bench(label: str, osm: Path, work: Path, *, reference: bool, rng: np.random.Generator) -> dict:
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine
    from geoservice.engine.isochrone import isochrone_geojson

    out = work / label
    res: dict = {"graph": label}
    res["build_s"], res["build_peak_gb"] = build(osm, out)
    rss0 = rss_gb()
    t0 = time.perf_counter()
    region = load_region(out)
    res["load_s"] = time.perf_counter() - t0
    eng = Engine(region)
    res["region_rss_gb"] = rss_gb() - rss0
    router = eng.router_for("drive")
    net = router.net
    res["nodes"], res["edges"] = net.n_nodes, net.n_edges

    # random origins on the network (points near random nodes)
    def points(n):
        idx = rng.choice(net.n_nodes, n, replace=False)
        return [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]

    # warm up compiled kernels (loaded from numba's on-disk cache on first call)
    eng.isochrones(*points(1)[0], [5])
    list(eng.matrix(points(2), points(2)))
    eng.all_nearest(type="__none__")
    iso = []
    for lon, lat in points(10):
        snap = router.snap(lon, lat)
        t0 = time.perf_counter()
        isochrone_geojson(router, snap, [30], profile="drive")
        iso.append(time.perf_counter() - t0)
    res["iso30_ms"] = statistics.median(iso) * 1000

    origins, dests = points(100), points(100)
    t0 = time.perf_counter()
    mat = np.vstack([row[1] for row in sorted(eng.matrix(origins, dests, profile="drive"), key=lambda r: r[0])])
    res["matrix100_dijkstra_s"] = time.perf_counter() - t0
    # the contraction hierarchy (built with the bundle by default; timed here on its own)
    from geoservice.bundle.contraction import build_ch

    rss1 = rss_gb()
    t0 = time.perf_counter()
    ch = build_ch(net.edge_u, net.edge_v, net.times("drive"), net.edge_len, net.n_nodes)
    res["ch_build_s"] = time.perf_counter() - t0
    res["ch_extra_gb"] = rss_gb() - rss1
    net.arrays.update(ch.network_arrays("drive"))
    list(eng.matrix(points(2), points(2)))  # warm up the CH kernels
    t0 = time.perf_counter()
    mat_ch = np.vstack([row[1] for row in sorted(eng.matrix(origins, dests, profile="drive"), key=lambda r: r[0])])
    res["matrix100_s"] = time.perf_counter() - t0
    both = np.isfinite(mat) & np.isfinite(mat_ch)
    assert np.array_equal(np.isfinite(mat), np.isfinite(mat_ch))
    res["ch_vs_dijkstra_max_diff_s"] = float(np.abs(mat - mat_ch)[both].max())

    fac_nodes = rng.choice(net.n_nodes, 100, replace=False)
    t0 = time.perf_counter()
    dist, *_ = router.search(fac_nodes, np.zeros(100), profile="drive", direction="to", seed_label=np.arange(100))
    res["allnear100_s"] = time.perf_counter() - t0

    if reference:
        import networkx as nx

        from geoservice.bundle.to_networkx import network_to_networkx

        G = network_to_networkx(net, geometry=False)
        t0 = time.perf_counter()
        ref = nx.multi_source_dijkstra_path_length(
            G.reverse(copy=False), set(int(f) for f in fac_nodes), weight="travel_time_drive"
        )
        res["nx_allnear100_s"] = time.perf_counter() - t0
        res["allnear_max_diff_s"] = max(abs(dist[k] - v) for k, v in ref.items())
        # matrix between graph nodes (snapping is geoservice's own; compare on node-to-node)
        on = rng.choice(net.n_nodes, 100, replace=False)
        dn = rng.choice(net.n_nodes, 100, replace=False)
        t0 = time.perf_counter()
        nxm = []
        for o in on[:20]:
            lengths = nx.single_source_dijkstra_path_length(G, int(o), weight="travel_time_drive")
            nxm.append([lengths.get(int(d), np.inf) for d in dn])
        nxm = np.array(nxm)
        res["nx_matrix100_s"] = (time.perf_counter() - t0) * 5  # 20 rows timed, scaled to 100
        ours = []
        for o in on[:20]:
            d_, *_ = router.search([o], [0.0], profile="drive", direction="from")
            ours.append(d_[dn])
        res["matrix_max_diff_s"] = float(np.nanmax(np.abs(np.array(ours) - nxm)))
    res["matrix_finite_share"] = float(np.isfinite(mat).mean())
    return res


def show(res: dict, goals: dict | None) -> None:
    keys = [
        "nodes",
        "edges",
        "build_s",
        "build_peak_gb",
        "load_s",
        "region_rss_gb",
        "iso30_ms",
        "matrix100_dijkstra_s",
        "ch_build_s",
        "ch_extra_gb",
        "matrix100_s",
        "ch_vs_dijkstra_max_diff_s",
        "allnear100_s",
        "nx_matrix100_s",
        "nx_allnear100_s",
        "matrix_max_diff_s",
        "allnear_max_diff_s",
    ]
    goal_key = {
        "build_s": "build_s",
        "build_peak_gb": "build_gb",
        "iso30_ms": "iso_ms",
        "matrix100_s": "matrix_s",
        "allnear100_s": "allnear_s",
        "load_s": "load_s",
        "region_rss_gb": "rss_gb",
    }
    print(f"\n== {res['graph']}")
    for k in keys:
        if k not in res:
            continue
        v = res[k]
        g = (goals or {}).get(goal_key.get(k, ""), None)
        mark = "" if g is None else (f"  (goal <= {g}: {'OK' if v <= g else 'MISSED'})")
        print(f"  {k:22s} {v:12.4f}{mark}" if isinstance(v, float) else f"  {k:22s} {v:12d}{mark}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mosaic", nargs="*", default=[], help="tile counts such as 12x12 17x17")
    ap.add_argument("--mosaic-dir", default=os.environ.get("GEOSERVICE_MOSAIC_DIR", "/tmp/geoservice-mosaics"))
    ap.add_argument("--skip-small", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_small:
            for label, osm in [
                ("demo (andorra)", ROOT / "geoservice/data/andorra/andorra.osm.pbf"),
                ("campo-grande", ROOT / "tests/data/osm/campo-grande.osm.gz"),
                ("shanghai-center", SHARED / "data/osm/shanghai-center.osm"),
            ]:
                show(
                    bench(label.split()[0], osm, work, reference=True, rng=rng),
                    GOALS["demo"] if label.startswith("demo") else None,
                )
        for tiles in args.mosaic:
            mdir = Path(args.mosaic_dir)
            mdir.mkdir(parents=True, exist_ok=True)
            osm = mdir / f"mosaic-{tiles}.osm.pbf"
            if not osm.exists():
                print(f"writing {osm} ...", flush=True)
                subprocess.run(
                    [
                        sys.executable,
                        str(SHARED / "tools/make_mosaic_osm.py"),
                        str(SHARED / "data/osm/shanghai-center.osm"),
                        "--tiles",
                        tiles,
                        "-o",
                        str(osm),
                    ],
                    check=True,
                )
            # each mosaic in its own process, so peak memory figures do not mix
            subprocess.run([sys.executable, __file__, "--one", str(osm), tiles], check=True)


def one(osm: str, tiles: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        show(
            bench(f"mosaic {tiles}", Path(osm), Path(tmp), reference=False, rng=np.random.default_rng(7)),
            GOALS.get(tiles),
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    else:
        main()
