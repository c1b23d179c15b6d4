"""The area side of coverage: the road extent, the part reached in time, and the gap polygons.

All three are smooth contours on one lattice of ``cell`` metres in the network's metric CRS
(``engine.contours``), like isochrones: the *extent* is every place within the off-road margin of
a road (``margin`` = 1.5 cells); it is *covered* where a road point reached within T leaves room
for the distance (the reach field of the pieces reached towards the facilities, the junctions not
reached in time cut out, so every uncovered node lies in a gap); the *gaps* are the rest of the
extent. Covered and gaps come from one pair of fields (gaps: max(extent, -covered) <= 0), so
they tile the extent, and the areas reported are those of the polygons themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..bundle.network import Network
from ..engine import contours, reach
from ..engine.arrays import Pieces

if TYPE_CHECKING:
    from ..engine.router import Router

UNREACHED = 1e12

__all__ = ["extent_grid", "cover_grid", "gap_features", "Region", "Extent", "UNREACHED"]


@dataclass(frozen=True)
class Region:
    """A region on the coverage lattice: its field (<= 0 inside), its polygons (rings in the
    network's metres, outer ring first) and its area. ``sum()`` is that area counted in cells of
    ``cell`` metres, the figure callers multiply by cell * cell."""

    field: np.ndarray
    parts: list[list[np.ndarray]]
    area_m2: float
    cell: float

    def sum(self) -> float:
        return self.area_m2 / (self.cell * self.cell)


@dataclass(frozen=True)
class Extent:
    """The road extent as what tiles it: the covered region and the gaps."""

    covered: Region
    gaps: Region

    @property
    def area_m2(self) -> float:
        return self.covered.area_m2 + self.gaps.area_m2

    def sum(self) -> float:
        return self.covered.sum() + self.gaps.sum()


def _lattice(net: Network, cell: float) -> contours.Lattice:
    return contours.Lattice.around(
        float(net.x.min()), float(net.y.min()), float(net.x.max()), float(net.y.max()), dx=cell, dy=cell, h=cell
    )


def _field(
    net: Network,
    lat: contours.Lattice,
    sel: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    tau: np.ndarray,
    dist: np.ndarray,
    T: float,
) -> np.ndarray:
    """The reach field of pieces ``sel`` (times t0/t1 at their ends, tau end to end) within T."""
    ranges = np.array([float(T)])
    pts = reach.road_samples(
        reach.piece_geometry(net, metres=True),
        dist,
        Pieces(np.asarray(sel, np.int64), t0, t1, tau),
        reach.SampleGrid(ranges, lat.margin, contours.STEP * lat.h, lat.x0, lat.y0, lat.dx, lat.dy),
        reach.NO_ORIGIN,
    )
    return contours.reach_field([pts], ranges, lat)


def extent_grid(router: Router, cell: float) -> tuple[float, float, int, int, np.ndarray]:
    """(x0, y0, nx, ny, field) of the road extent: <= 0 within the margin of any road (cached
    per router)."""
    key = ("extent", cell)
    cache = router.__dict__.setdefault("_analysis_cache", {})
    if key not in cache:
        net = router.net
        lat = _lattice(net, cell)
        g = np.arange(len(net.geom_a), dtype=np.int64)
        z = np.zeros(len(g))
        # every piece "reached" at time 0, crossed in no time: the whole margin everywhere (kept
        # in single precision: a distance in metres, and half the memory held per router)
        field = _field(net, lat, g, z, z, z, np.zeros(net.n_nodes), 1.0)[0].astype(np.float32)
        cache[key] = (lat.x0, lat.y0, lat.nx, lat.ny, field)
    hit: tuple[float, float, int, int, np.ndarray] = cache[key]
    return hit


def cover_grid(
    router: Router, dist: np.ndarray, profile: str, weights: np.ndarray, T: float, cell: float
) -> tuple[float, float, Extent, Region]:
    """(x0, y0, extent, covered) for node times ``dist`` towards the facilities and threshold T:
    the covered region and the extent (covered + gaps), each with its polygons and area."""
    from ..engine.isochrone import reached_pieces

    net = router.net
    x0, y0, nx, ny, ext_field = extent_grid(router, cell)
    lat = contours.Lattice(x0, y0, float(cell), float(cell), float(cell), nx, ny)
    # the same reached pieces as an isochrone towards the facilities (travel "to" them)
    sel, t0, t1, tau = reached_pieces(net, dist, weights, T, forward=False)
    cov = _field(net, lat, sel, t0, t1, tau, dist, T)
    contours.cut_late_nodes(cov, net.node_x, net.node_y, dist, np.array([float(T)]), lat.frame)
    contours.settle(cov, 1e-3)
    gap = np.maximum(ext_field, -cov[0]).astype(np.float64)[None]
    contours.settle(gap, 1e-3)
    covered = _region(cov[0], lat)
    gaps = _region(gap[0], lat)
    return x0, y0, Extent(covered, gaps), covered


def _region(field: np.ndarray, lat: contours.Lattice) -> Region:
    parts = contours.outline(field, lat)
    return Region(field, parts, contours.polygons_area(parts), lat.h)


def gap_features(
    router: Router,
    ext: Extent,
    pop: np.ndarray,
    dist: np.ndarray,
    T: float,
    max_features: int = 500,
) -> list[dict[str, Any]]:
    """GeoJSON features (WGS-84) of the gaps, one per polygon, with area, the population of the
    uncovered nodes inside and the worst time among them (None if one is unreachable); most
    populated first, at most ``max_features``."""
    import shapely
    from pyproj import Transformer

    net = router.net
    polys = [shapely.Polygon(rings[0], rings[1:]) for rings in ext.gaps.parts]
    if not polys:
        return []
    # population and worst time per gap, from the uncovered nodes inside it
    unc = np.flatnonzero(~(dist <= T))
    comp = np.zeros(net.n_nodes, np.int64)
    tree = shapely.STRtree(polys)
    node_i, poly_i = tree.query(shapely.points(net.node_x[unc], net.node_y[unc]), predicate="within")
    comp[unc[node_i]] = poly_i + 1
    n = len(polys)
    gpop = np.bincount(comp, pop, minlength=n + 1)
    finite = np.where(np.isfinite(dist), dist, UNREACHED)
    worst = np.zeros(n + 1)
    np.maximum.at(worst, comp, finite)
    to_wgs = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    out: list[dict[str, Any]] = []
    for k, g in enumerate(polys, start=1):
        area = g.area
        g = shapely.transform(g, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
        g = shapely.set_precision(g, 1e-6)
        if g.is_empty and not gpop[k]:
            continue  # a sliver under the 1e-6 degree precision, with no one in it
        w = worst[k]
        out.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {
                    "gap_id": k,
                    "area_km2": round(float(area) / 1e6, 3),
                    "population": round(float(gpop[k]), 1),
                    "max_time_s": None if w >= UNREACHED else round(float(w), 1),
                },
            }
        )
    out.sort(key=lambda f: (-f["properties"]["population"], -f["properties"]["area_km2"]))
    return out[:max_features]
