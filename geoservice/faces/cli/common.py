"""What every command shares: the command table, flags named like the service's fields, the
service opened from ``--region``/``--db``, and output written atomically."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ...fileio import atomic_write_text
from ...questions import TrafficAsk
from ...service.core import GeoService
from ...service.settings import Settings, get_settings
from ...sources.schema import ALL_CAPABILITIES, ALL_LEVELS, FACILITY_TYPES
from .analysis_files import parse_scenario

Handler = Callable[[argparse.Namespace], None]
COMMANDS: dict[str, Handler] = {}
FLAGS: dict[str, dict[str, str]] = {}  # per command: service field -> the flag that gave it


def command(name: str, **flags: str) -> Callable[[Handler], Handler]:
    """Register a command; ``flags`` maps service field names to the flag that carries them
    where the flag is not simply ``--field-name``."""

    def deco(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        FLAGS[name] = flags
        return fn

    return deco


def flag_for(command_name: str, field: str | None) -> str | None:
    """The flag a user typed for a service field (``remove_ids`` → ``--remove``)."""
    if not field:
        return None
    named = FLAGS.get(command_name, {}).get(field)
    if named is not None:
        return named
    if field == "lon,lat":
        return "--lon/--lat"
    if field.startswith("GEOSERVICE_"):  # a setting read from the environment
        return field
    return "--" + field.replace("_", "-")


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    return obj


def emit_json(obj: Any, out: str | None) -> None:
    """JSON to ``out`` (written atomically) or to stdout."""
    text = json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2)
    if out and out != "-":
        atomic_write_text(Path(out), text + "\n")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)


def regions_of(args: argparse.Namespace) -> list[str] | None:
    r = getattr(args, "region", None)
    return [r] if isinstance(r, str) else r


def open_service(args: argparse.Namespace, *, create_registry: bool = False) -> GeoService:
    """The service over ``--region`` (else GEOSERVICE_REGIONS, else the demo) and ``--db``
    (else the registry ``serve`` uses), with ``--hourly-profiles`` where the command has it.
    Read-only commands do not create a registry."""
    return GeoService.open(
        regions=regions_of(args),
        db=getattr(args, "db", None),
        create_registry=create_registry,
        settings=_settings(args),
    )


def _settings(args: argparse.Namespace) -> Settings | None:
    """The settings with ``--hourly-profiles`` in force (read and checked now), else None."""
    path = getattr(args, "hourly_profiles", None)
    if path is None:
        return None
    from ...service.traffic import hourly_profiles

    hourly_profiles(path)  # a bad file: an error naming --hourly-profiles
    return get_settings().replace(hourly_profiles=Path(path))


def traffic_args(args: argparse.Namespace) -> dict[str, Any]:
    """``scenario`` (None when not given: free flow unless ``--depart``) and ``depart`` for the service."""
    given = getattr(args, "scenario", None)
    out = {"scenario": None if given is None else parse_scenario(given), "depart": getattr(args, "depart", None)}
    if getattr(args, "percentile", None) is not None:
        out["percentile"] = args.percentile
    return out


def traffic_ask(args: argparse.Namespace) -> TrafficAsk:
    """``--scenario``, ``--depart`` and ``--percentile`` as the question's one traffic value."""
    given = getattr(args, "scenario", None)
    scenario = None if given is None else parse_scenario(given)
    return TrafficAsk(scenario, getattr(args, "depart", None), getattr(args, "percentile", None))


# ---------------------------------------------------------------------------- arguments
def add_region(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    p.add_argument(
        "--region",
        action="append",
        help=(
            "region bundle directory; repeatable, the query point picks the region "
            "(default: GEOSERVICE_REGIONS, else the demo regions)"
        )
        if several
        else "region bundle directory; repeatable (default: GEOSERVICE_REGIONS, else the demo regions)",
    )


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        help="facility registry whose facilities and edits to use: a SQLite file or a postgresql:// URL "
        "(default: GEOSERVICE_DATABASE_URL, else GEOSERVICE_DB_PATH, else the registry 'serve' uses, "
        "beside the bundles)",
    )


def add_point(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lon", type=float, required=True)
    p.add_argument("--lat", type=float, required=True)


def add_type(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--type",
        required=required,
        choices=FACILITY_TYPES,
        metavar="TYPE",
        help=f"facility type: {', '.join(FACILITY_TYPES)}",
    )


def add_filters(p: argparse.ArgumentParser, *, capability: bool = True) -> None:
    p.add_argument(
        "--level",
        help=f"comma-separated levels: {', '.join(ALL_LEVELS)} "
        "(chest pain: standard, basic; stroke: advanced, center, station)",
    )
    if capability:
        p.add_argument("--capability", help=f"required capabilities: {', '.join(ALL_CAPABILITIES)}")


def add_traffic(p: argparse.ArgumentParser, *, scenario: bool = True, percentile: bool = False) -> None:
    """``--scenario``, ``--depart HH:MM`` (the hour's traffic; not both) and ``--hourly-profiles``;
    with ``percentile`` also ``--percentile 50|80|90`` (times at that percentile of the spread)."""
    if percentile:
        p.add_argument(
            "--percentile",
            type=int,
            choices=(50, 80, 90),
            help="driving times at this percentile of the spread of real trips around the model (50: a typical "
            "day, 90: a bad one): the region's calibrated spread, else a default (an assumption); answers say which",
        )
    if scenario:
        p.add_argument(
            "--scenario",
            help="traffic: free_flow (default) | off_peak | peak | JSON {road class: factor} (text or file); "
            "driving only",
        )
    p.add_argument(
        "--depart",
        metavar="HH:MM",
        help="departure time: that hour's traffic (hourly factors per road class); not with --scenario; driving only",
    )
    p.add_argument(
        "--hourly-profiles",
        metavar="CSV",
        help="hourly factors for --depart (road_class,h00,...,h23; default: GEOSERVICE_HOURLY_PROFILES, "
        "else the region's calibrated profile (attach-profile), else the built-in curve of Chinese cities)",
    )


def add_profile(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile", choices=("drive", "ambulance", "walk"), help="travel mode (default: walk for aed, else drive)"
    )


def add_map_lang(p: argparse.ArgumentParser) -> None:
    """The language of an analysis's map.html (every title, layer name, legend and tooltip)."""
    p.add_argument(
        "--lang",
        default="zh",
        choices=("zh", "en"),
        help="language of map.html (titles, layer names, legends, tooltips, controls): zh (default) or en",
    )


def add_analysis_output(p: argparse.ArgumentParser) -> None:
    """What every analysis command takes: the regions, the registry and its output folder."""
    add_region(p)
    add_db(p)
    p.add_argument("-o", "--output", required=True, help="output folder (written only when the run succeeds)")
