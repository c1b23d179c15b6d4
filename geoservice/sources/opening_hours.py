"""OSM ``opening_hours``: checking a value on input and evaluating it (is an AED reachable now?).

Parsing is delegated to ``opening-hours-py`` (a maintained binding of the Rust
``opening-hours`` crate that implements the full OSM specification). No country is given,
so public-holiday rules (``PH ...``) never match: they are effectively ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from opening_hours import OpeningHours, State

__all__ = ["opening_hours_error", "is_open"]

_EXAMPLES = "use the OpenStreetMap opening_hours syntax, e.g. 'Mo-Fr 08:00-18:00; Sa 09:00-12:00' or '24/7'"


def _reason(spec: str, exc: Exception) -> str:
    """The parser's multi-line report as one line: where it stopped and what it expected."""
    text = str(exc)
    where = re.search(r"-->\s*\d+:(\d+)", text)
    expected = re.search(r"=\s*(.+)", text)
    parts = [f"cannot read {spec!r}"]
    if where:
        parts.append(f" at character {where.group(1)}")
    if expected and "unknown" not in expected.group(1):
        parts.append(f" ({expected.group(1).strip()})")
    return "".join(parts) + f"; {_EXAMPLES}"


@lru_cache(maxsize=4096)
def _parse(spec: str) -> OpeningHours | str:
    """The parsed rules, or why ``spec`` is not a valid opening_hours value."""
    try:
        return OpeningHours(spec)
    except Exception as exc:  # ParserError / SyntaxError: not a valid opening_hours value
        return _reason(spec, exc)


def opening_hours_error(spec: str) -> str | None:
    """Why ``spec`` is not a valid OSM opening_hours value (one line), or None when it is."""
    parsed = _parse(spec.strip())
    return parsed if isinstance(parsed, str) else None


def is_open(spec: str | None, when: datetime) -> bool | None:
    """True/False if ``spec`` says the place is open/closed at ``when``; None if unknown.

    ``when`` is read as local wall-clock time at the facility: a timezone-aware datetime is
    used by its own clock reading (pass China time for Chinese facilities). None is returned
    for a missing or unparseable spec and for rules whose state is "unknown".
    """
    if spec is None or not isinstance(spec, str) or not spec.strip():
        return None
    oh = _parse(spec.strip())
    if isinstance(oh, str):
        return None
    try:
        state, _comment = oh.state(when.replace(tzinfo=None))
    except Exception:  # never let an odd rule crash a caller
        return None
    if state == State.OPEN:
        return True
    if state == State.CLOSED:
        return False
    return None
