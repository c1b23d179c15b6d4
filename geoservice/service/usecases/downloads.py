"""Files of what the planner shows: a facility layer, service areas, or a coverage answer (its gap
polygons and its table by admin unit) as GeoJSON, GeoPackage or CSV, for a GIS or a spreadsheet.

* The coverage CSV has the columns and figures of the CLI's ``coverage.csv`` (an ``ALL`` /
  ``overall`` row, then one row per admin unit), followed by what it is for (region, type,
  minutes, profile, scenario); its GeoJSON is the CLI's ``gaps.geojson`` (gaps with the method);
  its GeoPackage holds both, as layers ``gaps`` and ``coverage``.
* CSV is a table for a spreadsheet: points keep their ``lon`` / ``lat`` columns, polygons are
  given by their area in km² (geodesic) without the shape: one service area is some 70,000
  characters of WKT, past a spreadsheet cell's 32,767 (the shapes are in GeoJSON and GeoPackage).
  CSV starts with a UTF-8 BOM so that Excel shows Chinese names.
* Every file says where its data comes from, as the other exports do (``ATTRIBUTION``): the
  GeoJSON ``attribution`` member, the GeoPackage layer description and dataset metadata, a CSV
  ``attribution`` column. The coverage GeoJSON is a FeatureCollection (``type``) whose members
  also say what it is of: ``facility_type``, ``region``, ``minutes``, ``profile``, ``scenario``,
  ``method``. GeoPackage is written by pyogrio to a temporary file (it is an SQLite
  database: it cannot be streamed) and read back.
* Coordinates are those of the answer: WGS-84 (EPSG:4326), or GCJ-02 when asked (no EPSG code:
  the GeoPackage then has no CRS and says ``crs: GCJ-02`` in its metadata).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Geod

from ...bundle.store import ATTRIBUTION
from ...errors import GeoserviceError
from ...sources.cell_values import spreadsheet_safe
from ..answers.queries import CoverageResponse, FeatureCollection

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "COVERAGE_FIELDS",
    "Download",
    "coverage_rows",
    "coverage_file",
    "layer_file",
    "file_stem",
    "minutes_part",
]

FORMATS: Final = ("geojson", "gpkg", "csv")
MEDIA_TYPES: Final = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
}
COVERAGE_FIELDS: Final = [
    "admin_code",
    "name",
    "census_population",
    "share_inside",
    "population",
    "population_covered",
    "population_share",
    "road_share",
]
"""The columns of the CLI's coverage.csv, in its order (``population``: people inside the road extract)."""
CONTEXT_FIELDS: Final = ["region", "type", "minutes", "profile", "scenario"]
GAP_COLUMNS: Final = {"gap_id": "int64", "area_km2": "float64", "population": "float64", "max_time_s": "float64"}
LEAD_FIELDS: Final = ("id", "name", "type", "level", "capabilities")
BOM: Final = "\ufeff"


@dataclass(frozen=True)
class Download:
    """A file to hand out: its bytes, media type and a file name."""

    content: bytes
    media_type: str
    filename: str


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise GeoserviceError("format", f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def file_stem(*parts: object) -> str:
    """A safe ASCII file name stem from its parts (``gaps_chest_pain_center_30min_peak_andorra``)."""
    words = [re.sub(r"[^A-Za-z0-9_.-]+", "-", str(p)).strip("-.") for p in parts if p not in (None, "")]
    return "_".join(w for w in words if w) or "download"


def minutes_part(minutes: float) -> str:
    """``30min``, ``7.5min``: the minutes as a file name part."""
    return f"{minutes:g}min"


# ------------------------------------------------------------------------------ writers
def _csv_bytes(rows: list[dict[str, Any]], fields: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in fields})
    return (BOM + buf.getvalue()).encode("utf-8")


def _cell(v: Any) -> Any:
    """A value as a CSV cell; text a spreadsheet would run as a formula is kept as text."""
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    return spreadsheet_safe(v)


def _geo_area_km2(geom: Any) -> float:
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return round(abs(area) / 1e6, 3)


