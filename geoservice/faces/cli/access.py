"""``geoservice access``: capacity-aware access (E2SFCA) per demand point and admin unit, with
``--equity`` (Gini, Theil, Lorenz curve, worst-off decile, urban / rural) and ``--standards``
(AED density, fetch and return, EMS radius and time, each target with its source).

Writes a folder (atomically): units.csv / units.geojson / units.gpkg, points.csv / points.geojson /
points.gpkg, facilities.csv, report.json (the API's answer), map.html (offline), and with the
options equity.csv, lorenz.csv, worst_decile.csv, standards.csv."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import cast

from ...analyses.access import DECAYS
from ...analyses.standards import StandardTargets
from ...fileio import atomic_dir
from ...service.usecases.access import AccessAnswer, AccessAsk, access, access_answer
from .analysis_files import csv_text, json_text, output_dir, write_file, write_layer
from .common import (
    add_analysis_output,
    add_filters,
    add_profile,
    add_traffic,
    add_type,
    command,
    open_service,
    traffic_args,
)

__all__ = ["add_parsers"]

UNIT_FIELDS = [
    "admin_code",
    "name",
    "unit_type",
    "population",
    "score_per_100k",
    "people_without_access",
    "mean_nearest_min",
    "unreachable",
]
UNIT_SCHEMA = {k: ("object" if k in ("admin_code", "name", "unit_type") else "float64") for k in UNIT_FIELDS}
POINT_FIELDS = ["lon", "lat", "population", "admin_code", "score_per_100k", "nearest_min"]
POINT_SCHEMA = {"population": "float64", "admin_code": "object", "score_per_100k": "float64", "nearest_min": "float64"}
FACILITY_FIELDS = ["id", "name", "lon", "lat", "capacity", "capacity_given", "weighted_demand", "ratio_per_100k"]
EQUITY_FIELDS = [
    "measure",
    "unit",
    "mean",
    "gini",
    "theil_t",
    "gini_people",
    "theil_people",
    "worst_decile_people",
    "worst_decile_threshold",
    "worst_decile_mean",
]
STANDARD_FIELDS = [
    "admin_code",
    "name",
    "unit_type",
    "measure",
    "value",
    "target",
    "met",
    "value_unit",
    "detail",
    "source",
]


def _targets(args: argparse.Namespace) -> StandardTargets | None:
    if not args.standards:
        return None
    given = {
        k: getattr(args, k)
        for k in ("aed_per_100k", "fetch_minutes", "ems_urban_km", "ems_rural_km", "ems_minutes", "share_target")
        if getattr(args, k) is not None
    }
    return StandardTargets(**given)


@command("access", zones="--zones")
def cmd_access(args: argparse.Namespace) -> None:
    from ..maps.access import access_map, points_layer, units_layer

    out = output_dir(args)
    targets = _targets(args)  # bad targets fail before any work
    svc = open_service(args)
    tr = traffic_args(args)
    ask = AccessAsk(
        args.type, args.minutes, args.decay, args.zones, args.profile, args.level, tr["scenario"], tr["depart"]
    )
    entry, res = access(svc, ask)
    ans = access_answer(svc, entry, res, equity=args.equity, targets=targets)
    eng = svc.engine(entry.name)
    units = units_layer(eng, res)
    with atomic_dir(out) as stage:
        write_file(stage / "report.json", json_text(ans.to_json()))
        write_file(stage / "facilities.csv", csv_text([f.to_json() for f in res.facilities], FACILITY_FIELDS))
        pts = cast("list[dict[str, object]]", res.points_frame().round(6).to_dict("records"))
        write_file(stage / "points.csv", csv_text(pts, POINT_FIELDS))
        write_layer(stage, "points", points_layer(res), geometry_type="Point", schema=POINT_SCHEMA)
        if args.by == "admin":
            rows = [{**u.to_json(), "unit_type": res.unit_types.get(u.admin_code)} for u in res.units]
            write_file(stage / "units.csv", csv_text(rows, UNIT_FIELDS))
            write_layer(stage, "units", units, geometry_type="MultiPolygon", schema=UNIT_SCHEMA)
        if ans.equity:
            eq = [e.to_json() for e in ans.equity]
            write_file(stage / "equity.csv", csv_text(eq, EQUITY_FIELDS))
            lorenz = [{"measure": e["measure"], **p} for e in eq for p in e["lorenz"]]
            write_file(stage / "lorenz.csv", csv_text(lorenz, ["measure", "population_share", "value_share"]))
            worst = [{"measure": e["measure"], **u} for e in eq for u in e["worst_decile_units"]]
            write_file(
                stage / "worst_decile.csv",
                csv_text(worst, ["measure", "admin_code", "name", "people", "share_of_unit"]),
            )
        if ans.standards:
            write_file(stage / "standards.csv", csv_text([r.to_json() for r in ans.standards.rows], STANDARD_FIELDS))
        access_map(eng, res, stage / "map.html")
    _summary(ans, out)


def _summary(ans: AccessAnswer, out: Path) -> None:
    res = ans.result
    overall = f"{res.score_per_100k:.4g} per 100,000 people" if res.score_per_100k is not None else "no population data"
    print(f"geoservice: note: {res.capacity_note}", file=sys.stderr)
    print(
        f"{ans.region}: E2SFCA access to {len(res.facilities)} {res.type} ({res.minutes:g} min, {res.decay} decay): "
        f"{overall}; wrote {out}/",
        file=sys.stderr,
    )
    for u in res.units:
        score = f"{u.score_per_100k:.4g}" if u.score_per_100k is not None else "-"
        print(f"  {u.name:<12} {u.population:>12,.0f} people  access {score:>8} per 100,000", file=sys.stderr)
    if ans.equity:
        a, t = ans.equity
        print(
            f"  equity across units: access Gini {a.gini:.4f}, Theil {a.theil_t:.4f}; "
            f"travel time Gini {t.gini:.4f}, Theil {t.theil_t:.4f}",
            file=sys.stderr,
        )
    if ans.standards:
        met = [r for r in ans.standards.rows if r.admin_code is None]
        for r in met:
            state = "met" if r.met else "not met" if r.met is False else "no target"
            print(f"  {r.measure:<18} {r.value!s:>10} target {r.target!s:>6}: {state}", file=sys.stderr)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "access",
        help="capacity-aware access (E2SFCA) per demand point and admin unit, equity, standards (folder)",
        description="Enhanced two-step floating catchment (Luo & Qi 2009) on network travel times: each facility's "
        "capacity (the 'capacity' column; none = 1) shared among the people within its catchment, weighted by "
        "a distance decay; then each place's sum over the facilities it reaches. Per 100,000 people.",
    )
    add_analysis_output(p)
    add_type(p)
    p.add_argument("--minutes", type=float, help="catchment in minutes (default 30; AEDs 4)")
    p.add_argument(
        "--decay",
        default="gaussian",
        choices=DECAYS,
        help="distance decay: gaussian (Dai 2010, 0 at the catchment; default) or zones",
    )
    p.add_argument(
        "--zones",
        metavar="MIN:W,...",
        help="zone weights for --decay zones (default 10:1,20:0.68,30:0.22, Luo & Qi 2009)",
    )
    p.add_argument(
        "--by", default="admin", choices=("admin", "none"), help="figures by admin unit (units.csv, default) or not"
    )
    add_profile(p)
    add_filters(p, capability=False)
    add_traffic(p)
    p.add_argument(
        "--equity",
        action="store_true",
        help="Gini and Theil of access and travel time, Lorenz curve, worst-off decile, urban / rural",
    )
    p.add_argument(
        "--standards",
        action="store_true",
        help="AED density, AED fetch and return, EMS radius and time, 30/60-min circles, with their sources",
    )
    p.add_argument(
        "--aed-per-100k",
        type=float,
        help="--standards: AED density target (default: the province's plan: Shanghai 50, Zhejiang 45, Shenzhen 300)",
    )
    p.add_argument(
        "--fetch-minutes",
        type=float,
        help="--standards: AED round trip on foot, minutes (default 4; Guangzhou's 3-5 min rule)",
    )
    p.add_argument("--ems-urban-km", type=float, help="--standards: EMS service radius in urban units (default 5)")
    p.add_argument("--ems-rural-km", type=float, help="--standards: EMS service radius in rural units (default 20)")
    p.add_argument(
        "--ems-minutes", type=float, help="--standards: ambulance time from a station (default 12, a local choice)"
    )
    p.add_argument(
        "--share-target",
        type=float,
        help="--standards: share of people a coverage standard asks for (default 1: everyone)",
    )
