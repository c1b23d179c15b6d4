"""``geoservice calibrate``: hourly travel-time factors per road class fitted to observed trips.

Writes into ``--out``: profile.csv (the ``--hourly-profiles`` format, for every command with
``--depart``), report.json, report.html (offline), predictions.csv and three PNGs; the folder is
staged and moved in only when the run succeeds.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ...fileio import atomic_dir
from ...service.usecases.calibration import MAX_FOLDS, CalibrationOptions, calibrate_trips
from ...sources.coords import CRS_CHOICES
from ..report.calibration_figures import report_html, write_figures
from ..report.calibration_report import predictions_csv, profile_csv, report_json
from .analysis_files import json_text, write_file
from .common import add_region, command, open_service

__all__ = ["EXAMPLE", "add_parsers", "check_profile_files"]

EXAMPLE = "geoservice calibrate --trips examples/shanghai_trips_SYNTHETIC.csv --out calibration-shanghai/"

log = logging.getLogger("geoservice")


@command("calibrate", before_profiles="--hourly-profiles")
def cmd_calibrate(args: argparse.Namespace) -> None:
    svc = open_service(args)
    region, cal = calibrate_trips(
        svc,
        args.trips,
        crs=args.crs,
        options=CalibrationOptions(
            profile=args.profile,
            folds=args.folds,
            overhead=not args.no_overhead,
            days=args.days,
            max_iterations=args.max_iterations,
        ),
        before_profiles=args.hourly_profiles,
        progress=log.info,
    )
    with atomic_dir(args.out) as stage:
        figures = write_figures(cal, stage)
        outputs = {"profile": "profile.csv", "predictions": "predictions.csv", "html": "report.html", **figures}
        report = report_json(cal, region=region, outputs=outputs)
        write_file(stage / "profile.csv", profile_csv(cal))
        write_file(stage / "predictions.csv", predictions_csv(cal))
        write_file(stage / "report.json", json_text(report))
        write_file(stage / "report.html", report_html(report, figures))
    ev = report["evaluation"]["models"]
    t = report["trips"]

    def line(name: str) -> str:
        m = ev[name]
        if m["median_abs_error_s"] is None:
            return f"{name} –"
        pct, within = m["median_abs_error_pct"], 100 * m["within_2min"]
        return f"{name} {m['median_abs_error_s']:.0f} s ({pct:.1f}%, {within:.0f}% within 2 min)"

    why = ", ".join(f"{k} {v}" for k, v in t["by_reason"].items())
    print(
        f"wrote {args.out} (region {region}, {cal.options.profile}): {t['used']} of {t['read']} trips fitted"
        f"{f' ({why} left out: report.json)' if why else ''}; held-out median error: "
        f"{line('free_flow')}, {line('before')}, {line('after')}; "
        f"keep it in the region: geoservice attach-profile --region DIR --profile {args.out.rstrip('/')}/profile.csv "
        f"--report {args.out.rstrip('/')}/report.json",
        file=sys.stderr,
    )


def check_profile_files(profile: str, report: str | None) -> None:
    """Read ``profile`` (and ``report``) as attach-profile will: a bad file is an error now."""
    import json
    from pathlib import Path

    from ...errors import GeoserviceError
    from ...service.traffic import hourly_profiles

    try:
        hourly_profiles(profile)
    except GeoserviceError as exc:
        raise exc.with_field("profile") from None
    if report is not None:
        try:
            rep = json.loads(Path(report).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise GeoserviceError("report", f"cannot read {report} as calibrate's report.json: {exc}") from None
        if not isinstance(rep, dict) or "evaluation" not in rep:
            raise GeoserviceError("report", f"{report} is not a report.json of geoservice calibrate (no evaluation)")


@command("attach-profile", profile="--profile", report="--report")
def cmd_attach_profile(args: argparse.Namespace) -> None:
    from ...bundle.traffic_profile import attach_profile

    region = args.region
    data = attach_profile(region, args.profile, args.report)
    prov = data["provenance"]
    if prov.get("region_matches") is False:
        log.warning("the report was calibrated on region %r, attached to %s", prov.get("calibrated_region"), region)
    print(
        f"stored in {region}: traffic {data['label']}; spread {data['spread']['label']}; "
        f"--depart in this region now uses it (a --hourly-profiles file still overrides it)",
        file=sys.stderr,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit hourly travel-time factors per road class to observed trips (profile.csv for --hourly-profiles)",
        description=(
            "Fit travel-time factors per road class and departure hour to observed trips (a CSV with trip_id, "
            "origin_lon, origin_lat, destination_lon, destination_lat, depart (ISO local date-time), observed_s; "
            "optional priority and weekday), routing every trip under the current factors until the routes "
            "stop changing, and judge them on held-out trips against free flow and the hourly profile in force."
        ),
        epilog=f"example (the central Shanghai demo, SYNTHETIC trips):\n  {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_region(p)
    p.add_argument("--trips", required=True, help="trip CSV file (see above); rows with problems are reported")
    p.add_argument("--out", "-o", required=True, help="output folder (written only when the run succeeds)")
    p.add_argument("--crs", default="wgs84", choices=CRS_CHOICES, help="coordinate system of the trip file")
    p.add_argument("--profile", default="drive", choices=("drive", "ambulance"), help="whose speeds are scaled")
    p.add_argument("--folds", type=int, default=5, help=f"cross-validation folds (2-{MAX_FOLDS}, default 5)")
    p.add_argument(
        "--days",
        default="all",
        choices=("all", "weekday", "weekend"),
        help="which trips to fit: working days, weekends or all (weekday column, else the date)",
    )
    p.add_argument("--no-overhead", action="store_true", help="fit no fixed per-trip overhead")
    p.add_argument(
        "--hourly-profiles",
        metavar="CSV",
        help="the hourly factors in force, scored as 'before' (default: GEOSERVICE_HOURLY_PROFILES, else the "
        "built-in curve of Chinese cities)",
    )
    p.add_argument("--max-iterations", type=int, default=8, help="most rounds of routing and fitting (default 8)")

    p = sub.add_parser(
        "attach-profile",
        help="store a calibrated hourly profile in a region bundle: every face then uses it for --depart",
        description=(
            "Store profile.csv (and what report.json says of it: trip file checksum, date range, trips, held-out "
            "errors, the spread of observed / predicted times for --percentile) in the region's bundle "
            "(traffic.json, written atomically). Answers with --depart / depart= in that region then use it and "
            "name it (traffic: calibrated 2026-03 (1,499 trips)); a --hourly-profiles file or the hourly_profiles "
            "setting still overrides it. Attaching again replaces it."
        ),
    )
    p.add_argument("--region", required=True, metavar="DIR", help="the region bundle folder to store it in")
    p.add_argument("--profile", required=True, metavar="CSV", help="profile.csv of geoservice calibrate")
    p.add_argument("--report", metavar="JSON", help="report.json of the same run (provenance and spread)")