def _frame(
    features: list[dict[str, Any]], crs_name: str, columns: dict[str, str], geometry_type: str
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Features as a GeoDataFrame (nested values as JSON text); an empty one keeps ``columns``."""
    crs = "EPSG:4326" if crs_name == "wgs84" else None
    if not features:
        cols = {k: pd.Series([], dtype=t) for k, t in columns.items()}
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs)), geometry_type
    gdf = gpd.GeoDataFrame.from_features(features, crs=crs)
    for col in gdf.columns:
        if col != "geometry" and gdf[col].map(lambda v: isinstance(v, (list, dict))).any():
            gdf[col] = gdf[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
    return gdf, None


def _gpkg_bytes(layers: list[tuple[str, Any, str | None]], metadata: dict[str, str]) -> bytes:
    """A GeoPackage of ``(name, frame, geometry_type)`` layers (a plain DataFrame: a table)."""
    import pyogrio  # lazy: the GeoPackage writer, for .gpkg downloads only

    with tempfile.TemporaryDirectory(prefix="geoservice-download-") as tmp:
        path = Path(tmp) / "download.gpkg"
        meta: dict[str, Any] = {"dataset_metadata": metadata}
        for name, frame, gtype in layers:
            opts: dict[str, Any] = {"layer_options": {"DESCRIPTION": metadata["attribution"]}}
            if gtype:
                opts["geometry_type"] = gtype
            if "geometry" in frame.columns and frame.geom_type.isin(["Polygon", "MultiPolygon"]).any():
                opts["promote_to_multi"] = True  # one layer type, though some areas are single polygons
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists(), **opts, **meta)
            meta = {}
        return path.read_bytes()


def _metadata(attribution: str, crs_name: str, **extra: Any) -> dict[str, str]:
    meta = {"attribution": attribution, "crs": "EPSG:4326 (WGS-84)" if crs_name == "wgs84" else "GCJ-02"}
    meta.update({k: str(v) for k, v in extra.items() if v is not None})
    return meta


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------ layers
def layer_file(fc: FeatureCollection, *, fmt: str, layer: str, describe: tuple[object, ...] = ()) -> Download:
    """A layer answer (``layer``: facilities or service_areas) as a file named after ``layer`` and
    ``describe`` (type, minutes, ...); polygons in CSV by their area."""
    fmt = _check_format(fmt)
    attribution = fc.attribution or ATTRIBUTION
    feats = [f.model_dump() for f in fc.features]
    name = f"{file_stem(layer, *describe, 'gcj02' if fc.crs_name == 'gcj02' else None)}.{fmt}"
    if fmt == "geojson":
        doc = {"type": "FeatureCollection", "attribution": attribution, "crs_name": fc.crs_name, "features": feats}
        return Download(_json_bytes(doc), MEDIA_TYPES[fmt], name)
    if fmt == "csv":
        rows, fields = [], []
        for f in feats:
            row = dict(f["properties"])
            geom = f.get("geometry")
            if geom and geom["type"] != "Point":
                row.setdefault("area_km2", _geo_area_km2(shapely.geometry.shape(geom)))
            elif geom and ("lon" not in row or "lat" not in row):
                row["lon"], row["lat"] = geom["coordinates"][:2]
            row["attribution"] = attribution
            rows.append(row)
            fields += [k for k in row if k not in fields]
        # who first, the licence last
        first = [k for k in LEAD_FIELDS if k in fields]
        fields = first + [k for k in fields if k not in first and k != "attribution"] + ["attribution"]
        return Download(_csv_bytes(rows, fields or ["attribution"]), MEDIA_TYPES[fmt], name)
    gtype = "Point" if layer == "facilities" else "MultiPolygon"
    frame, empty_type = _frame(feats, fc.crs_name, {"id": "object", "name": "object"}, gtype)
    meta = _metadata(attribution, fc.crs_name)
    return Download(_gpkg_bytes([(layer, frame, empty_type)], meta), MEDIA_TYPES[fmt], name)


# ------------------------------------------------------------------------------ coverage
def coverage_rows(ans: CoverageResponse) -> list[dict[str, Any]]:
    """The rows of the CLI's coverage.csv: ``ALL`` / ``overall``, then one per admin unit."""
    o = ans.overall
    rows = [
        dict(
            admin_code="ALL",
            name="overall",
            census_population=None,
            share_inside=None,
            population=o.population,
            population_covered=o.population_covered,
            population_share=o.population_share,
            road_share=o.road_share,
        )
    ]
    rows += [u.model_dump() for u in ans.by_unit]
    context = {k: getattr(ans, k) for k in CONTEXT_FIELDS}
    return [dict(r, **context) for r in rows]


def coverage_file(ans: CoverageResponse, *, fmt: str, attribution: str = ATTRIBUTION) -> Download:
    """A coverage answer as a file: CSV = the table by unit, GeoJSON = the gaps, GeoPackage = both."""
    fmt = _check_format(fmt)
    what = "coverage" if fmt == "csv" else "gaps"
    stem = file_stem(what, ans.type, minutes_part(ans.minutes), ans.scenario, ans.region)
    name = f"{stem}.{fmt}"
    if fmt == "csv":
        rows = [dict(r, attribution=attribution) for r in coverage_rows(ans)]
        return Download(_csv_bytes(rows, COVERAGE_FIELDS + CONTEXT_FIELDS + ["attribution"]), MEDIA_TYPES[fmt], name)
    gaps = dict(ans.gaps or {"type": "FeatureCollection", "features": []})
    gaps.setdefault("attribution", attribution)
    context = {k: getattr(ans, k) for k in CONTEXT_FIELDS}
    if fmt == "geojson":
        # a FeatureCollection a GIS reads: the facility type goes in ``facility_type``, never over
        # the collection's own ``type``
        about = {("facility_type" if k == "type" else k): v for k, v in context.items()}
        doc = dict(gaps, method=ans.method, crs_name=ans.crs_name, **about, type="FeatureCollection")
        return Download(_json_bytes(doc), MEDIA_TYPES[fmt], name)
    frame, empty_type = _frame(gaps.get("features") or [], ans.crs_name, GAP_COLUMNS, "MultiPolygon")
    if ans.method:
        frame["method"] = ans.method
    table = pd.DataFrame(coverage_rows(ans), columns=COVERAGE_FIELDS + CONTEXT_FIELDS)
    meta = _metadata(str(gaps["attribution"]), ans.crs_name, method=ans.method, **context)
    return Download(_gpkg_bytes([("gaps", frame, empty_type), ("coverage", table, None)], meta), MEDIA_TYPES[fmt], name)
