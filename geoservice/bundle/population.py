"""Dasymetric disaggregation of admin-unit counts onto network nodes or a regular grid.

Method (stated in every output through :data:`NODE_METHOD` / :data:`GRID_METHOD`):

* **Network nodes, road-density weights.** Each graph node gets the length of the residential-type
  roads around it: half the length of every incident road piece of class residential,
  living_street, unclassified, tertiary(+link), service or road (walk network: also pedestrian,
  footway, path, steps, track). People live along local streets, not along motorways. A node is
  in the admin unit whose polygon contains it (a node within 500 m of one unit counts for it;
  else the remainder unit, if any). A unit's count is split over its nodes in proportion to the
  weights (all roads if its local streets have no length, equal shares if it has no road length).
* **Grid, areal weighting** (used for Hubei, where no OSM network is available offline): every
  grid cell is cut by the county polygons and each piece gets a share of its county's count in
  proportion to its area. A real Hubei OSM build uses the node method instead.
* **Only the part inside the road extract** (``bundle.population_inside``): a unit partly
  outside the network outline keeps the share of its count equal to its area share inside
  (uniform density assumed); the bundle records per unit the census count, the share inside and
  the people inside, and the totals inside / outside (extra/population.json, meta["population"]).
* Counts are integers, rounded per unit by the largest-remainder method, so every unit total and
  the grand total are preserved exactly.
* **The same people on every network** (``bundle.population_files``): the walking network counts
  the drive network's people unit by unit; those along the parts of it the build dropped as
  disconnected are off it (``PopulationLayer.off_network``): counted, never covered.
* **No census** (a bundle built without ``--population``): the layer holds road-density weights
  only, ``has_census`` is False, and every answer says "no population data" (population fields
  null, population shares null) rather than a share of weights that would read as people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..sources.speeds import CLASS_INDEX

if TYPE_CHECKING:
    import geopandas as gpd

    from ..sources.population_spec import PopulationSpec
    from .network import Network
    from .store import Region


__all__ = [
    "largest_remainder",
    "spread",
    "node_weights",
    "assign_units",
    "spread_on_network",
    "spread_on_grid",
    "remainder_index",
    "load_population",
    "PopulationLayer",
    "NODE_METHOD",
    "GRID_METHOD",
]

NODE_METHOD = (
    "dasymetric: admin-unit counts spread onto road-network nodes in proportion to the "
    "length of residential-type roads (residential, living_street, unclassified, tertiary, "
    "service, road) around each node; largest-remainder integer rounding keeps unit totals exact"
)
GRID_METHOD = (
    "areal weighting: admin-unit counts spread onto grid cells in proportion to the area of "
    "each cell inside the unit; largest-remainder integer rounding keeps unit totals exact"
)
RESIDENTIAL = ("residential", "living_street", "unclassified", "tertiary", "tertiary_link", "service", "road")
WALK_EXTRA = ("pedestrian", "footway", "path", "steps", "track")
NEAR_UNIT_M = 500.0


def largest_remainder(total: int, weights: np.ndarray) -> NDArray[np.int64]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (Hamilton's method)."""
    w = np.asarray(weights, float)
    if total < 0:
        raise ValueError("total must be non-negative")
    if len(w) == 0:
        if total:
            raise ValueError("cannot place a positive total on no points")
        return np.zeros(0, np.int64)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    s = w.sum()
    if s <= 0:
        w = np.ones(len(w))
        s = float(len(w))
    quota = total * (w / s)
    base: NDArray[np.int64] = np.floor(quota).astype(np.int64)
    left = int(total - base.sum())
    if left:
        order = np.lexsort((np.arange(len(w)), -(quota - base)))  # stable on ties
        base[order[:left]] += 1
    return base


def spread(
    unit_pop: np.ndarray, point_unit: np.ndarray, weights: np.ndarray, fallback_weights: np.ndarray | None = None
) -> np.ndarray:
    """Integer population per point: each unit's count split over its points by weight.

    ``unit_pop``: count per unit (NaN = no count, its points get 0); ``point_unit``: unit index per
    point (-1 = none). Raises when a unit with a positive count has no point."""
    unit_pop = np.asarray(unit_pop, float)
    point_unit = np.asarray(point_unit, np.int64)
    out = np.zeros(len(point_unit), np.int64)
    order = np.argsort(point_unit, kind="stable")
    bounds = np.searchsorted(point_unit[order], np.arange(len(unit_pop) + 1))
    empty = []
    for u, count in enumerate(unit_pop):
        if not np.isfinite(count) or count <= 0:
            continue
        idx = order[bounds[u] : bounds[u + 1]]
        if len(idx) == 0:
            empty.append(u)
            continue
        w = weights[idx]
        if w.sum() <= 0 and fallback_weights is not None:
            w = fallback_weights[idx]
        out[idx] = largest_remainder(int(round(count)), w)
    if empty:
        raise ValueError(f"{len(empty)} unit(s) with population have no point to carry it: indices {empty[:10]}")
    return out


