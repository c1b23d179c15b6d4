"""The part of each admin unit that lies inside the road extract, and its people.

A road extract (a city centre, a clipped province) rarely follows admin boundaries: a district
may be only partly covered by the roads we route on. Giving the whole district's census count to
the few roads inside would crowd its people there, so each unit keeps only the share inside:

* **Extent of the extract**: the area the OSM file declares it covers (its header / ``<bounds>``
  box: Geofabrik and osmium extracts, Overpass bbox queries), else the convex hull of the drive
  network's nodes. Not the outline of the roads themselves: roads stop at coasts, rivers and
  mountains inside an extract, where a road outline would cut off land that the extract does
  cover (measured: Andorra's parishes would keep 10-36% of their area, Monaco 98%).
* **Share inside** = area of (unit ∩ extent) / area of the unit, in an equal-area projection
  (Lambert azimuthal centred on the extent). Uniform density within a unit is assumed: it is the
  only assumption available without finer data (the dasymetric spread onto roads then places
  the people inside by residential road length).
* **People inside** per unit: census × share, rounded to integers by the largest remainder so
  that the units add up exactly to the rounded total inside; a unit entirely inside keeps its
  whole census count, a unit entirely outside is not carried into the bundle (listed in
  population.json). A unit with people inside but no drive-network node to carry them counts as
  outside (noted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "INSIDE_METHOD",
    "declared_bounds",
    "extract_extent",
    "share_inside",
    "round_quotas",
    "InsideShares",
]

DENSIFY_DEG = 0.001
INSIDE_METHOD = (
    "units partly inside the road extract keep the share of their census count equal to the share of "
    "their area inside the extract (the extent the OSM file declares, else the convex hull of the drive "
    "network's nodes; areas in an equal-area projection); uniform density within a unit is assumed; "
    "integer counts by the largest remainder"
)


def declared_bounds(osm: str | Path) -> tuple[float, float, float, float] | None:
    """The (west, south, east, north) box an OSM file says it covers, or None."""
    import osmium

    reader = osmium.io.Reader(str(osm), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def extract_extent(net, bounds: tuple[float, float, float, float] | None) -> tuple[Any, str]:
    """(WGS-84 polygon, how it was found): the declared box, else the hull of ``net``'s nodes."""
    import shapely

    if bounds is not None:
        return shapely.box(*bounds), "the extract's declared bounds " + ", ".join(f"{v:.6f}" for v in bounds)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([net.node_lon, net.node_lat])))
    return hull, f"convex hull of the {net.name} network's {net.n_nodes:,} nodes (the extract declares no bounds)"


def equal_area_crs(extent) -> str:
    c = extent.centroid
    return f"+proj=laea +lat_0={c.y:.4f} +lon_0={c.x:.4f} +datum=WGS84 +units=m"


def share_inside(geoms, extent) -> np.ndarray:
    """Area share of each WGS-84 polygon inside ``extent`` (exactly 1 when it lies within, 0 when
    it does not meet it; 1 for a unit without a polygon, i.e. a remainder unit of the network)."""
    import geopandas as gpd
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    out = np.ones(len(geoms))
    has = np.array([g is not None and not g.is_empty for g in geoms], bool)
    if not has.any():
        return out
    crs = equal_area_crs(extent)
    # edges are straight in lon/lat: densified (~100 m) so that the projected areas follow them
    dense = shapely.segmentize(np.array([*geoms[has], extent], dtype=object), DENSIFY_DEG)
    g = gpd.GeoSeries(list(dense[:-1]), crs="EPSG:4326").to_crs(crs).to_numpy()
    e = gpd.GeoSeries([dense[-1]], crs="EPSG:4326").to_crs(crs).to_numpy()[0]
    shapely.prepare(e)
    area = shapely.area(g)
    inter = shapely.area(shapely.intersection(g, e))
    share = np.where(area > 0, np.clip(inter / np.where(area > 0, area, 1.0), 0.0, 1.0), 0.0)
    share[shapely.covered_by(g, e)] = 1.0
    share[~shapely.intersects(g, e)] = 0.0
    out[has] = share
    return out


def round_quotas(quotas: np.ndarray) -> np.ndarray:
    """Integers summing to round(sum(quotas)), each floor or ceil of its quota (Hamilton): an
    integral quota (a unit entirely inside) stays exactly as it is."""
    q = np.asarray(quotas, float)
    base = np.floor(q).astype(np.int64)
    frac = q - base
    left = int(round(float(q.sum()))) - int(base.sum())
    if left > 0:
        order = np.lexsort((np.arange(len(q)), -frac))  # largest remainder first, stable on ties
        base[order[:left]] += 1
    return base


@dataclass
class InsideShares:
    """Per unit (in the spec's order): census count (NaN none), area share inside, people inside
    (-1 where the count is not published: the unit shares a published total instead)."""

    census: np.ndarray
    share: np.ndarray
    inside: np.ndarray
    keep: np.ndarray  # units carried into the bundle (some of them inside the extent)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def compute(cls, units, extent, *, has_nodes: np.ndarray, remainder: int | None = None) -> InsideShares:
        """``has_nodes``: per unit, whether every network has a node assigned to it."""
        census = units["population"].to_numpy(float)
        share = share_inside(units.geometry.to_numpy(), extent)
        if remainder is not None:
            share[remainder] = 1.0
        known = np.isfinite(census)
        notes = []
        carried = share.copy()
        stranded = np.flatnonzero(known & (share > 0) & ~has_nodes & (census > 0))
        for u in stranded:
            notes.append(
                f"{units.iloc[u]['name']} ({units.iloc[u]['admin_code']}): {share[u]:.2%} of its area is inside the "
                "extract but no road node lies in it; its people there are counted as outside"
            )
            carried[u] = 0.0
        inside = np.full(len(census), -1, np.int64)
        inside[known] = round_quotas(census[known] * carried[known])
        keep = (share > 0) | has_nodes
        return cls(census, share, inside, keep, notes)

    def unit_records(self, units) -> list[dict[str, Any]]:
        return [
            {
                "admin_code": str(units.iloc[u]["admin_code"]),
                "name": str(units.iloc[u]["name"]),
                "census": int(self.census[u]) if np.isfinite(self.census[u]) else None,
                "share_inside": round(float(self.share[u]), 6),
                "population_inside": int(self.inside[u]) if self.inside[u] >= 0 else None,
            }
            for u in range(len(units))
        ]
