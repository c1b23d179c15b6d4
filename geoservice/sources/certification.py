"""Certification lists by name: published hospital names matched to positioned facilities.

Health commissions publish who is certified (胸痛中心, 卒中中心 …) as names with a batch and a
decision date, never coordinates. This module reads such a list and a positioned facility file
and matches them by name only (no distance), and never on a guess:

* an explicit alias (``geoservice/data/certification_aliases.csv``: published name → local name,
  with its source) is tried first: a person decided it;
* else the names' comparison keys (``hospital_names.name_key``) must be equal;
* a name is ``matched`` only when exactly one positioned facility answers (the same name at the
  same point twice, e.g. a hospital listed under two types, is one facility); several are
  ``ambiguous`` (all listed); none is ``unmatched``. A name found only through a part in
  brackets (``上海长征医院`` inside ``…第二附属医院(上海长征医院)``) is always ``ambiguous``, even
  with one candidate: a campus or former name is for a person to confirm with an alias.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

from ..errors import GeoserviceError, InputFileError
from .cell_values import cell_text
from .facility_files import FacilityFileError, read_facilities
from .facility_rows import RowError
from .hospital_names import bracket_keys, clean_name, name_key

__all__ = [
    "DEFAULT_NAME_COL",
    "DEFAULT_BATCH_COL",
    "DEFAULT_DATE_COL",
    "ALIASES_FILE",
    "ListEntry",
    "Alias",
    "Positioned",
    "PositionedFile",
    "Matched",
    "Ambiguous",
    "Unmatched",
    "CertifyReport",
    "read_list",
    "read_aliases",
    "read_positioned",
    "match_names",
]

DEFAULT_NAME_COL: Final = "hospital_name_as_published"
DEFAULT_BATCH_COL: Final = "batch"
DEFAULT_DATE_COL: Final = "decision_date"
ALIASES_FILE: Final = Path(__file__).resolve().parents[1] / "data" / "certification_aliases.csv"
_ALIAS_COLUMNS: Final = ("published_name", "local_name", "source", "reason")
_CN_DATE: Final = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_ISO_DATE: Final = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")

How = Literal["exact", "normalised", "alias"]


@dataclass(frozen=True)
class ListEntry:
    """One published name; ``row`` counts data rows from 1 (the header is not a row)."""

    row: int
    published_name: str
    batch: str | None = None
    decision_date: str | None = None  # YYYY-MM-DD (read from the list's 2016-7-24 or 2016 年 7 月 24 日)

    def describe(self) -> str:
        parts = [f"batch {self.batch}"] if self.batch else []
        parts += [f"decision date {self.decision_date}"] if self.decision_date else []
        return ", ".join([*parts, f"published name {self.published_name}"])


@dataclass(frozen=True)
class Alias:
    """A person's decision that ``published_name`` is the hospital called ``local_name`` here."""

    published_name: str
    local_name: str
    source: str
    reason: str


@dataclass(frozen=True)
class Positioned:
    """A facility with a position, as a candidate for a name; ``position`` says where the
    position comes from (``OpenStreetMap way/1100831002 (ODbL)``)."""

    id: str
    name: str
    lon: float
    lat: float
    position: str
    record: Mapping[str, Any]  # the validated facility record (schema COLUMNS)

    def describe(self) -> str:
        return f"{self.id} {self.name} ({self.lon:.6f}, {self.lat:.6f})"


@dataclass(frozen=True)
class PositionedFile:
    facilities: tuple[Positioned, ...]
    skipped: tuple[RowError, ...]  # rows that could not be used (no name, no position …)
    outside_bbox: int = 0


@dataclass(frozen=True)
class Matched:
    entry: ListEntry
    facility: Positioned
    how: How
    alias: Alias | None = None


@dataclass(frozen=True)
class Ambiguous:
    entry: ListEntry
    candidates: tuple[Positioned, ...]
    reason: str


@dataclass(frozen=True)
class Unmatched:
    entry: ListEntry
    reason: str


@dataclass(frozen=True)
class CertifyReport:
    matched: tuple[Matched, ...]
    ambiguous: tuple[Ambiguous, ...]
    unmatched: tuple[Unmatched, ...]


# --------------------------------------------------------------------------- reading


def _csv_rows(path: Path, field: str) -> list[list[str]]:
    if not path.is_file():
        raise InputFileError(field, f"{path}: file not found; check the path")
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Chinese spreadsheets often export GBK
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputFileError(field, f"{path}: not UTF-8 or GB18030 text; re-save it as CSV UTF-8")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputFileError(field, f"{path}: not a readable CSV ({exc}); check its quoting") from exc


