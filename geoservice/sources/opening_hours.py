"""OSM ``opening_hours`` evaluation (e.g. whether an AED is reachable at a given time).

Parsing is delegated to ``opening-hours-py`` (a maintained binding of the Rust
``opening-hours`` crate that implements the full OSM specification). No country is given,
so public-holiday rules (``PH ...``) never match: they are effectively ignored.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from opening_hours import OpeningHours, State

__all__ = ["is_open"]


@lru_cache(maxsize=4096)
def _parse(spec: str) -> OpeningHours | None:
    try:
        return OpeningHours(spec)
    except Exception:  # ParserError / SyntaxError: not a valid opening_hours value
        return None


def is_open(spec: str | None, when: datetime) -> bool | None:
    """True/False if ``spec`` says the place is open/closed at ``when``; None if unknown.

    ``when`` is read as local wall-clock time at the facility: a timezone-aware datetime is
    used by its own clock reading (pass China time for Chinese facilities). None is returned
    for a missing or unparseable spec and for rules whose state is "unknown".
    """
    if spec is None or not isinstance(spec, str) or not spec.strip():
        return None
    oh = _parse(spec.strip())
    if oh is None:
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
