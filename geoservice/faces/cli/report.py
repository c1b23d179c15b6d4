"""``geoservice report``: the plan report of one region, one page per admin unit (faces/report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import GeoserviceError
from ...fileio import atomic_dir
from ...service.usecases import plans
from ...service.usecases.plan_report import BY_CHOICES, parse_targets, plan_report
from ..report import LANGS, write_report
from .analysis_files import output_dir
from .common import add_analysis_output, command, open_service

__all__ = ["add_parsers"]


def _previous(path: str | None) -> dict[str, object] | None:
    if not path:
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GeoserviceError("previous", f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoserviceError("previous", f"{path}: not a readable report.json ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        raise GeoserviceError("previous", f"{path}: not a report.json of geoservice report (no 'units' list)")
    return doc


@command("report", pdf="--no-pdf")
def cmd_report(args: argparse.Namespace) -> None:
    out = output_dir(args)
    targets = parse_targets(args.target)
    previous = _previous(args.previous)
    svc = open_service(args)
    rates = plans.read_rates(args.thrombolysis_rates) if args.thrombolysis_rates else None
    entry, rep = plan_report(
        svc, by=args.by, targets=targets, previous=previous, previous_name=args.previous, thrombolysis_rates=rates
    )
    doc = rep.to_json()
    with atomic_dir(out) as stage:
        names = write_report(stage, doc, svc.engine(entry.name), lang=args.lang, pdf=not args.no_pdf)
    units = doc["units"]
    met = sum(u["met"] for u in units)
    applicable = sum(u["applicable"] for u in units)
    steps = sum(len(u["build"]) for u in units)
    pngs = sum(1 for n in names if n.endswith(".png"))
    print(
        f"plan report of {entry.name}: {len(units)} admin units, {met} of {applicable} unit targets met, "
        f"{steps} build steps; wrote {out}/ (report.html"
        + (", report.pdf" if not args.no_pdf else "")
        + f", report.json, {pngs} charts)",
        file=sys.stderr,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="the plan report: one printable page per admin unit, the region's summary, what to build next (folder)",
        description=(
            "Writes report.html (offline), report.pdf (printed by Chromium, as publish), report.json (every "
            "figure, with its target and source) and the chart PNGs: a one-page summary of the region (targets "
            "met per county, Lorenz curves, AED week heat map), one page per admin unit (map, figures against "
            "every target, changes since --previous) and the fewest new sites meeting the unmet targets."
        ),
    )
    add_analysis_output(p)
    p.add_argument("--by", default="admin", choices=BY_CHOICES, help="one page per: admin (the bundle's admin units)")
    p.add_argument("--lang", default="zh", choices=LANGS, help="language of the report: zh (default) or en")
    p.add_argument("--previous", metavar="REPORT_JSON", help="an earlier report.json: each page says what changed")
    p.add_argument(
        "--target",
        action="append",
        metavar="NAME=VALUE",
        help="override a target (repeatable): cpc_30min_share, stroke_60min_share (shares 0-1), aed_per_100k, "
        "stroke_centers, cpc_hospital_share, grassroots_share, grid531_linked_share",
    )
    p.add_argument(
        "--thrombolysis-rates",
        metavar="CSV",
        help="thrombolysis rates per admin unit (name,admin_code,thrombolysis_rate_pct[,demo,note], as plan-targets): "
        "each county page gives its rate and stroke quality tier",
    )
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF (no Chromium needed)")
