"""A routable road network as flat arrays, built from :class:`RawWays`.

Graph nodes are OSM nodes where ways meet or end; every way is cut into edges between them.
Lengths and per-profile travel times are computed per raw OSM segment and summed per edge, so
merged edges keep exact times (adding speeds after simplification is up to 12% off).

Arrays (N nodes, E directed edges, G undirected geometries, P coordinate positions):

* nodes: ``node_osmid``, ``node_lon``, ``node_lat``, ``node_x``, ``node_y`` (metres, local UTM)
* geometries: ``geom_a``/``geom_b`` position range (inclusive) in ``lon``/``lat``/``x``/``y``,
  ``geom_u``/``geom_v`` end nodes, ``geom_way`` way index, ``geom_len`` metres,
  ``geom_fwd``/``geom_bwd`` directed edge id or -1
* coordinates: ``lon``, ``lat``, ``x``, ``y``, ``cumlen`` (metres along the way)
* directed edges: ``edge_u``, ``edge_v``, ``edge_geom``, ``edge_rev`` (runs v->u along geometry),
  ``edge_len``, ``time_<profile>`` seconds
* CSR: edges are sorted by tail, so ``out_ptr`` indexes them directly; ``in_ptr``/``in_edge``
  list edge ids by head. Nodes are numbered along a Z-order curve for memory locality.
* snapping grid: ``grid_ptr``/``grid_seg`` over segments (position of the segment's start),
  with ``grid_meta`` = [x0, y0, cell, nx, ny]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyproj import CRS, Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import GeoserviceError
from ..sources.osm_roads import FLAG_DRIVE, FLAG_WALK, RawWays
from ..sources.speeds import ROAD_CLASSES, Profile

EARTH_R = 6_371_008.8
GRID_CELL_M = 250.0
NETWORK_FLAGS = {"drive": FLAG_DRIVE, "walk": FLAG_WALK}


@dataclass
class Network:
    name: str
    arrays: dict[str, np.ndarray]
    way_name: list[str]
    way_class: np.ndarray
    way_id: np.ndarray
    crs: str  # metric CRS of x/y, e.g. "EPSG:32631"
    profiles: dict[str, Profile]
    report: dict = field(default_factory=dict)

    def __getattr__(self, key: str) -> np.ndarray:
        try:
            return self.__dict__["arrays"][key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def n_nodes(self) -> int:
        return len(self.arrays["node_x"])

    @property
    def n_edges(self) -> int:
        return len(self.arrays["edge_u"])

    def times(self, profile: str) -> np.ndarray:
        key = f"time_{profile}"
        if key not in self.arrays:
            raise KeyError(profile)
        return self.arrays[key]


def utm_crs_for(lon: float, lat: float) -> str:
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(a) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s+l)`` for all pairs, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - offs)


def build_network(raw: RawWays, name: str, profiles: dict[str, Profile], *, crs: str | None = None) -> Network:
    """Cut ``raw`` ways of network ``name`` ("drive" or "walk") into a routable network."""
    flag = NETWORK_FLAGS[name]
    ways = np.flatnonzero(raw.way_flags & flag)
    if len(ways) == 0:
        raise GeoserviceError("osm", f"the OSM file has no {name} roads; give an extract with roads")
    wlen = (raw.ptr[ways + 1] - raw.ptr[ways]).astype(np.int64)
    pos = _ranges(raw.ptr[ways], wlen)
    ref = raw.ref[pos]
    lon = raw.lon[pos]
    lat = raw.lat[pos]
    # local way index (into `ways`) of every position
    wpos = np.repeat(np.arange(len(ways), dtype=np.int64), wlen)
    starts = np.cumsum(wlen) - wlen
    is_start = np.zeros(len(pos), bool)
    is_start[starts] = True
    is_end = np.zeros(len(pos), bool)
    is_end[starts + wlen - 1] = True
    del pos

    uniq, inv, counts = np.unique(ref, return_inverse=True, return_counts=True)
    is_node = (counts[inv] >= 2) | is_start | is_end
    del counts

    # segment lengths (segment i joins positions i and i+1 of the same way)
    seg = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[is_end[:-1]] = 0.0
    cumlen = np.concatenate([[0.0], np.cumsum(seg)])

    node_pos = np.flatnonzero(is_node)
    a = node_pos[:-1]
    b = node_pos[1:]
    same_way = ~is_end[a]
    a = a[same_way]
    b = b[same_way]
    gu = inv[a]
    gv = inv[b]
    keep = gu != gv  # drop self-loops
    a, b, gu, gv = a[keep], b[keep], gu[keep], gv[keep]
    gway = wpos[a]
    glen = cumlen[b] - cumlen[a]

    raw_way = ways[gway]
    oneway = raw.way_oneway[raw_way] if name == "drive" else np.zeros(len(a), np.int8)
    fwd_mask = oneway >= 0
    bwd_mask = oneway <= 0
    gid = np.arange(len(a), dtype=np.int64)
    e_geom = np.concatenate([gid[fwd_mask], gid[bwd_mask]])
    e_rev = np.concatenate([np.zeros(fwd_mask.sum(), bool), np.ones(bwd_mask.sum(), bool)])
    e_u = np.where(e_rev, gv[e_geom], gu[e_geom])
    e_v = np.where(e_rev, gu[e_geom], gv[e_geom])

    # largest strongly connected component
    n_all = len(uniq)
    m = csr_matrix((np.ones(len(e_u), np.int8), (e_u, e_v)), shape=(n_all, n_all))
    ncomp, labels = connected_components(m, directed=True, connection="strong")
    del m
    biggest = np.bincount(labels).argmax()
    used = np.zeros(n_all, bool)
    used[np.concatenate([gu, gv])] = True
    in_scc = labels == biggest
    e_keep = in_scc[e_u] & in_scc[e_v]
    report = {
        "components": int(len(np.unique(labels[used]))),
        "nodes_total": int(used.sum()),
        "nodes_kept": int(in_scc.sum()),
        "nodes_dropped": int((used & ~in_scc).sum()),
        "edges_total": int(len(e_u)),
        "edges_dropped": int((~e_keep).sum()),
    }
    e_u, e_v, e_geom, e_rev = e_u[e_keep], e_v[e_keep], e_geom[e_keep], e_rev[e_keep]

    # compact geometries and nodes
    g_used = np.zeros(len(a), bool)
    g_used[e_geom] = True
    g_new = np.full(len(a), -1, np.int64)
    g_new[g_used] = np.arange(g_used.sum())
    a, b, gu, gv, gway, glen, raw_way = (arr[g_used] for arr in (a, b, gu, gv, gway, glen, raw_way))
    e_geom = g_new[e_geom]
    keep_nodes = np.flatnonzero(in_scc)
    del g_new, g_used, labels, in_scc, used
    # node coordinates: take them from any position of that node
    first_pos = np.full(n_all, -1, np.int64)
    first_pos[inv[::-1]] = np.arange(len(inv))[::-1]
    del inv
    kp = first_pos[keep_nodes]
    del first_pos

    if crs is None:
        crs = utm_crs_for(float(np.median(lon[kp])), float(np.median(lat[kp])))
    tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    x, y = tr.transform(lon, lat)
    x = np.asarray(x)
    y = np.asarray(y)

    # spatial node order (Z-order curve): neighbours in the graph sit close in memory
    order = zorder(x[kp], y[kp])
    kp = kp[order]
    n_new = np.full(n_all, -1, np.int64)
    n_new[keep_nodes[order]] = np.arange(len(keep_nodes))
    node_osmid = uniq[keep_nodes[order]]
    del uniq, order
    gu, gv, e_u, e_v = n_new[gu], n_new[gv], n_new[e_u], n_new[e_v]
    del n_new
    # directed edges sorted by tail: the forward adjacency is contiguous
    perm = np.lexsort((e_v, e_u))
    e_u, e_v, e_geom, e_rev = e_u[perm], e_v[perm], e_geom[perm], e_rev[perm]
    del perm

    i32 = np.int32
    edge_len = glen[e_geom]
    arrays: dict[str, np.ndarray] = {
        "node_osmid": node_osmid,
        "node_lon": lon[kp],
        "node_lat": lat[kp],
        "node_x": x[kp],
        "node_y": y[kp],
        "geom_a": a.astype(i32),
        "geom_b": b.astype(i32),
        "geom_u": gu.astype(i32),
        "geom_v": gv.astype(i32),
        "geom_way": raw_way.astype(i32),
        "geom_len": glen,
        "lon": lon,
        "lat": lat,
        "x": x,
        "y": y,
        "cumlen": cumlen,
        "edge_u": e_u.astype(i32),
        "edge_v": e_v.astype(i32),
        "edge_geom": e_geom.astype(i32),
        "edge_rev": e_rev,
        "edge_len": edge_len,
    }
    ng = len(a)
    geom_fwd = np.full(ng, -1, i32)
    geom_bwd = np.full(ng, -1, i32)
    eid = np.arange(len(e_u), dtype=i32)
    geom_fwd[e_geom[~e_rev]] = eid[~e_rev]
    geom_bwd[e_geom[e_rev]] = eid[e_rev]
    arrays["geom_fwd"] = geom_fwd
    arrays["geom_bwd"] = geom_bwd

    # per-profile times from per-way speeds (uniform along a way, so sum = len / speed)
    cls_names = [ROAD_CLASSES[c] for c in range(len(ROAD_CLASSES))]
    for pname, prof in profiles.items():
        if prof.network != name:
            continue
        wcls = raw.way_class[raw_way[e_geom]]
        wmax = raw.way_maxspeed[raw_way[e_geom]]
        speeds = np.empty(len(e_u))
        for ci, cname in enumerate(cls_names):
            sel = wcls == ci
            if not sel.any():
                continue
            ms = wmax[sel]
            has = np.isfinite(ms)
            sp = np.full(sel.sum(), prof.speed_kmh(cname, None))
            if has.any():
                sp[has] = [prof.speed_kmh(cname, float(v)) for v in ms[has]]
            speeds[sel] = sp
        arrays[f"time_{pname}"] = edge_len / (speeds / 3.6)

    arrays.update(_csr(e_u, e_v, len(keep_nodes)))
    del e_u, e_v
    arrays.update(_snap_grid(arrays))
    report["geometries"] = int(ng)
    return Network(
        name=name,
        arrays=arrays,
        way_name=[raw.way_name[i] for i in range(len(raw.way_name))],
        way_class=raw.way_class,
        way_id=raw.way_id,
        crs=crs,
        profiles={k: v for k, v in profiles.items() if v.network == name},
        report=report,
    )


def zorder(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order (Morton) curve of 16-bit cells."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
        return v

    def quant(v: np.ndarray) -> np.ndarray:
        span = float(v.max() - v.min()) or 1.0
        return ((v - v.min()) / span * 65535).astype(np.int64)

    code = spread(quant(x)) | (spread(quant(y)) << np.uint64(1))
    return np.argsort(code, kind="stable")


def _csr(u: np.ndarray, v: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Edges are sorted by tail, so the forward CSR needs only pointers; the reverse CSR
    lists edge ids by head."""
    assert np.all(np.diff(u) >= 0), "edges must be sorted by tail"
    in_edge = np.argsort(v, kind="stable").astype(np.int32)
    out_ptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))]).astype(np.int64)
    in_ptr = np.concatenate([[0], np.cumsum(np.bincount(v, minlength=n))]).astype(np.int64)
    return {"out_ptr": out_ptr, "in_ptr": in_ptr, "in_edge": in_edge}


