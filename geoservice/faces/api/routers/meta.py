"""Service description: health, regions, page configuration, offline basemap."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from ....bundle.store import ATTRIBUTION
from ....service.answers.queries import FeatureCollection, RegionInfo
from ....service.core import GeoService
from ....service.output_crs import shift_geometry
from ....service.usecases.bundles import display_name
from ....service.usecases.emergency import emergency_number
from ..deps import CrsQ, ServiceDep
from ..schemas import ErrorResponse, Health, ServiceConfig

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(tags=["service"])

NOTICE_ZH = "边界与道路来自 OpenStreetMap，未经审图（无审图号），仅供规划和参考。"
NOTICE = (
    "Boundaries and roads are drawn from OpenStreetMap and are not an officially reviewed map "
    "(no 审图号 map approval number); for planning and orientation only."
)


def _centre(facilities: pd.DataFrame) -> tuple[float, float] | None:
    """Where a region's people are: the median of its facilities (None without any)."""
    if not len(facilities):
        return None
    return float(facilities["lon"].median()), float(facilities["lat"].median())


def region_infos(svc: GeoService) -> list[RegionInfo]:
    out = []
    for e in svc.entries():
        eng = svc.engine(e.name)
        assert e.region is not None
        counts = Counter(str(t) for t in eng.facilities["type"]) if len(eng.facilities) else Counter()
        out.append(
            RegionInfo(
                name=e.name,
                display_name=display_name(e.region.meta, e.name),
                bbox=list(e.bbox),
                profiles=e.region.profiles,
                facility_counts=dict(counts),
                osm_timestamp=e.region.meta.get("osm_timestamp"),
                attribution=e.region.meta.get("attribution", ATTRIBUTION),
                unsnapped={k: v for k, v in eng.unsnapped.items() if v},
                emergency=emergency_number(e.region.meta, e.bbox, _centre(eng.facilities)),
            )
        )
    return out


@router.get("/health", response_model=Health)
def health(svc: ServiceDep) -> Health:
    return Health(regions=list(svc.regions), preparing=svc.preparing)


@router.get("/regions", response_model=list[RegionInfo])
def regions(svc: ServiceDep) -> list[RegionInfo]:
    return region_infos(svc)


@router.get("/config", response_model=ServiceConfig)
def config(svc: ServiceDep) -> ServiceConfig:
    """What the pages need: regions (each with its emergency number, `emergency`), optional tile basemap,
    and the coordinate system to use."""
    s = svc.settings
    return ServiceConfig(
        regions=region_infos(svc),
        basemap_tiles=s.server.basemap_tiles,
        basemap_gcj02=s.server.basemap_gcj02,
        crs_name="gcj02" if (s.server.basemap_tiles and s.server.basemap_gcj02) else "wgs84",
        attribution="© OpenStreetMap contributors, ODbL 1.0",
        notice=NOTICE,
        notice_zh=NOTICE_ZH,
        preparing=svc.preparing,
    )


def _read_layer(path: Path, crs: str, keep: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "type": "Feature",
            "geometry": shift_geometry(f.get("geometry"), crs),
            "properties": {k: (f.get("properties") or {}).get(k) for k in keep}
            if keep
            else (f.get("properties") or {}),
        }
        for f in data.get("features", [])
    ]


@router.get("/regions/{name}/basemap", response_model=FeatureCollection, responses={404: {"model": ErrorResponse}})
def basemap(name: Annotated[str, PathParam(max_length=200)], svc: ServiceDep, crs: CrsQ = "wgs84") -> FeatureCollection:
    """Water, major roads and the network outline of a region, for maps without tiles (offline)."""
    e = svc.entry(name)
    assert e.region is not None
    attribution = e.region.meta.get("attribution", ATTRIBUTION)
    fc: FeatureCollection = e.cache.get_or_compute(
        ("basemap", crs),
        lambda: FeatureCollection(
            features=_read_layer(e.path / "basemap.geojson", crs), crs_name=crs, attribution=attribution
        ),
    )
    return fc


@router.get("/regions/{name}/admin-units", response_model=FeatureCollection, responses={404: {"model": ErrorResponse}})
def admin_units(
    name: Annotated[str, PathParam(max_length=200)], svc: ServiceDep, crs: CrsQ = "wgs84"
) -> FeatureCollection:
    """Admin unit boundaries of a region (from the bundle's population layer; empty when it has none).
    Drawn from OpenStreetMap: not an officially reviewed map."""
    e = svc.entry(name)
    assert e.region is not None
    attribution = e.region.meta.get("attribution", ATTRIBUTION)
    keep = ("admin_code", "name", "population", "population_model", "boundary_source")
    fc: FeatureCollection = e.cache.get_or_compute(
        ("admin_units", crs),
        lambda: FeatureCollection(
            features=_read_layer(e.path / "extra" / "admin_units.geojson", crs, keep),
            crs_name=crs,
            attribution=attribution,
        ),
    )
    return fc
