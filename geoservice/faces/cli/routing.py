"""``nearest``, ``isochrone``, ``matrix``, ``export-graph``: the routing questions on the command line."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ...engine.matrix_stream import matrix_format
from ...errors import InputFileError
from ...questions import MAX_K, IsochroneQuestion, MatrixQuestion, NearestQuestion, parse_minutes
from ...service.inputs import check_lonlat, parse_at
from ...service.usecases import queries
from ...sources.cell_values import id_problem
from .common import (
    add_db,
    add_filters,
    add_point,
    add_profile,
    add_region,
    add_traffic,
    add_type,
    command,
    emit_json,
    open_service,
    traffic_ask,
)


@command("nearest")
def cmd_nearest(args: argparse.Namespace) -> None:
    check_lonlat(args.lon, args.lat)
    svc = open_service(args)
    q = NearestQuestion.of(
        args.lon,
        args.lat,
        type=args.type,
        level=args.level,
        capability=args.capability,
        k=args.k,
        profile=args.profile,
        direction=args.direction,
        at=parse_at(args.at),
        max_minutes=args.max_minutes,
        traffic=traffic_ask(args),
    )
    ans = queries.nearest(svc, q)
    emit_json(ans, args.output)


def isochrone_question(args: argparse.Namespace) -> IsochroneQuestion:
    """``geoservice isochrone``'s flags as the question (the point is WGS-84 on the command line)."""
    mins = tuple(parse_minutes(args.minutes))
    return IsochroneQuestion(args.lon, args.lat, mins, args.profile or "drive", args.direction, traffic_ask(args))


@command("isochrone")
def cmd_isochrone(args: argparse.Namespace) -> None:
    check_lonlat(args.lon, args.lat)
    svc = open_service(args)
    q = isochrone_question(args)
    fc = queries.isochrones(svc, q)
    emit_json(fc, args.output)


def read_points(path: str, field: str) -> tuple[list[str], list[tuple[float, float]]]:
    """id,lon,lat rows of a CSV file; errors name the flag's field and the 1-based data row.
    Each id names one point (matrix rows, dispatch responders): it must be there, unique, and an
    id by ``cell_values.id_problem``."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"file not found: {path}")
    ids: list[str] = []
    pts: list[tuple[float, float]] = []
    first: dict[str, int] = {}
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"id", "lon", "lat"} - set(reader.fieldnames or [])
        if missing:
            raise InputFileError(field, f"{path} lacks column(s) {', '.join(sorted(missing))} (need id, lon, lat)")
        for n, row in enumerate(reader, 1):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
            except (TypeError, ValueError):
                raise InputFileError(field, f"{path} row {n}: lon/lat are not numbers") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InputFileError(field, f"{path} row {n}: ({lon}, {lat}) is not a lon/lat")
            pid = (row["id"] or "").strip()
            problem = id_problem(pid)
            if problem:
                raise InputFileError(field, f"{path} row {n}: id: {problem}")
            if pid in first:
                raise InputFileError(
                    field, f"{path} row {n}: duplicate id {pid!r} (first at row {first[pid]}); give each point its own"
                )
            first[pid] = n
            ids.append(pid)
            pts.append((lon, lat))
    if not pts:
        raise InputFileError(field, f"{path} has no rows")
    return ids, pts


@command("matrix")
def cmd_matrix(args: argparse.Namespace) -> None:
    from ...service.usecases.matrices import matrix_file

    oid, opts = read_points(args.origins, "origins")
    did, dpts = read_points(args.destinations, "destinations")
    svc = open_service(args)
    matrix_format(args.output)  # a wrong suffix is named before the cutoff, as always
    ask = traffic_ask(args)
    q = MatrixQuestion(tuple(oid), tuple(opts), tuple(did), tuple(dpts), args.profile, ask, args.cutoff_minutes)
    ans = matrix_file(svc, q, args.output)
    f = ans.file
    within = f", {f.pairs} pairs within {args.cutoff_minutes:g} min" if f.cutoff_s is not None else ""
    print(
        f"wrote {f.path} ({f.origins} x {f.destinations}{within}, region {ans.region}, {ans.profile}, "
        f"{ans.traffic.label()}); roads © OpenStreetMap contributors, ODbL 1.0",
        file=sys.stderr,
    )
    for note in ans.snap_notes():
        print(f"geoservice: WARNING: {note}", file=sys.stderr)


@command("export-graph")
def cmd_export_graph(args: argparse.Namespace) -> None:
    from ...service.usecases.bundles import export_graph

    out = Path(args.output)
    region, net = export_graph(open_service(args), out, network=args.network)
    print(
        f"wrote {out} (region {region}): {net.n_nodes} nodes, {net.n_edges} edges; "
        "© OpenStreetMap contributors, ODbL 1.0",
        file=sys.stderr,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("nearest", help="k nearest facilities by travel time, with routes (JSON)")
    add_region(p, several=True)
    add_db(p)
    add_point(p)
    add_type(p)
    add_filters(p)
    p.add_argument("--k", type=int, default=1, help=f"how many (1-{MAX_K})")
    add_profile(p)
    p.add_argument(
        "--direction",
        choices=("to", "from"),
        default="to",
        help="to: point -> facility (patient); from: facility -> point (ambulance)",
    )
    p.add_argument("--at", help="ISO local date-time: leave out facilities closed then (AED opening hours)")
    p.add_argument("--max-minutes", type=float, help="search no farther")
    add_traffic(p, percentile=True)
    p.add_argument("-o", "--output", help="JSON file (default: stdout)")

    p = sub.add_parser("isochrone", help="travel-time polygons (GeoJSON)")
    add_region(p, several=True)
    add_point(p)
    p.add_argument("--minutes", required=True, help="comma-separated, e.g. 10,30 (each in (0, 240])")
    add_profile(p)
    p.add_argument("--direction", choices=("to", "from"), default="to")
    add_traffic(p, percentile=True)
    p.add_argument("-o", "--output", help="GeoJSON file (default: stdout)")

    p = sub.add_parser(
        "matrix",
        help="origin-destination travel times (CSV or Parquet, any size, written in blocks); "
        "the first origin picks the region",
    )
    add_region(p, several=True)
    p.add_argument("--origins", required=True, help="CSV with id,lon,lat")
    p.add_argument("--destinations", required=True, help="CSV with id,lon,lat")
    add_profile(p)
    add_traffic(p)
    p.add_argument(
        "--cutoff-minutes", type=float, help="write only the pairs within this many minutes (far pairs have no row)"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="out.csv or out.parquet (pyarrow): origin_id,destination_id,time_s,distance_m",
    )

    p = sub.add_parser("export-graph", help="the exact graph the engine uses (.graphml or .gpkg)")
    add_region(p)
    p.add_argument("--network", default="drive", choices=("drive", "walk"))
    p.add_argument("-o", "--output", required=True)
