"""Files of the analysis commands: plain CSV, GeoJSON + GeoPackage layers with fixed schemas,
report.json, and the parsing of their point and scenario arguments."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from ...errors import GeoserviceError, InputFileError
from ...sources.cell_values import spreadsheet_safe

GAP_SCHEMA = {"gap_id": "int64", "area_km2": "float64", "population": "float64", "max_time_s": "float64"}
SITE_SCHEMA = {"rank": "int64", "id": "object", "name": "object", "source": "object", "population_gained": "float64"}
LINK_SCHEMA = {
    "tier": "object",
    "county": "object",
    "county_code": "object",
    "from_id": "object",
    "from_name": "object",
    "to_id": "object",
    "to_name": "object",
    "time_s": "float64",
}
TRIAGE_FIELDS = [
    "lon",
    "lat",
    "recommendation",
    "population",
    "ivt_center",
    "evt_center",
    "t_ivt_min",
    "t_evt_min",
    "extra_min",
    "needle_ds_min",
    "needle_direct_min",
    "evt_arrival_ds_min",
    "evt_arrival_direct_min",
    "evt_gain_min",
]
TIMELINE_FIELDS = [
    "status",
    "population",
    "response_min",
    "transport_min",
    "to_center_min",
    "dtn_min",
    "chain_min",
    "center",
]


def write_file(path: Path, text: str) -> None:
    """Into the staging folder of the run (see ``fileio.atomic_dir``)."""
    path.write_text(text, encoding="utf-8")


def write_layer(out: Path, stem: str, fc: Mapping[str, object], *, geometry_type: str, schema: dict[str, str]) -> None:
    """A result layer as GeoJSON (``stem.geojson``) and GeoPackage (``stem.gpkg``, layer ``stem``,
    with the method in a ``method`` column). ``schema`` (property -> pandas dtype) and
    ``geometry_type`` give an empty result its (empty) GeoPackage layer."""
    import geopandas as gpd
    import pandas as pd

    write_file(out / f"{stem}.geojson", json_text(fc))
    feats = fc.get("features") or []
    if not feats:
        cols = {k: pd.Series([], dtype=t) for k, t in schema.items()}
        if fc.get("method"):
            cols["method"] = pd.Series([], dtype="object")
        empty = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        empty.to_file(out / f"{stem}.gpkg", layer=stem, driver="GPKG", geometry_type=geometry_type)
        return
    gdf = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
    if fc.get("method"):
        gdf["method"] = fc["method"]
    for col in gdf.columns:  # nested properties (lists, dicts) as JSON text
        if col != "geometry" and gdf[col].map(lambda v: isinstance(v, (list, dict))).any():
            gdf[col] = gdf[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
    gdf.to_file(out / f"{stem}.gpkg", layer=stem, driver="GPKG")


def points_layer(
    rows: Iterable[Mapping[str, Any]], *, method: str, fields: list[str] | None = None
) -> dict[str, object]:
    """Rows with ``lon`` and ``lat`` as a point FeatureCollection whose properties are the other
    ``fields`` (default: every key), so a command's CSV and its layer carry the same columns."""
    return {
        "type": "FeatureCollection",
        "method": method,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {k: r.get(k) for k in (fields or r) if k not in ("lon", "lat")},
            }
            for r in rows
        ],
    }


def point_rows(fc: Mapping[str, object]) -> list[dict[str, object]]:
    """Point features as rows: ``lon``, ``lat``, then the properties (the CSV of a layer)."""
    features = cast("list[dict[str, Any]]", fc["features"])
    return [
        dict(lon=f["geometry"]["coordinates"][0], lat=f["geometry"]["coordinates"][1], **f["properties"])
        for f in features
    ]


def csv_text(rows: Iterable[Mapping[str, object]], fields: list[str]) -> str:
    """A plain CSV (header + rows, nothing else: the method is in report.json); text a
    spreadsheet would run as a formula (a name such as ``=1+1``) is kept as text behind a '."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else spreadsheet_safe(r.get(k))) for k in fields})
    return buf.getvalue()


def json_text(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def output_dir(args: argparse.Namespace) -> Path:
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise GeoserviceError("output", f"{out} exists and is not a folder")
    return out


def parse_points(text: str | None, flag: str) -> list[tuple[float, float]]:
    """ "lon,lat;lon,lat" or a CSV file with lon,lat columns."""
    if not text:
        return []
    p = Path(text)
    pts = []
    if (not (";" in text or "," in text) or p.suffix.lower() == ".csv") and not p.is_file():
        raise InputFileError(flag, f"file not found: {text}")
    if p.is_file():
        with open(p, newline="", encoding="utf-8-sig") as f:
            for n, row in enumerate(csv.DictReader(f), 1):
                try:
                    pts.append((float(row["lon"]), float(row["lat"])))
                except (KeyError, TypeError, ValueError):
                    raise InputFileError(flag, f"{p} row {n}: needs numeric lon and lat columns") from None
        return pts
    for part in text.split(";"):
        if not part.strip():
            continue
        try:
            lon, lat = (float(v) for v in part.split(","))
        except ValueError:
            raise GeoserviceError(flag, f"must be 'lon,lat;lon,lat' or a CSV file with lon,lat; got {part!r}") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise GeoserviceError(flag, f"({lon}, {lat}) is not a lon/lat")
        pts.append((lon, lat))
    return pts


def parse_scenario(text: str | None) -> str | dict[str, float]:
    if text is None:
        return "free_flow"
    t = text.strip()
    if t.startswith("{"):
        try:
            table: dict[str, float] = json.loads(t)
            return table
        except ValueError:
            raise GeoserviceError("scenario", f"table is not valid JSON: {t!r}") from None
    if Path(t).is_file():
        try:
            table = json.loads(Path(t).read_text(encoding="utf-8"))
            return table
        except ValueError:
            raise GeoserviceError("scenario", f"file {t} is not a JSON {{road class: factor}} table") from None
    return t
