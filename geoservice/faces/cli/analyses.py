"""CLI commands of the analyses: coverage, grid531, triage, timeline, site.

Each writes into an output directory: CSV tables (plain, for ``pandas.read_csv``), GeoJSON and
GeoPackage layers (an empty result gives an empty layer, so a folder always has the same files),
an offline HTML map and report.json (with the method and population source). The whole folder is
staged and moved in only when the run succeeds (``fileio.atomic_dir``): a failed run leaves it as
it was. Notes about the result (nothing to link, sites that add no one) go to report.json and stderr.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...analyses.site_candidates import CandidateSpec
from ...errors import GeoserviceError
from ...fileio import atomic_dir
from ...questions import CoverageQuestion
from ...service.usecases import planning, queries
from ...service.usecases.downloads import COVERAGE_FIELDS, coverage_rows
from ...sources.schema import DEFAULT_MINUTES
from . import plans
from .analysis_files import (
    GAP_SCHEMA,
    LINK_SCHEMA,
    SITE_SCHEMA,
    TIMELINE_FIELDS,
    TRIAGE_FIELDS,
    csv_text,
    json_text,
    output_dir,
    parse_points,
    parse_scenario,
    point_rows,
    points_layer,
    write_file,
    write_layer,
)
from .common import (
    add_analysis_output,
    add_filters,
    add_map_lang,
    add_profile,
    add_traffic,
    add_type,
    command,
    open_service,
    traffic_ask,
)
from .coverage_text import coverage_summary, unit_table

__all__ = ["add_parsers"]


# ------------------------------------------------------------------------------ coverage
@command("coverage", add_sites="--add", remove_ids="--remove")
def cmd_coverage(args: argparse.Namespace) -> None:
    from ..maps.analyses import coverage_map

    if args.week:  # AED coverage through the week: faces/cli/plans.py
        from .plans import write_aed_week

        if args.type != "aed":
            raise GeoserviceError("week", "--week is for --type aed (AED opening hours through the week)")
        return write_aed_week(args)
    out = output_dir(args)
    add = parse_points(args.add, "add_sites")
    remove = [s.strip() for s in (args.remove or "").split(",") if s.strip()]
    svc = open_service(args)
    q = CoverageQuestion.of(
        type=args.type,
        level=args.level,
        capability=args.capability,
        minutes=args.minutes,
        profile=args.profile,
        traffic=traffic_ask(args),
        by="none" if args.by == "none" else "admin",
        gaps=not args.no_gaps,
        add_sites=tuple(add),
        remove_ids=tuple(remove),
    )
    entry, rep = queries.coverage(svc, q)
    eng = svc.engine(entry.name)
    # the same rows and columns as the API's coverage CSV download (without its context columns)
    rows = coverage_rows(queries.coverage_answer(entry, rep))
    doc = rep.to_json()
    with atomic_dir(out) as stage:
        write_file(stage / "coverage.csv", csv_text(rows, COVERAGE_FIELDS))
        write_layer(stage, "gaps", rep.gaps | {"method": rep.method}, geometry_type="MultiPolygon", schema=GAP_SCHEMA)
        write_file(
            stage / "farthest.csv",
            csv_text([p.to_json() for p in rep.farthest], ["lon", "lat", "time_s", "population"]),
        )
        write_file(stage / "report.json", json_text(dict(doc, region=entry.name)))
        coverage_map(eng, rep, stage / "map.html", add_sites=add, lang=args.lang)
    print(coverage_summary(rep, region=entry.name, out=out), file=sys.stderr)
    if rep.by_unit:
        print(unit_table(rep), file=sys.stderr)


# ------------------------------------------------------------------------------ site
@command("site")
def cmd_site(args: argparse.Namespace) -> None:
    from ..maps.analyses import sites_map
    from ..maps.analysis_text import mt, value

    minutes = queries.default_minutes(args.type, args.minutes)
    out = output_dir(args)
    cand_points = None
    cands = args.candidates
    if cands not in ("facilities", "grid", "both"):
        cand_points = parse_points(cands, "candidates")
    svc = open_service(args)
    spec = CandidateSpec(cands if cand_points is None else "points", cand_points, args.grid_km)
    ask = planning.SiteAsk(args.type, minutes, args.model, args.add, args.profile, args.level, spec, traffic_ask(args))
    entry, rep = planning.site(svc, ask)
    eng = svc.engine(entry.name)
    rows = [dict(rank=i, **a.to_json()) for i, a in enumerate(rep.added, 1)]
    doc = rep.to_json()
    with atomic_dir(out) as stage:
        write_file(
            stage / "sites.csv", csv_text(rows, ["rank", "id", "name", "lon", "lat", "population_gained", "source"])
        )
        write_layer(
            stage,
            "sites",
            points_layer(rows, method=rep.method),
            geometry_type="Point",
            schema=SITE_SCHEMA,
        )
        write_file(stage / "report.json", json_text(doc))
        sites_map(
            eng,
            doc,
            stage / "map.html",
            title=mt(
                args.lang,
                "site_title" if rep.share_before is not None else "site_title_nopop",
                model=value(args.lang, rep.model),
                n=len(rep.added),
                type=value(args.lang, args.type),
                m=f"{minutes:g}",
                before=rep.share_before,
                after=rep.share_after,
            ),
            lang=args.lang,
        )
    if rep.note:
        print(f"geoservice: note: {rep.note}", file=sys.stderr)
    people = (
        f"population within {minutes:g} min {rep.covered_before:,.0f} -> {rep.covered_after:,.0f} "
        f"({rep.share_before} -> {rep.share_after})"
        if rep.population is not None and rep.covered_before is not None and rep.covered_after is not None
        else "no population data (sites chosen on road-weighted demand)"
    )
    print(f"{rep.model}: {len(rep.added)} new site(s); {people}; wrote {out}/", file=sys.stderr)


# ------------------------------------------------------------------------------ grid531 / triage / timeline
@command("grid531", capacities="--per-basic/--per-standard", threshold_min="--threshold")
def cmd_grid531(args: argparse.Namespace) -> None:
    from ..maps.analyses import links_map
    from ..maps.analysis_text import mt

    out = output_dir(args)
    svc = open_service(args)
    entry, rep = planning.grid_531(
        svc, threshold_min=args.threshold, scope=args.scope, capacities=(args.per_basic, args.per_standard)
    )
    eng = svc.engine(entry.name)
    doc = rep.to_json()
    with atomic_dir(out) as stage:
        write_file(
            stage / "links.csv",
            csv_text(
                doc["links"],
                [
                    "tier",
                    "county",
                    "county_code",
                    "from_id",
                    "from_name",
                    "to_id",
                    "to_name",
                    "time_s",
                    "from_lon",
                    "from_lat",
                    "to_lon",
                    "to_lat",
                ],
            ),
        )
        write_file(
            stage / "unlinked.csv",
            csv_text(
                doc["unlinked"],
                ["tier", "county", "county_code", "id", "name", "reason", "nearest_time_s", "lon", "lat"],
            ),
        )
        write_layer(
            stage,
            "links",
            {
                "type": "FeatureCollection",
                "method": rep.method,
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[ln.from_lon, ln.from_lat], [ln.to_lon, ln.to_lat]],
                        },
                        "properties": {k: v for k, v in ln.to_json().items() if not k.endswith(("_lon", "_lat"))},
                    }
                    for ln in rep.links
                ],
            },
            geometry_type="LineString",
            schema=LINK_SCHEMA,
        )
        write_file(stage / "report.json", json_text(doc))
        # maps_analyses reads the JSON form (dicts)
        links_map(
            eng,
            doc["links"],
            doc["unlinked"],
            stage / "map.html",
            title=mt(args.lang, "grid_title"),
            note=(rep.note + ". " if rep.note else "") + rep.method,
            lang=args.lang,
        )
    if rep.note:
        print(f"geoservice: note: {rep.note}", file=sys.stderr)
    print(f"{len(rep.links)} links, {len(rep.unlinked)} not linked; wrote {out}/", file=sys.stderr)


@dataclass(frozen=True)
class PointReport:
    """What a per-location stroke layer is written as: file ``stem``, its ``fields`` (a CSV of them
    when ``table``), the map's ``title`` key, and the ``field`` whose values pick the ``colors``."""

    stem: str
    fields: list[str]
    title: str
    field: str
    colors: dict[str, str]
    table: bool


