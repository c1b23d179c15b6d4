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
* **People inside** per unit: census × share rounded to the nearest integer, unit by unit, so a
  unit's people inside do not depend on which other units the extract holds, and the total inside
  is the sum of its units: the pieces of a ``split`` add up to the whole file. A unit entirely
  inside keeps its whole census count, a unit entirely outside is not carried into the bundle
  (listed in population.json). A unit with people inside but no drive-network node to carry them
  counts as outside (noted).
* **A piece of a split** (``geoservice split``, then ``batch build``) keeps the extent of the whole
  file, clipped to the box of the piece's buffered polygon (:class:`Extent` ``clip``): a unit
  within that box has exactly the share it has in the whole file (the same intersection in the
  same projection), so every unit a piece owns counts the same people as in the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Network

__all__ = [
    "INSIDE_METHOD",
    "Extent",
    "declared_bounds",
    "extract_extent",
    "osm_extent",
    "share_inside",
    "round_units",
    "InsideShares",
]

DENSIFY_DEG = 0.001
INSIDE_METHOD = (
    "units partly inside the road extract keep the share of their census count equal to the share of "
    "their area inside the extract (the extent the OSM file declares, else the convex hull of the drive "
    "network's nodes; areas in an equal-area projection); uniform density within a unit is assumed; "
    "each unit's count rounded to the nearest integer"
)


class UnitRecord(TypedDict):
    """A unit's census and the part of it inside the extract, as ``population.json`` lists it."""

    admin_code: str
    name: str
    census: int | None
    share_inside: float
    population_inside: int | None


@dataclass(frozen=True)
class Extent:
    """The area an extract covers (WGS-84): ``shape``, the whole file's, and for a piece of a split
    ``clip``, the box of its buffered polygon (None: the whole file); ``how`` says where it comes
    from."""

    shape: BaseGeometry
    how: str
    clip: tuple[float, float, float, float] | None = None

    @property
    def area(self) -> BaseGeometry:
        """The covered area itself (the whole file's, cut to ``clip``)."""
        import shapely

        if self.clip is None:
            return self.shape
        cut: BaseGeometry = shapely.intersection(self.shape, shapely.box(*self.clip))
        return cut

    def clipped(self, box: tuple[float, float, float, float]) -> Extent:
        """This extent for a piece whose buffered polygon has the bounding box ``box``."""
        if self.clip is not None:
            box = (
                max(box[0], self.clip[0]),
                max(box[1], self.clip[1]),
                min(box[2], self.clip[2]),
                min(box[3], self.clip[3]),
            )
        return Extent(self.shape, self.how, box)

    def to_json(self) -> dict[str, Any]:
        from shapely.geometry import mapping

        return {"shape": mapping(self.shape), "how": self.how, "clip": list(self.clip) if self.clip else None}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Extent:
        from shapely.geometry import shape

        clip = doc.get("clip")
        return cls(shape(doc["shape"]), str(doc["how"]), tuple(float(v) for v in clip) if clip else None)  # type: ignore[arg-type]


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


def extract_extent(net: Network | None, bounds: tuple[float, float, float, float] | None) -> Extent:
    """The extent of an extract: the box it declares, else the convex hull of ``net``'s nodes
    (the drive network's: the rule ``build`` and ``split`` share, see :func:`osm_extent`)."""
    import shapely

    if bounds is not None:
        return Extent(shapely.box(*bounds), "the extract's declared bounds " + ", ".join(f"{v:.6f}" for v in bounds))
    assert net is not None, "an extract without declared bounds needs its network"
    # one multipoint in, one geometry out (shapely types the array case too)
    hull = cast(BaseGeometry, shapely.convex_hull(shapely.multipoints(np.column_stack([net.node_lon, net.node_lat]))))
    return Extent(
        hull, f"convex hull of the {net.name} network's {net.n_nodes:,} nodes (the extract declares no bounds)"
    )


