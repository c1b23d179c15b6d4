"""``certify``: a published certification list (names, batches, dates) matched to a positioned
facility file, turned into a facility layer with the list as its source, and the names a person
must resolve (ambiguous, unmatched) listed beside it.

Every input is checked before anything is written; the layer and the list of unresolved names
are each written atomically, so a failed run leaves existing outputs as they were. Unresolved
names are the expected outcome of a national list against one city, not an error.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd

from ...errors import GeoserviceError
from ...fileio import atomic_write_text
from ...sources.cell_values import spreadsheet_safe
from ...sources.certification import (
    ALIASES_FILE,
    DEFAULT_NAME_COL,
    Ambiguous,
    CertifyReport,
    ListEntry,
    Matched,
    Positioned,
    Unmatched,
    match_names,
    read_aliases,
    read_list,
    read_positioned,
)
from ...sources.facility_files import OUTPUT_SUFFIXES, write_layer
from ...sources.facility_rows import RowError, validate_records
from ...sources.osm_pois import osm_attribution
from ...sources.schema import FACILITY_TYPES, LEVELS

__all__ = [
    "CertifyReading",
    "CertifyResult",
    "certify",
    "certified_records",
    "parse_bbox",
    "unresolved_rows",
    "save",
    "UNRESOLVED_FIELDS",
]

UNRESOLVED_FIELDS: Final = (
    "outcome",
    "row",
    "published_name",
    "batch",
    "decision_date",
    "reason",
    "candidates",
)


@dataclass(frozen=True)
class CertifyResult:
    """The matching report, the certified layer (facility schema, WGS-84) and what was read."""

    report: CertifyReport
    layer: gpd.GeoDataFrame
    attribution: str | None  # the OpenStreetMap licence when any position comes from OSM
    facilities_used: int  # positioned facilities the names were matched against
    skipped_rows: tuple[RowError, ...]  # facility-file rows that could not be used (no name …)
    outside_bbox: int


def parse_bbox(text: str | Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """``lon0,lat0,lon1,lat1`` (WGS-84) as four numbers, west < east and south < north."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    try:
        vals = [float(p) for p in parts]
    except (TypeError, ValueError):
        vals = []
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise GeoserviceError("region_bbox", f"expected four numbers lon0,lat0,lon1,lat1, got {text!r}")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise GeoserviceError(
            "region_bbox", f"{text!r}: need -180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90 (WGS-84)"
        )
    return x0, y0, x1, y1


def _check_type_level(type: str, level: str | None) -> tuple[str, str | None]:
    t = (type or "").strip().lower()
    if t not in FACILITY_TYPES:
        raise GeoserviceError("type", f"unknown facility type {type!r}; valid: {', '.join(FACILITY_TYPES)}")
    allowed = LEVELS[t]
    lv = level.strip().lower() if level and level.strip() else None
    if allowed and lv is None:
        raise GeoserviceError("level", f"give the level the list certifies; valid for {t}: {', '.join(allowed)}")
    if lv is not None and lv not in allowed:
        valid = ", ".join(allowed) if allowed else f"none ({t} has no levels)"
        raise GeoserviceError("level", f"unknown level of {t} {lv!r}; valid: {valid}")
    return t, lv


def _check_output(path: str | os.PathLike[str] | None, field: str, suffixes: tuple[str, ...]) -> None:
    if path is None:
        return
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise GeoserviceError(field, f"{p}: unsupported file type {p.suffix or '(none)'!r}; use {', '.join(suffixes)}")
    if p.is_dir():
        raise GeoserviceError(field, f"{p}: is a folder; give a file name")


def certified_records(matched: Sequence[Matched], *, type: str, level: str | None, label: str) -> list[dict[str, Any]]:
    """One facility record per matched facility (a facility named twice in the list keeps one
    row whose source names both entries): status certified, demo false, source = the list."""
    by_id: dict[str, tuple[Positioned, list[ListEntry]]] = {}
    for m in matched:
        by_id.setdefault(m.facility.id, (m.facility, []))[1].append(m.entry)
    out = []
    for fid, (f, entries) in by_id.items():
        listed = " | ".join(f"{label}: {e.describe()}" for e in entries)
        out.append(
            {
                "id": f"{type}-{fid}",
                "type": type,
                "name": f.name,
                "level": level,
                "address": f.record.get("address"),
                "admin_code": f.record.get("admin_code"),
                "status": "certified",
                "source": f"{listed}; position {f.position}",
                "demo": False,
                "lon": f.lon,
                "lat": f.lat,
            }
        )
    return out


