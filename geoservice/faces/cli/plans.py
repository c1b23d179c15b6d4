"""CLI commands of emergency response planning: aed-week (also ``coverage --type aed --week``),
aed-site, ems-site, plan-targets, triage-compare.

Each writes an output folder atomically (``fileio.atomic_dir``): plain CSV tables, GeoJSON +
GeoPackage layers, report.json (the API's answer) and an offline map or figure, and prints a
one-paragraph summary to stderr.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from ...errors import GeoserviceError
from ...fileio import atomic_dir
from ...service.answers.plans import HourCoverageOut, TierOut, UnitTargetsOut
from ...service.usecases import plans
from .analysis_files import (
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
from .common import add_analysis_output, add_map_lang, add_profile, command, open_service

if TYPE_CHECKING:
    from ...analyses.aed_week import HourCoverage

__all__ = ["add_parsers", "write_aed_week"]

HOUR_FIELDS = list(HourCoverageOut.model_fields)


def _week_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GeoserviceError("week_of", f"must be a date YYYY-MM-DD (any day of the week), got {text!r}") from None


def _matrix_rows(matrix: list[list[float]]) -> list[dict[str, object]]:
    days = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
    return [{"day": d, **{f"{h:02d}": v for h, v in enumerate(row)}} for d, row in zip(days, matrix)]


def _share(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


# ------------------------------------------------------------------------------ AED week
def write_aed_week(args: argparse.Namespace) -> None:
    """``aed-week`` and ``coverage --type aed --week``: week.csv (7 x 24 shares covered by open
    AEDs), week_open_or_unknown.csv, hours.csv, week.png + week.html heat maps, report.json."""
    from ..report.week_figure import week_html, week_png

    out = output_dir(args)
    demand = plans.read_demand_csv(args.demand) if getattr(args, "demand", None) else None
    svc = open_service(args)
    entry, rep = plans.aed_week_plan(
        svc,
        minutes=args.minutes,
        week_of=_week_of(args.week_of),
        demand_points=demand,
        demand_label=f"demand points of {args.demand} (their weights)" if demand else None,
    )
    from ..maps.analysis_text import mt

    doc = plans.aed_week_answer(entry, rep).model_dump(mode="json")
    cols = ["day"] + [f"{h:02d}" for h in range(24)]
    lang = args.lang
    panels = [
        (mt(lang, "week_open"), rep.matrix("share_open")),
        (mt(lang, "week_open_unknown"), rep.matrix("share_open_or_unknown")),
    ]
    title = mt(lang, "week_title", region=entry.name, m=f"{rep.minutes:g}", week=rep.week_of)
    with atomic_dir(out) as stage:
        write_file(stage / "week.csv", csv_text(_matrix_rows(rep.matrix("share_open")), cols))
        write_file(
            stage / "week_open_or_unknown.csv", csv_text(_matrix_rows(rep.matrix("share_open_or_unknown")), cols)
        )
        write_file(stage / "hours.csv", csv_text([h.to_json() for h in rep.hours], HOUR_FIELDS))
        write_file(stage / "report.json", json_text(doc))
        week_png(stage / "week.png", panels, title=title, lang=lang)
        week_html(stage / "week.html", panels, title=title, note=rep.method, lang=lang)
    tue, sun = rep.hour("Tu", 10), rep.hour("Su", 3)

    def fig(h: HourCoverage) -> str:
        ppl = f"{h.covered_open:,.0f} people, " if h.covered_open is not None else ""
        return f"{ppl}{100 * h.share_open:.2f}% ({h.aeds_open} AEDs open)"

    lost = f"{100 * rep.lost_share_open:.1f}%" if rep.lost_share_open is not None else "n/a"
    print(
        f"AEDs within {rep.minutes:g} min on foot ({rep.aeds} AEDs: {rep.aeds_24_7} 24/7, {rep.aeds_limited} limited, "
        f"{rep.aeds_unknown_hours} unknown hours): Tu 10:00 {fig(tue)}; Su 03:00 {fig(sun)}; all open 24/7 "
        f"{100 * rep.baseline_share:.2f}%; limited hours cost {lost} of the 24/7 "
        f"{'person' if rep.population_data else 'share'}-hours; wrote {out}/",
        file=sys.stderr,
    )
    if rep.note:
        print(f"geoservice: note: {rep.note}", file=sys.stderr)


@command("aed-week", week_of="--week-of")
def cmd_aed_week(args: argparse.Namespace) -> None:
    write_aed_week(args)


# ------------------------------------------------------------------------------ AED siting
@command("aed-site", unknown_hours="--unknown-hours", candidate_hours="--candidate-hours", week_of="--week-of")
def cmd_aed_site(args: argparse.Namespace) -> None:
    from ..maps.analyses import sites_map
    from ..maps.analysis_text import mt, objective

    out = output_dir(args)
    svc = open_service(args)
    entry, rep = plans.aed_siting_plan(
        svc,
        add=args.add,
        minutes=args.minutes,
        candidates=args.candidates,
        hours=plans.AedHours(args.objective, _week_of(args.week_of), args.unknown_hours, args.candidate_hours),
    )
    doc = plans.aed_siting_answer(entry, rep).model_dump(mode="json")
    rows = [dict(rank=i, **a.to_json()) for i, a in enumerate(rep.added, 1)]
    fields = ["rank", "id", "name", "lon", "lat", "source", "opening_hours", "gain"]
    with atomic_dir(out) as stage:
        write_file(stage / "sites.csv", csv_text(rows, fields))
        write_layer(
            stage,
            "sites",
            points_layer(rows, method=rep.method, fields=fields),
            geometry_type="Point",
            schema={"rank": "int64", "id": "object", "name": "object", "source": "object", "gain": "float64"},
        )
        write_file(stage / "report.json", json_text(doc))
        sites_map(
            svc.engine(entry.name),
            {
                "type": "aed",
                "method": rep.method,
                "added": [dict(a.to_json(), population_gained=a.gain) for a in rep.added],
            },
            stage / "map.html",
            title=mt(
                args.lang,
                "aed_site_title",
                n=len(rep.added),
                objective=objective(args.lang, rep.objective),
                unit=rep.objective_unit,
                before=f"{rep.share_before:.2%}",
                after=f"{rep.share_after:.2%}",
            ),
            lang=args.lang,
        )
    if rep.note:
        print(f"geoservice: note: {rep.note}", file=sys.stderr)
    print(
        f"AED siting ({rep.objective}, {rep.candidates} candidates from {rep.candidate_source}): "
        f"{len(rep.added)} new AED(s); {rep.objective_unit} {rep.covered_before:,.0f} -> {rep.covered_after:,.0f} "
        f"({rep.share_before:.2%} -> {rep.share_after:.2%}); wrote {out}/",
        file=sys.stderr,
    )


# ------------------------------------------------------------------------------ EMS stations
@command("ems-site", busy_fraction="--busy-fraction", candidate_points="--candidates")
def cmd_ems_site(args: argparse.Namespace) -> None:
    from ..maps.analyses import sites_map
    from ..maps.analysis_text import mt, value

    out = output_dir(args)
    pts = None if args.candidates in ("facilities", "grid", "both") else parse_points(args.candidates, "candidates")
    svc = open_service(args)
    entry, rep = plans.ems_plan(
        svc,
        model=args.model,
        add=args.add,
        assume=plans.EmsAssumptions(args.minutes, args.busy_fraction),
        profile=args.profile,
        scenario=parse_scenario(args.scenario),
        candidates=plans.CandidateSpec(args.candidates if pts is None else "points", pts, args.grid_km),
    )
    doc = plans.ems_answer(entry, rep).model_dump(mode="json")
    rows = [dict(rank=i, **a.to_json()) for i, a in enumerate(rep.added, 1)]
    with atomic_dir(out) as stage:
        write_file(stage / "stations.csv", csv_text(rows, ["rank", "id", "name", "lon", "lat", "source"]))
        write_file(stage / "report.json", json_text(doc))
        sites_map(
            svc.engine(entry.name),
            {"type": "ems_station", "method": rep.method, "added": [a.to_json() for a in rep.added]},
            stage / "map.html",
            title=mt(
                args.lang, "ems_site_title", model=value(args.lang, rep.model), n=len(rep.added), m=f"{rep.minutes:g}"
            ),
            lang=args.lang,
        )
    if rep.note:
        print(f"geoservice: note: {rep.note}", file=sys.stderr)

    def n(x: float | None) -> str:
        return "n/a (no population data)" if x is None else f"{x:,.0f}"

    print(
        f"{rep.model}: {len(rep.added)} new station(s); expected coverage (busy {rep.busy_fraction:g}) "
        f"{n(rep.expected_before)} -> {n(rep.expected_after)}; covered twice {n(rep.covered_twice_before)} -> "
        f"{n(rep.covered_twice_after)} of {n(rep.population)}; wrote {out}/",
        file=sys.stderr,
    )


# ------------------------------------------------------------------------------ plan targets
TARGET_FIELDS = list(UnitTargetsOut.model_fields)
TIER_FIELDS = [k for k in TierOut.model_fields if k != "color"]


@command("plan-targets", thrombolysis_rates="--thrombolysis-rates")
def cmd_plan_targets(args: argparse.Namespace) -> None:
    import shapely.geometry

    from ..maps.plans import targets_map

    out = output_dir(args)
    rates = plans.read_rates(args.thrombolysis_rates) if args.thrombolysis_rates else None
    svc = open_service(args)
    entry, rep = plans.plan_targets(svc)
    doc = plans.plan_targets_answer(entry, rep).model_dump(mode="json")
    tiers_fc = None
    tier_doc = None
    if rates:
        _, tiers, unmatched, geoms = plans.thrombolysis_tiers(svc, rates, region=entry.name)
        tier_doc = plans.tiers_answer(svc, entry, tiers, unmatched).model_dump(mode="json")
        tiers_fc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": t.to_json()}
                for t, g in zip(tiers, geoms)
            ],
        }
    rows = [u.to_json() for u in rep.units]
    with atomic_dir(out) as stage:
        write_file(stage / "targets.csv", csv_text(rows, TARGET_FIELDS))
        write_layer(
            stage,
            "targets",
            {
                "type": "FeatureCollection",
                "method": rep.method,
                "features": [f for f in rep.layer["features"] if f["geometry"]],
            },
            geometry_type="MultiPolygon",
            schema={k: "object" for k in TARGET_FIELDS},
        )
        write_file(stage / "report.json", json_text(dict(doc, thrombolysis_tiers=tier_doc)))
        if tier_doc is not None:
            write_file(stage / "tiers.csv", csv_text([t for t in tier_doc["tiers"]], TIER_FIELDS))
        targets_map(svc.engine(entry.name), doc, stage / "map.html", tiers=tiers_fc, lang=args.lang)
    for note in rep.notes:
        print(f"geoservice: note: {note}", file=sys.stderr)
    units = [u for u in rep.units if u.targets_applicable]  # not the row of facilities outside every unit
    met = sum(1 for u in units if u.targets_met == u.targets_applicable)
    print(f"{met} of {len(units)} admin units meet every target that applies; wrote {out}/", file=sys.stderr)
    for u in rep.units:
        print(
            f"  {u.name}: stroke centers {u.stroke_centers}, chest pain {u.hospitals_with_cpc}/{u.hospitals} "
            f"hospitals ({_share(u.cpc_share)}), grassroots {u.institutions_with_unit}/{u.grassroots_institutions} "
            f"({_share(u.grassroots_share)}); {u.targets_met}/{u.targets_applicable} targets met",
            file=sys.stderr,
        )


# ------------------------------------------------------------------------------ triage by time of day
@command("triage-compare", max_extra_min="--max-extra", door_in_door_out_min="--dido", default_dtn_min="--dtn")
def cmd_triage_compare(args: argparse.Namespace) -> None:
    from ..maps.plans import change_map

    out = output_dir(args)
    rule = plans.TriageRule(args.max_extra, args.dido, args.dtn)
    svc = open_service(args)
    entry, rep = plans.triage_by_time(svc, scenarios=args.scenarios, rule=rule, profile=args.profile)
    doc = plans.triage_answer(entry, rep).model_dump(mode="json")
    a, b = rep.scenarios
    fields = [
        "lon",
        "lat",
        f"recommendation_{a}",
        f"recommendation_{b}",
        "changed",
        "population",
        f"t_ivt_min_{a}",
        f"t_evt_min_{a}",
        f"t_ivt_min_{b}",
        f"t_evt_min_{b}",
    ]
    rows = point_rows(rep.layer)
    with atomic_dir(out) as stage:
        write_file(stage / "compare.csv", csv_text(rows, fields))
        write_layer(
            stage,
            "compare",
            rep.layer | {"method": rep.method},
            geometry_type="Point",
            schema={k: "object" for k in fields if k not in ("lon", "lat")},
        )
        write_layer(
            stage,
            "changed_area",
            rep.changed_area | {"method": rep.method},
            geometry_type="MultiPolygon",
            schema={"cells": "int64", "cell_m": "float64", "area_km2": "float64"},
        )
        write_file(stage / "report.json", json_text({k: v for k, v in doc.items() if k != "layer"}))
        change_map(svc.engine(entry.name), doc, stage / "map.html", lang=args.lang)
    who = (
        f"{rep.population_changed:,.0f} people ({100 * (rep.share_changed or 0):.1f}%)"
        if rep.population_changed is not None
        else "no population data"
    )
    print(
        f"triage {a} vs {b}: {rep.changed_locations} of {rep.locations} locations change recommendation, {who}, "
        f"{rep.changed_area_km2:g} km²; {rep.transitions or 'no change'}; wrote {out}/",
        file=sys.stderr,
    )


# ------------------------------------------------------------------------------ parsers


def add_week_options(p: argparse.ArgumentParser) -> None:
    """Options of the AED week (shared with ``coverage --week``)."""
    p.add_argument("--week-of", help="a day of the week to evaluate, YYYY-MM-DD (default: this week)")
    p.add_argument("--demand", help="CSV of demand points (lon, lat[, weight]) instead of the population")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("aed-week", help="AED coverage on foot for each hour of the week (7x24 table, heat map)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--minutes", type=float, help="walking minutes (default 4)")
    add_week_options(p)

    p = sub.add_parser("aed-site", help="new public AEDs on foot, opening hours respected (MCLP over the week)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--add", type=int, default=3, help="new AEDs")
    p.add_argument("--minutes", type=float, help="walking minutes (default 4)")
    p.add_argument(
        "--candidates",
        default="osm",
        help="osm (schools, stations, malls, sports venues of the bundle's OSM extract) | facilities | "
        "CSV with lon,lat[,id,name,kind,opening_hours]",
    )
    p.add_argument("--objective", default="week", help="week (population-hours) or one hour, e.g. Su03")
    p.add_argument(
        "--unknown-hours", default="closed", choices=("closed", "open"), help="existing AEDs of unknown hours"
    )
    p.add_argument("--candidate-hours", default="24/7", help="hours of a candidate without its own (OSM syntax)")
    p.add_argument("--week-of", help="a day of the week to evaluate, YYYY-MM-DD (default: this week)")

    p = sub.add_parser("ems-site", help="new EMS stations: MEXCLP (busy ambulances) or backup coverage")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--model", default="mexclp", choices=("mexclp", "backup"))
    p.add_argument("--add", type=int, default=2, help="new stations")
    p.add_argument("--minutes", type=float, help="drive minutes, station to patient (default: setting ems_minutes)")
    p.add_argument("--busy-fraction", type=float, help="MEXCLP busy fraction q (default: setting ems_busy_fraction)")
    p.add_argument(
        "--candidates", default="facilities", help="facilities (hospitals + grassroots units) | grid | both | CSV"
    )
    p.add_argument("--grid-km", type=float, default=2.0)
    add_profile(p)
    p.add_argument("--scenario", help="free_flow | off_peak | peak | JSON {road class: factor}")

    p = sub.add_parser("plan-targets", help="the plan's county targets per admin unit (table, choropleth)")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument(
        "--thrombolysis-rates", help="CSV name/admin_code, thrombolysis_rate_pct: stroke quality tiers per unit"
    )

    p = sub.add_parser("triage-compare", help="stroke triage under two traffic scenarios, and where it changes")
    add_analysis_output(p)
    add_map_lang(p)
    p.add_argument("--scenarios", default="free_flow,peak", help="two scenarios, e.g. free_flow,peak")
    p.add_argument("--max-extra", type=float, default=15.0, help="extra minutes acceptable to go direct to EVT")
    p.add_argument("--dido", type=float, default=60.0, help="door-in-door-out minutes at the IVT center")
    p.add_argument("--dtn", type=float, default=60.0, help="default door-to-needle minutes")
    add_profile(p)
