"""One schema for every facility layer, with readers that validate row by row.

Every bad row is reported (``RowError``: row number, field, reason) and every good row
still loads; nothing is dropped silently. A file that cannot be read at all raises
``FacilityFileError`` with a one-line message naming the file and the fix.

Row numbers are 1-based data rows, the way a person counts them in the file:

* CSV: the N-th row after the header (blank rows count, so row N is spreadsheet row N+1
  and, without multi-line cells, text-editor line N+1);
* GeoJSON / GeoPackage: the N-th feature;
* ``validate_records``: the N-th record of the list.

Coordinates are converted to WGS-84 on import from the declared ``crs``
(``"wgs84"``, ``"gcj02"`` for AMap/Tencent, ``"bd09"`` for Baidu); layers are EPSG:4326.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.sources.coords import CRS_CHOICES, to_wgs84

__all__ = [
    "FACILITY_TYPES",
    "LEVELS",
    "CAPABILITIES",
    "STATUSES",
    "COLUMNS",
    "OSM_SOURCE",
    "RowError",
    "LoadResult",
    "FacilityFileError",
    "read_facilities",
    "validate_records",
    "read_osm_pois",
    "write_layer",
]

log = logging.getLogger(__name__)

FACILITY_TYPES: Final = (
    "chest_pain_center",
    "stroke_center",
    "grassroots_unit",
    "aed",
    "ems_station",
    "hospital",
)
LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "chest_pain_center": ("standard", "basic"),
    "stroke_center": ("advanced", "center", "station"),
    "grassroots_unit": (),
    "aed": (),
    "ems_station": (),
    "hospital": ("hospital", "clinic"),
}
CAPABILITIES: Final[dict[str, tuple[str, ...]]] = {
    t: (("evt", "ivt") if t == "stroke_center" else ()) for t in FACILITY_TYPES
}
STATUSES: Final = ("certified", "in_construction", "planned", "unknown")
COLUMNS: Final = (
    "id",
    "type",
    "name",
    "level",
    "capabilities",
    "address",
    "admin_code",
    "status",
    "opening_hours",
    "access",
    "door_to_needle_min",
    "source",
    "demo",
    "lon",
    "lat",
)
OSM_SOURCE: Final = "OpenStreetMap (ODbL)"

_TEXT_COLUMNS: Final = ("id", "type", "name", "level", "capabilities", "address", "admin_code",
                        "status", "opening_hours", "access", "source")
_LON_ALIASES: Final = ("lon", "lng", "long", "longitude", "x")
_LAT_ALIASES: Final = ("lat", "latitude", "y")
_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "0.0"})
_READERS: Final = {".csv": "csv", ".geojson": "vector", ".json": "vector", ".gpkg": "vector"}
_DRIVERS: Final = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}


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
    """Good rows as a WGS-84 GeoDataFrame, plus every rejected row's problems."""

    layer: gpd.GeoDataFrame
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class FacilityFileError(ValueError):
    """The file as a whole cannot be read (missing, wrong format, no coordinates)."""


# --------------------------------------------------------------------------- values


def _text(value: Any) -> str | None:
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


def _number(value: Any) -> float | str | None:
    """Cell → float, None when empty, or an error reason string."""
    if isinstance(value, (bool, np.bool_)):
        return f"not a number: {value!r}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return None if math.isnan(f) else f
    s = _text(value)
    if s is None:
        return None
    try:
        f = float(s)
    except ValueError:
        return f"not a number: {s!r}"
    return None if math.isnan(f) else f


