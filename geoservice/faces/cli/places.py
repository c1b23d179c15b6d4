"""``places``: the offline place search on the command line (the same answer as ``GET /places``)."""

from __future__ import annotations

import argparse

from ...service.usecases.places import DEFAULT_LIMIT, MAX_LIMIT, search_places
from .common import add_db, add_region, command, emit_json, open_service


@command("places")
def cmd_places(args: argparse.Namespace) -> None:
    svc = open_service(args)
    emit_json(search_places(svc, args.q, limit=args.limit, near=args.near), args.output)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "places",
        help="find landmarks, stations, roads, districts and facilities by name, English name or pinyin "
        "(offline), each with a point to search from (JSON)",
    )
    p.add_argument(
        "--q",
        required=True,
        help="part of a name, e.g. 'Princesse', 徐汇区, 人民广场, its pinyin 'renminguangchang' or initials 'rmgc' "
        "(case and width ignored)",
    )
    p.add_argument(
        "--near",
        metavar="LON,LAT",
        help="rank places of one match and kind by distance from this WGS-84 point, e.g. 121.4737,31.2304",
    )
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many places (1-{MAX_LIMIT})")
    add_region(p)
    add_db(p)
    p.add_argument("-o", "--output", help="JSON file (default: stdout)")
