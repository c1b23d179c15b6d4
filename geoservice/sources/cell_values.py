"""Table cells read as values: text, numbers, booleans, capability lists, coordinates.

Cells come from CSV (strings), GeoPackage / GeoJSON (typed) and API records (JSON); each reader
accepts all three and says what is wrong with a cell instead of raising.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import numpy as np
import pandas as pd

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "0.0"})


def cell_text(value: Any) -> str | None:
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


def number(value: Any) -> float | str | None:
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


def boolean(value: Any) -> bool | None:
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


def split_caps(value: Any) -> list[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [cell_text(v) for v in value]
        return sorted({p.lower() for p in parts if p})
    s = cell_text(value)
    if s is None:
        return []
    return sorted({p.lower() for p in re.split(r"[,;|\s]+", s) if p})


def coordinate(value: Any, what: str, lo: float, hi: float) -> float | str:
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


def swapped_pair(lon_value: Any, lat_value: Any) -> str | None:
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
