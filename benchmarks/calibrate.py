"""Time ``geoservice calibrate`` on 100,000 SYNTHETIC trips over the 12x12 mosaic (goal: 5 minutes).

    python -m benchmarks calibrate                       # builds what is missing in --work
    python -m benchmarks calibrate --region DIR --trips 100000 --work /tmp/bench-calibrate

The mosaic is the one of ``benchmarks/engine.py`` (``../shared/tools/make_mosaic_osm.py``: 12x12
tiles of real central Shanghai, about 164 x 134 km); without ``--region`` it is written and built
(drive network and its hierarchy) into ``--work``. Trips are drawn from the stated hidden truth of
``geoservice.analyses.calibration_synthetic`` (1-15 km apart, a departure spread over the day),
and their noise-free times kept beside the file, so the run is also scored against the truth.
The command runs as a user runs it, in a child process; the script prints its wall and CPU time,
peak memory, the stages and iterations from report.json, the held-out errors, and how close the
held-out predictions come to the truth. It prints figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import write_json

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def mosaic_region(tiles: str, work: Path) -> Path:
    """The mosaic bundle in ``work`` (written and built when missing)."""
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import is_current_bundle

    osm = work / f"mosaic-{tiles}.osm.pbf"
    out = work / f"region-{tiles}"
    if is_current_bundle(out):
        return out
    if not osm.exists():
        print(f"writing {osm} ...", flush=True)
        src = SHARED / "data/osm/shanghai-center.osm"
        tool = SHARED / "tools/make_mosaic_osm.py"
        subprocess.run([sys.executable, str(tool), str(src), "--tiles", tiles, "-o", str(osm)], check=True)
    print(f"building {out} (drive network and hierarchy) ...", flush=True)
    build_region(osm, out, quiet=True, networks=("drive",), osm_pois=False)
    return out


def trip_file(region: Path, n: int, work: Path, seed: int) -> tuple[Path, Path]:
    """(trip CSV, the noise-free times .npy), drawn when missing."""
    from geoservice.analyses.calibration_synthetic import TripShape, synthetic_trips
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine
    from geoservice.sources.trips import REQUIRED

    path = work / f"trips-{n}-{seed}_SYNTHETIC.csv"
    truth = path.with_suffix(".true_s.npy")
    if path.exists() and truth.exists():
        return path, truth
    print(f"drawing {n:,} synthetic trips ...", flush=True)
    t0 = time.perf_counter()
    rows = synthetic_trips(Engine(load_region(region)), n, seed=seed, shape=TripShape(min_km=1.0, max_km=15.0))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write("# SYNTHETIC trips on the 12x12 mosaic of central Shanghai (benchmarks/calibrate.py)\n")
        w = csv.DictWriter(fh, fieldnames=list(REQUIRED), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    np.save(truth, np.array([r["true_s"] for r in rows]))
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return path, truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", default="12x12")
    ap.add_argument("--region", help="an existing mosaic bundle (else built in --work)")
    ap.add_argument("--trips", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--work", default="/tmp/bench-calibrate")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    region = Path(args.region) if args.region else mosaic_region(args.tiles, work)
    trips, truth_file = trip_file(region, args.trips, work, args.seed)
    out = work / "calibration"
    cmd = [sys.executable, "-m", "geoservice", "calibrate", "--region", str(region), "--trips", str(trips)]
    cmd += ["--out", str(out), "--folds", str(args.folds)]
    print("running:", " ".join(cmd[2:]), flush=True)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"calibrate failed ({done.returncode}): {done.stderr}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    rep = json.loads((out / "report.json").read_text())
    t = rep["trips"]
    print(f"\n== calibrate, {t['read']:,} trips on mosaic {args.tiles} ({region})")
    print(
        f"  wall {wall:.1f} s (goal <= 300: {'OK' if wall <= 300 else 'MISSED'}), CPU {cpu:.1f} s, "
        f"peak RSS {r1.ru_maxrss / 1024**2:.2f} GB"
    )
    print(f"  trips used {t['used']:,}, left out {t['rejected']:,} {t['by_reason']}")
    print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in rep["timings_s"].items()))
    for it in rep["model"]["iterations"]:
        print(
            f"  iteration {it['iteration']}: {it['trips_fitted']:,} fitted, {it['outliers']} outliers, "
            f"{it['routes_changed']:,} routes changed ({it['routes_faster']:,} faster by > 1%), {it['seconds']:.1f} s"
        )
    print(f"  converged: {rep['model']['converged']}")
    for name, m in rep["evaluation"]["models"].items():
        print(
            f"  held-out {name:9s}: median |error| {m['median_abs_error_s']} s ({m['median_abs_error_pct']}%), "
            f"within 1/2/5 min {m['within_1min']}/{m['within_2min']}/{m['within_5min']}, bias {m['median_error_pct']}%"
        )
    doc = {"region": str(region), "trips": t, "wall_s": wall, "cpu_s": cpu, "peak_rss_gb": r1.ru_maxrss / 1024**2}
    doc.update(stages_s=rep["timings_s"], converged=rep["model"]["converged"], held_out=rep["evaluation"]["models"])
    true = np.load(truth_file)
    with open(out / "predictions.csv", newline="") as fh:
        pred = [r for r in csv.DictReader(fh) if r["status"] == "scored"]
    rows = np.array([int(r["row"]) for r in pred]) - 1
    for col in ("free_flow_s", "after_s"):
        rel = np.array([float(r[col]) for r in pred]) / true[rows] - 1
        print(
            f"  {col[:-2]:9s} vs the noise-free truth: median |rel| {100 * np.median(np.abs(rel)):.2f}%, "
            f"median {100 * np.median(rel):+.2f}%"
        )
        doc[f"{col[:-2]}_vs_truth_median_abs_rel"] = float(np.median(np.abs(rel)))
    ov = rep["overhead_s"]
    if ov:
        print(f"  overhead {ov['estimate']} s (95% {ov['lo95']}-{ov['hi95']}; truth 45 s)")
    write_json(args.json, {**doc, "overhead_s": ov})


if __name__ == "__main__":
    main()
