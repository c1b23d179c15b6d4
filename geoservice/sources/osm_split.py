"""Split a country's OSM file into one extract per admin unit, each with a buffer beyond its border.

Why: a national run is one task per province, and a patient near a border must still reach a
center across it, so each extract holds its unit's polygon buffered by B km (buffered in a metric
azimuthal equal-area projection centred on the unit). Streaming with pyosmium, three passes:

1. nodes: each node's point is tested against the buffered polygons (a shapely STRtree, points
   batched 200,000 at a time); each unit keeps the ids inside it as a sorted numpy int64 array;
2. ways (batched likewise): a way is kept **whole** for a unit when any of its nodes is inside, and
   all its nodes are kept with it, so no kept way is cut at the buffer edge;
3. one more read writes each unit's kept nodes and ways (relations are dropped: roads and POIs need
   none) to ``DIR/<id>/extract.osm.pbf``, with a header box = the input's extent's box ∩ the
   buffered polygon's box.

**The people inside** follow the whole file's rule (``bundle.population_inside``): given the input's
``extent`` (``service.nation.split`` passes the one ``build`` would use: the box the file declares,
else the convex hull of its drive network's nodes), ``region.json`` records it with the piece's
box (``extent``: ``shape``, ``how``, ``clip``) and ``batch build`` counts each unit's people inside
that extent: every unit a piece owns keeps exactly the people it has in the whole file, so the
pieces add up to the whole.

Memory is 8 bytes per node and way kept (per unit that keeps it) plus one batch: never a Python
object per node, and independent of the file's tags and geometry (China's ~150 M road-area
nodes: about 1.3 GB with 50 km buffers). ``DIR/<id>/region.json`` records what the extract OWNS (unit id,
name, the unbuffered polygon as GeoJSON) and the buffer, so batch coverage counts only owned units.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GeoserviceError, InputFileError
from ..fileio import atomic_path, atomic_write_text
from .coords import to_wgs84

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

__all__ = ["SplitUnit", "SplitResult", "split_osm", "read_boundaries", "REGION_FILE", "EXTRACT_FILE"]

log = logging.getLogger(__name__)
REGION_FILE = "region.json"
EXTRACT_FILE = "extract.osm.pbf"
_BATCH = 200_000


@dataclass(frozen=True)
class SplitUnit:
    """One extract written: its unit, folder and counts."""

    unit_id: str
    name: str
    folder: Path
    nodes: int
    ways: int


@dataclass(frozen=True)
class SplitResult:
    units: list[SplitUnit]
    buffer_km: float
    input_nodes: int
    input_ways: int


def read_boundaries(
    path: str | Path, *, id_col: str, name_col: str | None = None, crs: str = "wgs84"
) -> gpd.GeoDataFrame:
    """The units as a WGS-84 GeoDataFrame with ``unit_id``, ``name``, ``geometry`` (polygons)."""
    import geopandas as gpd
    import shapely

    p = Path(path)
    if not p.is_file():
        raise InputFileError("boundaries", f"file not found: {p}")
    g = gpd.read_file(p)
    if id_col not in g.columns:
        raise GeoserviceError("id_col", f"no column {id_col!r} in {p.name} (has {', '.join(map(str, g.columns))})")
    if name_col is not None and name_col not in g.columns:
        raise GeoserviceError("name_col", f"no column {name_col!r} in {p.name}")
    ids = g[id_col].astype(str)
    if ids.duplicated().any():
        raise GeoserviceError("id_col", f"duplicate ids: {', '.join(sorted(set(ids[ids.duplicated()])))[:200]}")
    kinds = set(shapely.get_type_id(g.geometry.to_numpy()).tolist())
    if not kinds <= {3, 6}:
        raise GeoserviceError("boundaries", "every feature must be a Polygon or MultiPolygon")
    geoms = g.geometry.to_numpy()
    if crs != "wgs84":
        geoms = np.array([_convert(gm, crs) for gm in geoms], dtype=object)
    names = g[name_col].astype(str) if name_col else ids
    return gpd.GeoDataFrame({"unit_id": ids.to_numpy(), "name": names.to_numpy()}, geometry=geoms, crs="EPSG:4326")


def _convert(geom: Any, crs: str) -> Any:
    import shapely

    def f(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, f)


def _buffered(geom: Any, km: float) -> Any:
    """``geom`` buffered by ``km`` in an equal-area projection centred on it, back in WGS-84."""
    import pyproj
    import shapely

    c = geom.centroid
    laea = pyproj.CRS.from_proj4(f"+proj=laea +lat_0={c.y:.4f} +lon_0={c.x:.4f} +datum=WGS84 +units=m")
    fwd = pyproj.Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    back = pyproj.Transformer.from_crs(laea, "EPSG:4326", always_xy=True)

    def _via(t: Any) -> Any:
        return lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))

    # simplified to 100 m first: a buffer of a coastline's every vertex takes minutes, and 100 m
    # is far below any buffer worth having
    m = shapely.transform(geom, _via(fwd)).simplify(100.0)
    out = shapely.transform(m.buffer(km * 1000.0, quad_segs=4), _via(back))
    return shapely.make_valid(out)


def _input_box(osm: Path) -> tuple[float, float, float, float] | None:
    import osmium

    reader = osmium.io.Reader(str(osm), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat) if box.valid() else None


def split_osm(
    osm: str | Path,
    units: gpd.GeoDataFrame,
    out: str | Path,
    *,
    buffer_km: float = 50.0,
    boundaries_source: str = "",
    extent: tuple[BaseGeometry, str] | None = None,
) -> SplitResult:
    """Write ``out/<unit id>/extract.osm.pbf`` + ``region.json`` for every unit of ``units``
    (``read_boundaries``); ``extent``: (WGS-84 polygon, how it was found) of the whole input, for
    the people inside each piece; see the module docstring for how."""
    import osmium
    import shapely
    from shapely.geometry import mapping

    src = Path(osm)
    if not src.is_file():
        raise InputFileError("osm", f"file not found: {src}")
    if not buffer_km >= 0:
        raise GeoserviceError("buffer_km", f"must be >= 0, got {buffer_km}")
    owned = list(units.geometry.to_numpy())
    buffered = [_buffered(g, buffer_km) for g in owned]
    for b in buffered:
        shapely.prepare(b)
    tree = shapely.STRtree(buffered)
    n_units = len(owned)
    inside_parts: list[list[np.ndarray]] = [[] for _ in range(n_units)]

    # pass 1: nodes by point in buffered polygon; the input's extent when it declares none
    ids: list[int] = []
    xy: list[tuple[float, float]] = []
    ext = [np.inf, np.inf, -np.inf, -np.inf]
    n_nodes = 0

    def flush() -> None:
        if not ids:
            return
        a = np.asarray(xy)
        lo, hi = a.min(axis=0), a.max(axis=0)
        ext[:] = [min(ext[0], lo[0]), min(ext[1], lo[1]), max(ext[2], hi[0]), max(ext[3], hi[1])]
        pi, gi = tree.query(shapely.points(a), predicate="intersects")
        arr = np.asarray(ids, np.int64)
        for u in range(n_units):
            inside_parts[u].append(arr[pi[gi == u]])
        ids.clear()
        xy.clear()

    for n in _objects(str(src), osmium.osm.NODE):
        if n.location.valid():
            ids.append(n.id)
            xy.append((n.location.lon, n.location.lat))
            n_nodes += 1
            if len(ids) >= _BATCH:
                flush()
    flush()
    inside = [np.unique(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in inside_parts]
    inside_parts = []

    # pass 2: ways kept whole when any node is inside; their nodes all needed (batched)
    way_parts: list[list[np.ndarray]] = [[] for _ in range(n_units)]
    need_parts: list[list[np.ndarray]] = [[] for _ in range(n_units)]
    wid: list[int] = []
    wlen: list[int] = []
    refs: list[int] = []
    n_ways = 0

    def flush_ways() -> None:
        if not wid:
            return
        r = np.asarray(refs, np.int64)
        starts = np.concatenate([[0], np.cumsum(wlen)[:-1]])
        w_arr = np.asarray(wid, np.int64)
        for u in range(n_units):
            hit = _member(inside[u], r)
            keep = np.maximum.reduceat(hit, starts) if len(r) else np.zeros(0, bool)
            keep &= np.asarray(wlen) > 0
            if keep.any():
                way_parts[u].append(w_arr[keep])
                need_parts[u].append(r[np.repeat(keep, wlen)])
        wid.clear()
        wlen.clear()
        refs.clear()

    for w in _objects(str(src), osmium.osm.WAY):
        n_ways += 1
        rr = [x.ref for x in w.nodes]
        wid.append(w.id)
        wlen.append(len(rr))
        refs.extend(rr)
        if len(refs) >= _BATCH:
            flush_ways()
    flush_ways()
    keep_ways = _pairs([np.unique(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in way_parts])
    keep_nodes = _pairs(
        [
            np.union1d(inside[u], np.unique(np.concatenate(need_parts[u])) if need_parts[u] else inside[u])
            for u in range(n_units)
        ]
    )
    way_parts, need_parts, inside = [], [], []

    # pass 3: write
    declared = _input_box(src)
    box_in = tuple(extent[0].bounds) if extent is not None else declared or (tuple(ext) if n_nodes else None)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[SplitUnit] = []
    folders = [out_dir / _safe(str(uid)) for uid in units["unit_id"]]
    writers = []
    ctxs = []
    counts = np.zeros((n_units, 2), np.int64)
    try:
        for u, folder in enumerate(folders):
            folder.mkdir(parents=True, exist_ok=True)
            ctx = atomic_path(folder / EXTRACT_FILE)
            tmp = ctx.__enter__()
            ctxs.append(ctx)
            h = osmium.io.Header()
            bx = buffered[u].bounds
            if box_in is not None:
                bx = (max(bx[0], box_in[0]), max(bx[1], box_in[1]), min(bx[2], box_in[2]), min(bx[3], box_in[3]))
            h.add_box(osmium.osm.Box(osmium.osm.Location(bx[0], bx[1]), osmium.osm.Location(bx[2], bx[3])))
            h.set("generator", f"geoservice split of {src.name} (OpenStreetMap contributors, ODbL 1.0)")
            writers.append(osmium.SimpleWriter(str(tmp), header=h))
        for o in _objects(str(src), osmium.osm.NODE | osmium.osm.WAY):
            node = o.is_node()
            for u in _units_of(keep_nodes if node else keep_ways, o.id):
                if node:
                    writers[u].add_node(o)
                else:
                    writers[u].add_way(o)
                counts[u, 0 if node else 1] += 1
        for wr in writers:
            wr.close()
        writers = []
    except BaseException as exc:
        for wr in writers:
            wr.close()
        for ctx in ctxs:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
        raise
    for ctx in ctxs:
        ctx.__exit__(None, None, None)
    for u, folder in enumerate(folders):
        doc: dict[str, Any] = {
            "unit_id": str(units["unit_id"].iloc[u]),
            "name": str(units["name"].iloc[u]),
            "buffer_km": buffer_km,
            "source": src.name,
            "boundaries": boundaries_source,
            "owned": mapping(owned[u]),
            "buffered": mapping(buffered[u]),
            "nodes": int(counts[u, 0]),
            "ways": int(counts[u, 1]),
            "licence": "OpenStreetMap contributors, ODbL 1.0",
        }
        if extent is not None:  # the whole input's, cut to this piece's box (bundle.population_inside.Extent)
            doc["extent"] = {"shape": mapping(extent[0]), "how": extent[1], "clip": list(buffered[u].bounds)}
        atomic_write_text(folder / REGION_FILE, json.dumps(doc, ensure_ascii=False) + "\n")
        results.append(SplitUnit(doc["unit_id"], doc["name"], folder, doc["nodes"], doc["ways"]))
        log.info("split %s: %d nodes, %d ways", doc["unit_id"], doc["nodes"], doc["ways"])
    return SplitResult(results, buffer_km, n_nodes, n_ways)


def _objects(path: str, kinds: Any) -> Iterator[Any]:
    """The file's objects of ``kinds`` (typed Any: pyosmium's union type cannot be narrowed)."""
    import osmium

    yield from osmium.FileProcessor(path, kinds)


def _member(sorted_ids: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each of ``x`` is in ``sorted_ids``."""
    if not len(sorted_ids):
        return np.zeros(len(x), bool)
    i = np.minimum(np.searchsorted(sorted_ids, x), len(sorted_ids) - 1)
    found: np.ndarray = sorted_ids[i] == x
    return found


def _pairs(per_unit: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit) sorted by id: one search per object finds every unit that keeps it."""
    ids = np.concatenate(per_unit) if per_unit else np.zeros(0, np.int64)
    unit = np.concatenate([np.full(len(a), u, np.int32) for u, a in enumerate(per_unit)]) if per_unit else ids
    order = np.argsort(ids, kind="stable")
    return ids[order], unit[order]


def _units_of(pairs: tuple[np.ndarray, np.ndarray], oid: int) -> list[int]:
    ids, unit = pairs
    lo = int(np.searchsorted(ids, oid))
    hi = lo
    while hi < len(ids) and ids[hi] == oid:
        hi += 1
    units: list[int] = unit[lo:hi].tolist()
    return units


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "unit"