@dataclass(frozen=True)
class CertifyReading:
    """How the two files are read: the list's name, batch and date columns; the facilities'
    ``crs``, lon/lat columns and the ``region_bbox`` they must fall in; the aliases file (default:
    the one shipped)."""

    name_col: str = DEFAULT_NAME_COL
    batch_col: str | None = None
    date_col: str | None = None
    crs: str = "wgs84"
    lon_col: str = "lon"
    lat_col: str = "lat"
    region_bbox: str | Sequence[float] | None = None
    aliases_path: str | os.PathLike[str] | None = None


def certify(
    *,
    list_path: str | os.PathLike[str],
    facilities_path: str | os.PathLike[str],
    type: str,
    level: str | None = None,
    reading: CertifyReading = CertifyReading(),
    label: str | None = None,
    out: str | os.PathLike[str] | None = None,
    unresolved: str | os.PathLike[str] | None = None,
) -> CertifyResult:
    """Match the list's names to the positioned facilities (``sources.certification``), the files
    read as ``reading`` says. ``out`` and ``unresolved`` are only checked here (so that a bad path
    fails before any work); write them with :func:`save`. ``label`` names the list in each source
    (default: its file name)."""
    rd = reading
    ftype, lv = _check_type_level(type, level)
    bbox = parse_bbox(rd.region_bbox)
    _check_output(out, "out", OUTPUT_SUFFIXES)
    _check_output(unresolved, "unresolved", (".csv",))
    entries = read_list(list_path, name_col=rd.name_col, batch_col=rd.batch_col, date_col=rd.date_col)
    aliases = read_aliases(rd.aliases_path if rd.aliases_path is not None else ALIASES_FILE)
    if not Path(facilities_path).is_file():
        raise GeoserviceError("facilities", f"{facilities_path}: file not found; check the path")
    positioned = read_positioned(facilities_path, crs=rd.crs, lon_col=rd.lon_col, lat_col=rd.lat_col, bbox=bbox)
    if not positioned.facilities:
        why = f"{positioned.outside_bbox} outside --region-bbox, " if positioned.outside_bbox else ""
        raise GeoserviceError(
            "facilities",
            f"{facilities_path}: no facility with a name and a position to match ({why}"
            f"{len({e.row for e in positioned.skipped})} rows unusable)",
        )
    report = match_names(entries, positioned.facilities, aliases)
    records = certified_records(report.matched, type=ftype, level=lv, label=label or Path(list_path).name)
    checked = validate_records(records)
    assert not checked.errors, f"certified records failed validation: {checked.errors[:3]}"  # a bug, not input
    layer = checked.layer
    return CertifyResult(
        report,
        layer,
        osm_attribution(layer["source"]),
        len(positioned.facilities),
        positioned.skipped,
        positioned.outside_bbox,
    )


def unresolved_rows(report: CertifyReport) -> list[dict[str, Any]]:
    """Every ambiguous and unmatched name, in list order, with the candidates to choose from."""
    rows: list[tuple[int, dict[str, Any]]] = []
    items: list[Ambiguous | Unmatched] = [*report.ambiguous, *report.unmatched]
    for item in items:
        e = item.entry
        cands = item.candidates if isinstance(item, Ambiguous) else ()
        rows.append(
            (
                e.row,
                {
                    "outcome": "ambiguous" if isinstance(item, Ambiguous) else "unmatched",
                    "row": e.row,
                    "published_name": e.published_name,
                    "batch": e.batch or "",
                    "decision_date": e.decision_date or "",
                    "reason": item.reason,
                    "candidates": " | ".join(c.describe() for c in cands),
                },
            )
        )
    return [r for _, r in sorted(rows, key=lambda t: t[0])]


def save(
    result: CertifyResult, *, out: str | os.PathLike[str], unresolved: str | os.PathLike[str] | None = None
) -> None:
    """Write the certified layer (CSV/GeoJSON/GPKG, with the OSM attribution when it applies)
    and the unresolved names (CSV, UTF-8 with BOM for Excel, every cell opened as text: a
    published name such as ``=HYPERLINK(…)`` is never run as a formula), each atomically."""
    if unresolved is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=UNRESOLVED_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in unresolved_rows(result.report))
        atomic_write_text(unresolved, "\ufeff" + buf.getvalue())
    write_layer(result.layer, out, attribution=result.attribution)