def _column(header: list[str], wanted: str, *, field: str, path: Path, required: bool) -> int | None:
    keys = {h.strip().lower(): i for i, h in enumerate(header)}
    i = keys.get(wanted.strip().lower())
    if i is None and required:
        found = ", ".join(h.strip() for h in header if h.strip()) or "none"
        raise GeoserviceError(field, f"{path}: no column {wanted!r} (found: {found}); name the column")
    return i


def _date(text: str | None) -> str | None:
    """``2016 年 7 月 24 日``, ``2016-7-24`` (or with / or .) as ``2016-07-24``; None when empty.
    Raises ``ValueError`` saying why for anything else (a day that does not exist, a word)."""
    if text is None:
        return None
    m = _CN_DATE.match(text) or _ISO_DATE.match(text)
    if m is None:
        raise ValueError("not a date (give YYYY-MM-DD or YYYY 年 M 月 D 日)")
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueError(f"no such day ({exc})") from None
    if day.year < 1900:
        raise ValueError("not a decision date (before 1900)")
    return day.isoformat()


def read_list(
    path: str | os.PathLike[str],
    *,
    name_col: str = DEFAULT_NAME_COL,
    batch_col: str | None = None,
    date_col: str | None = None,
) -> list[ListEntry]:
    """The names of a published list (CSV). ``batch_col`` / ``date_col`` default to ``batch`` /
    ``decision_date`` when the list has them; a column named explicitly must exist."""
    p = Path(path)
    rows = _csv_rows(p, "list")
    if not rows or not any(c.strip() for c in rows[0]):
        raise GeoserviceError("list", f"{p}: empty file; the first row must be a header with a {name_col!r} column")
    header = rows[0]
    ni = _column(header, name_col, field="name_col", path=p, required=True)
    bi = _column(header, batch_col or DEFAULT_BATCH_COL, field="batch_col", path=p, required=batch_col is not None)
    di = _column(header, date_col or DEFAULT_DATE_COL, field="date_col", path=p, required=date_col is not None)

    def cell(row: list[str], i: int | None) -> str | None:
        return cell_text(row[i]) if i is not None and i < len(row) else None

    entries = []
    for n, row in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in row):
            continue  # a blank row is counted (numbers match a spreadsheet) but holds no name
        name = cell(row, ni)
        if name is None:
            raise GeoserviceError("list", f"{p}: row {n}: empty {header[ni or 0].strip()!r}; fill it or delete the row")
        try:
            decided = _date(cell(row, di))
        except ValueError as exc:
            col = header[di or 0].strip()
            raise GeoserviceError("list", f"{p}: row {n}: {col} {cell(row, di)!r}: {exc}; fix it or empty it") from None
        entries.append(ListEntry(n, name, cell(row, bi), decided))
    if not entries:
        raise GeoserviceError("list", f"{p}: no names below the header; nothing to match")
    return entries


def read_aliases(path: str | os.PathLike[str] = ALIASES_FILE) -> dict[str, Alias]:
    """The alias table, keyed by the comparison key of the published name."""
    p = Path(path)
    rows = _csv_rows(p, "aliases")
    header = rows[0] if rows else []
    cols = [_column(header, c, field="aliases", path=p, required=True) for c in _ALIAS_COLUMNS]
    out: dict[str, Alias] = {}
    for n, row in enumerate(rows[1:], start=1):
        vals = [cell_text(row[i]) if i is not None and i < len(row) else None for i in cols]
        if not any(vals):
            continue
        published, local, source, reason = vals
        if not (published and local and source):
            raise GeoserviceError("aliases", f"{p}: row {n}: published_name, local_name and source are required")
        key = name_key(published)
        if key in out and name_key(out[key].local_name) != name_key(local):
            raise GeoserviceError("aliases", f"{p}: row {n}: {published!r} is given two different local names")
        out[key] = Alias(published, local, source, reason or "")
    return out


def _position(record: Mapping[str, Any], extras: Mapping[str, Any]) -> tuple[str, str]:
    """(id, where the position comes from) of one facility row."""
    osm_id = cell_text(extras.get("osm_id"))
    if osm_id:
        return "osm-" + osm_id.replace("/", "-"), f"OpenStreetMap {osm_id} (ODbL)"
    source = str(record["source"])
    return str(record["id"]), source if "openstreetmap" in source.lower() else f"{source} id {record['id']}"


