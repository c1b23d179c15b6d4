"""Command line: ``geoservice build | nearest | isochrone | matrix | export-graph | import-layer | ...``.

Every failure prints one line ``geoservice: error: ...`` to stderr and exits with status 2;
outputs are written atomically (temp file then rename), so a failed run leaves no half file.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable

COMMANDS: dict[str, Callable] = {}


class CLIError(Exception):
    pass


def command(name: str):
    def deco(fn):
        COMMANDS[name] = fn
        return fn
    return deco


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _emit(obj, out: str | None) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    if out and out != "-":
        _atomic_write_text(Path(out), text + "\n")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"--{name} must be comma-separated numbers, got {text!r}") from None
    if not vals:
        raise CLIError(f"--{name} is empty")
    return vals


def _region_path(args) -> Path:
    """The one region of a command that has no query point (default: the main demo region)."""
    from ..bundle.demo import DEFAULT_DEMO, ensure_demo
    from ..settings import get_settings

    regions = [args.region] if isinstance(args.region, str) else (args.region or [])
    if len(regions) > 1:
        raise CLIError(f"'{args.command}' works on one region; give --region once")
    if regions:
        return Path(regions[0])
    s = get_settings()
    return ensure_demo(DEFAULT_DEMO, s.data_dir, s.regions_dir, quiet=True)


def _engine(args):
    from ..bundle.store import load_region
    from ..engine.engine import Engine

    return Engine(load_region(_region_path(args)))


def region_paths(regions: list[str] | None, *, announce: bool = True) -> list[Path]:
    """The bundles to use: those given, else GEOSERVICE_REGIONS, else the demo regions (built on
    first use). Each given bundle must be current."""
    from ..bundle.demo import DEMO_REGIONS, ensure_demo
    from ..bundle.store import is_current_bundle
    from ..settings import get_settings

    s = get_settings()
    if regions:
        paths = [Path(r) for r in regions]
    elif s.regions:
        paths = [Path(r) for r in s.regions]
    else:
        if announce:
            print("geoservice: using the demo regions (built on first use): " + ", ".join(DEMO_REGIONS),
                  file=sys.stderr)
        return [ensure_demo(n, s.data_dir, s.regions_dir, quiet=True) for n in DEMO_REGIONS]
    for p in paths:
        if not is_current_bundle(p):
            raise CLIError(f"--region {p} is not a current region bundle; build it with 'geoservice build'")
    return paths


def _engine_at(args, lon: float, lat: float):
    """Engine of the region holding the point: among the --region bundles (repeatable), else
    among all demo regions. A region is one connected network, so the point picks it."""
    from ..bundle.store import load_region
    from ..engine.engine import Engine

    paths = region_paths([args.region] if isinstance(args.region, str) else args.region, announce=False)
    boxes = {p: json.loads((p / "meta.json").read_text(encoding="utf-8"))["bbox"] for p in paths}
    margin = 0.01  # degrees: a point just outside the outermost road still snaps to it
    inside = [p for p, (x0, y0, x1, y1) in boxes.items()
              if x0 - margin <= lon <= x1 + margin and y0 - margin <= lat <= y1 + margin]
    if not inside:
        if len(paths) == 1:  # let the engine say how far the point is from the network
            return Engine(load_region(paths[0]))
        names = ", ".join(p.name for p in paths)
        raise CLIError(f"point ({lon}, {lat}) lies in none of the regions ({names}); give --region")
    return Engine(load_region(inside[0]))


def _check_lonlat(lon: float, lat: float) -> None:
    if not -180 <= lon <= 180:
        raise CLIError(f"--lon must be within [-180, 180], got {lon}")
    if not -90 <= lat <= 90:
        raise CLIError(f"--lat must be within [-90, 90], got {lat}")


# ---------------------------------------------------------------------------- commands
@command("build")
def cmd_build(args) -> None:
    from ..bundle.build import build_region

    fac = []
    for f in args.facilities or []:
        opts = {"crs": args.crs}
        fac.append((Path(f), opts))
        if not Path(f).is_file():
            raise CLIError(f"--facilities file not found: {f}")
    ch = tuple(p for p in args.ch.split(",") if p.strip() and p.strip() != "none")
    build_region(args.osm, args.out, facilities=fac, name=args.name, osm_pois=not args.no_osm_pois,
                 quiet=args.quiet, ch_profiles=ch)


@command("build-demo")
def cmd_build_demo(args) -> None:
    from ..bundle.demo import DEMO_REGIONS, build_demo
    from ..settings import get_settings

    s = get_settings()
    out = Path(args.out) if args.out else s.regions_dir
    for name in DEMO_REGIONS:
        build_demo(name, s.data_dir, out, quiet=args.quiet)


@command("nearest")
def cmd_nearest(args) -> None:
    _check_lonlat(args.lon, args.lat)
    at = None
    if args.at:
        from datetime import datetime
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            raise CLIError(f"--at must be an ISO date-time such as 2026-11-22T14:30, got {args.at!r}") from None
    eng = _engine_at(args, args.lon, args.lat)
    profile = args.profile or ("walk" if args.type == "aed" else "drive")
    res = eng.nearest(args.lon, args.lat, type=args.type, k=args.k, profile=profile, direction=args.direction,
                      level=args.level, capability=args.capability, at=at)
    _emit(res, args.output)


@command("isochrone")
def cmd_isochrone(args) -> None:
    _check_lonlat(args.lon, args.lat)
    minutes = _floats(args.minutes, "minutes")
    eng = _engine_at(args, args.lon, args.lat)
    feats = eng.isochrones(args.lon, args.lat, minutes, profile=args.profile, direction=args.direction)
    _emit({"type": "FeatureCollection", "features": feats,
           "attribution": eng.region.meta.get("attribution")}, args.output)


def _read_points(path: str, flag: str) -> tuple[list[str], list[tuple[float, float]]]:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{flag} file not found: {path}")
    ids, pts = [], []
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"id", "lon", "lat"} - set(reader.fieldnames or [])
        if missing:
            raise CLIError(f"{flag} {path} lacks column(s) {', '.join(sorted(missing))} (need id, lon, lat)")
        for n, row in enumerate(reader, 1):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
            except (TypeError, ValueError):
                raise CLIError(f"{flag} {path} row {n}: lon/lat not numbers") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise CLIError(f"{flag} {path} row {n}: lon/lat out of range")
            ids.append(row["id"]); pts.append((lon, lat))
    if not pts:
        raise CLIError(f"{flag} {path} has no rows")
    return ids, pts


@command("matrix")
def cmd_matrix(args) -> None:
    from ..engine.router import SnapError

    oid, opts = _read_points(args.origins, "--origins")
    did, dpts = _read_points(args.destinations, "--destinations")
    eng = _engine(args)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["origin_id", "destination_id", "time_s", "distance_m"])
            for i, times, dists in eng.matrix(opts, dpts, profile=args.profile):
                for j in range(len(dpts)):
                    ok = times[j] < float("inf")
                    w.writerow([oid[i], did[j], f"{times[j]:.1f}" if ok else "", f"{dists[j]:.1f}" if ok else ""])
        tmp.replace(out)
    except SnapError as exc:
        tmp.unlink(missing_ok=True)
        which = "--origins" if exc.index is not None and exc.index < len(opts) else "--destinations"
        raise CLIError(f"{which}: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    print(f"wrote {out} ({len(opts)} x {len(dpts)})", file=sys.stderr)


@command("export-graph")
def cmd_export_graph(args) -> None:
    from ..bundle.to_networkx import save_graph

    out = Path(args.output)
    if out.suffix not in (".graphml", ".gpkg"):
        raise CLIError(f"-o must end in .graphml or .gpkg, got {out.name}")
    eng = _engine(args)
    net = eng.region.networks.get(args.network)
    if net is None:
        raise CLIError(f"--network {args.network!r} is not in this region (has {sorted(eng.region.networks)})")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_graph(net, out)
    print(f"wrote {out}: {net.n_nodes} nodes, {net.n_edges} edges", file=sys.stderr)


@command("import-layer")
def cmd_import_layer(args) -> None:
    from ..sources.facilities import read_facilities, write_layer

    res = read_facilities(args.file, type=args.type, crs=args.crs, lon_col=args.lon_col, lat_col=args.lat_col)
    for e in res.errors:
        print(f"row {e.row}: {e.field}: {e.reason}", file=sys.stderr)
    if args.output:
        write_layer(res.layer, args.output)
    print(f"{len(res.layer)} rows loaded, {len(res.errors)} rejected"
          + (f"; wrote {args.output}" if args.output else ""), file=sys.stderr)
    if args.strict and res.errors:
        raise CLIError(f"{len(res.errors)} bad rows in {args.file} (listed above)")


# ---------------------------------------------------------------------------- parser
def _add_region(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    p.add_argument("--region", action="append",
                   help=("region bundle directory; repeatable, the query point picks the region "
                         "(default: the demo regions, built on first use)") if several else
                   "region bundle directory (default: the demo region, built on first use)")


def _add_point(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lon", type=float, required=True)
    p.add_argument("--lat", type=float, required=True)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump), exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        print(f"geoservice: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from ..sources.coords import CRS_CHOICES
    from ..sources.facilities import FACILITY_TYPES

    ap = _Parser(prog="geoservice", description="Travel-time maps for emergency cardiovascular care.")
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("build", help="build a region bundle from a local OSM file")
    p.add_argument("--osm", required=True)
    p.add_argument("--facilities", action="append", help="facility file (GeoJSON, CSV, GPKG); repeatable")
    p.add_argument("--crs", choices=CRS_CHOICES, default="wgs84", help="coordinate system of the facility files")
    p.add_argument("--out", required=True)
    p.add_argument("--name")
    p.add_argument("--no-osm-pois", action="store_true", help="do not take hospitals/AEDs from the OSM file")
    p.add_argument("--ch", default="drive",
                   help="profiles to contract for fast matrices (comma list, or 'none'); default drive")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("build-demo", help="build the demo region bundles from data/")
    p.add_argument("--out")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("nearest", help="k nearest facilities by travel time, with routes (JSON)")
    _add_region(p, several=True); _add_point(p)
    p.add_argument("--type", required=True, choices=FACILITY_TYPES)
    p.add_argument("--level"); p.add_argument("--capability")
    p.add_argument("--k", type=int, default=1)
    p.add_argument("--profile", help="drive | ambulance | walk (default: walk for aed, else drive)")
    p.add_argument("--direction", choices=("to", "from"), default="to",
                   help="to: point -> facility (patient); from: facility -> point (ambulance)")
    p.add_argument("--at", help="ISO date-time: only facilities open then (AED opening hours)")
    p.add_argument("-o", "--output")

    p = sub.add_parser("isochrone", help="travel-time polygons (GeoJSON)")
    _add_region(p, several=True); _add_point(p)
    p.add_argument("--minutes", required=True, help="comma-separated, e.g. 10,30")
    p.add_argument("--profile", default="drive")
    p.add_argument("--direction", choices=("to", "from"), default="to")
    p.add_argument("-o", "--output")

    p = sub.add_parser("matrix", help="origin-destination travel times (CSV)")
    _add_region(p)
    p.add_argument("--origins", required=True); p.add_argument("--destinations", required=True)
    p.add_argument("--profile", default="drive")
    p.add_argument("-o", "--output", required=True)

    p = sub.add_parser("export-graph", help="the exact graph the engine uses (.graphml or .gpkg)")
    _add_region(p)
    p.add_argument("--network", default="drive", choices=("drive", "walk"))
    p.add_argument("-o", "--output", required=True)

    p = sub.add_parser("import-layer", help="validate a facility file and write it normalised (WGS-84)")
    p.add_argument("file")
    p.add_argument("--type", choices=FACILITY_TYPES)
    p.add_argument("--crs", choices=CRS_CHOICES, default="wgs84")
    p.add_argument("--lon-col", default="lon"); p.add_argument("--lat-col", default="lat")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any row is bad")
    p.add_argument("-o", "--output")

    for extra in _EXTRA_PARSERS:
        extra(sub)
    return ap


# later faces (serve, publish, analyses) register parser builders here
_EXTRA_PARSERS: list[Callable] = []


def _load_extras() -> None:
    for mod in ("geoservice.faces.cli_service", "geoservice.faces.cli_analyses"):
        try:
            __import__(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def main(argv: list[str] | None = None) -> int:
    _load_extras()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="geoservice: %(levelname)s: %(message)s")
    try:
        COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("geoservice: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, KeyError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        if isinstance(exc, KeyError):
            msg = f"unknown name {msg}"
        print(f"geoservice: error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # run through the imported module, so commands registered by extension modules are seen
    from geoservice.faces.cli import main as _main

    sys.exit(_main())
