"""Table cells read as values: text, numbers, booleans, capability lists, coordinates; and text
written back to a CSV cell that a spreadsheet opens.

Cells come from CSV (strings), GeoPackage / GeoJSON (typed) and API records (JSON); each reader
accepts all three and says what is wrong with a cell instead of raising.

Text is one rule for every face (``text_problem``): no control character (NUL, escape …: a
PostgreSQL text value cannot hold NUL at all) and no lone surrogate (not UTF-8); tab and line
breaks only in free text (names, addresses, notes). Ids follow ``id_problem``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd

from ..errors import GeoserviceError

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "0.0"})
# C0 controls and DEL, and lone surrogates (JSON can carry "\ud800"; it is not UTF-8)
_BAD_CHARS: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_BAD_IN_FREE_TEXT: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # tab, LF, CR allowed
_CHAR_NAMES: Final = {"\x00": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x1b": "escape"}
RESERVED_IDS: Final = (".", "..")  # a URL path cannot name them: /facilities/.. is /
# a cell a spreadsheet would run as a formula (OWASP "CSV injection"): kept as text behind a '
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

T = TypeVar("T")


def cell_text(value: object) -> str | None:
    """Cell → stripped string, or None for empty/NaN/None; 420102.0 → "420102"."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    s = str(value).strip()
    return s or None


def text_problem(text: str, *, free_text: bool = False) -> str | None:
    """Why ``text`` cannot be stored or searched for, else None: a control character (tab and
    line breaks are allowed in ``free_text``) or a lone surrogate, named with its position."""
    m = (_BAD_IN_FREE_TEXT if free_text else _BAD_CHARS).search(text)
    if m is None:
        return None
    c = m.group()
    what = "a lone surrogate" if "\ud800" <= c <= "\udfff" else "a control character"
    name = _CHAR_NAMES.get(c, f"U+{ord(c):04X}")
    if name[0] != "U":
        name = f"U+{ord(c):04X} {name}"
    return f"contains {what} ({name}) at character {m.start() + 1}; remove it"


def id_problem(text: str) -> str | None:
    """Why ``text`` cannot be an id (of a facility, a point of a matrix, a responder), else None:
    empty, ``.`` or ``..``, or a character ``text_problem`` refuses (tab and line breaks too)."""
    if not text.strip():
        return "empty id"
    if text.strip() in RESERVED_IDS:
        return f"{text.strip()!r} cannot be an id (a URL path cannot name it); use letters or digits"
    return text_problem(text)


def check_text(field: str, value: str | None, *, free_text: bool = False) -> str | None:
    """``value`` unchanged, or a ``GeoserviceError`` naming ``field`` (see ``text_problem``)."""
    if value is not None:
        problem = text_problem(value, free_text=free_text)
        if problem:
            raise GeoserviceError(field, f"{problem} (got {value[:60]!r})")
    return value


def spreadsheet_safe(value: T) -> T | str:
    """A CSV cell that Excel, LibreOffice or WPS open as text, never as a formula: text starting
    with = + - @, a tab or a carriage return gets a leading ' (numbers such as -12.5 are left
    as they are). ``spreadsheet_text`` reads it back."""
    if not isinstance(value, str):
        return value
    if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return "'" + value  # a ' of its own survives the round trip
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_text(value: T) -> T | str:
    """A cell written by ``spreadsheet_safe`` as it was: the guarding ' taken off again."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value


def number(value: object) -> float | str | None:
    """Cell → float, None when empty, or an error reason string."""
    if isinstance(value, (bool, np.bool_)):
        return f"not a number: {value!r}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return None if math.isnan(f) else f
    s = cell_text(value)
    if s is None:
        return None
    try:
        f = float(s)
    except ValueError:
        return f"not a number: {s!r}"
    return None if math.isnan(f) else f


def boolean(value: object) -> bool | None:
    """Cell → bool (empty → False), or None if it cannot be read as one."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    s = cell_text(value)
    if s is None:
        return False
    s = s.lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def split_caps(value: object) -> list[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [cell_text(v) for v in value]
        return sorted({p.lower() for p in parts if p})
    s = cell_text(value)
    if s is None:
        return []
    return sorted({p.lower() for p in re.split(r"[,;|\s]+", s) if p})


def coordinate(value: object, what: str, lo: float, hi: float) -> float | str:
    n = number(value)
    if n is None:
        return f"missing {what}"
    if isinstance(n, str):
        return n
    if not math.isfinite(n):
        return f"{what} is not finite: {n}"
    if not lo <= n <= hi:
        return f"{what} {n} outside [{lo:g}, {hi:g}]"
    return n


def swapped_pair(lon_value: object, lat_value: object) -> str | None:
    """The unambiguous swap: a latitude outside ±90 whose pair is valid read the other way
    round (longitude within ±90, latitude within ±180). Returns "lon X, lat Y" as they were
    probably meant, else None. Both-valid pairs are never called swapped: either could be real."""
    x, y = number(lon_value), number(lat_value)
    if not isinstance(x, float) or not isinstance(y, float) or not (math.isfinite(x) and math.isfinite(y)):
        return None
    if 90.0 < abs(y) <= 180.0 and abs(x) <= 90.0:
        return f"meant as lon {y:g}, lat {x:g}"
    return None


def plain_value(v: Any) -> Any:
    """A table cell as a plain JSON value: numpy scalars unwrapped, NaN/inf as None."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