def read_positioned(
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    lon_col: str = "lon",
    lat_col: str = "lat",
    bbox: tuple[float, float, float, float] | None = None,
) -> PositionedFile:
    """Positioned facilities from any file ``read_facilities`` reads; a plain name/lon/lat CSV
    (no ``type`` column) is read as hospitals. An ``osm_id`` column names the OSM object. Rows
    that cannot be used (no name …) are returned as ``skipped``; ``bbox`` (lon0, lat0, lon1,
    lat1, WGS-84) keeps only the facilities inside."""
    try:
        res = read_facilities(path, crs=crs, lon_col=lon_col, lat_col=lat_col)
    except FacilityFileError as exc:
        if exc.field != "type":
            raise
        res = read_facilities(path, type="hospital", crs=crs, lon_col=lon_col, lat_col=lat_col)
    extras: list[dict[str, Any]] = (
        [{str(k): v for k, v in e.items()} for e in res.extras.to_dict("records")]
        if len(res.extras.columns)
        else [{} for _ in res.records]
    )
    out, outside = [], 0
    for rec, ext in zip(res.records, extras, strict=True):
        lon, lat = float(rec["lon"]), float(rec["lat"])
        if bbox is not None and not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
            outside += 1
            continue
        fid, where = _position(rec, ext)
        out.append(Positioned(fid, str(rec["name"]), lon, lat, where, rec))
    return PositionedFile(tuple(out), tuple(res.errors), outside)


# --------------------------------------------------------------------------- matching


def _distinct(cands: Iterable[Positioned]) -> tuple[Positioned, ...]:
    """One candidate per place: the same name at the same point (to 0.1 m) is one facility."""
    seen: dict[tuple[str, float, float], Positioned] = {}
    for c in cands:
        seen.setdefault((clean_name(c.name), round(c.lon, 6), round(c.lat, 6)), c)
    return tuple(seen.values())


class _Index:
    """Facilities by comparison key, by exact (cleaned) name, and by their weaker bracket keys."""

    def __init__(self, facilities: Sequence[Positioned]) -> None:
        self.by_key: dict[str, list[Positioned]] = {}
        self.by_clean: dict[str, list[Positioned]] = {}
        self.by_weak: dict[str, list[Positioned]] = {}
        for f in facilities:
            self.by_key.setdefault(name_key(f.name), []).append(f)
            self.by_clean.setdefault(clean_name(f.name), []).append(f)
            for k in {name_key(f.name), *bracket_keys(f.name)}:
                self.by_weak.setdefault(k, []).append(f)

    def named(self, name: str) -> tuple[Positioned, ...]:
        """The facilities called ``name``: written the same way if any, else by comparison key."""
        return _distinct(self.by_clean.get(clean_name(name)) or self.by_key.get(name_key(name), []))

    def weak(self, name: str) -> tuple[Positioned, ...]:
        keys = {name_key(name), *bracket_keys(name)}
        return _distinct(f for k in sorted(keys) for f in self.by_weak.get(k, []))


def _one(entry: ListEntry, idx: _Index, aliases: Mapping[str, Alias]) -> Matched | Ambiguous | Unmatched:
    alias = aliases.get(name_key(entry.published_name))
    if alias is not None:
        cands = idx.named(alias.local_name)
        if len(cands) == 1:
            return Matched(entry, cands[0], "alias", alias)
        if cands:
            return Ambiguous(entry, cands, f"the alias {alias.local_name!r} names {len(cands)} facilities")
    cands = _distinct(idx.by_key.get(name_key(entry.published_name), []))
    if len(cands) == 1:
        same = cands[0].name.strip() == entry.published_name.strip()  # character for character
        return Matched(entry, cands[0], "exact" if same else "normalised")
    if cands:
        return Ambiguous(entry, cands, f"{len(cands)} facilities have this name")
    cands = idx.weak(entry.published_name)
    if cands:
        return Ambiguous(
            entry,
            cands,
            f"found only through a name in or outside brackets ({len(cands)} candidate"
            f"{'s' if len(cands) > 1 else ''}); confirm with an alias",
        )
    note = f"; alias {alias.local_name!r} is not in the facility file" if alias else ""
    return Unmatched(entry, f"no facility with this name{note}")


def match_names(
    entries: Sequence[ListEntry], facilities: Sequence[Positioned], aliases: Mapping[str, Alias]
) -> CertifyReport:
    """Match every published name (see the module docstring); order follows the list."""
    idx = _Index(facilities)
    matched: list[Matched] = []
    ambiguous: list[Ambiguous] = []
    unmatched: list[Unmatched] = []
    for e in entries:
        r = _one(e, idx, aliases)
        if isinstance(r, Matched):
            matched.append(r)
        elif isinstance(r, Ambiguous):
            ambiguous.append(r)
        else:
            unmatched.append(r)
    return CertifyReport(tuple(matched), tuple(ambiguous), tuple(unmatched))
