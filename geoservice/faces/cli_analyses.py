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

from geoservice.faces.cli import _EXTRA_PARSERS, CLIError, _add_region, _engine, command

__all__ = ["add_parsers"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _write_layer(out: Path, stem: str, fc: dict) -> None:
    """A result layer as GeoJSON (``stem.geojson``) and GeoPackage (``stem.gpkg``, layer ``stem``,
    with the method in a ``method`` column), each written atomically."""
    import geopandas as gpd

    _write(out / f"{stem}.geojson", _json(fc))
    feats = fc.get("features") or []
    if not feats:
        return  # a GeoPackage layer needs a schema: an empty result is in the GeoJSON only
    gdf = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
    if fc.get("method"):
        gdf["method"] = fc["method"]
    for col in gdf.columns:  # nested properties (lists, dicts) as JSON text
        if col != "geometry" and gdf[col].map(lambda v: isinstance(v, (list, dict))).any():
            gdf[col] = gdf[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
    path = out / f"{stem}.gpkg"
    tmp = path.with_name(f".{stem}.tmp-{os.getpid()}.gpkg")
    gdf.to_file(tmp, layer=stem, driver="GPKG")
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
    _write_layer(out, "gaps", rep["gaps"] | {"method": rep["method"]})
    _write(out / "farthest.csv", _csv_text(rep["farthest"], ["lon", "lat", "time_s", "population"]))
    _write(out / "report.json", _json(rep))
    coverage_map(eng, rep, out / "map.html", add_sites=add)
    o = rep["overall"]
    print(f"{args.type} within {minutes:g} min ({profile}, {rep['scenario']}): population share "
          f"{o['population_share']}, area share {o['area_share']}, road share {o['road_share']}; "
          f"{len(rep['gaps']['features'])} gap polygons; wrote {out}/", file=sys.stderr)


# ------------------------------------------------------------------------------ site
@command("site")
def cmd_site(args) -> None:
    from ..analyses.coverage import DEFAULT_MINUTES
    from ..analyses.siting import SitingError, site_report
    from .maps_analyses import sites_map

    minutes = args.minutes if args.minutes is not None else DEFAULT_MINUTES.get(args.type)
    if minutes is None:
        raise CLIError(f"--minutes is required for --type {args.type}")
    out = _outdir(args)
    cand_points = None
    cands = args.candidates
    if cands not in ("facilities", "grid", "both"):
        if not Path(cands).is_file():
            raise CLIError(f"--candidates must be facilities, grid, both or a CSV file with lon,lat; got {cands!r}")
        cand_points = _points(cands, "--candidates")
    eng = _engine(args)
    try:
        rep = site_report(eng, type=args.type, minutes=minutes, model=args.model, add=args.add,
                          profile=args.profile or "drive", level=args.level, scenario=_scenario(args.scenario),
                          candidates=cands if cand_points is None else "points", candidate_points=cand_points,
                          grid_km=args.grid_km)
    except SitingError as exc:
        raise CLIError(f"--{exc.field}: {exc}") from None
    rows = [dict(rank=i, **a) for i, a in enumerate(rep["added"], 1)]
    _write(out / "sites.csv", _csv_text(rows, ["rank", "id", "name", "lon", "lat", "population_gained", "source"])
           + f"# method: {rep['method']}\n")
    _write_layer(out, "sites", {"type": "FeatureCollection", "method": rep["method"], "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [a["lon"], a["lat"]]},
         "properties": {k: v for k, v in a.items() if k not in ("lon", "lat")}} for a in rep["added"]]})
    _write(out / "report.json", _json(rep))
    sites_map(eng, rep, out / "map.html", title=f"{rep['model'].upper()}: {len(rep['added'])} new {args.type} "
              f"sites, {minutes:g} min share {rep['share_before']} -> {rep['share_after']}")
    print(f"{rep['model']}: {len(rep['added'])} new site(s); population within {minutes:g} min "
          f"{rep['covered_before']:,.0f} -> {rep['covered_after']:,.0f} ({rep['share_before']} -> "
          f"{rep['share_after']}); wrote {out}/", file=sys.stderr)


# ------------------------------------------------------------------------------ grid531 / triage / timeline
@command("grid531")
def cmd_grid531(args) -> None:
    from ..analyses.grid531 import Grid531Error, grid531
    from .maps_analyses import links_map

    out = _outdir(args)
    eng = _engine(args)
    try:
        rep = grid531(eng, threshold_min=args.threshold, scope=args.scope, capacities=(args.per_basic, args.per_standard))
    except Grid531Error as exc:
        raise CLIError(f"--{exc.field}: {exc}") from None
    _write(out / "links.csv", _csv_text(rep["links"], ["tier", "county", "from_id", "from_name", "to_id", "to_name",
                                                       "time_s", "from_lon", "from_lat", "to_lon", "to_lat"]))
    _write(out / "unlinked.csv", _csv_text(rep["unlinked"], ["tier", "county", "id", "name", "reason",
                                                             "nearest_time_s", "lon", "lat"]))
    _write_layer(out, "links", {"type": "FeatureCollection", "method": rep["method"], "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[l["from_lon"], l["from_lat"]], [l["to_lon"], l["to_lat"]]]},
         "properties": {k: v for k, v in l.items() if not k.endswith(("_lon", "_lat"))}} for l in rep["links"]]})
    _write(out / "report.json", _json(rep))
    links_map(eng, rep["links"], rep["unlinked"], out / "map.html", title="531 grid: links by drive time",
              note=rep["method"])
    print(f"{len(rep['links'])} links, {len(rep['unlinked'])} not linked; wrote {out}/", file=sys.stderr)