def residential_classes(network: str) -> tuple[str, ...]:
    """The road classes people are spread along on ``network`` (walk: footways and paths too)."""
    return RESIDENTIAL + (WALK_EXTRA if network == "walk" else ())


def node_weights(net: Network, *, classes: tuple[str, ...] | None = None) -> np.ndarray:
    """Per node: half the length of incident road pieces of the given classes (metres)."""
    classes = classes or residential_classes(net.name)
    cls = net.way_class[net.geom_way]
    keep = np.isin(cls, [CLASS_INDEX[c] for c in classes if c in CLASS_INDEX])
    glen = np.where(keep, net.geom_len, 0.0)
    n = net.n_nodes
    return 0.5 * (np.bincount(net.geom_u, glen, minlength=n) + np.bincount(net.geom_v, glen, minlength=n))


def all_road_weights(net: Network) -> np.ndarray:
    n = net.n_nodes
    return 0.5 * (
        np.bincount(net.geom_u, net.geom_len, minlength=n) + np.bincount(net.geom_v, net.geom_len, minlength=n)
    )


def assign_units(
    units: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    crs: str | None = None,
    remainder: int | None = None,
    near_m: float = NEAR_UNIT_M,
) -> np.ndarray:
    """Unit index per point by point-in-polygon; points within ``near_m`` of a unit take the
    nearest one; other points go to ``remainder`` (or -1)."""
    import shapely

    geoms = units.geometry.to_numpy()
    pts = np.asarray(shapely.points(np.column_stack([lon, lat])), dtype=object).reshape(-1)
    out = np.full(len(pts), -1, np.int64)
    valid = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    if valid:
        tree = shapely.STRtree([geoms[i] for i in valid])
        pi, gi = tree.query(pts, predicate="within")
        out[pi] = np.asarray(valid)[gi]
        miss = np.flatnonzero(out < 0)
        if len(miss) and crs:
            import geopandas as gpd

            gm = gpd.GeoSeries([geoms[i] for i in valid], crs="EPSG:4326").to_crs(crs).to_numpy()
            pm = gpd.GeoSeries(pts[miss], crs="EPSG:4326").to_crs(crs).to_numpy()
            t2 = shapely.STRtree(gm)
            pi2, gi2 = t2.query_nearest(pm, max_distance=near_m, all_matches=False)
            out[miss[pi2]] = np.asarray(valid)[gi2]
    if remainder is not None:
        out[out < 0] = remainder
    return out


@dataclass
class NodePopulation:
    population: np.ndarray  # int64 per node
    unit: np.ndarray  # unit index per node (-1 none)
    off_network: np.ndarray | None = None  # int64 per extra point (people on roads off the network)


