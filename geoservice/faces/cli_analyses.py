"""CLI commands of the analyses: coverage, grid531, triage, timeline, site.

Each writes into an output directory: a CSV table, a GeoJSON layer, an offline HTML map and a
JSON report (method and population source included). Files are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

from geoservice.faces.cli import _EXTRA_PARSERS, COMMANDS, CLIError, _add_region, _engine, command  # noqa: F401

__all__ = ["add_parsers"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _csv_text(rows: list[dict], fields: list[str] | None = None) -> str:
    buf = io.StringIO()
    fields = fields or (list(rows[0]) if rows else ["empty"])
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue()


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def _outdir(args) -> Path:
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CLIError(f"-o {out} exists and is not a directory")
    return out


def _points(text: str | None, flag: str) -> list[tuple[float, float]]:
    """"lon,lat;lon,lat" or a CSV file with lon,lat columns."""
    if not text:
        return []
    p = Path(text)
    pts = []
    if p.is_file():
        with open(p, newline="", encoding="utf-8-sig") as f:
            for n, row in enumerate(csv.DictReader(f), 1):
                try:
                    pts.append((float(row["lon"]), float(row["lat"])))
                except (KeyError, TypeError, ValueError):
                    raise CLIError(f"{flag} {p} row {n}: needs numeric lon and lat columns") from None
        return pts
    for part in text.split(";"):
        if not part.strip():
            continue
        try:
            lon, lat = (float(v) for v in part.split(","))
        except ValueError:
            raise CLIError(f"{flag} must be 'lon,lat;lon,lat' or a CSV file with lon,lat; got {part!r}") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise CLIError(f"{flag}: ({lon}, {lat}) is not a lon/lat")
        pts.append((lon, lat))
    return pts


def _scenario(text: str | None):
    if text is None:
        return "free_flow"
    t = text.strip()
    if t.startswith("{"):
        try:
            return json.loads(t)
        except ValueError:
            raise CLIError(f"--scenario table is not valid JSON: {t!r}") from None
    if Path(t).is_file():
        try:
            return json.loads(Path(t).read_text(encoding="utf-8"))
        except ValueError:
            raise CLIError(f"--scenario file {t} is not a JSON {{road class: factor}} table") from None
    return t


# ------------------------------------------------------------------------------ coverage
@command("coverage")
def cmd_coverage(args) -> None:
    from ..analyses.coverage import DEFAULT_MINUTES, CoverageError, coverage_report
    from .maps_analyses import coverage_map

    minutes = args.minutes if args.minutes is not None else DEFAULT_MINUTES.get(args.type)
    if minutes is None:
        raise CLIError(f"--minutes is required for --type {args.type}")
    profile = args.profile or ("walk" if args.type == "aed" else "drive")
    out = _outdir(args)
    eng = _engine(args)
    add = _points(args.add, "--add")
    remove = [s for s in (args.remove or "").split(",") if s.strip()]
    try:
        rep = coverage_report(eng, type=args.type, minutes=minutes, profile=profile, level=args.level,
                              capability=args.capability, scenario=_scenario(args.scenario), add_sites=add,
                              remove_ids=remove, by="none" if args.by == "none" else "admin",
                              gaps=not args.no_gaps)
    except CoverageError as exc:
        raise CLIError(f"--{exc.field.replace('_', '-')}: {exc}") from None
    rows = [dict(admin_code="ALL", name="overall", population=rep["overall"]["population"],
                 population_covered=rep["overall"]["population_covered"],
                 population_share=rep["overall"]["population_share"], road_share=rep["overall"]["road_share"])]
    rows += rep["by_unit"]
    fields = ["admin_code", "name", "population", "population_covered", "population_share", "road_share"]
    _write(out / "coverage.csv", _csv_text(rows, fields) + f"# method: {rep['method']}\n")
    _write(out / "gaps.geojson", _json(rep["gaps"] | {"method": rep["method"]}))
    _write(out / "farthest.csv", _csv_text(rep["farthest"], ["lon", "lat", "time_s", "population"]))
    _write(out / "report.json", _json(rep))
    coverage_map(eng, rep, out / "map.html", add_sites=add)
    o = rep["overall"]
    print(f"{args.type} within {minutes:g} min ({profile}, {rep['scenario']}): population share "
          f"{o['population_share']}, area share {o['area_share']}, road share {o['road_share']}; "
          f"{len(rep['gaps']['features'])} gap polygons; wrote {out}/", file=sys.stderr)


# ------------------------------------------------------------------------------ parsers
def add_parsers(sub) -> None:
    from ..sources.facilities import FACILITY_TYPES

    p = sub.add_parser("coverage", help="population share within T minutes, gaps, farthest (dir)")
    _add_region(p)
    p.add_argument("--type", required=True, choices=FACILITY_TYPES)
    p.add_argument("--minutes", type=float, help="threshold (default 30 chest pain, 60 stroke, 4 AED)")
    p.add_argument("--profile", help="drive | ambulance | walk (default: walk for aed, else drive)")
    p.add_argument("--level"); p.add_argument("--capability")
    p.add_argument("--by", default="county", choices=("county", "admin", "none"),
                   help="report by admin unit (county) or not")
    p.add_argument("--scenario", help="free_flow | off_peak | peak | JSON {road class: factor} (text or file)")
    p.add_argument("--add", help="what-if sites: 'lon,lat;lon,lat' or CSV with lon,lat")
    p.add_argument("--remove", help="what-if: comma-separated facility ids to close")
    p.add_argument("--no-gaps", action="store_true")
    p.add_argument("-o", "--output", required=True, help="output directory")

    for extra in _MORE:
        extra(sub)


_MORE: list = []
_EXTRA_PARSERS.append(add_parsers)