def _snap_grid(arr: dict[str, np.ndarray], cell: float = GRID_CELL_M, chunk: int = 1_000_000) -> dict[str, np.ndarray]:
    """Uniform grid over all geometry segments. A segment is listed in the cell of every sample
    point taken along it at most ``cell / 2`` apart (ends included), so its nearest point to any
    query lies within ``cell / 4`` of a listed sample; ``kernels.snap_points`` allows for that.
    Done in chunks of segments to bound the temporary memory."""
    a, b = arr["geom_a"], arr["geom_b"]
    x, y = arr["x"], arr["y"]
    seg_start = _ranges(a.astype(np.int64), (b - a).astype(np.int64))  # segment i..i+1 for i in [a, b)
    x0 = float(x.min()) - cell
    y0 = float(y.min()) - cell
    nx = int((x.max() - x0) // cell) + 2
    ny = int((y.max() - y0) // cell) + 2
    cell_parts, seg_parts = [], []
    for lo in range(0, len(seg_start), chunk):
        ss = seg_start[lo : lo + chunk]
        sx0, sy0 = x[ss], y[ss]
        dx, dy = x[ss + 1] - sx0, y[ss + 1] - sy0
        nsamp = np.ceil(np.hypot(dx, dy) / (cell / 2)).astype(np.int64) + 1
        idx = np.repeat(np.arange(len(ss)), nsamp)
        f = (np.arange(len(idx)) - np.repeat(np.cumsum(nsamp) - nsamp, nsamp)) / np.repeat(
            np.maximum(nsamp - 1, 1), nsamp
        )
        cid = (((sy0[idx] + f * dy[idx]) - y0) // cell).astype(np.int64) * nx + (
            ((sx0[idx] + f * dx[idx]) - x0) // cell
        ).astype(np.int64)
        del f
        pair = np.unique(cid * len(ss) + idx)
        del cid, idx
        cell_parts.append(pair // len(ss))
        seg_parts.append(ss[pair % len(ss)].astype(np.int32))
        del pair
    cells = np.concatenate(cell_parts) if cell_parts else np.zeros(0, np.int64)
    segs = np.concatenate(seg_parts) if seg_parts else np.zeros(0, np.int32)
    order = np.argsort(cells, kind="stable")
    cells, segs = cells[order], segs[order]
    del order
    grid_ptr = np.concatenate([[0], np.cumsum(np.bincount(cells, minlength=nx * ny))])
    # geometry id of every position (-1 where no segment starts)
    seg_geom = np.full(len(x), -1, np.int32)
    seg_geom[seg_start] = np.repeat(np.arange(len(a)), b - a)
    return {"grid_ptr": grid_ptr, "grid_seg": segs, "grid_meta": np.array([x0, y0, cell, nx, ny]), "seg_geom": seg_geom}
