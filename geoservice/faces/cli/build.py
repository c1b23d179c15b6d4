"""``build`` and ``build-demo``: region bundles from local OSM files, with the user's own admin
units and census when given."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from ...errors import GeoserviceError, InputFileError
from ...service.usecases.bundles import AdminCensusOptions, parse_folds
from ...sources.coords import CRS_CHOICES
from .common import command

_LANG = re.compile(r"^([a-z]{2,3}(?:-[A-Za-z0-9]+)?)=(.+)$")
# options that only mean something with another one: option -> the one it needs
_NEEDS = {
    "admin_crs": "admin_units",
    "admin_id": "admin_units",
    "admin_name": "admin_units",
    "population_col": "population",
    "population_id": "population",
    "population_fold": "population",
}


def _show_progress() -> None:
    """Build steps are logged at INFO by the bundle layer; show them on stderr."""
    logging.getLogger("geoservice.bundle").setLevel(logging.INFO)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def census_options(args: argparse.Namespace) -> AdminCensusOptions | None:
    """The admin units and census the build would read (None without ``--admin-units``); options
    that need each other are checked here, the files themselves when read."""
    given = {k for k in (*_NEEDS, "admin_units", "population") if getattr(args, k, None) not in (None, [])}
    for opt, needs in _NEEDS.items():
        if opt in given and needs not in given:
            raise GeoserviceError(opt, f"needs {_flag(needs)}")
    if "admin_units" in given and "population" not in given:
        raise GeoserviceError("population", "--admin-units needs a census: --population FILE --population-col COL")
    if "population" in given and "admin_units" not in given:
        raise GeoserviceError("admin_units", "--population needs the admin-unit boundaries it is keyed to")
    if not given:
        return None
    if "admin_id" not in given:
        raise GeoserviceError("admin_id", "required with --admin-units: the column holding the unit ids")
    if "population_col" not in given:
        raise GeoserviceError("population_col", "required with --population: the column holding the counts")
    return AdminCensusOptions(
        admin_units=Path(args.admin_units),
        admin_id=args.admin_id,
        admin_name=args.admin_name,
        admin_crs=args.admin_crs or "wgs84",
        population=Path(args.population),
        population_col=args.population_col,
        population_id=args.population_id,
        folds=parse_folds(args.population_fold),
    )


def display_names(values: list[str] | None) -> dict[str, str] | None:
    """``--display-name 湖北省`` (every language) and/or ``--display-name en=Hubei`` → {lang: name}."""
    if not values:
        return None
    out: dict[str, str] = {}
    plain: list[str] = []
    for v in values:
        v = v.strip()
        m = _LANG.match(v)
        if m:
            out[m.group(1)] = m.group(2).strip()
        elif v:
            plain.append(v)
    if len(plain) > 1:
        raise GeoserviceError(
            "display_name", f"one name for every language, got {len(plain)}; use LANG=NAME for others"
        )
    if not out and not plain:
        raise GeoserviceError("display_name", "empty name")
    for lang in ("zh", "en"):
        if plain:
            out.setdefault(lang, plain[0])
    return out


@command(
    "build",
    type="--facilities",
    lon_col="--facilities",
    lat_col="--facilities",
    file="--facilities",
    profile="--hourly-profiles",
    hourly_profiles="--hourly-profiles",
    report="--calibration-report",
)
def cmd_build(args: argparse.Namespace) -> None:
    from ...service.usecases.bundles import build
    from .calibrate import check_profile_files

    if args.calibration_report and not args.hourly_profiles:
        raise GeoserviceError("report", "--calibration-report goes with --hourly-profiles (the profile it describes)")
    if args.hourly_profiles:
        check_profile_files(args.hourly_profiles, args.calibration_report)  # before hours of building

    census = census_options(args)
    names = display_names(args.display_name)
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
        tiles=not args.no_tiles,
        quiet=args.quiet,
        ch_profiles=ch,
        strict=args.strict,
        census=census,
        display_name=names,
    )
    if args.hourly_profiles:
        from ...bundle.traffic_profile import attach_profile

        data = attach_profile(args.out, args.hourly_profiles, args.calibration_report)
        print(f"traffic: {data['label']} stored in {args.out}", file=sys.stderr)


@command("build-demo")
def cmd_build_demo(args: argparse.Namespace) -> None:
    from ...service.usecases.bundles import build_demos

    if not args.quiet:
        _show_progress()
    build_demos(Path(args.out) if args.out else None, quiet=args.quiet)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("build", help="build a region bundle from a local OSM file")
    p.add_argument("--osm", required=True, help=".osm, .osm.pbf, .osm.gz or .osm.bz2 file")
    p.add_argument("--facilities", action="append", help="facility file (GeoJSON, CSV, GPKG); repeatable")
    p.add_argument(
        "--crs",
        choices=CRS_CHOICES,
        default="wgs84",
        help="coordinate system of the facility files (AMap/Tencent: gcj02, Baidu: bd09); checked, see --strict",
    )
    p.add_argument("--out", required=True, help="bundle directory (replaced atomically)")
    p.add_argument("--name", help="region name (default: the folder name)")
    p.add_argument(
        "--hourly-profiles",
        metavar="CSV",
        help="a calibrated hourly profile (geoservice calibrate's profile.csv) stored in the bundle: every face "
        "uses it for --depart / depart= in this region (see attach-profile)",
    )
    p.add_argument(
        "--calibration-report",
        metavar="JSON",
        help="calibrate's report.json for --hourly-profiles (provenance, spread)",
    )
    p.add_argument(
        "--display-name",
        action="append",
        metavar="TEXT",
        help="the region's name as shown (e.g. 湖北省; LANG=TEXT for one language, e.g. en=Hubei; repeatable)",
    )
    p.add_argument("--no-osm-pois", action="store_true", help="do not take hospitals/AEDs from the OSM file")
    p.add_argument(
        "--no-tiles",
        action="store_true",
        help="do not write the vector tile set (tiles.pmtiles, drawn by the pages; without it they draw "
        "the slower whole-region GeoJSON basemap)",
    )
    p.add_argument(
        "--ch", default="drive", help="profiles to contract for fast matrices (comma list, or 'none'); default drive"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 2, the old bundle untouched) on any bad facility row or a likely wrong --crs (judged "
        "by the names of the extract's OSM hospitals/AEDs, else by the roads); without it both are warnings. "
        "A file of which no row loads, or whose points are nowhere near the roads, always fails",
    )
    g = p.add_argument_group(
        "population",
        "your own admin units and census: counts per unit spread onto the roads (the share of a unit inside "
        "the extract only); without them the region has no population data",
    )
    g.add_argument("--admin-units", metavar="FILE", help="admin-unit polygons (GeoJSON or GeoPackage)")
    g.add_argument("--admin-crs", choices=CRS_CHOICES, help="coordinate system of --admin-units (default wgs84)")
    g.add_argument("--admin-id", metavar="COL", help="column of --admin-units with the unit id (the census key)")
    g.add_argument("--admin-name", metavar="COL", help="column of --admin-units with the unit name (default: the id)")
    g.add_argument("--population", metavar="FILE", help="census CSV with a count per admin-unit id")
    g.add_argument("--population-col", metavar="COL", help="column of --population with the counts")
    g.add_argument(
        "--population-id", metavar="COL", help="column of --population with the unit id (default: the --admin-id name)"
    )
    g.add_argument(
        "--population-fold",
        action="append",
        metavar="SRC=DST",
        help="add census unit SRC (no polygon of its own) to admin unit DST; repeatable",
    )
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("build-demo", help="build the demo region bundles from the shipped data")
    p.add_argument("--out", help="folder for the bundles (default: GEOSERVICE_REGIONS_DIR)")
    p.add_argument("--quiet", action="store_true")
