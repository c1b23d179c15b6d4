"""``certify``: match a published certification list (names) to positioned facilities.

Writes the certified layer (``--out``) and lists every ambiguous or unmatched name on stdout
(and in ``--unresolved``) for a person to resolve, e.g. with a line in the alias table. Exit 0
when the list was processed, unresolved names included; 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys

from ...sources.certification import ALIASES_FILE, DEFAULT_NAME_COL
from ...sources.coords import CRS_CHOICES
from ...sources.schema import ALL_LEVELS, FACILITY_TYPES
from .common import command

__all__ = ["add_parsers"]


@command("certify", file="--facilities", output="--out")
def cmd_certify(args: argparse.Namespace) -> None:
    from ...service.usecases import certify

    res = certify.certify(
        list_path=args.list,
        facilities_path=args.facilities,
        type=args.type,
        level=args.level,
        reading=certify.CertifyReading(
            name_col=args.name_col,
            batch_col=args.batch_col,
            date_col=args.date_col,
            crs=args.crs,
            lon_col=args.lon_col,
            lat_col=args.lat_col,
            region_bbox=args.region_bbox,
            aliases_path=args.aliases,
        ),
        label=args.label,
        out=args.out,
        unresolved=args.unresolved,
    )
    certify.save(res, out=args.out, unresolved=args.unresolved)
    rep = res.report
    for r in certify.unresolved_rows(rep):
        line = f"{r['outcome']}: row {r['row']}: {r['published_name']}: {r['reason']}"
        print(line + (f": {r['candidates']}" if r["candidates"] else ""))
    skipped = len({e.row for e in res.skipped_rows})
    total = len(rep.matched) + len(rep.ambiguous) + len(rep.unmatched)
    print(
        f"{total} names: {len(rep.matched)} matched, {len(rep.ambiguous)} ambiguous, {len(rep.unmatched)} unmatched "
        f"(against {res.facilities_used} facilities; {skipped} rows of {args.facilities} unusable"
        + (f", {res.outside_bbox} outside --region-bbox" if res.outside_bbox else "")
        + f"); wrote {args.out} ({len(res.layer)} facilit{'y' if len(res.layer) == 1 else 'ies'})"
        + (f" and {args.unresolved}" if args.unresolved else ""),
        file=sys.stderr,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "certify",
        help="match a published certification list (names) to positioned facilities",
        description="Match the names of a certification list to a positioned facility file, without "
        "distances and without guessing: a name is matched only when exactly one facility answers "
        "(alias table first, then normalised names); the rest are listed for a person to resolve.",
    )
    p.add_argument("--list", required=True, metavar="CSV", help="the published list (one name per row)")
    p.add_argument(
        "--facilities",
        required=True,
        metavar="FILE",
        help="positioned facilities: any facility file (CSV, GeoJSON, GPKG) or a name/lon/lat CSV; "
        "an osm_id column names the OpenStreetMap object",
    )
    p.add_argument(
        "--type", required=True, metavar="TYPE", help=f"what the list certifies: {', '.join(FACILITY_TYPES)}"
    )
    p.add_argument("--level", help=f"the level it certifies: {', '.join(ALL_LEVELS)} (chest pain: standard, basic)")
    p.add_argument("--crs", choices=CRS_CHOICES, default="wgs84", help="coordinate system of --facilities")
    p.add_argument("--lon-col", default="lon", help="longitude column of a CSV --facilities (default: lon, lng …)")
    p.add_argument("--lat-col", default="lat", help="latitude column of a CSV --facilities (default: lat …)")
    p.add_argument("--name-col", default=DEFAULT_NAME_COL, help=f"name column of --list (default: {DEFAULT_NAME_COL})")
    p.add_argument("--batch-col", help="batch column of --list (default: batch, when present)")
    p.add_argument("--date-col", help="decision date column of --list (default: decision_date, when present)")
    p.add_argument(
        "--region-bbox",
        metavar="LON0,LAT0,LON1,LAT1",
        help="match only against facilities inside this box (WGS-84), e.g. one city of a national file",
    )
    p.add_argument("--aliases", metavar="CSV", help=f"alias table (default: the shipped {ALIASES_FILE.name})")
    p.add_argument("--label", help="how each source names the list (default: the --list file name)")
    p.add_argument("--out", required=True, help="certified layer (.csv, .geojson, .gpkg), written atomically")
    p.add_argument("--unresolved", metavar="CSV", help="also write the ambiguous and unmatched names here")
