"""``dispatch``: the bystander and AED plan for one cardiac arrest, as ``POST /dispatch`` answers it."""

from __future__ import annotations

import argparse

from ...analyses.dispatch import Responder
from ...service.inputs import check_lonlat, parse_at
from ...service.usecases import dispatch as service
from .common import add_db, add_point, add_region, command, emit_json, open_service
from .routing import read_points


@command("dispatch")
def cmd_dispatch(args: argparse.Namespace) -> None:
    check_lonlat(args.lon, args.lat)
    at = parse_at(args.at)
    people = None
    if args.responders:
        ids, pts = read_points(args.responders, "responders")
        people = [Responder(i, lon, lat) for i, (lon, lat) in zip(ids, pts)]
    svc = open_service(args)
    try:
        ask = service.DispatchAsk(args.lon, args.lat, at, args.k, percentile=args.percentile)
        ans = service.dispatch(svc, ask, responders=people)
    finally:
        svc.close()
    emit_json(ans, args.output)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dispatch",
        help="bystander and AED dispatch for a cardiac arrest: responders for CPR, the AED fetch, the AED a "
        "bystander at the patient can fetch (there and back), the ambulance ETA, time to first shock "
        "(JSON, as POST /dispatch)",
    )
    add_region(p, several=True)
    add_db(p)
    add_point(p)
    p.add_argument("--at", help="ISO local date-time of the arrest (AED opening hours); default now")
    p.add_argument(
        "--responders",
        metavar="FILE.csv",
        help="available responders (id,lon,lat) for planning or what-if; default: the live positions in the registry",
    )
    p.add_argument("--k", type=int, default=3, help="responders sent straight to the patient (1-10)")
    p.add_argument(
        "--percentile",
        type=int,
        choices=(50, 80, 90),
        help="the ambulance drives at this percentile of the spread of real trips, in the traffic of the hour of "
        "--at (the region's calibrated spread, else a default assumption; the plan's notes say which)",
    )
    p.add_argument("-o", "--output", help="write the JSON here (default: stdout)")
