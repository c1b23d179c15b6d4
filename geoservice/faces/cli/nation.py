"""``split`` and ``batch build|coverage``: a whole country, one Dask task per province
(``service.nation``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import GeoserviceError, InputFileError
from ...sources.coords import CRS_CHOICES
from ...sources.schema import DEFAULT_MINUTES
from .build import census_options
from .common import add_filters, add_profile, add_traffic, add_type, command, traffic_args


@command("split", id_col="--id-col", name_col="--name-col", osm="--osm", boundaries="--boundaries")
def cmd_split(args: argparse.Namespace) -> None:
    from ...service.usecases import nation
    from ...sources.osm_split import read_boundaries

    units = read_boundaries(args.boundaries, id_col=args.id_col, name_col=args.name_col, crs=args.boundaries_crs)
    res = nation.split(
        args.osm, units, args.out, buffer_km=args.buffer_km, boundaries_source=Path(args.boundaries).name
    )
    for u in res.units:
        print(f"{u.unit_id}\t{u.name}\t{u.nodes:,} nodes\t{u.ways:,} ways\t{u.folder}", file=sys.stderr)
    print(
        f"split {res.input_nodes:,} nodes / {res.input_ways:,} ways into {len(res.units)} extracts "
        f"(buffer {res.buffer_km:g} km) in {args.out}",
        file=sys.stderr,
    )


def _scheduler(args: argparse.Namespace) -> str | None:
    if args.scheduler == "none" or args.workers == 0:
        return None
    return str(args.scheduler)


@command("batch", regions="--regions", scheduler="--scheduler")
def cmd_batch(args: argparse.Namespace) -> None:
    from ...service.usecases import nation

    common = {
        "out": args.out,
        "scheduler": _scheduler(args),
        "workers": args.workers,
        "memory_limit": args.memory_limit,
    }
    if args.workers < 0:
        raise GeoserviceError("workers", f"must be >= 0, got {args.workers}")
    if args.batch_cmd == "build":
        for f in args.facilities or ():
            if not Path(f).is_file():
                raise InputFileError("facilities", f"file not found: {f}")
            if Path(f).suffix.lower() != ".csv":
                raise GeoserviceError("facilities", f"a CSV with lon,lat columns (cut to each region), got {f}")
        ch = tuple(p.strip() for p in args.ch.split(",") if p.strip() and p.strip() != "none")
        opts = nation.BuildOptions(
            facilities=tuple(Path(f) for f in args.facilities or ()),
            crs=args.crs,
            census=census_options(args),
            ch_profiles=ch,
        )
        res = nation.run_batch(nation.build_task, args.regions, opts, **common)
    else:
        tr = traffic_args(args)
        copts = nation.CoverageOptions(
            type=args.type,
            minutes=args.minutes,
            profile=args.profile,
            level=args.level,
            capability=args.capability,
            scenario=tr["scenario"],
            depart=tr["depart"],
        )
        nation.require_facilities(args.regions, copts)  # a filter no region has: an error, not 0 everywhere
        res = nation.run_batch(nation.coverage_task, args.regions, copts, **common)
    ok = len(res.outcomes) - len(res.failed)
    print(f"{ok}/{len(res.outcomes)} regions done in {res.seconds:.1f} s; output in {args.out}", file=sys.stderr)
    for f in res.files:
        print(f"wrote {f}", file=sys.stderr)
    for o in res.failed:
        print(f"geoservice: region {o.region} failed: {o.error}", file=sys.stderr)
    if res.failed:
        raise SystemExit(1)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("split", help="one OSM extract per admin unit (e.g. province), buffered beyond its border")
    p.add_argument("--osm", required=True, help="the country's .osm.pbf (read three times, streaming)")
    p.add_argument("--boundaries", required=True, help="unit polygons (GeoJSON / GeoPackage)")
    p.add_argument("--id-col", required=True, help="column of the unit ids (folder names)")
    p.add_argument("--name-col", help="column of the unit names")
    p.add_argument("--boundaries-crs", choices=CRS_CHOICES, default="wgs84")
    p.add_argument("--buffer-km", type=float, default=50.0, help="extract beyond each unit's border (default 50)")
    p.add_argument("--out", required=True, help="folder: OUT/<id>/extract.osm.pbf + region.json")

    p = sub.add_parser("batch", help="build or run coverage on every split region, on Dask")
    bs = p.add_subparsers(dest="batch_cmd", required=True)
    for name in ("build", "coverage"):
        q = bs.add_parser(name, help=f"{name} every region (one Dask task each)")
        q.add_argument("--regions", nargs="+", required=True, help="split region folders (geoservice split)")
        q.add_argument(
            "--scheduler",
            default="local",
            help="local (a LocalCluster of worker processes, the default), none (in this process, one by one) "
            "or tcp://HOST:PORT (a running 'dask scheduler')",
        )
        q.add_argument("--workers", type=int, default=2, help="LocalCluster workers (0: in this process)")
        q.add_argument("--memory-limit", help="per LocalCluster worker, e.g. 4GB (default: Dask's share of RAM)")
        q.add_argument("--out", required=True, help="output folder (per-region results in OUT/regions; resumable)")
    q = bs.choices["build"]
    q.add_argument("--facilities", action="append", help="CSV with lon,lat (cut to each region's buffer)")
    q.add_argument("--crs", choices=CRS_CHOICES, default="wgs84")
    q.add_argument("--ch", default="drive", help="profiles to contract (comma list, or 'none')")
    q.add_argument("--admin-units")
    q.add_argument("--admin-crs", choices=CRS_CHOICES)
    q.add_argument("--admin-id")
    q.add_argument("--admin-name")
    q.add_argument("--population")
    q.add_argument("--population-col")
    q.add_argument("--population-id")
    q.add_argument("--population-fold", action="append")
    q = bs.choices["coverage"]
    targets = ", ".join(f"{m:g} {t}" for t, m in DEFAULT_MINUTES.items())
    add_type(q)
    q.add_argument("--minutes", type=float, help=f"threshold (default: {targets})")
    add_profile(q)
    add_filters(q)
    add_traffic(q)
