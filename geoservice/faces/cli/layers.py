"""``import-layer``: validate a facility file and write it normalised (WGS-84)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import GeoserviceError
from ...sources.coords import CRS_CHOICES
from .common import add_type, command


@command("import-layer", file="FILE")
def cmd_import_layer(args: argparse.Namespace) -> None:
    from ...sources.facility_files import OUTPUT_SUFFIXES, layer_geojson, read_facilities, write_layer
    from ...sources.osm_pois import osm_attribution

    out = args.output if args.output and args.output != "-" else None
    if out is not None and Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise GeoserviceError(
            "output",
            f"{out}: unsupported file type; use {', '.join(OUTPUT_SUFFIXES)}, or leave out -o for GeoJSON on stdout",
        )
    res = read_facilities(args.file, type=args.type, crs=args.crs, lon_col=args.lon_col, lat_col=args.lat_col)
    for e in res.errors:
        print(e, file=sys.stderr)  # "row N: field: reason", N counted from 1 after the header
    bad_rows = len({e.row for e in res.errors})
    if bad_rows and args.strict:
        raise GeoserviceError(None, f"{bad_rows} bad rows in {args.file} (listed above); nothing written")
    if bad_rows and len(res.layer) == 0:
        raise GeoserviceError(
            None, f"no row of {args.file} could be loaded ({bad_rows} bad rows, listed above); nothing written"
        )
    if args.region and len(res.layer):
        _check_crs(args, res.layer)
    layer = res.with_extras()
    attribution = osm_attribution(layer["source"])
    if out is None:
        sys.stdout.write(layer_geojson(layer, attribution))
    else:
        write_layer(layer, out, attribution=attribution)
    print(f"{len(layer)} rows loaded, {bad_rows} rejected" + (f"; wrote {out}" if out else ""), file=sys.stderr)


def _check_crs(args: argparse.Namespace, layer) -> None:
    """Compare the file's points, as declared and read as each other system, with the roads of
    the ``--region`` bundle; print a warning line, or with ``--strict`` fail, when another system
    fits much better (see ``sources.crs_check``)."""
    from ...service.core import GeoService, region_paths
    from ...sources.crs_check import check_crs, network_distances

    # only the bundle's roads are needed: no registry is opened (nor seeded)
    region = GeoService(region_paths([args.region])).pick(None).region
    assert region is not None
    roads = region.networks.get("drive") or next(iter(region.networks.values()))
    check = check_crs(
        layer["lon"].to_numpy(),
        layer["lat"].to_numpy(),
        args.crs,
        network_distances(roads),
        label=f"{Path(args.file).name} against the roads of {region.name}",
    )
    if check is None or check.warning is None:
        return
    if args.strict:
        raise GeoserviceError("crs", f"{check.warning}; nothing written")
    print(f"geoservice: WARNING: {check.warning}", file=sys.stderr)  # the way build logs it


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-layer", help="validate a facility file and write it normalised (WGS-84)")
    p.add_argument("file", metavar="FILE", help="CSV, GeoJSON or GeoPackage")
    add_type(p, required=False)
    p.add_argument("--crs", choices=CRS_CHOICES, default="wgs84", help="coordinate system of the file")
    p.add_argument("--lon-col", default="lon", help="column holding longitudes (default: lon, lng, longitude or x)")
    p.add_argument("--lat-col", default="lat", help="column holding latitudes (default: lat, latitude or y)")
    p.add_argument(
        "--region",
        metavar="DIR",
        help="region bundle whose roads the points should lie on: warn when the file's points fit "
        "them much better read in another --crs",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 and write nothing when any row is bad or (with --region) --crs is likely wrong",
    )
    p.add_argument("-o", "--output", help="output file (.geojson, .gpkg, .csv); default: GeoJSON on stdout")
