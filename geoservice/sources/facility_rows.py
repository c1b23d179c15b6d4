"""Facility rows: cells read into the common schema, one row validated at a time.

Every bad row is reported (``RowError``: row number, field, reason) and every good row
still loads; nothing is dropped silently. The same rules apply to file rows (see
``facility_files``), OpenStreetMap POIs (``osm_pois``) and API records (``validate_records``).

Row numbers are 1-based data rows, the way a person counts them:

* CSV: the N-th row after the header (blank rows count, so row N is spreadsheet row N+1
  and, without multi-line cells, text-editor line N+1);
* GeoJSON / GeoPackage: the N-th feature;
* ``validate_records``: the N-th record of the list.

Text follows one rule (``cell_values.text_problem``): no control character (NUL, escape …; tab
and line breaks only in the free text of FREE_TEXT_COLUMNS) and no lone surrogate; an id is not
empty, ``.`` or ``..`` (``cell_values.id_problem``); names and the notes of TEXT_LIMITS are capped
as the API caps them.

Coordinates must be in range; (0, 0) (a missing position exported as zeros) is an error, and a
latitude outside ±90 whose pair reads validly the other way round is reported as "lon/lat look
swapped". A pair valid both ways is taken as given (``crs_check`` judges whole files against a
road network). Coordinates are converted to WGS-84 from the declared ``crs`` (``"wgs84"``, ``"gcj02"`` for
AMap/Tencent, ``"bd09"`` for Baidu); layers are EPSG:4326 with exactly the schema COLUMNS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import GeoserviceError
from .cell_values import boolean, cell_text, coordinate, id_problem, number, split_caps, swapped_pair, text_problem
from .coords import CRS_CHOICES, to_wgs84
from .opening_hours import opening_hours_error
from .schema import CAPABILITIES, COLUMNS, FACILITY_TYPES, LEVELS, STATUSES

__all__ = ["RowError", "LoadResult", "validate_records", "TEXT_LIMITS", "FREE_TEXT_COLUMNS"]

NUMBER_COLUMNS: Final = ("door_to_needle_min", "capacity")
_TEXT_COLUMNS: Final = tuple(c for c in COLUMNS if c not in (*NUMBER_COLUMNS, "demo", "lon", "lat"))
LON_ALIASES: Final = ("lon", "lng", "long", "longitude", "x")
LAT_ALIASES: Final = ("lat", "latitude", "y")
# Longest accepted free text per column (the API's request limits say the same): a name fits a
# map label, a finder's note must fit a phone popup, a floor is a short label ("B1", "3", "1;2").
TEXT_LIMITS: Final = {"name": 200, "location": 300, "floor": 40}
# Text that may hold tabs and line breaks (a spreadsheet cell of several lines); the other text
# columns are one-line words and codes (id, type, level, status …).
FREE_TEXT_COLUMNS: Final = frozenset({"name", "address", "opening_hours", "location", "source"})


@dataclass(frozen=True)
class RowError:
    """One problem in one row; ``row`` is 1-based (see the module docstring)."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass
class LoadResult:
    """Good rows as a WGS-84 GeoDataFrame with exactly the schema COLUMNS, every rejected row's
    problems, and the input's other columns (``extras``, same index as ``layer``, input order)."""

    records: list[dict[str, Any]]  # the good rows as plain dicts with exactly the COLUMNS keys
    errors: list[RowError] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the input row number of each record
    extras: pd.DataFrame = field(default_factory=pd.DataFrame)
    _layer: gpd.GeoDataFrame | None = field(default=None, repr=False)

    @property
    def layer(self) -> gpd.GeoDataFrame:
        """The good rows as a table (built on first use: an API edit of one row needs only ``records``)."""
        if self._layer is None:
            self._layer = _build_layer(self.records)
        return self._layer

    @property
    def ok(self) -> bool:
        return not self.errors

    def with_extras(self) -> gpd.GeoDataFrame:
        """The layer with the extra input columns kept: schema COLUMNS first, then the extras."""
        if len(self.extras.columns) == 0:
            return self.layer
        gcol = self.layer.geometry.name
        extras = self.extras.rename(columns=lambda c: f"{c}_input" if c == gcol else c)
        df = pd.concat([pd.DataFrame(self.layer.drop(columns=gcol)), extras], axis=1)
        return gpd.GeoDataFrame(df, geometry=self.layer.geometry, crs=self.layer.crs)


