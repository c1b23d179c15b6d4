"""Engine benchmark: geoservice against networkx on the same graphs, and at province scale.

    python -m benchmarks engine                                   # demo, campo-grande, shanghai-center
    python -m benchmarks engine --skip-small --mosaic 12x12 17x17  # mosaics of ../shared/tools/make_mosaic_osm.py
    python -m benchmarks engine --skip-small --siting 17x17       # MCLP / p-median at province scale

Prints, per graph: the default build (drive + walk networks, OSM POIs and the customizable
contraction hierarchy of the drive network, as ``geoservice build`` makes it) timed in a child
process with that process's peak memory, bundle load time, resident memory of a loaded region,
30-min isochrone polygon time (median of 10 random origins: wall, CPU of all threads, and the
outline's vertex count), the 100x100 matrix over the hierarchy under free flow and under
``peak`` (each checked against one Dijkstra per origin under the same weights, which is timed
too), the customisation for a new congestion table, all-node nearest facility time for 100
facilities, and the networkx time for the same matrix / all-node work where networkx is run
(small graphs), with the largest difference between the two. On mosaics also a 1,000 x 1,000
matrix streamed to a CSV file (``engine.matrix_stream``) with the process's peak memory over it,
and OSRM's MLD table on the same 1,000 x 1,000 points (``benchmarks/osrm.py``) when an OSRM
build is found: ``--osrm-bin DIR``, else osrm-routed on PATH, else ``$OSRM_BIN``.

On mosaics the bundle is then served by ``geoservice serve --workers 1`` and ``--workers 4``
(``benchmarks/workers.py``): total RSS and PSS of the server processes and PSS per extra worker.

``--siting TILES``: on that mosaic, demand (every node with road weight: the mosaic has no census)
aggregated to about 20,000 points, 500 candidate sites at random network nodes, the 20,000 x 500
cost matrix over the hierarchy, MCLP (20 new sites, 15 min), and p-median on what spopt / PuLP /
CBC solve here in minutes (demand aggregated further, to ``--pmedian-demand`` points), each with
its time and this process's peak memory (CBC's own, a child process, is not counted).

``--work DIR`` keeps the bundles (a bundle already built there from the same file is reused, and
then its build is not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import write_json
from benchmarks.osrm import HOW_TO, bench_osrm, describe, find_osrm

SELF = [sys.executable, "-m", __spec__.name if __spec__ else "benchmarks.engine"]  # child runs
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOALS = {
    "12x12": {
        "build_s": 90,
        "build_gb": 2,
        "iso_ms": 50,
        "allnear_s": 0.5,
        "matrix_s": 1,
        "customise_s": 10,
        "peak_over_free": 2,
        "extra_worker_mb": 150,
    },
    "17x17": {"build_s": 180, "build_gb": 4, "allnear_s": 1, "load_s": 3, "rss_gb": 2},
    "demo": {"iso_ms": 10, "matrix_s": 0.01},
}
TABLE = {"primary": 1.83, "secondary": 1.61, "tertiary": 1.37, "trunk": 1.52, "residential": 1.18}
OSRM_NOTE = f"no OSRM build found, so no OSRM table figure was measured: {HOW_TO}"
OSRM: list[str] = []  # OSRM's lines for the 1,000 x 1,000 matrix, when it ran


def status_gb(key: str) -> float:
    """VmRSS / VmHWM of this process (GB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def reset_peak_rss() -> None:
    """Make VmHWM restart from the current RSS (Linux), so the next peak is the step's own."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def build(osm: Path, out: Path) -> tuple[float, float] | None:
    """The default build in a child process: (seconds, that child's peak GB); None when ``out``
    already holds a current bundle of ``osm`` (reused, not timed)."""
    from geoservice.bundle.store import is_current_bundle

    osm = osm.resolve()
    if is_current_bundle(out) and Path(json.loads((out / "meta.json").read_text())["inputs"][0]["path"]) == osm:
        print(f"reusing {out} (delete it to time the build)", flush=True)
        return None
    code = (
        "import sys; from geoservice.bundle.build import build_region; "
        "build_region(sys.argv[1], sys.argv[2], quiet=True); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(osm), str(out)], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, int(done.stdout.split()[-1]) / 1024**2


CPU: dict[str, float] = {}  # CPU seconds of the last timed_matrix (wall time misleads on a shared machine)


def timed_matrix(eng, origins, dests, **kw) -> tuple[np.ndarray, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    rows = sorted(eng.matrix(origins, dests, **kw), key=lambda r: r[0])
    CPU["last"] = time.process_time() - c0
    return np.vstack([r[1] for r in rows]), time.perf_counter() - t0


def dijkstra_matrix(eng, origins, dests, **kw) -> tuple[np.ndarray, float]:
    """The same matrix by one Dijkstra per origin: the router is told it has no hierarchy."""
    router = eng.router_for("drive")
    router._cch = False
    try:
        return timed_matrix(eng, origins, dests, **kw)
    finally:
        router._cch = None


def bench(
    label: str,
    osm: Path,
    work: Path,
    *,
    reference: bool,
    rng: np.random.Generator,
    big: bool,
    osrm_bin: str | None = None,
) -> dict:
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine
    from geoservice.engine.isochrone import isochrone_geojson
    from geoservice.engine.matrix_stream import write_matrix
    from geoservice.questions import MatrixQuestion

    out = work / label.replace(" ", "-")
    res: dict = {"graph": label}
    built = build(osm, out)
    if built:
        res["build_s"], res["build_peak_gb"] = built
    rss0 = status_gb("VmRSS")
    t0 = time.perf_counter()
    region = load_region(out)
    res["load_s"] = time.perf_counter() - t0
    eng = Engine(region)
    res["region_rss_gb"] = status_gb("VmRSS") - rss0
    router = eng.router_for("drive")
    net = router.net
    res["nodes"], res["edges"] = net.n_nodes, net.n_edges

    # random origins on the network (points near random nodes)
    def points(n):
        idx = rng.choice(net.n_nodes, n, replace=False)
        return [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]

    # warm up compiled kernels (loaded from numba's on-disk cache on first call) and customise
    # the free-flow and peak hierarchies (cached per scenario, as a server keeps them)
    eng.isochrones(*points(1)[0], [5])
    for sc in (None, "peak"):
        list(eng.matrix(points(2), points(2), scenario=sc))
    dijkstra_matrix(eng, points(2), points(2))
    router.search([0], [0.0], profile="drive", direction="to", seed_label=[0])
    # 30-min polygon: wall time, CPU time of all threads (the contour field runs in two), and the
    # outline's vertices (smooth contours, no grid stair steps)
    iso, iso_cpu, iso_pts = [], [], []
    for lon, lat in points(10):
        snap = router.snap(lon, lat)
        c0, t0 = time.process_time(), time.perf_counter()
        poly = isochrone_geojson(router, snap, [30], profile="drive")[0]
        iso.append(time.perf_counter() - t0)
        iso_cpu.append(time.process_time() - c0)
        iso_pts.append(sum(len(ring) for part in poly["coordinates"] for ring in part))
    res["iso30_ms"] = statistics.median(iso) * 1000
    res["iso30_cpu_ms"] = statistics.median(iso_cpu) * 1000
    res["iso30_vertices"] = int(statistics.median(iso_pts))

    # 100x100 over the hierarchy, free flow and peak, each against one Dijkstra per origin
    origins, dests = points(100), points(100)
    for name, sc in (("free", None), ("peak", "peak")):
        mat, res[f"matrix100_{name}_s"] = timed_matrix(eng, origins, dests, scenario=sc)
        res[f"matrix100_{name}_cpu_s"] = CPU["last"]
        ref, res[f"matrix100_{name}_dijkstra_s"] = dijkstra_matrix(eng, origins, dests, scenario=sc)
        assert np.array_equal(np.isfinite(mat), np.isfinite(ref))
        both = np.isfinite(ref)
        res[f"matrix100_{name}_max_diff_s"] = float(np.abs(mat - ref)[both].max())
    res["peak_over_free"] = res["matrix100_peak_s"] / res["matrix100_free_s"]
    res["peak_over_free_cpu"] = res["matrix100_peak_cpu_s"] / res["matrix100_free_cpu_s"]
    t0 = time.perf_counter()
    router.metric("drive", TABLE)  # a congestion table never seen before
    res["customise_table_s"] = time.perf_counter() - t0

    fac_nodes = rng.choice(net.n_nodes, 100, replace=False)
    t0 = time.perf_counter()
    dist, *_ = router.search(fac_nodes, np.zeros(100), profile="drive", direction="to", seed_label=np.arange(100))
    res["allnear100_s"] = time.perf_counter() - t0

    if big:  # 1,000 x 1,000 streamed to disk in blocks of 256 origins
        o, d = points(1000), points(1000)
        ids = [str(i) for i in range(1000)]
        m1000, res["matrix1000_s"] = timed_matrix(eng, o, d)  # in memory, for comparison
        res["matrix1000_cpu_s"] = CPU["last"]
        reset_peak_rss()
        rss1 = status_gb("VmRSS")
        c0, t0 = time.process_time(), time.perf_counter()
        f = write_matrix(eng, MatrixQuestion(tuple(ids), tuple(o), tuple(ids), tuple(d)), work / "m1000.csv")
        res["matrix1000_stream_s"] = time.perf_counter() - t0
        res["matrix1000_stream_cpu_s"] = time.process_time() - c0
        res["matrix1000_peak_extra_gb"] = status_gb("VmHWM") - rss1
        res["matrix1000_file_mb"] = f.path.stat().st_size / 1024**2
        f.path.unlink()
        tools = find_osrm(osrm_bin)
        if tools is not None:  # OSRM's table on the very same points (after the memory figure)
            ob = bench_osrm(osm, o, d, tools=tools, work=work / f"osrm-{out.name}", ours=m1000)
            res["osrm_table1000_s"] = ob.table.seconds
            res["osrm_table1000_cpu_s"] = ob.table.cpu_seconds
            OSRM[:] = [f"geoservice matrix on the 1,000 x 1,000 points: {res['matrix1000_s']:.3f} s", *describe(ob)]

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


def siting(label: str, osm: Path, work: Path, *, pmedian_demand: int) -> dict:
    """MCLP and p-median at province scale (see the module docstring)."""
    from geoservice.analyses.demand_grid import aggregate_demand
    from geoservice.analyses.siting import solve_model
    from geoservice.bundle.population import load_population
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine

    res: dict = {"graph": f"siting on {label}"}
    out = work / label.replace(" ", "-")
    built = build(osm, out)
    if built:
        res["build_s"], res["build_peak_gb"] = built
    reset_peak_rss()
    t_all = time.perf_counter()
    eng = Engine(load_region(out))
    net = eng.router_for("drive").net
    res["nodes"] = net.n_nodes
    rng = np.random.default_rng(7)
    cand = rng.choice(net.n_nodes, 500, replace=False)
    sites = [(float(net.node_lon[i]), float(net.node_lat[i])) for i in cand]
    t0 = time.perf_counter()
    layer = load_population(eng.region, "drive")
    nodes = np.flatnonzero(layer.population > 0)
    agg = aggregate_demand(nodes, layer.population[nodes], net.node_x, net.node_y, max_points=20_000)
    res["demand_nodes"], res["demand_points"] = len(nodes), len(agg.nodes)
    res["demand_cell_m"] = float(agg.cell_m or 0.0)
    res["demand_s"] = time.perf_counter() - t0
    c0, t0 = time.process_time(), time.perf_counter()
    cost = eng.cost_matrix(agg.nodes, sites)
    res["cost_matrix_s"] = time.perf_counter() - t0
    res["cost_matrix_cpu_s"] = time.process_time() - c0
    res["cost_finite_share"] = float(np.isfinite(cost).mean())
    T = 15 * 60.0
    res["pairs_within_15min"] = int((cost <= T).sum())
    t0 = time.perf_counter()
    chosen = solve_model("mclp", cost, agg.weights, T, add=20)
    res["mclp_solve_s"] = time.perf_counter() - t0
    res["mclp_sites"] = len(chosen)
    res["mclp_covered_share"] = float(agg.weights[(cost[:, chosen] <= T).any(axis=1)].sum() / agg.weights.sum())
    res["mclp_total_s"] = time.perf_counter() - t_all
    res["mclp_peak_rss_gb"] = status_gb("VmHWM")
    show(res, None)  # before p-median, which may take long
    res = {"graph": f"p-median on {label}"}
    # p-median: spopt makes one assignment variable and one linking row per (demand, site) pair, so
    # the full 20,000 x 500 (10 M of each) is beyond PuLP / CBC here (1,000 x 500 ran over 18 min
    # without an answer); it runs on demand aggregated further. The memory printed is this
    # process's: CBC's own (a child process) is not counted
    reset_peak_rss()
    small = aggregate_demand(agg.nodes, agg.weights, net.node_x, net.node_y, max_points=pmedian_demand)
    row_of = {int(n): i for i, n in enumerate(agg.nodes)}
    pm_cost = cost[[row_of[int(n)] for n in small.nodes]]
    res["pmedian_demand_points"] = len(small.nodes)
    t0 = time.perf_counter()
    chosen = solve_model("pmedian", pm_cost, small.weights, T, add=20)
    res["pmedian_solve_s"] = time.perf_counter() - t0
    res["pmedian_sites"] = len(chosen)
    res["pmedian_peak_rss_gb"] = status_gb("VmHWM")
    return res


def show(res: dict, goals: dict | None) -> None:
    goal_key = {
        "build_s": "build_s",
        "build_peak_gb": "build_gb",
        "iso30_ms": "iso_ms",
        "matrix100_free_s": "matrix_s",
        "allnear100_s": "allnear_s",
        "load_s": "load_s",
        "region_rss_gb": "rss_gb",
        "customise_table_s": "customise_s",
        "peak_over_free": "peak_over_free",
        "extra_worker_pss_mb": "extra_worker_mb",
    }
    print(f"\n== {res['graph']}")
    for k, v in res.items():
        if k == "graph":
            continue
        g = (goals or {}).get(goal_key.get(k, ""), None)
        mark = "" if g is None else (f"  (goal <= {g}: {'OK' if v <= g else 'MISSED'})")
        print(f"  {k:28s} {v:12.4f}{mark}" if isinstance(v, float) else f"  {k:28s} {v:12d}{mark}")
    if "matrix1000_stream_s" in res:
        print("\n".join(f"  {line}" for line in OSRM or [OSRM_NOTE]))
    sys.stdout.flush()


def mosaic(tiles: str, mdir: Path) -> Path:
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
    return osm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mosaic", nargs="*", default=[], help="tile counts such as 12x12 17x17")
    ap.add_argument("--siting", nargs="*", default=[], help="mosaics to run the siting benchmark on, e.g. 17x17")
    ap.add_argument("--mosaic-dir", default=os.environ.get("GEOSERVICE_MOSAIC_DIR", "/tmp/geoservice-mosaics"))
    ap.add_argument("--work", help="folder for the bundles, kept and reused (default: a temporary one)")
    ap.add_argument("--pmedian-demand", type=int, default=300, help="demand points p-median runs on")
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--osrm-bin", help="OSRM build for the 1,000 x 1,000 comparison (default: PATH, else $OSRM_BIN)")
    ap.add_argument("--osm", nargs="+", type=Path, help="bench these OSM files instead of the small set")
    ap.add_argument("--json", help="also write the small set's figures here")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        small = [
            ("demo (andorra)", ROOT / "geoservice/data/andorra/andorra.osm.pbf"),
            ("campo-grande", ROOT / "tests/data/osm/campo-grande.osm.gz"),
            ("shanghai-center", SHARED / "data/osm/shanghai-center.osm"),
        ]
        if args.osm:
            small = [(p.name.split(".")[0], p) for p in args.osm]
        figures = {}
        for label, osm in [] if args.skip_small else small:
            figures[label] = res = bench(label.split()[0], osm, work, reference=True, rng=rng, big=False)
            show(res, GOALS["demo"] if label.startswith("demo") else None)
        write_json(args.json, figures)
        # each mosaic in its own process, so peak memory figures do not mix
        for tiles in args.mosaic:
            osm = mosaic(tiles, Path(args.mosaic_dir))
            osrm = [args.osrm_bin] if args.osrm_bin else []
            subprocess.run([*SELF, "--one", str(osm), tiles, str(work), *osrm], check=True)
        for tiles in args.siting:
            osm = mosaic(tiles, Path(args.mosaic_dir))
            cmd = [*SELF, "--one-siting", str(osm), tiles, str(work), str(args.pmedian_demand)]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "--one":
        _, _, osm_, tiles_, work_, *osrm_ = sys.argv
        rng_ = np.random.default_rng(7)
        res_ = bench(
            f"mosaic {tiles_}",
            Path(osm_),
            Path(work_),
            reference=False,
            rng=rng_,
            big=True,
            osrm_bin=next(iter(osrm_), None),
        )
        from benchmarks.workers import figures  # serve --workers 1 and 4 on the bundle just built

        res_.update(figures(Path(work_) / f"mosaic-{tiles_}", 4))
        show(res_, GOALS.get(tiles_))
    elif len(sys.argv) == 6 and sys.argv[1] == "--one-siting":
        _, _, osm_, tiles_, work_, pm_ = sys.argv
        show(siting(f"mosaic {tiles_}", Path(osm_), Path(work_), pmedian_demand=int(pm_)), None)
    else:
        main()
