"""Service description: health, regions, page configuration, offline basemap."""

from __future__ import annotations

import json
from collections import Counter

from fastapi import APIRouter

from ....bundle.store import ATTRIBUTION
from ..deps import CrsQ, StateDep
from ..schemas import ErrorResponse, FeatureCollection, Health, RegionInfo, ServiceConfig
from ..state import shift_geometry

router = APIRouter(tags=["service"])

NOTICE = ("Boundaries and roads are drawn from OpenStreetMap and are not an officially reviewed map "
          "(no 审图号 map approval number); for planning and orientation only.")


def region_infos(state) -> list[RegionInfo]:
    out = []
    for e in state.regions.values():
        eng = e.engine
        counts = Counter(str(t) for t in eng.facilities["type"]) if len(eng.facilities) else Counter()
        out.append(RegionInfo(name=e.name, bbox=list(e.bbox), profiles=e.region.profiles,
                              facility_counts=dict(counts), osm_timestamp=e.region.meta.get("osm_timestamp"),
                              attribution=e.region.meta.get("attribution", ATTRIBUTION),
                              unsnapped={k: v for k, v in eng.unsnapped.items() if v}))
    return out


@router.get("/health", response_model=Health)
def health(state: StateDep) -> Health:
    return Health(regions=list(state.regions))


@router.get("/regions", response_model=list[RegionInfo])
def regions(state: StateDep) -> list[RegionInfo]:
    return region_infos(state)


@router.get("/config", response_model=ServiceConfig)
def config(state: StateDep) -> ServiceConfig:
    """What the pages need: regions, optional tile basemap, and the coordinate system to use."""
    return ServiceConfig(regions=region_infos(state), basemap_tiles=state.basemap_tiles,
                         basemap_gcj02=state.basemap_gcj02,
                         crs_name="gcj02" if (state.basemap_tiles and state.basemap_gcj02) else "wgs84",
                         attribution="© OpenStreetMap contributors, ODbL 1.0", notice=NOTICE)


@router.get("/regions/{name}/basemap", response_model=FeatureCollection,
            responses={404: {"model": ErrorResponse}})
def basemap(name: str, state: StateDep, crs: CrsQ = "wgs84") -> FeatureCollection:
    """Major roads and the network outline of a region, for maps without tiles (offline)."""
    e = state.get(name)
    key = ("basemap", crs)
    if key not in e.cache:
        data = json.loads((e.region.path / "basemap.geojson").read_text(encoding="utf-8"))
        feats = [{"type": "Feature", "geometry": shift_geometry(f.get("geometry"), crs),
                  "properties": f.get("properties") or {}} for f in data.get("features", [])]
        e.cache[key] = FeatureCollection(features=feats, crs_name=crs,
                                         attribution=e.region.meta.get("attribution", ATTRIBUTION))
    return e.cache[key]


@router.get("/regions/{name}/admin-units", response_model=FeatureCollection,
            responses={404: {"model": ErrorResponse}})
def admin_units(name: str, state: StateDep, crs: CrsQ = "wgs84") -> FeatureCollection:
    """Admin unit boundaries of a region (from the bundle's population layer; empty when it has none).
    Drawn from OpenStreetMap: not an officially reviewed map."""
    e = state.get(name)
    key = ("admin_units", crs)
    if key not in e.cache:
        f = e.region.path / "extra" / "admin_units.geojson"
        feats = []
        if f.is_file():
            data = json.loads(f.read_text(encoding="utf-8"))
            feats = [{"type": "Feature", "geometry": shift_geometry(x.get("geometry"), crs),
                      "properties": {k: x.get("properties", {}).get(k) for k in
                                     ("admin_code", "name", "population", "population_model", "boundary_source")}}
                     for x in data.get("features", [])]
        e.cache[key] = FeatureCollection(features=feats, crs_name=crs,
                                         attribution=e.region.meta.get("attribution", ATTRIBUTION))
    return e.cache[key]
