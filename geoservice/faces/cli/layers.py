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
    from ...sources.crs_check import nothing_loaded
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
    if bad_rows and len(res.layer) == 0:
        raise nothing_loaded(args.file, res.errors, field_name=None, nothing="nothing written")
    if bad_rows and args.strict:
        raise GeoserviceError(None, f"{bad_rows} bad rows in {args.file} (listed above); nothing written")
    if args.region and len(res.layer):
        _check_positions(args, res.layer)
    layer = res.with_extras()
    attribution = osm_attribution(layer["source"])
    if out is None:
        sys.stdout.write(layer_geojson(layer, attribution))
    else:
        write_layer(layer, out, attribution=attribution)
    print(f"{len(layer)} rows loaded, {bad_rows} rejected" + (f"; wrote {out}" if out else ""), file=sys.stderr)


def _check_positions(args: argparse.Namespace, layer) -> None:
    """Check the file's points against the ``--region`` bundle as ``build`` checks a facility
    file (``sources.crs_check.check_positions``): by name against the bundle's OpenStreetMap
    facilities, else against its roads. A likely wrong ``--crs`` is a warning line, with
    ``--strict`` an error; points nowhere near the region are an error."""
    from ...service.core import GeoService, region_paths
    from ...sources.crs_check import Reference, check_positions, network_distances

    # only the bundle is needed: no registry is opened (nor seeded)
    region = GeoService(region_paths([args.region])).pick(None).region
    assert region is not None
    roads = region.networks.get("drive") or next(iter(region.networks.values()))
    check = check_positions(
        layer["lon"].to_numpy(),
        layer["lat"].to_numpy(),
        args.crs,
        network_distances(roads),
        region=region.name,
        names=layer["name"],
        types=layer["type"],
        reference=Reference.from_layer(region.facilities, f"the OpenStreetMap facilities of region {region.name}"),
        label=Path(args.file).name,
        strict=args.strict,
        nothing="nothing written",
        field_name="file",
    )
    if check is not None and check.warning:
        print(f"geoservice: WARNING: {check.warning}", file=sys.stderr)  # the way build logs it


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-layer", help="validate a facility file and write it normalised (WGS-84)")
    p.add_argument("file", metavar="FILE", help="CSV, GeoJSON or GeoPackage")
    add_type(p, required=False)
    p.add_argument(
        "--crs",
        choices=CRS_CHOICES,
        default="wgs84",
        help="coordinate system of the file (AMap/Tencent: gcj02, Baidu: bd09); checked with --region",
    )
    p.add_argument("--lon-col", default="lon", help="column holding longitudes (default: lon, lng, longitude or x)")
    p.add_argument("--lat-col", default="lat", help="column holding latitudes (default: lat, latitude or y)")
    p.add_argument(
        "--region",
        metavar="DIR",
        help="region bundle the points should lie in: warn when they fit its OpenStreetMap facilities of the "
        "same name (else its roads) much better read in another --crs (GCJ-02 / BD-09); points nowhere near "
        "its roads are an error",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 and write nothing when any row is bad or (with --region) --crs is likely wrong; "
        "the same rule as build --strict and the API's strict import",
    )
    p.add_argument("-o", "--output", help="output file (.geojson, .gpkg, .csv); default: GeoJSON on stdout")