def _bool(value: Any) -> bool | None:
    """Cell → bool (empty → False), or None if it cannot be read as one."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    s = _text(value)
    if s is None:
        return False
    s = s.lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def _split_caps(value: Any) -> list[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [_text(v) for v in value]
        return sorted({p.lower() for p in parts if p})
    s = _text(value)
    if s is None:
        return []
    return sorted({p.lower() for p in re.split(r"[,;|\s]+", s) if p})


def _coord(value: Any, what: str, lo: float, hi: float) -> float | str:
    n = _number(value)
    if n is None:
        return f"missing {what}"
    if isinstance(n, str):
        return n
    if not math.isfinite(n):
        return f"{what} is not finite: {n}"
    if not lo <= n <= hi:
        return f"{what} {n} outside [{lo:g}, {hi:g}]"
    return n


# --------------------------------------------------------------------------- validation


@dataclass
class _Raw:
    """One input row before validation; coordinates are looked up under the given keys."""

    row: int
    values: Mapping[str, Any]
    lon: Any = None
    lat: Any = None
    lon_field: str = "lon"
    lat_field: str = "lat"
    coord_error: str | None = None  # reported under "geometry", e.g. "got a Polygon"
    row_error: str | None = None  # reported under "row", e.g. too many CSV cells


def _check_row(raw: _Raw, *, type_arg: str | None, source: str | None,
               errors: list[RowError]) -> dict[str, Any] | None:
    """Validate one row; append its errors and return the normalised record (None if bad)."""
    v = raw.values
    bad: list[RowError] = []

    def err(field_name: str, reason: str) -> None:
        bad.append(RowError(raw.row, field_name, reason))

    if raw.row_error:
        err("row", raw.row_error)
        if not v:  # nothing else to check (e.g. an API record that is not an object)
            errors.extend(bad)
            return None
    # coordinates
    lon = lat = None
    if raw.coord_error:
        err("geometry", raw.coord_error)
    else:
        lon_r = _coord(raw.lon, "longitude", -180.0, 180.0)
        lat_r = _coord(raw.lat, "latitude", -90.0, 90.0)
        if isinstance(lon_r, str):
            err(raw.lon_field, lon_r)
        else:
            lon = lon_r
        if isinstance(lat_r, str):
            err(raw.lat_field, lat_r)
        else:
            lat = lat_r

    # type
    row_type = (_text(v.get("type")) or "").lower() or None
    ftype = None
    if row_type and type_arg and row_type != type_arg:
        err("type", f"row says {row_type!r} but the file was loaded as type={type_arg!r}")
    else:
        t = row_type or type_arg
        if t is None:
            err("type", "missing type (add a 'type' column or pass type=...)")
        elif t not in FACILITY_TYPES:
            err("type", f"unknown type {t!r}; allowed: {', '.join(FACILITY_TYPES)}")
        else:
            ftype = t

    name = _text(v.get("name"))
    if name is None:
        err("name", "empty name")

    level = (_text(v.get("level")) or "").lower() or None
    if level is not None and ftype is not None:
        allowed = LEVELS[ftype]
        if not allowed:
            err("level", f"type {ftype!r} has no levels (got {level!r})")
        elif level not in allowed:
            err("level", f"level {level!r} not allowed for {ftype}; allowed: {', '.join(allowed)}")

    caps = _split_caps(v.get("capabilities"))
    if caps and ftype is not None:
        allowed = CAPABILITIES[ftype]
        if not allowed:
            err("capabilities", f"type {ftype!r} has no capabilities (got {','.join(caps)!r})")
        else:
            unknown = [c for c in caps if c not in allowed]
            if unknown:
                err("capabilities", f"unknown capability {','.join(unknown)!r}; "
                                    f"allowed: {', '.join(allowed)}")

    status = (_text(v.get("status")) or "unknown").lower().replace("-", "_").replace(" ", "_")
    if status not in STATUSES:
        err("status", f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")

    dnt = _number(v.get("door_to_needle_min"))
    if isinstance(dnt, str):
        err("door_to_needle_min", dnt)
    elif dnt is not None and not (math.isfinite(dnt) and dnt >= 0):
        err("door_to_needle_min", f"must be a finite number of minutes >= 0, got {dnt}")

    demo = _bool(v.get("demo"))
    if demo is None:
        err("demo", f"not true/false: {_text(v.get('demo'))!r}")

    src = _text(v.get("source")) or source
    if src is None:
        err("source", "missing source (say where the row came from)")

    errors.extend(bad)
    if bad:
        return None
    access = _text(v.get("access"))
    return {
        "id": _text(v.get("id")),  # filled in later when missing
        "type": ftype,
        "name": name,
        "level": level,
        "capabilities": ",".join(caps),
        "address": _text(v.get("address")),
        "admin_code": _text(v.get("admin_code")),
        "status": status,
        "opening_hours": _text(v.get("opening_hours")),
        "access": access.lower() if access else None,
        "door_to_needle_min": dnt,
        "source": src,
        "demo": demo,
        "lon": lon,
        "lat": lat,
    }


def _build_layer(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {}
    for c in _TEXT_COLUMNS:
        cols[c] = pd.Series([r[c] for r in records], dtype=object)
    cols["door_to_needle_min"] = pd.Series(
        [np.nan if r["door_to_needle_min"] is None else r["door_to_needle_min"] for r in records],
        dtype="float64")
    cols["demo"] = pd.Series([bool(r["demo"]) for r in records], dtype=bool)
    cols["lon"] = pd.Series([r["lon"] for r in records], dtype="float64")
    cols["lat"] = pd.Series([r["lat"] for r in records], dtype="float64")
    df = pd.DataFrame({c: cols[c] for c in COLUMNS})
    geom = gpd.points_from_xy(df["lon"].to_numpy(), df["lat"].to_numpy())
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def _validate(raws: Iterable[_Raw], *, type_arg: str | None, crs: str,
              source: str | None) -> LoadResult:
    errors: list[RowError] = []
    good: list[dict[str, Any]] = []
    first_seen: dict[str, int] = {}
    for raw in raws:
        rec = _check_row(raw, type_arg=type_arg, source=source, errors=errors)
        # ids are unique across all rows, bad ones included: the file is what must be fixed
        rid = _text(raw.values.get("id"))
        if rid is None:
            t = (rec or {}).get("type") or (_text(raw.values.get("type")) or type_arg or "row")
            rid = f"{str(t).lower()}-{raw.row}"
        if rid in first_seen:
            errors.append(RowError(raw.row, "id", f"duplicate id {rid!r} (first at row "
                                                  f"{first_seen[rid]})"))
            rec = None
        else:
            first_seen[rid] = raw.row
        if rec is not None:
            rec["id"] = rid
            good.append(rec)
    if good:
        lon, lat = to_wgs84(np.array([r["lon"] for r in good]),
                            np.array([r["lat"] for r in good]), crs)
        for r, x, y in zip(good, np.atleast_1d(lon), np.atleast_1d(lat)):
            r["lon"], r["lat"] = float(x), float(y)
    errors.sort(key=lambda e: e.row)  # stable: keeps field order within a row
    return LoadResult(_build_layer(good), errors)


def _check_args(type_arg: str | None, crs: str) -> str | None:
    if isinstance(crs, str):
        key = crs.strip().lower().replace("-", "").replace("_", "")
    else:
        key = None
    if key not in CRS_CHOICES:
        raise ValueError(f"unknown coordinate system {crs!r}; allowed: {', '.join(CRS_CHOICES)}")
    if type_arg is None:
        return None
    t = type_arg.strip().lower()
    if t not in FACILITY_TYPES:
        raise ValueError(f"unknown facility type {type_arg!r}; "
                         f"allowed: {', '.join(FACILITY_TYPES)}")
    return t


def _pick(keys: Mapping[str, str], wanted: str, aliases: tuple[str, ...]) -> str | None:
    """Find the column for ``wanted`` (case-insensitive), else the first alias present."""
    for k in (wanted.lower(), *aliases):
        if k in keys:
            return keys[k]
    return None


def validate_records(records: list[dict[str, Any]], *, crs: str = "wgs84",
                     type: str | None = None, source: str | None = None) -> LoadResult:
    """Validate in-memory rows (e.g. an API POST) exactly as file rows are validated.

    Each record uses the COLUMNS keys (``lng``/``longitude``/``x`` and ``latitude``/``y`` are
    accepted for lon/lat); row numbers in errors are 1-based positions in ``records``.
    """
    type_arg = _check_args(type, crs)

    def raws() -> Iterable[_Raw]:
        for i, rec in enumerate(records, start=1):
            if not isinstance(rec, Mapping):
                yield _Raw(i, {}, row_error=f"record is not an object: {rec!r}"[:200])
                continue
            keys = {str(k).strip().lower(): str(k) for k in rec}
            lon_k = _pick(keys, "lon", _LON_ALIASES) or "lon"
            lat_k = _pick(keys, "lat", _LAT_ALIASES) or "lat"
            vals = {str(k).strip().lower(): val for k, val in rec.items()}
            yield _Raw(i, vals, rec.get(lon_k), rec.get(lat_k), lon_k, lat_k)

    return _validate(raws(), type_arg=type_arg, crs=crs, source=source)


# --------------------------------------------------------------------------- files


def _csv_text(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Chinese spreadsheets often export GBK
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise FacilityFileError(f"{path}: not UTF-8 or GB18030 text; re-save it as CSV UTF-8")


def _csv_raws(path: Path, lon_col: str, lat_col: str) -> list[_Raw]:
    text = _csv_text(path)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FacilityFileError(f"{path}: not a readable CSV ({exc}); check its quoting") from exc
    if not rows or not any(c.strip() for c in rows[0]):
        raise FacilityFileError(f"{path}: empty file; the first row must be a header with "
                                f"name and {lon_col}/{lat_col} columns")
    header = [c.strip() for c in rows[0]]
    keys = {h.lower(): h for h in header if h}
    lon_h = _pick(keys, lon_col, _LON_ALIASES)
    lat_h = _pick(keys, lat_col, _LAT_ALIASES)
    if lon_h is None or lat_h is None:
        raise FacilityFileError(
            f"{path}: no coordinate columns (found: {', '.join(header)}); name them lon/lat "
            f"or pass lon_col=/lat_col=")
    raws: list[_Raw] = []
    for n, row in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in row):
            continue  # blank row: counted (numbers match a spreadsheet) but holds no data
        vals = {h.lower(): (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
        raw = _Raw(n, vals, vals[lon_h.lower()], vals[lat_h.lower()], lon_h, lat_h)
        if any(c.strip() for c in row[len(header):]):
            # cells shifted by an unquoted comma: no value in this row can be trusted
            raw.row_error = (f"{len(row)} cells but the header has {len(header)} columns; "
                             f"quote values that contain commas")
        raws.append(raw)
    return raws


def _vector_raws(path: Path, lon_col: str, lat_col: str) -> list[_Raw]:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio DataSourceError and friends
        msg = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FacilityFileError(f"{path}: cannot be read as GeoJSON/GeoPackage ({msg}); "
                                f"check that it is valid, e.g. by opening it in QGIS") from exc
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")  # projected files; axis order is lon/lat after this
    gcol = gdf.geometry.name
    keys = {str(c).strip().lower(): str(c) for c in gdf.columns if c != gcol}
    lon_h = _pick(keys, lon_col, _LON_ALIASES)
    lat_h = _pick(keys, lat_col, _LAT_ALIASES)
    raws: list[_Raw] = []
    props = pd.DataFrame(gdf.drop(columns=gcol)).astype(object).to_dict("records")
    for n, (geom, rec) in enumerate(zip(gdf.geometry, props), start=1):
        vals = {str(k).strip().lower(): val for k, val in rec.items()}
        if geom is not None and not geom.is_empty:
            if geom.geom_type == "Point":
                raws.append(_Raw(n, vals, geom.x, geom.y, "geometry", "geometry"))
            else:
                raws.append(_Raw(n, vals, coord_error=f"expected a Point, got a {geom.geom_type}"))
        elif lon_h and lat_h:
            raws.append(_Raw(n, vals, rec.get(lon_h), rec.get(lat_h), lon_h, lat_h))
        else:
            raws.append(_Raw(n, vals, coord_error="missing geometry"))
    return raws


def _check_path(path: str | os.PathLike[str], table: Mapping[str, str]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in table:
        raise FacilityFileError(f"{p}: unsupported file type {p.suffix or '(none)'!r}; "
                                f"use .csv, .geojson/.json or .gpkg")
    return p


def read_facilities(path: str | os.PathLike[str], *, type: str | None = None,
                    crs: str = "wgs84", lon_col: str = "lon", lat_col: str = "lat",
                    source: str | None = None) -> LoadResult:
    """Read a CSV, GeoJSON or GeoPackage facility file into the common schema.

    ``type`` applies to rows without a ``type`` value (a row whose value differs is an
    error). ``crs`` is the coordinate system of the file's coordinates. ``source`` is used
    for rows without a ``source`` value and defaults to the file name. CSV coordinates come
    from ``lon_col``/``lat_col`` (or lng/long/longitude/x and latitude/y when absent);
    GeoJSON/GPKG coordinates from Point geometries. Row numbers: see the module docstring.
    """
    type_arg = _check_args(type, crs)
    p = _check_path(path, _READERS)
    if not p.is_file():
        raise FacilityFileError(f"{p}: file not found; check the path")
    if _READERS[p.suffix.lower()] == "csv":
        raws = _csv_raws(p, lon_col, lat_col)
    else:
        raws = _vector_raws(p, lon_col, lat_col)
    return _validate(raws, type_arg=type_arg, crs=crs, source=source or p.name)


# --------------------------------------------------------------------------- OpenStreetMap


def _osm_address(tags: Mapping[str, str]) -> str | None:
    if tags.get("addr:full"):
        return tags["addr:full"]
    street = " ".join(x for x in (tags.get("addr:housenumber"), tags.get("addr:street")) if x)
    parts = [x for x in (street, tags.get("addr:postcode"), tags.get("addr:city")) if x]
    return ", ".join(parts) or None


def _osm_records(tags: Mapping[str, str], osm_id: str, lon: float, lat: float) -> list[dict]:
    out: list[dict[str, Any]] = []
    base = {"lon": lon, "lat": lat, "address": _osm_address(tags), "source": OSM_SOURCE,
            "opening_hours": tags.get("opening_hours"), "access": tags.get("access")}
    amenity = tags.get("amenity")
    if amenity in ("hospital", "clinic"):
        out.append(dict(base, id=osm_id, type="hospital", level=amenity,
                        name=tags.get("name") or tags.get("name:zh") or f"unnamed {amenity}"))
    if tags.get("emergency") == "defibrillator":
        name = (tags.get("name") or tags.get("defibrillator:location")
                or tags.get("description") or "AED")
        out.append(dict(base, id=osm_id + ("-aed" if out else ""), type="aed", name=name))
    return out


def read_osm_pois(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """AEDs (``emergency=defibrillator``) and hospitals/clinics (``amenity=hospital|clinic``).

    Streams .osm/.osm.pbf/.osm.gz/.osm.bz2 with pyosmium. Nodes give points; ways (hospital
    buildings or grounds) and multipolygon relations give the centroid of their outline.
    Ids are ``osm-node-<id>``, ``osm-way-<id>``, ``osm-relation-<id>``. Rows that fail
    validation are logged and kept in ``gdf.attrs["errors"]`` rather than dropped silently.
    """
    import osmium  # heavy C++ extension; only needed here

    p = Path(path)
    if not p.is_file():
        raise FacilityFileError(f"{p}: file not found; check the path")
    names = p.name.lower()
    if not names.endswith((".osm", ".osm.pbf", ".pbf", ".osm.gz", ".osm.bz2")):
        raise FacilityFileError(f"{p}: unsupported file type; use .osm, .osm.pbf, .osm.gz "
                                f"or .osm.bz2")
    wanted = (("emergency", "defibrillator"), ("amenity", "hospital"), ("amenity", "clinic"))
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    try:
        fp = (osmium.FileProcessor(p).with_locations()
              .with_areas(osmium.filter.TagFilter(*wanted))
              .with_filter(osmium.filter.TagFilter(*wanted)))
        for obj in fp:
            tags = {t.k: t.v for t in obj.tags}
            if obj.is_node():
                if not obj.location.valid():
                    skipped.append(f"osm-node-{obj.id}")
                    continue
                records += _osm_records(tags, f"osm-node-{obj.id}", obj.location.lon,
                                        obj.location.lat)
            elif obj.is_way():
                pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                c = _centroid(pts)
                if c is None:
                    skipped.append(f"osm-way-{obj.id}")
                    continue
                records += _osm_records(tags, f"osm-way-{obj.id}", *c)
            elif obj.is_area() and not obj.from_way():
                rings = [shapely.Polygon([(n.lon, n.lat) for n in ring])
                         for ring in obj.outer_rings()]
                geom = shapely.MultiPolygon(rings) if rings else None
                if geom is None or geom.is_empty:
                    skipped.append(f"osm-relation-{obj.orig_id()}")
                    continue
                c = geom.centroid
                records += _osm_records(tags, f"osm-relation-{obj.orig_id()}", c.x, c.y)
    except RuntimeError as exc:
        raise FacilityFileError(f"{p}: cannot be read as an OSM file ({exc}); check that "
                                f"it is a complete .osm/.osm.pbf extract") from exc
    result = validate_records(records, source=OSM_SOURCE)
    errors = list(result.errors) + [RowError(0, "geometry", f"{i}: no node locations in file")
                                    for i in skipped]
    if errors:
        log.warning("%s: %d OSM features not loaded: %s", p, len(errors),
                    "; ".join(map(str, errors[:5])))
    result.layer.attrs["errors"] = errors
    return result.layer


def _centroid(pts: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not pts:
        return None
    if len(pts) >= 4 and pts[0] == pts[-1]:
        c = shapely.Polygon(pts).centroid
        if not c.is_empty:
            return c.x, c.y
    c = shapely.LineString(pts).centroid if len(pts) > 1 else shapely.Point(pts[0])
    return c.x, c.y


# --------------------------------------------------------------------------- writing


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``gdf`` as GeoJSON (.geojson/.json), GeoPackage (.gpkg) or CSV (.csv), atomically.

    The file is written in a temporary directory beside ``path`` and moved into place with
    ``os.replace``, so a failure never leaves a half-written file. CSV gets lon/lat columns
    (no geometry) and a UTF-8 BOM so that Excel shows Chinese names correctly.
    """
    p = _check_path(path, _DRIVERS)
    driver = _DRIVERS[p.suffix.lower()]
    if not p.parent.is_dir():
        raise FacilityFileError(f"{p}: folder {p.parent} does not exist; create it first")
    with tempfile.TemporaryDirectory(dir=p.parent, prefix=f".{p.name}.") as tmpdir:
        tmp = Path(tmpdir) / p.name
        if driver == "CSV":
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            if "lon" not in df.columns or "lat" not in df.columns:
                pts = gdf.geometry.to_crs("EPSG:4326") if gdf.crs else gdf.geometry
                df["lon"], df["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            gdf.to_file(tmp, driver=driver)
        os.replace(tmp, p)
    return p


def plain_value(v: Any) -> Any:
    """A table cell as a plain JSON value: numpy scalars unwrapped, NaN/inf as None."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
