"""Facility files: CSV, GeoJSON and GeoPackage read into the common schema, and written back.

Rows are validated by ``facility_rows`` (bad rows reported, good rows loaded; row numbers are
1-based data rows, see there). A file that cannot be read at all raises ``FacilityFileError``
with a one-line message naming the file and the fix; its ``field`` names the input to change
(``file``, ``type``, ``lon_col``, ``lat_col``), so each face can name its own flag or parameter.
Columns outside the schema are kept in ``LoadResult.extras`` (``LoadResult.with_extras()``).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd

from ..errors import InputFileError
from ..fileio import atomic_path, atomic_write_text
from .cell_values import cell_text, plain_value, spreadsheet_safe, spreadsheet_text
from .facility_rows import (
    LAT_ALIASES,
    LON_ALIASES,
    LoadResult,
    RawRow,
    check_args,
    pick_column,
    validate_rows,
)
from .schema import COLUMNS, FACILITY_TYPES

__all__ = ["FacilityFileError", "read_facilities", "layer_geojson", "write_layer", "OUTPUT_SUFFIXES"]

_READERS: Final = {".csv": "csv", ".geojson": "vector", ".json": "vector", ".gpkg": "vector"}
_DRIVERS: Final = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}
OUTPUT_SUFFIXES: Final = tuple(_DRIVERS)


class FacilityFileError(InputFileError):
    """The file as a whole cannot be read (missing, wrong format, no coordinates, no type)."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(field, message)


def _extra_names(columns: list[str], used: set[str]) -> list[str]:
    """Input columns outside the schema (and not the coordinate columns used), in input order."""
    schema = set(COLUMNS)
    return [c for c in columns if c.strip().lower() not in schema and c not in used]


def _require_type(path: Path, keys: Mapping[str, str], type_arg: str | None) -> None:
    if type_arg is None and "type" not in keys:
        raise FacilityFileError(
            f"{path}: no 'type' column and no type given; give the type of its "
            f"facilities ({', '.join(FACILITY_TYPES)})",
            field="type",
        )