def spread_on_network(
    spec: PopulationSpec,
    net: Network,
    *,
    unit: np.ndarray | None = None,
    extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> NodePopulation:
    """Spread a :class:`~geoservice.sources.population.PopulationSpec` onto ``net``'s nodes
    (``unit``: the unit of every node when already assigned). ``extra`` = (unit, weight, fallback
    weight) per point of roads off the network (``bundle.dropped_roads``): they take their share
    of their unit's people with the nodes, returned in ``off_network``."""
    units = spec.units
    if unit is None:
        unit = assign_units(units, net.node_lon, net.node_lat, crs=net.crs, remainder=remainder_index(spec))
    n = len(unit)
    w = node_weights(net)
    fb = all_road_weights(net)
    if extra is not None:
        unit = np.concatenate([unit, np.asarray(extra[0], np.int64)])
        w = np.concatenate([w, np.asarray(extra[1], float)])
        fb = np.concatenate([fb, np.asarray(extra[2], float)])
    pop_known = units["population"].to_numpy(float)
    result = spread(pop_known, unit, w, fb)
    if spec.total is not None:
        unknown = ~np.isfinite(pop_known)
        rest = int(spec.total - np.nansum(pop_known))
        if rest < 0:
            raise ValueError("unit counts exceed the published total")
        sel = np.flatnonzero((unit >= 0) & unknown[np.maximum(unit, 0)])
        if rest and not len(sel):
            raise ValueError("no network node lies in the units that share the published total")
        ws = w[sel] if w[sel].sum() > 0 else fb[sel]
        result[sel] = largest_remainder(rest, ws)
    return NodePopulation(result[:n], unit[:n], result[n:] if extra is not None else None)


def remainder_index(spec: PopulationSpec) -> int | None:
    if spec.remainder_code is None:
        return None
    return int(np.flatnonzero(spec.units["admin_code"].to_numpy() == spec.remainder_code)[0])


def spread_on_grid(spec: PopulationSpec, cell_deg: float = 0.05) -> gpd.GeoDataFrame:
    """Areal weighting of the units onto a lon/lat grid: GeoDataFrame of cell pieces with
    admin_code, cell_i, cell_j, area_km2, population (int), geometry (the piece), lon/lat of
    its representative point. Every unit total is preserved exactly."""
    import geopandas as gpd
    import shapely

    units = spec.units
    rows: dict[str, list[Any]] = {"admin_code": [], "cell_i": [], "cell_j": [], "geometry": []}
    minx, miny, maxx, maxy = units.total_bounds
    x0 = np.floor(minx / cell_deg) * cell_deg
    y0 = np.floor(miny / cell_deg) * cell_deg
    for code, geom in zip(units["admin_code"], units.geometry):
        if geom is None or geom.is_empty:
            continue
        gx0, gy0, gx1, gy1 = geom.bounds
        i0 = int((gx0 - x0) // cell_deg)
        i1 = int((gx1 - x0) // cell_deg)
        j0 = int((gy0 - y0) // cell_deg)
        j1 = int((gy1 - y0) // cell_deg)
        gi, gj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1))
        ii = gi.ravel()
        jj = gj.ravel()
        boxes = shapely.box(x0 + ii * cell_deg, y0 + jj * cell_deg, x0 + (ii + 1) * cell_deg, y0 + (jj + 1) * cell_deg)
        shapely.prepare(geom)
        hit = shapely.intersects(geom, boxes)
        pieces = shapely.intersection(boxes[hit], geom)
        ok = ~shapely.is_empty(pieces)
        rows["admin_code"] += [code] * int(ok.sum())
        rows["cell_i"] += ii[hit][ok].tolist()
        rows["cell_j"] += jj[hit][ok].tolist()
        rows["geometry"] += list(pieces[ok])
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    # equal-area for the weights
    g["area_km2"] = g.to_crs("+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84").area / 1e6
    codes = units["admin_code"].to_numpy()
    index = {c: i for i, c in enumerate(codes)}
    piece_unit = np.array([index[c] for c in g["admin_code"]], np.int64)
    g["population"] = spread(units["population"].to_numpy(float), piece_unit, g["area_km2"].to_numpy())
    rp = g.geometry.representative_point()
    g["lon"] = rp.x
    g["lat"] = rp.y
    g.attrs["method"] = GRID_METHOD
    return g


@dataclass
class PopulationLayer:
    """Population on one network's nodes, as stored in a bundle."""

    population: np.ndarray  # float per node
    unit: np.ndarray  # unit index per node (-1 none)
    units: gpd.GeoDataFrame  # admin units: population = census count, share_inside, population_inside
    method: str
    source: str
    has_census: bool
    census_total: int | None = None  # census count of the units counted (None: no census / old bundle)
    total_outside: int | None = None  # of it, people living outside the road extract
    off_network: np.ndarray | None = None  # per unit: people inside but off this network (never covered)

    @property
    def off(self) -> np.ndarray:
        """People off this network per unit (zeros when none): counted in every total, never covered."""
        return self.off_network if self.off_network is not None else np.zeros(len(self.units))


def load_population(region: Region, network: str = "drive") -> PopulationLayer:
    """The bundle's population on ``network``; without one, road-density weights normalised to
    1 per node total (``has_census`` False: shares are of road-weighted space, not people)."""
    key = f"population:{network}"
    cached = region.extras.get(key)
    if isinstance(cached, PopulationLayer):
        return cached
    import geopandas as gpd

    d = Path(region.path) / "extra"
    f = d / f"population_{network}.npz"
    net = region.networks[network]
    if f.is_file() and (d / "population.json").is_file():
        with np.load(f) as z:
            pop, unit = z["population"].astype(float), z["unit"].astype(np.int64)
            off = z["off_network"].astype(float) if "off_network" in z.files else None
        meta = json.loads((d / "population.json").read_text(encoding="utf-8"))
        units = gpd.read_file(d / "admin_units.geojson")
        units["admin_code"] = units["admin_code"].astype(str)
        method = meta["method"] + ("; " + meta["inside_method"] if meta.get("inside_method") else "")
        if off is not None and off.any():
            method += (
                f"; the {int(off.sum()):,} people along parts of the {network} network not connected to the rest "
                f"(dropped by the build) are counted off it, never covered"
            )
        layer = PopulationLayer(
            pop, unit, units, method, meta["source"], True, meta.get("census_total"), meta.get("total_outside"), off
        )
    else:
        w = node_weights(net)
        if w.sum() <= 0:
            w = all_road_weights(net)
        units = gpd.GeoDataFrame(
            {"admin_code": ["all"], "name": [region.name], "population": [np.nan]}, geometry=[None], crs="EPSG:4326"
        )
        layer = PopulationLayer(
            w / w.sum(),
            np.zeros(net.n_nodes, np.int64),
            units,
            NODE_METHOD.replace("admin-unit counts", "relative weights (no census in this bundle)"),
            "none: this bundle has no population layer",
            False,
        )
    region.extras[key] = layer
    return layer
