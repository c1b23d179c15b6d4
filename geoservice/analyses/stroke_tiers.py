"""Stroke quality tiers by city from thrombolysis rates, with the plan's action for each tier.

Hubei's plan sorts cities by their intravenous thrombolysis rate: above 5% -> advanced training
and a quality-control plan; 3-5% -> basic training; below 3% -> inspection tours. The rates are
user input (a CSV: ``name`` and/or ``admin_code``, ``thrombolysis_rate_pct`` in percent, optional
``demo`` true/false and ``note``), never computed here. Each row is matched to an admin unit of
the region (``admin_code`` exactly, else the name, a trailing 市/区/县/州 ignored), so the tiers can
be drawn as a layer of the published stroke map. Thresholds are settings
(``thrombolysis_high_pct``, ``thrombolysis_low_pct``); a rate equal to a threshold is in the
middle tier (3% and 5% are "3-5%").
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GeoserviceError, InputFileError
from .records import JsonRecord

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely

__all__ = ["RateRow", "TierRow", "TIERS", "read_rates", "tier_of", "stroke_tiers"]

# tier -> (English action as in the plan, Chinese label, colour)
TIERS: dict[str, tuple[str, str, str]] = {
    "high": ("advanced training and quality-control plan", "进阶培训与质控计划", "#2e7d32"),
    "middle": ("basic training", "基础培训", "#f9a825"),
    "low": ("inspection tours", "巡查督导", "#c62828"),
}
_SUFFIX = re.compile(r"[市区县州]$")


@dataclass(frozen=True)
class RateRow:
    name: str | None
    admin_code: str | None
    rate_pct: float
    demo: bool
    note: str | None
    row: int  # 1-based data row of the file


@dataclass(frozen=True)
class TierRow(JsonRecord):
    name: str  # the admin unit's name in the bundle
    admin_code: str | None
    thrombolysis_rate_pct: float
    tier: str  # high / middle / low
    tier_label: str  # e.g. ">5%"
    action: str
    action_zh: str
    color: str
    demo: bool
    note: str | None


def tier_of(rate_pct: float, *, high: float = 5.0, low: float = 3.0) -> str:
    """``high`` above ``high``, ``low`` below ``low``, else ``middle`` (both ends included)."""
    if rate_pct > high:
        return "high"
    if rate_pct < low:
        return "low"
    return "middle"


def _truth(v: str | None) -> bool:
    return str(v or "").strip().lower() in ("1", "true", "yes", "y", "demo")


def read_rates(path: str | Path, *, field: str = "thrombolysis_rates") -> list[RateRow]:
    """The rows of a rates CSV (see the module docstring); a bad row is an error naming it."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"file not found: {p}")
    out: list[RateRow] = []
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if "thrombolysis_rate_pct" not in cols or not ({"name", "admin_code"} & cols):
            raise InputFileError(
                field, f"{p}: needs a thrombolysis_rate_pct column and a name or admin_code column; has {sorted(cols)}"
            )
        for n, row in enumerate(reader, 1):
            try:
                rate = float(row["thrombolysis_rate_pct"])
            except (TypeError, ValueError):
                raise InputFileError(field, f"{p} row {n}: thrombolysis_rate_pct must be a number in percent") from None
            if not (math.isfinite(rate) and 0 <= rate <= 100):
                raise InputFileError(field, f"{p} row {n}: thrombolysis_rate_pct must be in [0, 100], got {rate}")
            name = (row.get("name") or "").strip() or None
            code = (row.get("admin_code") or "").strip() or None
            if not (name or code):
                raise InputFileError(field, f"{p} row {n}: no name and no admin_code")
            out.append(RateRow(name, code, rate, _truth(row.get("demo")), (row.get("note") or "").strip() or None, n))
    if not out:
        raise InputFileError(field, f"{p}: no rows")
    return out


def stroke_tiers(
    units: gpd.GeoDataFrame,
    rows: list[RateRow],
    *,
    high: float = 5.0,
    low: float = 3.0,
    field: str = "thrombolysis_rates",
    require: bool = True,
) -> tuple[list[TierRow], list[RateRow], list[shapely.Geometry]]:
    """(tiers, rows matching no unit, the matched units' geometries) for the admin ``units``
    (a table with admin_code, name, geometry). With ``require``, no row matching any unit is an
    error (a file for another region)."""
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high <= 100):
        raise GeoserviceError(field, f"thresholds must satisfy 0 <= low <= high <= 100, got low={low}, high={high}")
    codes = [str(c) for c in units["admin_code"]]
    names = [str(n) for n in units["name"]]
    short = [_SUFFIX.sub("", n.strip()) for n in names]
    tiers: list[TierRow] = []
    geoms: list[shapely.Geometry] = []
    unmatched: list[RateRow] = []
    for r in rows:
        u = codes.index(r.admin_code) if r.admin_code in codes else None
        if u is None and r.name:
            key = _SUFFIX.sub("", r.name.strip())
            u = next((i for i, n in enumerate(names) if n == r.name.strip()), None)
            if u is None and key in short:
                u = short.index(key)
        if u is None or units.geometry.iloc[u] is None:
            unmatched.append(r)
            continue
        t = tier_of(r.rate_pct, high=high, low=low)
        label = {"high": f">{high:g}%", "middle": f"{low:g}-{high:g}%", "low": f"<{low:g}%"}[t]
        action, zh, color = TIERS[t]
        tiers.append(
            TierRow(
                names[u],
                None if codes[u] == "all" else codes[u],
                r.rate_pct,
                t,
                label,
                action,
                zh,
                color,
                r.demo,
                r.note,
            )
        )
        geoms.append(units.geometry.iloc[u])
    if not tiers and require:
        raise GeoserviceError(
            field,
            f"no row of the rates file matches an admin unit of this region (units: {', '.join(names[:12])}"
            f"{'…' if len(names) > 12 else ''}); match by admin_code or name",
        )
    return tiers, unmatched, geoms