def _csv_text(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Chinese spreadsheets often export GBK
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise FacilityFileError(f"{path}: not UTF-8 or GB18030 text; re-save it as CSV UTF-8")


def _csv_raws(path: Path, lon_col: str, lat_col: str, type_arg: str | None) -> tuple[list[RawRow], list[str]]:
    text = _csv_text(path)
    try:
        # a cell written spreadsheet-safe ('=…, see write_layer) is read as it was
        rows = [[spreadsheet_text(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise FacilityFileError(f"{path}: not a readable CSV ({exc}); check its quoting") from exc
    if not rows or not any(c.strip() for c in rows[0]):
        raise FacilityFileError(
            f"{path}: empty file; the first row must be a header with name and {lon_col}/{lat_col} columns"
        )
    # unnamed header cells are kept as column_<n> when some row has a value there
    header = [c.strip() or f"column_{i}" for i, c in enumerate(rows[0], start=1)]
    named = {h for h, c in zip(header, rows[0], strict=True) if c.strip()}
    keys = {h.lower(): h for h in header}
    lon_h = pick_column(keys, lon_col, LON_ALIASES)
    lat_h = pick_column(keys, lat_col, LAT_ALIASES)
    if lon_h is None or lat_h is None:
        which, what, col, aliases = (
            ("lon_col", "longitude", lon_col, LON_ALIASES)
            if lon_h is None
            else ("lat_col", "latitude", lat_col, LAT_ALIASES)
        )
        raise FacilityFileError(
            f"{path}: no {what} column (looked for {', '.join(dict.fromkeys([col, *aliases]))}; "
            f"found {', '.join(h for h in header if h in named)}); name the column that "
            f"holds the {what}s",
            field=which,
        )
    _require_type(path, keys, type_arg)
    extra = _extra_names(header, {lon_h, lat_h})
    raws: list[RawRow] = []
    for n, row in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in row):
            continue  # blank row: counted (numbers match a spreadsheet) but holds no data
        cells = dict(zip(header, row, strict=False))  # short rows: missing cells are empty
        vals = {h.lower(): cells.get(h, "") for h in header}
        raw = RawRow(
            n,
            vals,
            cells.get(lon_h, ""),
            cells.get(lat_h, ""),
            lon_h,
            lat_h,
            extras={h: cell_text(cells.get(h)) for h in extra},
        )
        if any(c.strip() for c in row[len(header) :]):
            # cells shifted by an unquoted comma: no value in this row can be trusted
            raw.row_error = (
                f"{len(row)} cells but the header has {len(header)} columns; quote values that contain commas"
            )
        raws.append(raw)
    extra = [h for h in extra if h in named or any(r.extras[h] is not None for r in raws)]
    return raws, extra


def _vector_raws(path: Path, lon_col: str, lat_col: str, type_arg: str | None) -> tuple[list[RawRow], list[str]]:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio DataSourceError and friends
        msg = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FacilityFileError(
            f"{path}: cannot be read as GeoJSON/GeoPackage ({msg}); check that it is valid, e.g. by opening it in QGIS"
        ) from exc
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")  # projected files; axis order is lon/lat after this
    gcol = gdf.geometry.name
    columns = [str(c) for c in gdf.columns if c != gcol]
    keys = {c.strip().lower(): c for c in columns}
    _require_type(path, keys, type_arg)
    lon_h = pick_column(keys, lon_col, LON_ALIASES)
    lat_h = pick_column(keys, lat_col, LAT_ALIASES)
    extra = _extra_names(columns, {h for h in (lon_h, lat_h) if h})
    raws: list[RawRow] = []
    props = pd.DataFrame(gdf.drop(columns=gcol)).astype(object).to_dict("records")
    for n, (geom, rec) in enumerate(zip(gdf.geometry, props, strict=True), start=1):
        vals = {str(k).strip().lower(): val for k, val in rec.items()}
        kept = {c: rec.get(c) for c in extra}
        if geom is not None and not geom.is_empty:
            if geom.geom_type == "Point":
                raws.append(RawRow(n, vals, geom.x, geom.y, "geometry", "geometry", extras=kept))
            else:
                raws.append(RawRow(n, vals, coord_error=f"expected a Point, got a {geom.geom_type}"))
        elif lon_h and lat_h:
            raws.append(RawRow(n, vals, rec.get(lon_h), rec.get(lat_h), lon_h, lat_h, extras=kept))
        else:
            raws.append(RawRow(n, vals, coord_error="missing geometry"))
    return raws, extra


def _check_path(path: str | os.PathLike[str], table: Mapping[str, str], field: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in table:
        raise FacilityFileError(
            f"{p}: unsupported file type {p.suffix or '(none)'!r}; use .csv, .geojson/.json or .gpkg", field=field
        )
    return p


def read_facilities(
    path: str | os.PathLike[str],
    *,
    type: str | None = None,
    crs: str = "wgs84",
    lon_col: str = "lon",
    lat_col: str = "lat",
    source: str | None = None,
) -> LoadResult:
    """Read a CSV, GeoJSON or GeoPackage facility file into the common schema.

    ``type`` applies to rows without a ``type`` value (a row whose value differs is an
    error); a file without a ``type`` column needs it. ``crs`` is the coordinate system of
    the file's coordinates. ``source`` is used for rows without a ``source`` value and
    defaults to the file name. CSV coordinates come from ``lon_col``/``lat_col`` (or
    lng/long/longitude/x and latitude/y when absent); GeoJSON/GPKG coordinates from Point
    geometries. Other columns are kept in ``extras``. Errors name the argument to change.
    """
    type_arg = check_args(type, crs)
    p = _check_path(path, _READERS, "file")
    if not p.is_file():
        raise FacilityFileError(f"{p}: file not found; check the path")
    read = _csv_raws if _READERS[p.suffix.lower()] == "csv" else _vector_raws
    raws, extra = read(p, lon_col, lat_col, type_arg)
    return validate_rows(raws, type_arg=type_arg, crs=crs, source=source or p.name, extra_columns=extra)


# --------------------------------------------------------------------------- writing


def _json_value(v: Any) -> Any:
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):  # lists and other non-scalars
        pass
    return plain_value(v)


def layer_geojson(gdf: gpd.GeoDataFrame, attribution: str | None = None) -> str:
    """The layer as GeoJSON text (EPSG:4326), with a top-level ``attribution`` when given."""
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if attribution:
        fc["attribution"] = attribution
    gcol = gdf.geometry.name
    props = pd.DataFrame(gdf.drop(columns=gcol)).astype(object).to_dict("records")
    fc["features"] = [
        {
            "type": "Feature",
            "properties": {k: _json_value(v) for k, v in rec.items()},
            "geometry": None if geom is None else geom.__geo_interface__,
        }
        for rec, geom in zip(props, gdf.geometry, strict=True)
    ]
    return json.dumps(fc, ensure_ascii=False, default=str) + "\n"


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, attribution: str | None = None) -> Path:
    """Write ``gdf`` as GeoJSON (.geojson/.json), GeoPackage (.gpkg) or CSV (.csv), atomically.

    A failure never leaves a half-written file. CSV gets lon/lat columns (no geometry), a UTF-8
    BOM so that Excel shows Chinese names correctly, and text cells a spreadsheet opens as text
    (``cell_values.spreadsheet_safe``: a leading ' before = + - @, which ``read_facilities``
    takes off again). ``attribution`` (e.g. the OpenStreetMap licence of OSM-derived rows) goes
    into the GeoJSON ``attribution`` member and the GeoPackage layer description and metadata;
    CSV rows keep it in their ``source`` column.
    """
    p = _check_path(path, _DRIVERS, "output")
    driver = _DRIVERS[p.suffix.lower()]
    if driver == "GeoJSON":
        return atomic_write_text(p, layer_geojson(gdf, attribution))
    with atomic_path(p) as tmp:
        if driver == "CSV":
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            if "lon" not in df.columns or "lat" not in df.columns:
                pts = gdf.geometry.to_crs("EPSG:4326") if gdf.crs else gdf.geometry
                df["lon"], df["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
            for c in df.columns:
                if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype):
                    df[c] = df[c].map(spreadsheet_safe)
            df = df.rename(columns=spreadsheet_safe)
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            meta: dict[str, Any] = {}
            if attribution:
                meta = {"layer_options": {"DESCRIPTION": attribution}, "dataset_metadata": {"attribution": attribution}}
            gdf.to_file(tmp, driver=driver, layer=p.stem, **meta)
    return p
