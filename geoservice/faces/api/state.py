"""Served regions, their engines and the registry; region lookup by point; GCJ-02 shifting."""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from ...bundle.store import Region, load_region
from ...engine.engine import Engine
from ...sources import coords as _coords
from ...sources.facilities import COLUMNS
from .errors import ApiError
from .registry import Registry

log = logging.getLogger(__name__)

BBOX_MARGIN_DEG = 0.02   # a point this close outside a bundle's bbox may still snap to its roads
OUTPUT_CRS = ("wgs84", "gcj02")


@dataclass
class RegionEntry:
    name: str
    region: Region
    engine: Engine
    version: int = 0
    cache: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.region.bbox

    def contains(self, lon: float, lat: float, margin: float = BBOX_MARGIN_DEG) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 - margin <= lon <= x1 + margin and y0 - margin <= lat <= y1 + margin


def layer_from_records(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Registry records → the facility GeoDataFrame the engine expects (same dtypes as import)."""
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS)) if records else pd.DataFrame(columns=list(COLUMNS))
    for c in COLUMNS:
        if c in ("door_to_needle_min", "lon", "lat"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif c == "demo":
            df[c] = df[c].fillna(False).astype(bool)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    geom = gpd.points_from_xy(df["lon"].to_numpy(), df["lat"].to_numpy())
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


class AppState:
    def __init__(self, regions: list[Region], registry: Registry, *, max_snap_m: dict[str, float] | None = None,
                 basemap_tiles: str | None = None, basemap_gcj02: bool = False):
        if not regions:
            raise ValueError("no region to serve")
        names = [r.name for r in regions]
        if len(set(names)) != len(names):
            raise ValueError(f"two regions share a name: {names}; rename one bundle (meta.json name)")
        self.registry = registry
        self.basemap_tiles = basemap_tiles
        self.basemap_gcj02 = basemap_gcj02
        self.regions: dict[str, RegionEntry] = {}
        self._seen_version = registry.version()
        for region in regions:
            registry.seed(region.name, region.facilities, region.meta.get("created"))
            eng = Engine(region, max_snap_m=max_snap_m)
            entry = RegionEntry(region.name, region, eng)
            self.regions[region.name] = entry
            self._reload(entry)

    @classmethod
    def from_paths(cls, paths: list[Path], db_path: Path, **kw) -> "AppState":
        return cls([load_region(p) for p in paths], Registry(db_path), **kw)

    # ------------------------------------------------------------------ engines
    def _reload(self, entry: RegionEntry) -> None:
        """Rebuild the facility table from the registry; swap in an engine copy atomically, so
        concurrent queries see either the old or the new facilities, never a mix."""
        layer = layer_from_records(self.registry.records(entry.name))
        with entry.lock:
            eng = copy.copy(entry.engine)
            eng.set_facilities(layer)
            entry.engine = eng
            entry.version += 1
            entry.cache = {}

    def refresh(self, region: str) -> None:
        self._seen_version = self.registry.version()
        self._reload(self.regions[region])

    def sync(self) -> None:
        """Reload when another server process (uvicorn worker) edited the registry."""
        v = self.registry.version()
        if v != self._seen_version:
            self._seen_version = v
            for entry in self.regions.values():
                self._reload(entry)

    # ------------------------------------------------------------------ lookup
    def get(self, name: str, field_name: str = "region") -> RegionEntry:
        try:
            return self.regions[name]
        except KeyError:
            raise ApiError(404, field_name, f"unknown region {name!r}; served: {', '.join(self.regions)}") from None

    def describe(self) -> str:
        return "; ".join(f"{e.name} [{', '.join(f'{v:.4f}' for v in e.bbox)}]" for e in self.regions.values())

    def locate(self, lon: float, lat: float, profile: str = "drive", region: str | None = None) -> RegionEntry:
        """The region whose network holds the point (bbox first, then snap distance)."""
        if region is not None:
            return self.get(region)
        cands = [e for e in self.regions.values() if e.contains(lon, lat)]
        if not cands:
            raise ApiError(404, "lon,lat", f"lon,lat: point ({lon:.6f}, {lat:.6f}) is in no served region; "
                                           f"served (lon/lat bbox): {self.describe()}")
        if len(cands) == 1:
            return cands[0]
        best, best_d = cands[0], np.inf
        for e in cands:
            try:
                router = e.engine.router_for(profile)
            except ValueError:
                continue
            s = router.snap_many([lon], [lat], max_snap_m=1e6, strict=False)[0]
            if s is not None and s.dist_m < best_d:
                best, best_d = e, s.dist_m
        return best


# ---------------------------------------------------------------------- coordinates
def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "gcj02":
        x, y = _coords.gcj02_to_wgs84(lon, lat)
        return float(x), float(y)
    return lon, lat


def _map_coords(obj, fn: Callable):
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (int, float)):
        x, y = fn(obj[0], obj[1])
        return [round(float(x), 7), round(float(y), 7), *obj[2:]]
    if isinstance(obj, (list, tuple)):
        return [_map_coords(o, fn) for o in obj]
    return obj


def shift_geometry(geom: dict | None, crs: str) -> dict | None:
    """A GeoJSON geometry in WGS-84 → the same in ``crs`` (gcj02 shifts it; wgs84 returns it)."""
    if geom is None or crs == "wgs84":
        return geom
    if geom.get("type") == "GeometryCollection":
        return dict(geom, geometries=[shift_geometry(g, crs) for g in geom["geometries"]])
    return dict(geom, coordinates=_map_coords(geom["coordinates"], _coords.wgs84_to_gcj02))


def shift_point(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return round(float(lon), 7), round(float(lat), 7)
    x, y = _coords.wgs84_to_gcj02(lon, lat)
    return round(float(x), 7), round(float(y), 7)
