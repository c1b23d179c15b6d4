"""A routable road network as flat arrays, built from :class:`RawWays`.

Graph nodes are OSM nodes where ways meet or end, except those that decide nothing (two
neighbours, the same road class and speed on both sides, no change of one-way): chains through
them are contracted into single edges (``bundle.chains``), as osmnx's ``simplify_graph`` does.
The graph has no self-loops: a stretch of a way that comes back to its start node without meeting
another road (a closed way hanging from one node, a lasso) keeps its middle vertex as a node.
Lengths and per-profile travel times are computed per raw OSM segment and summed per edge, so
merged edges keep exact times (adding speeds after simplification is up to 12% off).

Arrays (N nodes, E directed edges, G undirected geometries, K parts, P coordinate positions):

* nodes: ``node_osmid``, ``node_lon``, ``node_lat``, ``node_x``, ``node_y`` (metres, local UTM)
* geometries: ``geom_a``/``geom_b`` position range (inclusive) in ``lon``/``lat``/``x``/``y``,
  laid out u->v; ``geom_u``/``geom_v`` end nodes, ``geom_way`` the way at its middle vertex,
  ``geom_len`` metres, ``geom_fwd``/``geom_bwd`` directed edge id or -1. Speed and class are
  uniform along a geometry, so the time to a point on it is proportional to the length.
* parts (the OSM ways a geometry runs through, in order): geometry g's parts are
  ``part_ptr[g]:part_ptr[g+1]``; ``part_way`` way index, ``part_end`` its last position (a part
  starts where the previous one ends, the first at ``geom_a``), ``part_rev`` laid out against
  the way's direction, ``part_seq`` its order along the way (sorting by it groups parts by way)
* coordinates: ``lon``, ``lat``, ``x``, ``y``, ``cumlen`` (metres along the geometry)
* directed edges: ``edge_u``, ``edge_v``, ``edge_geom``, ``edge_rev`` (runs v->u along geometry),
  ``edge_len``, ``time_<profile>`` seconds
* CSR: edges are sorted by tail, so ``out_ptr`` indexes them directly; ``in_ptr``/``in_edge``
  list edge ids by head, with ``in_u``, ``in_len`` and ``in_time_<profile>`` gathered in that
  order (the reverse search reads them sequentially; stored, so that processes share them).
  Nodes are numbered along a Z-order curve for memory locality.
* snapping grid: ``grid_ptr``/``grid_seg`` over segments (position of the segment's start),
  with ``grid_meta`` = [x0, y0, cell, nx, ny]; ``seg_off_grade`` (per position, for the segment
  starting there) is 1 where this network's traveller cannot join the road beside it (a bridge,
  tunnel or other layer; by car also a motorway), see ``engine.router`` and
  ``sources.osm_roads.join_flags``
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import GeoserviceError
from ..sources.osm_roads import FLAG_DRIVE, FLAG_WALK, JOIN_FLAGS, RawWays
from ..sources.speeds import ROAD_CLASSES, Profile
from .chains import contract, incidence, relayout, removable_nodes
from .snap_grid import ranges, snap_grid

EARTH_R = 6_371_008.8
NETWORK_FLAGS = {"drive": FLAG_DRIVE, "walk": FLAG_WALK}


class WayNames(Sequence[str]):
    """Way names by way index, each distinct name held once (``names[ids[i]]``): a province
    has millions of ways but far fewer names, and ``ids`` can stay memory-mapped."""

    def __init__(self, names: list[str], ids: np.ndarray):
        self.names = names
        self.ids = ids

    @classmethod
    def of(cls, names: Sequence[str]) -> WayNames:
        ids: dict[str, int] = {}
        index = np.fromiter((ids.setdefault(n, len(ids)) for n in names), np.int32, len(names))
        return cls(list(ids), index)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self.names[j] for j in self.ids[i].tolist()]
        return self.names[int(self.ids[i])]

    def __iter__(self) -> Iterator[str]:
        names = self.names
        return (names[j] for j in self.ids.tolist())


@dataclass
class Network:
    name: str
    arrays: dict[str, np.ndarray]
    way_name: Sequence[str]
    way_class: np.ndarray
    way_id: np.ndarray
    crs: str  # metric CRS of x/y, e.g. "EPSG:32631"
    profiles: dict[str, Profile]
    report: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, key: str) -> np.ndarray:
        try:
            arr: np.ndarray = self.__dict__["arrays"][key]
            return arr
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


def haversine_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle metres between (lon1, lat1) and (lon2, lat2), element by element."""
    x1, y1, x2, y2 = (np.radians(a) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    out: NDArray[np.float64] = 2 * EARTH_R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return out


def build_network(
    raw: RawWays, name: str, profiles: dict[str, Profile], *, crs: str | None = None, simplify: bool = True
) -> Network:
    """Cut ``raw`` ways of network ``name`` ("drive" or "walk") into a routable network: pieces
    between the nodes where ways meet or end, the largest strongly connected component, and (with
    ``simplify``) chains of nodes that decide nothing contracted into single edges
    (:mod:`bundle.chains`). Each edge is one contiguous run of coordinates."""
    flag = NETWORK_FLAGS[name]
    ways = np.flatnonzero(raw.way_flags & flag)
    if len(ways) == 0:
        raise GeoserviceError("osm", f"the OSM file has no {name} roads; give an extract with roads")
    own = {k: v for k, v in profiles.items() if v.network == name}
    pieces, pos, uniq = _pieces(raw, ways, name == "drive")
    n_all = len(uniq)
    in_scc, report = _largest_scc(pieces, n_all)
    pieces = {k: v[in_scc[pieces["u"]] & in_scc[pieces["v"]]] for k, v in pieces.items()}
    if len(pieces["u"]) == 0:
        raise GeoserviceError("osm", f"the {name} roads of the OSM file do not connect any two places")
    pu, pv, fwd, bwd, pway = pieces["u"], pieces["v"], pieces["fwd"], pieces["bwd"], pieces["way"]
    speeds, key = _piece_speeds(raw, pway, own)

    # node coordinates: the CRS and a spatial (Z-order) node order, in which chains are laid out
    node_lon = np.zeros(n_all)
    node_lat = np.zeros(n_all)
    for node_key, pos_key in (("u", "a"), ("v", "b")):
        node_lon[pieces[node_key]] = raw.lon[pos[pieces[pos_key]]]
        node_lat[pieces[node_key]] = raw.lat[pos[pieces[pos_key]]]
    scc_nodes = np.flatnonzero(in_scc)
    if crs is None:
        crs = utm_crs_for(float(np.median(node_lon[scc_nodes])), float(np.median(node_lat[scc_nodes])))
    tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    sx, sy = tr.transform(node_lon[scc_nodes], node_lat[scc_nodes])
    node_order = scc_nodes[zorder(np.asarray(sx), np.asarray(sy))]
    del sx, sy, scc_nodes

    inc = incidence(n_all, pu, pv)
    keep = in_scc & ~removable_nodes(n_all, pu, pv, fwd, bwd, key, inc) if simplify else in_scc
    chains, keep = contract(pu, pv, keep, node_order, inc)
    del inc, key
    first, last = chains.piece[chains.ptr[:-1]], chains.piece[chains.ptr[1:] - 1]
    rev0 = chains.rev[chains.ptr[:-1]]
    gu = np.where(rev0, pv[first], pu[first])
    gv = np.where(chains.rev[chains.ptr[1:] - 1], pu[last], pv[last])
    gfwd = np.where(rev0, bwd[first], fwd[first])
    gbwd = np.where(rev0, fwd[first], bwd[first])
    gspeed = {p: s[first] for p, s in speeds.items()}
    relpos, geom_a, part_end = relayout(chains, pieces["a"], pieces["b"])
    geom_b = part_end[chains.ptr[1:] - 1]
    part_way = pway[chains.piece].astype(np.int32)
    del pieces, pu, pv, fwd, bwd, pway, speeds, first, last, rev0
    rp = pos[relpos]
    del relpos, pos
    lon, lat = raw.lon[rp], raw.lat[rp]
    del rp
    seg = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[geom_b[:-1]] = 0.0  # no segment joins one geometry to the next
    cumlen = np.concatenate([[0.0], np.cumsum(seg)])
    del seg
    cumlen -= np.repeat(cumlen[geom_a], geom_b - geom_a + 1)  # metres along each geometry
    glen = cumlen[geom_b]
    x, y = tr.transform(lon, lat)
    x = np.asarray(x)
    y = np.asarray(y)

    kept = node_order[keep[node_order]]
    report["nodes_contracted"] = int(in_scc.sum() - len(kept))
    report["nodes_kept"] = int(len(kept))
    n_new = np.full(n_all, -1, np.int64)
    n_new[kept] = np.arange(len(kept))
    node_osmid = uniq[kept]
    del uniq, node_lon, node_lat, in_scc, keep, node_order
    gu, gv = n_new[gu], n_new[gv]
    del n_new
    nodes: dict[str, np.ndarray] = {k: np.empty(len(kept)) for k in ("node_lon", "node_lat", "node_x", "node_y")}
    for ends, at in ((gu, geom_a), (gv, geom_b)):
        for k, src in (("node_lon", lon), ("node_lat", lat), ("node_x", x), ("node_y", y)):
            nodes[k][ends] = src[at]

    # directed edges, sorted by tail: the forward adjacency is contiguous
    gid = np.arange(len(gu), dtype=np.int64)
    e_geom = np.concatenate([gid[gfwd], gid[gbwd]])
    e_rev = np.concatenate([np.zeros(int(gfwd.sum()), bool), np.ones(int(gbwd.sum()), bool)])
    e_u = np.where(e_rev, gv[e_geom], gu[e_geom])
    e_v = np.where(e_rev, gu[e_geom], gv[e_geom])
    perm = np.lexsort((e_v, e_u))
    e_u, e_v, e_geom, e_rev = e_u[perm], e_v[perm], e_geom[perm], e_rev[perm]
    del perm, gid

    i32 = np.int32
    edge_len = glen[e_geom]
    mid = (geom_a + geom_b) // 2  # the way of a geometry: the one at its middle vertex
    arrays: dict[str, np.ndarray] = {
        "node_osmid": node_osmid,
        **nodes,
        "geom_a": geom_a.astype(i32),
        "geom_b": geom_b.astype(i32),
        "geom_u": gu.astype(i32),
        "geom_v": gv.astype(i32),
        "geom_way": part_way[np.searchsorted(part_end, mid)],
        "geom_len": glen,
        "part_ptr": chains.ptr.astype(i32),
        "part_way": part_way,
        "part_end": part_end.astype(i32),
        "part_seq": chains.piece.astype(i32),
        "part_rev": chains.rev,
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
    ng = len(gu)
    geom_fwd = np.full(ng, -1, i32)
    geom_bwd = np.full(ng, -1, i32)
    eid = np.arange(len(e_u), dtype=i32)
    geom_fwd[e_geom[~e_rev]] = eid[~e_rev]
    geom_bwd[e_geom[e_rev]] = eid[e_rev]
    arrays["geom_fwd"] = geom_fwd
    arrays["geom_bwd"] = geom_bwd
    # speeds are uniform along a geometry (bundle.chains), so time = length / speed exactly
    for pname, sp in gspeed.items():
        arrays[f"time_{pname}"] = edge_len / (sp[e_geom] / 3.6)

    arrays.update(_csr(e_u, e_v, len(kept)))
    del e_u, e_v
    ie = arrays["in_edge"]
    arrays["in_u"] = arrays["edge_u"][ie]
    arrays["in_len"] = edge_len[ie]
    for pname in gspeed:
        arrays[f"in_time_{pname}"] = arrays[f"time_{pname}"][ie]
    arrays.update(snap_grid(arrays))
    # the way of each segment (segment p..p+1 lies in the first part ending after p)
    part_of = np.minimum(np.searchsorted(part_end, np.arange(len(lon)), side="right"), len(part_end) - 1)
    arrays["seg_off_grade"] = ((raw.way_flags[part_way[part_of]] & JOIN_FLAGS[name]) > 0).astype(np.uint8)
    del part_of
    report["geometries"] = int(ng)
    return Network(
        name=name,
        arrays=arrays,
        way_name=WayNames.of(raw.way_name),
        way_class=raw.way_class,
        way_id=raw.way_id,
        crs=crs,
        profiles=own,
        report=report,
    )


def _pieces(raw: RawWays, ways: np.ndarray, directed: bool) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(pieces, pos, node ids): the stretches of ``ways`` between nodes where ways meet or end
    (a stretch that returns to its start node is cut in two at its middle vertex; a node repeated
    in a row makes no piece), as arrays ``a``/``b`` (first / last index into ``pos``, the raw
    positions of the ways laid end to end), ``u``/``v`` (index into the sorted OSM node ids),
    ``way`` (raw way index) and ``fwd``/``bwd`` (may be travelled u->v / v->u)."""
    wlen = (raw.ptr[ways + 1] - raw.ptr[ways]).astype(np.int64)
    pos = ranges(raw.ptr[ways], wlen)
    starts = np.cumsum(wlen) - wlen
    is_end = np.zeros(len(pos), bool)
    is_end[starts + wlen - 1] = True
    uniq, inv, counts = np.unique(raw.ref[pos], return_inverse=True, return_counts=True)
    is_node = counts[inv] >= 2
    del counts
    is_node[starts] = True
    is_node |= is_end
    node_pos = np.flatnonzero(is_node)
    del is_node
    a, b = _between(node_pos, is_end)
    # a stretch that leaves a node and comes back to it without meeting another road (a closed
    # way attached at one node, a lasso) is cut at its middle vertex, which becomes a node: the
    # graph has no self-loops, and the stretch stays in the network. That vertex is used once
    # (else it would be a node already), so neither half is a loop again.
    split = (inv[a] == inv[b]) & (b - a >= 2)
    if split.any():
        node_pos = np.union1d(node_pos, (a[split] + b[split]) // 2)
        a, b = _between(node_pos, is_end)
    del node_pos, split, is_end
    u, v = inv[a], inv[b]
    del inv
    loop = u == v  # left: a node repeated in a row, a zero-length step
    a, b, u, v = a[~loop], b[~loop], u[~loop], v[~loop]
    way = ways[np.searchsorted(starts, a, side="right") - 1]
    oneway = raw.way_oneway[way] if directed else np.zeros(len(a), np.int8)
    return {"a": a, "b": b, "u": u, "v": v, "way": way, "fwd": oneway >= 0, "bwd": oneway <= 0}, pos, uniq


def _between(node_pos: np.ndarray, is_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): consecutive node positions that lie on one way (a piece runs from a to b)."""
    a, b = node_pos[:-1], node_pos[1:]
    same_way = ~is_end[a]
    return a[same_way], b[same_way]


def _largest_scc(pieces: dict[str, np.ndarray], n_all: int) -> tuple[np.ndarray, dict[str, int]]:
    """(node mask, report) of the largest strongly connected component of the pieces' edges."""
    pu, pv, fwd, bwd = pieces["u"], pieces["v"], pieces["fwd"], pieces["bwd"]
    e_u = np.concatenate([pu[fwd], pv[bwd]])
    e_v = np.concatenate([pv[fwd], pu[bwd]])
    m = csr_matrix((np.ones(len(e_u), np.int8), (e_u, e_v)), shape=(n_all, n_all))
    _, labels = connected_components(m, directed=True, connection="strong")
    del m
    in_scc = labels == np.bincount(labels).argmax()
    used = np.zeros(n_all, bool)
    used[pu] = True
    used[pv] = True
    e_keep = in_scc[e_u] & in_scc[e_v]
    report = {
        "components": int(len(np.unique(labels[used]))),
        "nodes_total": int(used.sum()),
        "nodes_kept": int(in_scc.sum()),
        "nodes_dropped": int((used & ~in_scc).sum()),
        "edges_total": int(len(e_u)),
        "edges_dropped": int((~e_keep).sum()),
    }
    return in_scc, report


def _piece_speeds(
    raw: RawWays, way: np.ndarray, profiles: dict[str, Profile]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(km/h per profile, key) for every piece of ``way``: speeds from the way's class and
    ``maxspeed``, worked out once per distinct (class, maxspeed); ``key`` numbers the distinct
    (class, speeds) so that chains join only pieces a traveller cannot tell apart."""
    ms = raw.way_maxspeed[way].astype(np.float64)
    pairs, inv = np.unique(
        np.column_stack([raw.way_class[way].astype(np.float64), np.where(np.isfinite(ms), ms, -1.0)]),
        axis=0,
        return_inverse=True,
    )
    inv = inv.ravel()
    del ms
    table = {
        p: np.array([prof.speed_kmh(ROAD_CLASSES[int(c)], float(m) if m >= 0 else None) for c, m in pairs])
        for p, prof in profiles.items()
    }
    _, key = np.unique(np.column_stack([pairs[:, 0], *table.values()]), axis=0, return_inverse=True)
    return {p: t[inv] for p, t in table.items()}, key.ravel()[inv]


def zorder(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order (Morton) curve of 16-bit cells."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
        return v

    def quant(v: np.ndarray) -> NDArray[np.int64]:
        span = float(v.max() - v.min()) or 1.0
        q: NDArray[np.int64] = ((v - v.min()) / span * 65535).astype(np.int64)
        return q

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