def _write_point_report(stage: Path, eng: Any, rep: dict[str, Any], spec: PointReport, *, lang: str) -> None:
    """A per-location stroke layer: GeoPackage + GeoJSON, optional CSV, report.json and its map."""
    from ..maps.analyses import points_map
    from ..maps.analysis_text import mt

    stem, fields, title, field, colors = spec.stem, spec.fields, spec.title, spec.field, spec.colors
    props = [k for k in fields if k not in ("lon", "lat")]
    write_layer(
        stage,
        stem,
        rep["layer"] | {"method": rep["method"]},
        geometry_type="Point",
        schema={k: "object" for k in props},
    )
    if spec.table:
        rows = point_rows(rep["layer"])
        write_file(stage / f"{stem}.csv", csv_text(rows, fields))
    write_file(stage / "report.json", json_text({k: v for k, v in rep.items() if k != "layer"}))
    points_map(
        eng, rep["layer"], stage / "map.html", title=mt(lang, title), note=rep["method"], field=field, colors=colors,
        lang=lang,
    )  # fmt: skip


@command("triage", max_extra_min="--max-extra", door_in_door_out_min="--dido", default_dtn_min="--dtn")
def cmd_triage(args: argparse.Namespace) -> None:
    out = output_dir(args)
    rule = planning.TriageRule(args.max_extra, args.dido, args.dtn)
    svc = open_service(args)
    entry, rep = planning.triage(svc, rule=rule, profile=args.profile, scenario=parse_scenario(args.scenario))
    with atomic_dir(out) as stage:
        colors = {"direct_evt": "#2ca02c", "drip_and_ship": "#ff7f0e", "ivt_only": "#1f77b4", "unreachable": "#000"}
        spec = PointReport("triage", TRIAGE_FIELDS, "triage_title", "recommendation", colors, table=True)
        _write_point_report(stage, svc.engine(entry.name), rep.to_json(), spec, lang=args.lang)
    by = rep.population_by_recommendation
    print(
        f"population by recommendation: {by if by is not None else 'no population data'}; wrote {out}/", file=sys.stderr
    )


