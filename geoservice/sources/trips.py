"""Observed trips for calibrating travel times: the CSV format, read and checked row by row.

A trip file has one row per trip with ``trip_id``, ``origin_lon``, ``origin_lat``,
``destination_lon``, ``destination_lat``, ``depart`` (an ISO local date-time: ``2026-03-02T08:15``
or ``2026-03-02 08:15``, the hour is what matters), ``observed_s`` (seconds from departure to
arrival) and optionally ``priority`` (lights and sirens: yes/no, true/false, 1/0) and
``weekday`` (a working day: yes/no, true/false, 1/0; read from the date, Monday to Friday, when
the column is absent, and it wins over the date where given, for China's swapped working days).
Coordinates are in the file's declared system (``crs``) and converted to WGS-84 here. Lines
starting with ``#`` before the header are comments (a file's provenance, ``SYNTHETIC``).

A row that cannot be a trip is never fitted and never silently dropped: it becomes a
``Rejection`` with its 1-based data row, its id and a reason code, which calibration's report
lists (``REASONS``). A file that cannot be read as a whole (missing, not CSV text, a missing
column, no row) is an error naming ``trips``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputFileError
from .coords import to_wgs84

__all__ = ["REQUIRED", "REASONS", "Rejection", "Trips", "read_trips"]

REQUIRED = ("trip_id", "origin_lon", "origin_lat", "destination_lon", "destination_lat", "depart", "observed_s")
OPTIONAL = ("priority", "weekday")
REASONS: dict[str, str] = {
    "bad_row": "a value is missing or not a number",
    "bad_coordinates": "a position is not a longitude / latitude",
    "no_hour": "the departure has no time of day",
    "bad_time": "observed_s is zero, negative or not finite",
    "duplicate_id": "the trip_id was already used by an earlier row",
    "bad_flag": "priority / weekday is not yes/no",
    "off_network": "an end lies farther from a road than the region allows",
    "too_short": "origin and destination are too close to say anything about road speeds",
    "too_fast": "faster than the network's top speed allows over the straight-line distance",
    "no_route": "no road route joins the two ends",
    "outlier": "the fitted model cannot explain it (robust residual beyond the limit)",
    "excluded_days": "not on the days asked for (--days)",
}
_YES = {"1", "yes", "y", "true", "t"}
_NO = {"0", "no", "n", "false", "f"}
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class Rejection:
    """A trip left out of the fit: its 1-based data row, id, reason code (``REASONS``) and what
    exactly is wrong."""

    row: int
    trip_id: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"row": self.row, "trip_id": self.trip_id, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Trips:
    """The readable trips as arrays (WGS-84), with the rows rejected on reading."""

    path: str
    rows_read: int
    row: np.ndarray  # 1-based data row of each trip
    trip_id: list[str]
    o_lon: np.ndarray
    o_lat: np.ndarray
    d_lon: np.ndarray
    d_lat: np.ndarray
    hour: np.ndarray
    weekday: np.ndarray  # bool: a working day
    observed_s: np.ndarray
    priority: np.ndarray | None  # bool per trip, None when the file has no priority column
    rejected: list[Rejection]
    crs: str

    def __len__(self) -> int:
        return len(self.row)

    def take(self, idx: np.ndarray) -> Trips:
        """The trips at positions ``idx`` (the rejections are kept as they are)."""
        ids = [self.trip_id[i] for i in idx]
        arrays = {
            k: getattr(self, k)[idx]
            for k in ("row", "o_lon", "o_lat", "d_lon", "d_lat", "hour", "weekday", "observed_s")
        }
        prio = None if self.priority is None else self.priority[idx]
        return Trips(
            self.path, self.rows_read, trip_id=ids, priority=prio, rejected=self.rejected, crs=self.crs, **arrays
        )


def _text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Chinese spreadsheets often export GBK
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputFileError("trips", f"{path} is not UTF-8 or GB18030 text")


def _flag(text: str) -> bool | None:
    t = text.strip().lower()
    return True if t in _YES else False if t in _NO else None


def _number(row: dict[str, str], col: str) -> float:
    text = (row.get(col) or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{col} {text!r} is not a number" if text else f"{col} is empty") from None
    if not math.isfinite(value):
        raise ValueError(f"{col} {text!r} is not a finite number")
    return value


def _depart(text: str) -> datetime:
    t = text.strip()
    if not t:
        raise ValueError("depart is empty")
    if _DATE_ONLY.match(t):
        raise LookupError(f"depart {t!r} has a date but no time of day; give an ISO date-time such as {t}T08:30")
    try:
        return datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"depart {t!r} is not an ISO date-time such as 2026-03-02T08:30") from None


def read_trips(path: str | Path, crs: str = "wgs84") -> Trips:
    """Read and check a trip file (see the module). Errors of the file as a whole name ``trips``."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError("trips", f"file not found: {path}")
    text = _text(p)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise InputFileError("trips", f"{path} is empty (a header {','.join(REQUIRED)} and one row per trip)")
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and lines[skip].lstrip().startswith("#"):  # leading comment lines
        skip += 1
    reader = csv.DictReader(io.StringIO("".join(lines[skip:]), newline=""))
    header = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputFileError("trips", f"{path} lacks column(s) {', '.join(missing)} (need {', '.join(REQUIRED)})")
    has_prio, has_weekday = "priority" in header, "weekday" in header
    rejected: list[Rejection] = []
    first_row: dict[str, int] = {}
    keep: list[tuple[int, str, float, float, float, float, int, bool, float, bool]] = []
    n = 0
    for n, row in enumerate(reader, 1):
        tid = (row.get("trip_id") or "").strip()
        try:
            if not tid:
                raise ValueError("trip_id is empty")
            coords = [_number(row, c) for c in REQUIRED[1:5]]
            when = _depart(row.get("depart") or "")
            obs = _number(row, "observed_s")
        except LookupError as exc:
            rejected.append(Rejection(n, tid, "no_hour", str(exc)))
            continue
        except ValueError as exc:
            rejected.append(Rejection(n, tid, "bad_row", str(exc)))
            continue
        if tid in first_row:
            rejected.append(Rejection(n, tid, "duplicate_id", f"trip_id {tid!r} is already on row {first_row[tid]}"))
            continue
        first_row[tid] = n
        olon, olat, dlon, dlat = coords
        bad = [
            f"{end} ({lo}, {la})"
            for end, lo, la in (("origin", olon, olat), ("destination", dlon, dlat))
            if not (-180 <= lo <= 180 and -90 <= la <= 90)
        ]
        if bad:
            rejected.append(Rejection(n, tid, "bad_coordinates", f"{' and '.join(bad)} is not a lon/lat"))
            continue
        if obs <= 0:
            rejected.append(Rejection(n, tid, "bad_time", f"observed_s {obs:g} is not a positive number of seconds"))
            continue
        prio = _flag(row.get("priority") or "") if has_prio else False
        work = _flag(row.get("weekday") or "") if has_weekday else when.weekday() < 5
        if prio is None or work is None:
            col = "priority" if prio is None else "weekday"
            rejected.append(Rejection(n, tid, "bad_flag", f"{col} {row.get(col)!r} is not yes/no (1/0, true/false)"))
            continue
        keep.append((n, tid, olon, olat, dlon, dlat, when.hour, work, obs, prio))
    if n == 0:
        raise InputFileError("trips", f"{path} has a header but no trips")
    cols = list(zip(*keep)) if keep else [()] * 10
    olon_a, olat_a = to_wgs84(np.asarray(cols[2], float), np.asarray(cols[3], float), crs)
    dlon_a, dlat_a = to_wgs84(np.asarray(cols[4], float), np.asarray(cols[5], float), crs)
    return Trips(
        path=str(path),
        rows_read=n,
        row=np.asarray(cols[0], np.int64),
        trip_id=list(cols[1]),
        o_lon=np.atleast_1d(np.asarray(olon_a, float)),
        o_lat=np.atleast_1d(np.asarray(olat_a, float)),
        d_lon=np.atleast_1d(np.asarray(dlon_a, float)),
        d_lat=np.atleast_1d(np.asarray(dlat_a, float)),
        hour=np.asarray(cols[6], np.int64),
        weekday=np.asarray(cols[7], bool),
        observed_s=np.asarray(cols[8], float),
        priority=np.asarray(cols[9], bool) if has_prio else None,
        rejected=rejected,
        crs=crs,
    )
