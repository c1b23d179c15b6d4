"""Command line: ``geoservice build | nearest | isochrone | matrix | coverage | site | serve | publish ...``.

Every command goes through the service layer (regions, registry, engines), so it answers as the
API does. A user error prints one line ``geoservice: error: --flag: …`` and exits with status 2
(a database that cannot answer now: one line, status 75, EX_TEMPFAIL);
outputs are written atomically, so a failed run leaves no half file and no changed folder.
Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ...errors import GeoserviceError, UnavailableError
from . import (
    access,
    analyses,
    build,
    calibrate,
    certify,
    dispatch,
    layers,
    nation,
    places,
    plans,
    report,
    routing,
    serving,
)
from .common import COMMANDS, flag_for

__all__ = ["main", "build_parser"]

_MODULES = (
    build,
    routing,
    places,
    layers,
    analyses,
    access,
    dispatch,
    plans,
    report,
    serving,
    certify,
    nation,
    calibrate,
)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"geoservice: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="geoservice", description="Travel-time maps for emergency cardiovascular care.")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for mod in _MODULES:
        mod.add_parsers(sub)
    return ap


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed in one line
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="geoservice: %(levelname)s: %(message)s"
    )
    try:
        COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("geoservice: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `geoservice nearest … | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
        return 141  # 128 + SIGPIPE, as a shell tool killed by it
    except UnavailableError as exc:  # not the input: the database, for now (503 in the API)
        print(f"geoservice: error: {_one_line(exc.message)}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except GeoserviceError as exc:
        flag = flag_for(args.command, exc.field)
        print(f"geoservice: error: {flag + ': ' if flag else ''}{_one_line(exc.message)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:
            raise
        print(f"geoservice: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
