"""Write the SYNTHETIC trip file of central Shanghai for ``geoservice calibrate`` (output committed).

    python scripts/make_synthetic_trips.py                  # examples/shanghai_trips_SYNTHETIC.csv
    python scripts/make_synthetic_trips.py --n 5000 --seed 7 -o /tmp/trips.csv --region DIR

Trips are drawn on the real OSM roads of the central Shanghai demo from a stated hidden truth
(``geoservice.analyses.calibration_synthetic.DEFAULT_TRUTH``: factors per road class and hour
band, a 45 s overhead, lognormal noise), written with the truth in the file's header comment.
A few deliberately flawed rows follow the clean ones (named in the header), so that a run shows
how bad rows are reported. No row describes a real trip.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from geoservice.analyses.calibration_synthetic import DEFAULT_TRUTH, synthetic_trips
from geoservice.bundle.demo import ensure_demo
from geoservice.bundle.store import load_region
from geoservice.engine.engine import Engine
from geoservice.sources.trips import REQUIRED

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "geoservice" / "data"


def flawed_rows(rows: list[dict[str, object]]) -> list[tuple[dict[str, object], str]]:
    """Copies of the first rows made wrong in the ways calibration must catch, with what is wrong."""
    a, b, c, d, e = (dict(r) for r in rows[:5])
    a["trip_id"] = "flawed-3h"
    a["observed_s"] = 10800.0
    b["trip_id"] = "flawed-wrong-city"
    b["origin_lon"], b["origin_lat"] = 116.397, 39.909  # a GPS fix in Beijing
    c["trip_id"] = "flawed-no-hour"
    c["depart"] = str(c["depart"])[:10]
    d["trip_id"] = "flawed-negative"
    d["observed_s"] = -120.0
    e["trip_id"] = str(rows[5]["trip_id"])  # the id of another row
    return [
        (a, "a 3-hour 'trip' (an outlier)"),
        (b, "an origin in Beijing (off the network)"),
        (c, "a date without a time of day"),
        (d, "a negative time"),
        (e, "a duplicate trip_id"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--region", help="the central Shanghai bundle (default: the demo, built when missing)")
    ap.add_argument("-o", "--output", default=str(ROOT / "examples" / "shanghai_trips_SYNTHETIC.csv"))
    ap.add_argument("--no-flawed", action="store_true", help="leave out the flawed rows")
    args = ap.parse_args()
    cache = Path(os.environ.get("GEOSERVICE_REGIONS_DIR", Path.home() / ".cache" / "geoservice" / "regions"))
    region = Path(args.region) if args.region else ensure_demo("shanghai", DATA, cache, quiet=True)
    eng = Engine(load_region(region))
    rows = synthetic_trips(eng, args.n, truth=DEFAULT_TRUTH, seed=args.seed)
    flawed = [] if args.no_flawed else flawed_rows(rows)
    out = Path(args.output)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        fh.write(
            "# SYNTHETIC trips for `geoservice calibrate`: not observations of any real trip.\n"
            f"# Written by scripts/make_synthetic_trips.py --n {args.n} --seed {args.seed} on the roads of the "
            "central Shanghai demo (OpenStreetMap, © OpenStreetMap contributors, ODbL 1.0).\n"
            f"# Hidden truth: {DEFAULT_TRUTH.describe()}.\n"
            "# Each trip: a random road point (moved up to 15 m off the road), another 1-8 km away, a departure "
            "in the week of 2026-03-02, observed_s = overhead + the engine's time under the truth x noise.\n"
            + (
                f"# The last {len(flawed)} rows are flawed on purpose: "
                + "; ".join(f"{r['trip_id']}: {why}" for r, why in flawed)
                + ".\n"
                if flawed
                else ""
            )
        )
        w = csv.DictWriter(fh, fieldnames=list(REQUIRED), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        w.writerows(r for r, _ in flawed)
    print(f"wrote {out}: {len(rows)} synthetic trips and {len(flawed)} flawed rows")


if __name__ == "__main__":
    main()
