"""What the vector tile set adds to a build (issue 21: at most 25% of the default build's time and
0.5 GB of its peak memory), on the 12x12 mosaic of real central Shanghai.

    python scripts/bench_tiles_build.py                      # mosaic written to --work if missing
    python scripts/bench_tiles_build.py --osm FILE.osm.pbf --work /tmp/bench-tiles

Builds the same OSM file twice as ``geoservice build --osm FILE --out DIR`` does (the defaults:
drive and walk networks, OSM facilities, the drive hierarchy), each in its own child process:
once without the tile set (``build_region(..., tiles=False)``) and once with it (the default).
Prints per build the wall time, the CPU time (user + system: on a shared machine the fairer
figure), the peak resident memory (the child's ``ru_maxrss``) and, for the second, the tile set's
size and tile count, then the differences. The mosaic is ``../shared/tools/make_mosaic_osm.py``
(12x12 tiles of ``shared/data/osm/shanghai-center.osm``, about 164 x 134 km); it carries roads
only (the tool copies highway ways), so the tiles there are roads: the test of scale. Nothing is
asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

CHILD = """
import sys
from geoservice.bundle.build import build_region
build_region(sys.argv[1], sys.argv[2], tiles=sys.argv[3] == "1", quiet=True)
"""


def mosaic(work: Path, tiles: str) -> Path:
    osm = work / f"mosaic-{tiles}.osm.pbf"
    if not osm.exists():
        print(f"writing {osm} ...", flush=True)
        src = SHARED / "data/osm/shanghai-center.osm"
        tool = SHARED / "tools/make_mosaic_osm.py"
        subprocess.run([sys.executable, str(tool), str(src), "--tiles", tiles, "-o", str(osm)], check=True)
    return osm


def run_build(osm: Path, out: Path, tiles: bool) -> dict:
    """One build in a child process: wall s, CPU s and peak RSS GB (from wait4)."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(osm), str(out), "1" if tiles else "0"], cwd=ROOT)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"the build failed (exit {proc.returncode})")
    wall = time.perf_counter() - t0
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_gb": ru.ru_maxrss / 1024**2,
        "tiles": meta.get("tiles"),
        "basemap_mb": (out / "basemap.geojson").stat().st_size / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--osm", help="OSM file to build (default: the mosaic, written when missing)")
    ap.add_argument("--tiles", default="12x12", help="mosaic size (default 12x12)")
    ap.add_argument("--work", default="/tmp/bench-tiles-build", help="folder for the mosaic and the two bundles")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    osm = Path(args.osm) if args.osm else mosaic(work, args.tiles)
    print(f"building {osm.name} without tiles ...", flush=True)
    base = run_build(osm, work / "without-tiles", tiles=False)
    print(f"building {osm.name} with tiles ...", flush=True)
    with_t = run_build(osm, work / "with-tiles", tiles=True)
    for label, r in (("without tiles", base), ("with tiles", with_t)):
        print(
            f"{label:14s} wall {r['wall_s']:7.1f} s  CPU {r['cpu_s']:7.1f} s  peak {r['peak_gb']:5.2f} GB  "
            f"GeoJSON basemap {r['basemap_mb']:.1f} MB"
        )
    t = with_t["tiles"] or {}
    print(f"tile set: {t.get('tiles', 0):,} tiles, {t.get('bytes', 0) / 1e6:.1f} MB, zooms 0-{t.get('maxzoom')}")
    d_cpu = with_t["cpu_s"] - base["cpu_s"]
    d_wall = with_t["wall_s"] - base["wall_s"]
    print(
        f"tiles add: CPU {d_cpu:+.1f} s ({d_cpu / base['cpu_s']:+.0%} of the build; goal <= +25%), "
        f"wall {d_wall:+.1f} s ({d_wall / base['wall_s']:+.0%}), "
        f"peak memory {with_t['peak_gb'] - base['peak_gb']:+.2f} GB (goal <= +0.5 GB)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"without": base, "with": with_t}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