def osm_extent(osm: str | Path) -> Extent:
    """The extent of an OSM file by the rule of ``build``: its declared box, else the convex hull of
    its drive network's nodes (the file's roads are then read and the network built once: a
    country file declares its box, a small Overpass extract may not)."""
    bounds = declared_bounds(osm)
    if bounds is not None:
        return extract_extent(None, bounds)
    from ..sources.osm_roads import read_osm_roads
    from ..sources.speeds import DEFAULT_PROFILES
    from .network import build_network

    drive = build_network(read_osm_roads(osm), "drive", DEFAULT_PROFILES)
    return extract_extent(drive, None)


def equal_area_crs(extent: BaseGeometry) -> str:
    c = extent.centroid
    return f"+proj=laea +lat_0={c.y:.4f} +lon_0={c.x:.4f} +datum=WGS84 +units=m"


def share_inside(geoms: ArrayLike, extent: Extent | BaseGeometry) -> NDArray[np.float64]:
    """Area share of each WGS-84 polygon inside ``extent`` (an :class:`Extent`, or a polygon:
    exactly 1 when it lies within, 0 when it does not meet it; 1 for a unit without a polygon,
    i.e. a remainder unit of the network). With a ``clip`` box, a polygon within the box is
    measured against the whole file's extent exactly as in the whole file (same projection,
    same intersection), the others against the extent cut to the box."""
    import geopandas as gpd
    import shapely

    ext = extent if isinstance(extent, Extent) else Extent(extent, "")
    geoms = np.asarray(geoms, dtype=object)
    out = np.ones(len(geoms))
    has = np.array([g is not None and not g.is_empty for g in geoms], bool)
    if not has.any():
        return out
    crs = equal_area_crs(ext.shape)  # the whole file's: the same projection for every piece
    # edges are straight in lon/lat: densified (~100 m) so that the projected areas follow them
    dense = shapely.segmentize(np.array([*geoms[has], ext.shape], dtype=object), DENSIFY_DEG)
    g = gpd.GeoSeries(list(dense[:-1]), crs="EPSG:4326").to_crs(crs).to_numpy()
    e = gpd.GeoSeries([dense[-1]], crs="EPSG:4326").to_crs(crs).to_numpy()[0]
    within = np.ones(len(g), bool)
    if ext.clip is not None:
        box = shapely.box(*ext.clip)
        within = shapely.covered_by(np.asarray(geoms[has]), box)
        clip = gpd.GeoSeries([shapely.segmentize(box, DENSIFY_DEG)], crs="EPSG:4326").to_crs(crs).to_numpy()[0]
        cut = shapely.intersection(e, clip)
        shapely.prepare(cut)
    shapely.prepare(e)
    area = shapely.area(g)
    inter = shapely.area(shapely.intersection(g, e))
    share = np.where(area > 0, np.clip(inter / np.where(area > 0, area, 1.0), 0.0, 1.0), 0.0)
    share[shapely.covered_by(g, e)] = 1.0
    share[~shapely.intersects(g, e)] = 0.0
    if not within.all():
        gp = g[~within]
        cut_inter = shapely.area(shapely.intersection(gp, cut))
        part = np.where(
            area[~within] > 0, np.clip(cut_inter / np.where(area[~within] > 0, area[~within], 1.0), 0, 1), 0
        )
        part[~shapely.intersects(gp, cut)] = 0.0
        share[~within] = part
    out[has] = share
    return out


def round_units(quotas: np.ndarray) -> np.ndarray:
    """Each quota (census × share) rounded to the nearest integer on its own (halves up): a unit's
    people inside do not depend on the other units, so any grouping of the units adds up to the
    same total; an integral quota (a unit entirely inside) stays exactly as it is."""
    return np.floor(np.asarray(quotas, float) + 0.5).astype(np.int64)


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
    def compute(
        cls, units: gpd.GeoDataFrame, extent: Extent, *, has_nodes: np.ndarray, remainder: int | None = None
    ) -> InsideShares:
        """``has_nodes``: per unit, whether the drive network has a node assigned to it."""
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
        inside[known] = round_units(census[known] * carried[known])
        keep = (share > 0) | has_nodes
        return cls(census, share, inside, keep, notes)

    def unit_records(self, units: gpd.GeoDataFrame) -> list[UnitRecord]:
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
