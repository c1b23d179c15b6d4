"""Coverage rows of only the admin units a split region owns, so national totals add up.

A region extract reaches B km beyond its border; the units there (its buffer) are counted by the
region that owns them, never twice. A unit is owned when its representative point lies in the
region's unbuffered polygon (``region.json`` "owned"); the per-unit figures of a coverage report
depend only on the nodes the population layer assigns to that unit, so they are taken as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import shapely

from .coverage import CoverageReport

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["OwnedUnitRow", "owned_codes", "owned_rows", "ROW_FIELDS"]


@dataclass(frozen=True)
class OwnedUnitRow:
    """One admin unit's coverage, counted by the region that owns it."""

    region: str
    admin_code: str
    name: str
    population: float | None
    population_covered: float | None
    population_share: float | None
    road_share: float | None
    census_population: float | None
    share_inside: float | None
    population_off_network: float | None = None  # of ``population``: off the network asked, never covered


ROW_FIELDS = tuple(f.name for f in fields(OwnedUnitRow))
"""The columns of the national table, in order (a unit's coverage figures, with its region)."""


def owned_codes(units: gpd.GeoDataFrame, owned_polygon: shapely.Geometry) -> set[str]:
    """Codes of the units (GeoDataFrame with admin_code, geometry) whose representative point is
    inside ``owned_polygon`` (a shapely geometry, WGS-84)."""
    geoms = units.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.point_on_surface(geoms[ok])
    inside = shapely.within(pts, owned_polygon)
    return {str(c) for c in units["admin_code"].to_numpy()[ok][inside]}


def owned_rows(report: CoverageReport, *, region: str, owned: set[str]) -> list[OwnedUnitRow]:
    """The report's per-unit figures for the owned units, in the report's order."""
    return [OwnedUnitRow(region=region, **u.to_json()) for u in report.by_unit if u.admin_code in owned]
