"""National batch benchmark (issue 12): a simulated nation of several province-sized mosaics of real
central Shanghai (``../shared/tools/make_mosaic_osm.py``), built and covered sequentially and on a
Dask LocalCluster; prints wall time, peak memory per worker and the speed-up.

    .venv/bin/python -m benchmarks batch --provinces 4 --tiles 6x6 --workers 2 --work /tmp/nation

Each province is one mosaic file = one region folder (``region.json`` owns its whole box); bundles
carry the central Shanghai facility layer (its chest pain centers lie in the mosaic's first tile)
and, to keep the run short on a shared 2-core machine, no contraction hierarchy (``--ch drive`` to
add it). Coverage: chest pain centers within 15 minutes by car. Every mode runs in its own process so that its peak
memory is its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

SELF = [sys.executable, "-m", __spec__.name if __spec__ else "benchmarks.batch"]  # child runs
REPO = Path(__file__).resolve().parents[1]
MOSAIC = REPO.parent / "shared" / "tools" / "make_mosaic_osm.py"
SOURCE = REPO.parent / "shared" / "data" / "osm" / "shanghai-center.osm"
FACILITIES = REPO / "geoservice" / "data" / "shanghai" / "facilities.csv"  # real + demo roles, tile (0, 0)


def make_provinces(work: Path, n: int, tiles: str) -> list[Path]:
    import osmium
    import shapely
    from shapely.geometry import mapping

    out = []
    for i in range(1, n + 1):
        folder = work / "regions" / f"p{i}"
        folder.mkdir(parents=True, exist_ok=True)
        pbf = folder / "extract.osm.pbf"
        if not pbf.is_file():
            subprocess.run(
                [sys.executable, str(MOSAIC), str(SOURCE), "--tiles", tiles, "-o", str(pbf), "--seed", str(i)],
                check=True,
            )
        r = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING)
        b = r.header().box()
        r.close()
        box = shapely.box(b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)
        doc = {"unit_id": f"p{i}", "name": f"mosaic {tiles} seed {i}", "buffer_km": 0, "owned": mapping(box)}
        doc["buffered"] = doc["owned"]
        (folder / "region.json").write_text(json.dumps(doc), encoding="utf-8")
        out.append(folder)
    return out


def one_mode(args: argparse.Namespace) -> None:
    """Run in a child process: build then coverage in one mode; print a JSON line."""
    from geoservice.service.usecases import nation

    regions = [Path(p) for p in args.regions]
    sched = None if args.workers == 0 else "local"
    tag = f"w{args.workers}"
    ch = tuple(p for p in args.ch.split(",") if p and p != "none")
    res = {}
    for step, task, opts in (
        ("build", nation.build_task, nation.BuildOptions(facilities=(FACILITIES,), ch_profiles=ch)),
        ("coverage", nation.coverage_task, nation.CoverageOptions(type="chest_pain_center", minutes=15)),
    ):
        out = Path(args.work) / f"out-{step}-{tag}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        r = nation.run_batch(task, regions, opts, out=out, scheduler=sched, workers=args.workers)
        wall = time.perf_counter() - t0
        assert not r.failed, [o.error for o in r.failed]
        res[step] = {
            "wall_s": round(wall, 1),
            "task_s": [round(o.seconds, 1) for o in r.outcomes],
            "task_cpu_s": [round(o.cpu_seconds, 1) for o in r.outcomes],
            "peak_mb": round(max(o.peak_rss_mb for o in r.outcomes)),
        }
        if step == "coverage":
            res["national_csv"] = (out / "national.csv").read_text(encoding="utf-8")
    print("RESULT " + json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", type=int, default=4)
    ap.add_argument("--tiles", default="6x6")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ch", default="none")
    ap.add_argument("--work", default="/tmp/nation")
    ap.add_argument("--one-mode", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--regions", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_mode:
        return one_mode(args)
    work = Path(args.work)
    regions = make_provinces(work, args.provinces, args.tiles)
    results = {}
    for w in (0, args.workers):
        cmd = [*SELF, "--one-mode", "--workers", str(w), "--ch", args.ch, "--work", str(work)]
        p = subprocess.run([*cmd, "--regions", *map(str, regions)], capture_output=True, text=True, check=True)
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
        results[w] = json.loads(line[7:])
    seq, par = results[0], results[args.workers]
    print(f"{args.provinces} provinces, mosaic {args.tiles} each, CH {args.ch}")
    for step in ("build", "coverage"):
        s, p = seq[step], par[step]
        print(
            f"{step:9s} sequential {s['wall_s']:7.1f} s (peak {s['peak_mb']} MB) | "
            f"LocalCluster({args.workers}) {p['wall_s']:7.1f} s (peak per worker {p['peak_mb']} MB) | "
            f"speed-up {s['wall_s'] / p['wall_s']:.2f}x | per-region task s: {s['task_s']}, CPU s: {s['task_cpu_s']}"
        )
    print("coverage output identical:", seq["national_csv"] == par["national_csv"])


if __name__ == "__main__":
    main()
