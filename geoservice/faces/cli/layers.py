"""``import-layer``: validate a facility file and write it normalised (WGS-84)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...errors import GeoserviceError
from ...sources.coords import CRS_CHOICES
from .common import add_type, command

# row problems printed one per line, then a count: a 100,000-row file of one systematic mistake
# must not bury the summary (fix the first ones, run again)
MAX_ROW_ERRORS_SHOWN = 50


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
    if not res.records and not res.errors:
        if args.strict:
            raise GeoserviceError("file", f"{args.file}: no rows below the header; nothing written")
        print(f"geoservice: WARNING: {args.file}: no rows below the header", file=sys.stderr)
    errors = list(res.errors)
    keep = [True] * len(res.records)
    entry = None
    if args.region and res.records:
        entry = _region_entry(args.region)
        outside = _outside_region(args, entry, res)
        for i, e in outside:
            keep[i] = False
            errors.append(e)
        errors.sort(key=lambda e: e.row)
    for e in errors[:MAX_ROW_ERRORS_SHOWN]:
        print(e, file=sys.stderr)  # "row N: field: reason", N counted from 1 after the header
    bad_rows = len({e.row for e in errors})
    if len(errors) > MAX_ROW_ERRORS_SHOWN:
        print(
            f"... and {len(errors) - MAX_ROW_ERRORS_SHOWN} more problems not shown "
            f"({len(errors)} in all, in {bad_rows} rows)",
            file=sys.stderr,
        )
    if bad_rows and not any(keep):
        raise nothing_loaded(args.file, errors, field_name=None, nothing="nothing written")
    if bad_rows and args.strict:
        raise GeoserviceError(None, f"{bad_rows} bad rows in {args.file} (listed above); nothing written")
    layer = res.with_extras()
    if not all(keep):
        layer = layer[keep].reset_index(drop=True)
    if entry is not None and len(layer):
        _check_positions(args, entry, layer)
    attribution = osm_attribution(layer["source"])
    if out is None:
        sys.stdout.write(layer_geojson(layer, attribution))
    else:
        write_layer(layer, out, attribution=attribution)
    print(f"{len(layer)} rows loaded, {bad_rows} rejected" + (f"; wrote {out}" if out else ""), file=sys.stderr)


def _region_entry(path: str) -> Any:
    """The ``--region`` bundle (only the bundle: no registry is opened, nor seeded)."""
    from ...service.core import GeoService, region_paths

    return GeoService(region_paths([path])).pick(None)


def _outside_region(args: argparse.Namespace, entry: Any, res: Any) -> list[tuple[int, Any]]:
    """(record index, problem) of each point outside the ``--region`` bundle, as the API's import
    refuses them: a point thousands of kilometres off (lon and lat swapped, outside China both
    readings are valid coordinates) must not slip into a layer. When no point lies inside,
    ``check_positions`` says how far off they are instead."""
    from ...sources.facility_rows import RowError

    inside = [entry.contains(r["lon"], r["lat"]) for r in res.records]
    if not any(inside):
        _check_positions(args, entry, res.layer)  # raises: nowhere near the region
    out = []
    for i, (rec, row) in enumerate(zip(res.records, res.rows, strict=True)):
        if inside[i]:
            continue
        lon, lat = rec["lon"], rec["lat"]
        hint = "; lon/lat look swapped: put longitudes in the lon column" if entry.contains(lat, lon) else ""
        out.append((i, RowError(row, "lon,lat", f"({lon:.6f}, {lat:.6f}) is outside region {entry.name!r}{hint}")))
    return out


def _check_positions(args: argparse.Namespace, entry: Any, layer: Any) -> None:
    """Check the file's points against the ``--region`` bundle as ``build`` checks a facility
    file (``sources.crs_check.check_positions``): by name against the bundle's OpenStreetMap
    facilities, else against its roads. A likely wrong ``--crs`` is a warning line, with
    ``--strict`` an error; points nowhere near the region are an error."""
    from ...sources.crs_check import Namesakes, Reference, Wording, check_positions, network_distances

    region = entry.region
    assert region is not None
    roads = region.networks.get("drive") or next(iter(region.networks.values()))
    check = check_positions(
        layer["lon"].to_numpy(),
        layer["lat"].to_numpy(),
        args.crs,
        network_distances(roads),
        region=region.name,
        namesakes=Namesakes(
            layer["name"],
            layer["type"],
            Reference.from_layer(region.facilities, f"the OpenStreetMap facilities of region {region.name}"),
        ),
        wording=Wording(label=Path(args.file).name, strict=args.strict, nothing="nothing written", field_name="file"),
    )
    if check is not None and check.warning:
        print(f"geoservice: WARNING: {check.warning}", file=sys.stderr)  # the way build logs it


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        help="region bundle the points should lie in: a point outside it is a bad row (e.g. lon and lat "
        "swapped); warn when they fit its OpenStreetMap facilities of the same name (else its roads) much "
        "better read in another --crs (GCJ-02 / BD-09); points nowhere near its roads are an error",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 and write nothing when any row is bad or (with --region) --crs is likely wrong; "
        "the same rule as build --strict and the API's strict import",
    )
    p.add_argument("-o", "--output", help="output file (.geojson, .gpkg, .csv); default: GeoJSON on stdout")