@command("timeline", onset_to_call_min="--onset-to-call", dispatch_min="--dispatch", default_dtn_min="--dtn")
def cmd_timeline(args: argparse.Namespace) -> None:
    out = output_dir(args)
    params = planning.TimelineParams(args.onset_to_call, args.dispatch, args.dtn)
    svc = open_service(args)
    entry, rep = planning.timeline(svc, params=params, profile=args.profile, scenario=parse_scenario(args.scenario))
    with atomic_dir(out) as stage:
        colors = {"chain_met": "#2ca02c", "transport_met": "#ff7f0e", "not_met": "#d62728"}
        spec = PointReport("timeline", TIMELINE_FIELDS, "timeline_title", "status", colors, table=False)
        _write_point_report(stage, svc.engine(entry.name), rep.to_json(), spec, lang=args.lang)
    if rep.share_transport_met is None:
        print(f"no population data: see the timeline layer per location; wrote {out}/", file=sys.stderr)
        return
    print(
        f"transport target met for {rep.share_transport_met}, whole chain for {rep.share_chain_met} "
        f"of the population; wrote {out}/",
        file=sys.stderr,
    )


# ------------------------------------------------------------------------------ parsers


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    targets = ", ".join(f"{m:g} {t}" for t, m in DEFAULT_MINUTES.items())
    p = sub.add_parser("coverage", help="population share within T minutes, gaps, farthest (folder)")
    add_analysis_output(p)
    add_map_lang(p)
    add_type(p)
    p.add_argument("--minutes", type=float, help=f"threshold (default: {targets})")
    add_profile(p)
    add_filters(p)
    p.add_argument(
        "--by", default="county", choices=("county", "admin", "none"), help="report by admin unit (county) or not"
    )
    add_traffic(p, percentile=True)
    p.add_argument("--add", help="what-if sites: 'lon,lat;lon,lat' or CSV with lon,lat")
    p.add_argument("--remove", help="what-if: comma-separated facility ids to close")
    p.add_argument("--no-gaps", action="store_true")
    p.add_argument("--week", action="store_true", help="--type aed: coverage by AEDs open at each hour of the week")
    plans.add_week_options(p)

    p = sub.add_parser("site", help="optimal new sites: LSCP / MCLP / p-median on network times (folder)")
    add_analysis_output(p)
    add_map_lang(p)
    add_type(p)
    p.add_argument("--minutes", type=float, help=f"threshold (default: {targets})")
    p.add_argument("--model", default="mclp", choices=("mclp", "lscp", "pmedian"))
    p.add_argument("--add", type=int, default=3, help="new sites (MCLP, p-median)")
    p.add_argument(
        "--candidates",
        default="facilities",
        help="facilities (grassroots units + hospitals) | grid | both | CSV with lon,lat",
    )
    p.add_argument("--grid-km", type=float, default=2.0)
    add_profile(p)
    add_filters(p, capability=False)
    add_traffic(p, percentile=True)

    p = sub.add_parser("grid531", help="531 grid: grassroots->basic (5:1), basic->standard (3:1) links (folder)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--threshold", type=float, default=60.0, help="max drive minutes for a link")
    p.add_argument("--scope", default="county", choices=("county", "region"))
    p.add_argument("--per-basic", type=int, default=5)
    p.add_argument("--per-standard", type=int, default=3)

    p = sub.add_parser("triage", help="stroke triage layer: drip-and-ship vs direct EVT (folder)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--max-extra", type=float, default=15.0, help="extra minutes acceptable to go direct to EVT")
    p.add_argument("--dido", type=float, default=60.0, help="door-in-door-out minutes at the IVT center")
    p.add_argument("--dtn", type=float, default=60.0, help="default door-to-needle minutes")
    add_profile(p)
    p.add_argument("--scenario")

    p = sub.add_parser("timeline", help="3 x 1 hour stroke timeline per location (folder)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--onset-to-call", type=float, default=30.0)
    p.add_argument("--dispatch", type=float, default=3.0)
    p.add_argument("--dtn", type=float, default=60.0, help="default door-to-needle minutes")
    add_profile(p)
    p.add_argument("--scenario")
