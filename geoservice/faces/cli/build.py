"""``build`` and ``build-demo``: region bundles from local OSM files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ...errors import InputFileError
from ...sources.coords import CRS_CHOICES
from .common import command


def _show_progress() -> None:
    """Build steps are logged at INFO by the bundle layer; show them on stderr."""
    logging.getLogger("geoservice.bundle").setLevel(logging.INFO)


@command("build", type="--facilities", lon_col="--facilities", lat_col="--facilities", file="--facilities")
def cmd_build(args: argparse.Namespace) -> None:
    from ...service.bundles import build

    fac = []
    for f in args.facilities or []:
        if not Path(f).is_file():
            raise InputFileError("facilities", f"file not found: {f}")
        fac.append((Path(f), {"crs": args.crs}))
    ch = tuple(p.strip() for p in args.ch.split(",") if p.strip() and p.strip() != "none")
    if not args.quiet:
        _show_progress()
    build(
        args.osm,
        args.out,
        facilities=fac,
        name=args.name,
        osm_pois=not args.no_osm_pois,
        quiet=args.quiet,
        ch_profiles=ch,
        strict=args.strict,
    )


@command("build-demo")
def cmd_build_demo(args: argparse.Namespace) -> None:
    from ...service.bundles import build_demos

    if not args.quiet:
        _show_progress()
    build_demos(Path(args.out) if args.out else None, quiet=args.quiet)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build a region bundle from a local OSM file")
    p.add_argument("--osm", required=True, help=".osm, .osm.pbf, .osm.gz or .osm.bz2 file")
    p.add_argument("--facilities", action="append", help="facility file (GeoJSON, CSV, GPKG); repeatable")
    p.add_argument("--crs", choices=CRS_CHOICES, default="wgs84", help="coordinate system of the facility files")
    p.add_argument("--out", required=True, help="bundle directory (replaced atomically)")
    p.add_argument("--name", help="region name (default: the folder name)")
    p.add_argument("--no-osm-pois", action="store_true", help="do not take hospitals/AEDs from the OSM file")
    p.add_argument(
        "--ch", default="drive", help="profiles to contract for fast matrices (comma list, or 'none'); default drive"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 2, the old bundle untouched) on any bad facility row or a likely wrong --crs; "
        "without it both are warnings",
    )
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("build-demo", help="build the demo region bundles from the shipped data")
    p.add_argument("--out", help="folder for the bundles (default: GEOSERVICE_REGIONS_DIR)")
    p.add_argument("--quiet", action="store_true")