# --------------------------------------------------------------------------- validation


@dataclass
class RawRow:
    """One input row before validation; coordinates are looked up under the given keys."""

    row: int
    values: Mapping[str, Any]  # lower-case column name -> cell
    lon: Any = None
    lat: Any = None
    lon_field: str = "lon"
    lat_field: str = "lat"
    coord_error: str | None = None  # reported under "geometry", e.g. "got a Polygon"
    row_error: str | None = None  # reported under "row", e.g. too many CSV cells
    extras: Mapping[str, Any] = field(default_factory=dict)  # input column name -> cell


def _check_row(
    raw: RawRow, *, type_arg: str | None, source: str | None, errors: list[RowError]
) -> dict[str, Any] | None:
    """Validate one row; append its errors and return the normalised record (None if bad)."""
    v = raw.values
    bad: list[RowError] = []
    unreadable: set[str] = set()  # fields whose text is refused: said once, not checked further

    def err(field_name: str, reason: str) -> None:
        if field_name not in unreadable:
            bad.append(RowError(raw.row, field_name, reason))

    if raw.row_error:
        err("row", raw.row_error)
        if not v:  # nothing else to check (e.g. an API record that is not an object)
            errors.extend(bad)
            return None
    for c in _TEXT_COLUMNS:
        t = cell_text(v.get(c))
        if t is None:
            continue
        problem = id_problem(t) if c == "id" else text_problem(t, free_text=c in FREE_TEXT_COLUMNS)
        if problem:
            err(c, problem)
            unreadable.add(c)
    lon = lat = None
    if raw.coord_error:
        err("geometry", raw.coord_error)
    else:
        lon_r = coordinate(raw.lon, "longitude", -180.0, 180.0)
        lat_r = coordinate(raw.lat, "latitude", -90.0, 90.0)
        swapped = swapped_pair(raw.lon, raw.lat)
        if isinstance(lon_r, str):
            err(raw.lon_field, lon_r)
        else:
            lon = lon_r
        if isinstance(lat_r, str):
            if swapped:
                fix = (
                    "points are (x = longitude, y = latitude)"
                    if raw.lon_field == raw.lat_field
                    else f"put longitudes in {raw.lon_field}, latitudes in {raw.lat_field}"
                )
                lat_r += f"; lon/lat look swapped ({swapped}): {fix}"
            err(raw.lat_field, lat_r)
        else:
            lat = lat_r
        if lon == 0.0 and lat == 0.0:
            err(raw.lon_field, "(0, 0) is not a real location (a missing position exported as zeros)")
            lon = lat = None

    row_type = (cell_text(v.get("type")) or "").lower() or None
    ftype = None
    if row_type and type_arg and row_type != type_arg:
        err("type", f"row says {row_type!r}, not the given type {type_arg!r}")
    else:
        t = row_type or type_arg
        if t is None:
            err("type", f"missing type; give one of {', '.join(FACILITY_TYPES)}")
        elif t not in FACILITY_TYPES:
            err("type", f"unknown type {t!r}; allowed: {', '.join(FACILITY_TYPES)}")
        else:
            ftype = t

    name = cell_text(v.get("name"))
    if name is None:
        err("name", "empty name")

    level = (cell_text(v.get("level")) or "").lower() or None
    if level is not None and ftype is not None:
        allowed = LEVELS[ftype]
        if not allowed:
            err("level", f"type {ftype!r} has no levels (got {level!r})")
        elif level not in allowed:
            err("level", f"level {level!r} not allowed for {ftype}; allowed: {', '.join(allowed)}")

    caps = split_caps(v.get("capabilities"))
    if caps and ftype is not None:
        allowed = CAPABILITIES[ftype]
        if not allowed:
            err("capabilities", f"type {ftype!r} has no capabilities (got {','.join(caps)!r})")
        else:
            unknown = [c for c in caps if c not in allowed]
            if unknown:
                err("capabilities", f"unknown capability {','.join(unknown)!r}; allowed: {', '.join(allowed)}")

    status = (cell_text(v.get("status")) or "unknown").lower().replace("-", "_").replace(" ", "_")
    if status not in STATUSES:
        err("status", f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")

    hours = cell_text(v.get("opening_hours"))
    hours_error = opening_hours_error(hours) if hours is not None else None
    if hours_error:
        err("opening_hours", hours_error)

    dnt = number(v.get("door_to_needle_min"))
    if isinstance(dnt, str):
        err("door_to_needle_min", dnt)
    elif dnt is not None and not (math.isfinite(dnt) and dnt >= 0):
        err("door_to_needle_min", f"must be a finite number of minutes >= 0, got {dnt}")

    capacity = number(v.get("capacity"))
    if isinstance(capacity, str):
        err("capacity", capacity)
    elif capacity is not None and not (math.isfinite(capacity) and capacity > 0):
        err("capacity", f"must be a positive number (beds, cath labs ...; leave empty for 1), got {capacity:g}")

    demo = boolean(v.get("demo"))
    if demo is None:
        err("demo", f"not true/false: {cell_text(v.get('demo'))!r}")

    texts = {c: cell_text(v.get(c)) for c in TEXT_LIMITS}
    for c, limit in TEXT_LIMITS.items():
        t = texts[c]
        if t is not None and len(t) > limit:
            err(c, f"at most {limit} characters, got {len(t)}")

    src = cell_text(v.get("source")) or source
    if src is None:
        err("source", "missing source (say where the row came from)")

    errors.extend(bad)
    if bad:
        return None
    access = cell_text(v.get("access"))
    return {
        "id": cell_text(v.get("id")),  # filled in later when missing
        "type": ftype,
        "name": name,
        "level": level,
        "capabilities": ",".join(caps),
        "address": cell_text(v.get("address")),
        "admin_code": cell_text(v.get("admin_code")),
        "status": status,
        "opening_hours": hours,
        "access": access.lower() if access else None,
        "location": texts["location"],
        "floor": texts["floor"],
        "door_to_needle_min": dnt,
        "capacity": capacity,
        "source": src,
        "demo": demo,
        "lon": lon,
        "lat": lat,
    }


def _build_layer(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {}
    for c in _TEXT_COLUMNS:
        cols[c] = pd.Series([r[c] for r in records], dtype=object)
    for c in NUMBER_COLUMNS:
        cols[c] = pd.Series([np.nan if r[c] is None else r[c] for r in records], dtype="float64")
    cols["demo"] = pd.Series([bool(r["demo"]) for r in records], dtype=bool)
    cols["lon"] = pd.Series([r["lon"] for r in records], dtype="float64")
    cols["lat"] = pd.Series([r["lat"] for r in records], dtype="float64")
    df = pd.DataFrame({c: cols[c] for c in COLUMNS})
    geom = gpd.points_from_xy(df["lon"].to_numpy(), df["lat"].to_numpy())
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def validate_rows(
    raws: Iterable[RawRow], *, type_arg: str | None, crs: str, source: str | None, extra_columns: Iterable[str] = ()
) -> LoadResult:
    """Validate rows (ids unique, coordinates converted to WGS-84); ``extra_columns`` are the
    input columns outside the schema, kept in ``LoadResult.extras`` for the good rows."""
    errors: list[RowError] = []
    good: list[dict[str, Any]] = []
    extras: list[Mapping[str, Any]] = []
    rows: list[int] = []
    first_seen: dict[str, int] = {}
    for raw in raws:
        rec = _check_row(raw, type_arg=type_arg, source=source, errors=errors)
        # ids are unique across all rows, bad ones included: the file is what must be fixed
        rid = cell_text(raw.values.get("id"))
        if rid is None:
            t = (rec or {}).get("type") or (cell_text(raw.values.get("type")) or type_arg or "row")
            rid = f"{str(t).lower()}-{raw.row}"
        if rid in first_seen:
            errors.append(RowError(raw.row, "id", f"duplicate id {rid!r} (first at row {first_seen[rid]})"))
            rec = None
        else:
            first_seen[rid] = raw.row
        if rec is not None:
            rec["id"] = rid
            good.append(rec)
            extras.append(raw.extras)
            rows.append(raw.row)
    if good:
        lon, lat = to_wgs84(np.array([r["lon"] for r in good]), np.array([r["lat"] for r in good]), crs)
        for r, x, y in zip(good, np.atleast_1d(lon), np.atleast_1d(lat), strict=True):
            r["lon"], r["lat"] = float(x), float(y)
    errors.sort(key=lambda e: e.row)  # stable: keeps field order within a row
    names = list(extra_columns)
    extra_df = pd.DataFrame([[e.get(c) for c in names] for e in extras], columns=names, dtype=object).infer_objects()
    return LoadResult(good, errors, rows=rows, extras=extra_df)


def check_args(type_arg: str | None, crs: str) -> str | None:
    """Validate the ``type`` and ``crs`` given for a whole input; returns the type, normalised."""
    key = crs.strip().lower().replace("-", "").replace("_", "") if isinstance(crs, str) else None
    if key not in CRS_CHOICES:
        raise GeoserviceError("crs", f"unknown coordinate system {crs!r}; allowed: {', '.join(CRS_CHOICES)}")
    if type_arg is None:
        return None
    t = type_arg.strip().lower()
    if t not in FACILITY_TYPES:
        raise GeoserviceError("type", f"unknown facility type {type_arg!r}; allowed: {', '.join(FACILITY_TYPES)}")
    return t


def pick_column(keys: Mapping[str, str], wanted: str, aliases: tuple[str, ...]) -> str | None:
    """Find the column for ``wanted`` (``keys``: lower-case name → name), else the first alias."""
    for k in (wanted.lower(), *aliases):
        if k in keys:
            return keys[k]
    return None


def validate_records(
    records: list[dict[str, Any]], *, crs: str = "wgs84", type: str | None = None, source: str | None = None
) -> LoadResult:
    """Validate in-memory rows (e.g. an API POST) exactly as file rows are validated.

    Each record uses the COLUMNS keys (``lng``/``longitude``/``x`` and ``latitude``/``y`` are
    accepted for lon/lat); other keys are ignored (the layer has exactly the schema columns).
    Row numbers in errors are 1-based positions in ``records``.
    """
    type_arg = check_args(type, crs)

    def raws() -> Iterable[RawRow]:
        for i, rec in enumerate(records, start=1):
            if not isinstance(rec, Mapping):
                yield RawRow(i, {}, row_error=f"record is not an object: {rec!r}"[:200])
                continue
            keys = {str(k).strip().lower(): str(k) for k in rec}
            lon_k = pick_column(keys, "lon", LON_ALIASES) or "lon"
            lat_k = pick_column(keys, "lat", LAT_ALIASES) or "lat"
            vals = {str(k).strip().lower(): val for k, val in rec.items()}
            yield RawRow(i, vals, rec.get(lon_k), rec.get(lat_k), lon_k, lat_k)

    return validate_rows(raws(), type_arg=type_arg, crs=crs, source=source)