@command("triage")
def cmd_triage(args) -> None:
    from ..analyses.triage import TriageRule, triage_report
    from .maps_analyses import points_map

    out = _outdir(args)
    rule = TriageRule(args.max_extra, args.dido, args.dtn)
    eng = _engine(args)
    rep = triage_report(eng, rule=rule, profile=args.profile, scenario=_scenario(args.scenario))
    _write_layer(out, "triage", rep["layer"] | {"method": rep["method"]})
    _write(out / "triage.csv", _csv_text([dict(lon=f["geometry"]["coordinates"][0], lat=f["geometry"]["coordinates"][1],
                                               **f["properties"]) for f in rep["layer"]["features"]]))
    _write(out / "report.json", _json({k: v for k, v in rep.items() if k != "layer"}))
    points_map(eng, rep["layer"], out / "map.html", title="Stroke triage: drip-and-ship vs direct EVT",
               note=rep["method"], field="recommendation",
               colors={"direct_evt": "#2ca02c", "drip_and_ship": "#ff7f0e", "ivt_only": "#1f77b4", "unreachable": "#000"})
    print(f"population by recommendation: {rep['population_by_recommendation']}; wrote {out}/", file=sys.stderr)


@command("timeline")
def cmd_timeline(args) -> None:
    from ..analyses.timeline import TimelineParams, timeline_report
    from .maps_analyses import points_map

    out = _outdir(args)
    params = TimelineParams(args.onset_to_call, args.dispatch, args.dtn)
    eng = _engine(args)
    rep = timeline_report(eng, params=params, profile=args.profile, scenario=_scenario(args.scenario))
    _write_layer(out, "timeline", rep["layer"] | {"method": rep["method"]})
    _write(out / "report.json", _json({k: v for k, v in rep.items() if k != "layer"}))
    points_map(eng, rep["layer"], out / "map.html", title="3 x 1 hour stroke timeline", note=rep["method"],
               field="status", colors={"chain_met": "#2ca02c", "transport_met": "#ff7f0e", "not_met": "#d62728"})
    print(f"transport target met for {rep['share_transport_met']}, whole chain for {rep['share_chain_met']} "
          f"of the population; wrote {out}/", file=sys.stderr)


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

    p = sub.add_parser("site", help="optimal new sites: LSCP / MCLP / p-median on network times (dir)")
    _add_region(p)
    p.add_argument("--type", required=True, choices=FACILITY_TYPES)
    p.add_argument("--minutes", type=float)
    p.add_argument("--model", default="mclp", choices=("mclp", "lscp", "pmedian"))
    p.add_argument("--add", type=int, default=3, help="new sites (MCLP, p-median)")
    p.add_argument("--candidates", default="facilities",
                   help="facilities (grassroots units + hospitals) | grid | both | CSV with lon,lat")
    p.add_argument("--grid-km", type=float, default=2.0)
    p.add_argument("--profile"); p.add_argument("--level"); p.add_argument("--scenario")
    p.add_argument("-o", "--output", required=True, help="output directory")

    p = sub.add_parser("grid531", help="531 grid: grassroots->basic (5:1), basic->standard (3:1) links (dir)")
    _add_region(p)
    p.add_argument("--threshold", type=float, default=60.0, help="max drive minutes for a link")
    p.add_argument("--scope", default="county", choices=("county", "region"))
    p.add_argument("--per-basic", type=int, default=5); p.add_argument("--per-standard", type=int, default=3)
    p.add_argument("-o", "--output", required=True, help="output directory")

    p = sub.add_parser("triage", help="stroke triage layer: drip-and-ship vs direct EVT (dir)")
    _add_region(p)
    p.add_argument("--max-extra", type=float, default=15.0, help="extra minutes acceptable to go direct to EVT")
    p.add_argument("--dido", type=float, default=60.0, help="door-in-door-out minutes at the IVT center")
    p.add_argument("--dtn", type=float, default=60.0, help="default door-to-needle minutes")
    p.add_argument("--profile", default="ambulance"); p.add_argument("--scenario")
    p.add_argument("-o", "--output", required=True, help="output directory")

    p = sub.add_parser("timeline", help="3 x 1 hour stroke timeline per location (dir)")
    _add_region(p)
    p.add_argument("--onset-to-call", type=float, default=30.0)
    p.add_argument("--dispatch", type=float, default=3.0)
    p.add_argument("--dtn", type=float, default=60.0, help="default door-to-needle minutes")
    p.add_argument("--profile", default="ambulance"); p.add_argument("--scenario")
    p.add_argument("-o", "--output", required=True, help="output directory")

    for extra in _MORE:
        extra(sub)


_MORE: list = []
_EXTRA_PARSERS.append(add_parsers)
