"""Label features of the offline basemap, computed once at build time: road names placed on the
road with its angle, and place names from OSM ``place=*`` nodes.

A label is a GeoJSON Point feature with properties ``kind="label"``, ``class`` (road / place),
``sub`` (road class or place type), ``name`` (as in OSM: Chinese kept), ``name_zh`` / ``name_en``
when OSM has them, ``minzoom`` (drawn only from that zoom on), ``rank`` (lower wins when labels
collide on screen) and, for roads, ``angle`` (degrees, clockwise on screen, -90..90 so the text
reads left to right). The renderer is ``faces/web/static/basemap_labels.js``.

Road labels: the OSM ways of one name are merged into chains (a street is many ways), each chain
gets one anchor per ``spacing`` metres (at least one), placed where the chain is straightest near
the ideal spot, and anchors of the same name closer than half the spacing are dropped, so a street
is named once per stretch and the two carriageways of a dual road are not both labelled.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from ..sources.osm_names import PLACE_TYPES, Place
from ..sources.speeds import ROAD_CLASSES
from .network import Network

LabelProps = dict[str, str | int | float]
"""A label's properties: kind "label", class, sub, name (name_zh, name_en), minzoom, rank (angle)."""
LabelFeature = dict[str, object]
"""A label as a GeoJSON point feature (WGS-84) with ``LabelProps``."""

__all__ = [
    "ROAD_MINZOOM",
    "ROAD_SPACING_M",
    "PLACE_MINZOOM",
    "way_lines",
    "road_labels",
    "place_labels",
    "RoadAnchor",
]

# zoom from which a road class is named (links take their parent's); rank orders collisions
ROAD_MINZOOM = {"motorway": 12, "trunk": 12, "primary": 13, "secondary": 14, "tertiary": 15}
ROAD_SPACING_M = {"motorway": 3000.0, "trunk": 3000.0, "primary": 1500.0, "secondary": 1200.0, "tertiary": 1000.0}
LABELLED_CLASSES = (*ROAD_MINZOOM, *(f"{c}_link" for c in ROAD_MINZOOM))
ROAD_RANK = {"motorway": 20, "trunk": 21, "primary": 22, "secondary": 23, "tertiary": 24}
PLACE_RANK0 = 10  # ranks: facility names (set at draw time) < places 10.. (districts 12) < roads 20..
SHORT_CHAIN_M = 150.0  # shorter chains are named only from zoom 16
MIN_CHAIN_M = 40.0  # shorter pieces carry no label (a text would hide them)
PLACE_MINZOOM = {
    "city": 9,
    "town": 11,
    "borough": 12,
    "suburb": 12,
    "quarter": 13,
    "village": 13,
    "neighbourhood": 14,
    "hamlet": 14,
    "locality": 15,
}


@dataclass(frozen=True)
class RoadAnchor:
    """One road label: where (WGS-84), at which screen angle, for which name."""

    name: str
    name_zh: str | None
    name_en: str | None
    road_class: str
    lon: float
    lat: float
    angle: float
    minzoom: int
    rank: int

    def feature(self) -> LabelFeature:
        props: LabelProps = {
            "kind": "label",
            "class": "road",
            "sub": self.road_class,
            "name": self.name,
            "minzoom": self.minzoom,
            "rank": self.rank,
            "angle": round(self.angle, 1),
        }
        if self.name_zh:
            props["name_zh"] = self.name_zh
        if self.name_en:
            props["name_en"] = self.name_en
        return _point(self.lon, self.lat, props)


def _point(lon: float, lat: float, props: LabelProps) -> LabelFeature:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": props,
    }


def way_lines(net: Network, classes: Sequence[str], *, coords: str = "xy") -> tuple[np.ndarray, np.ndarray]:
    """(way indices, shapely LineStrings) of the OSM ways of ``classes``, in metres
    (``coords="xy"``) or WGS-84 (``"lonlat"``): one line per way, or several when stretches of
    it are not in the network (the same way index repeated). Built from the network's parts (a
    geometry runs through one or more ways, ``part_*``): each way's parts put back in its own
    order and direction."""
    idx = np.array([ROAD_CLASSES.index(c) for c in classes])
    pway = np.asarray(net.part_way)
    sel = np.flatnonzero(np.isin(np.asarray(net.way_class)[pway], idx))
    if len(sel) == 0:
        return np.zeros(0, np.int64), np.zeros(0, object)
    sel = sel[np.argsort(net.part_seq[sel], kind="stable")]  # grouped by way, along each way
    end = np.asarray(net.part_end, np.int64)
    start = np.empty_like(end)
    start[1:] = end[:-1]
    start[np.asarray(net.part_ptr[:-1], np.int64)] = net.geom_a  # a geometry's first part
    rev = np.asarray(net.part_rev)[sel]
    s = np.where(rev, end[sel], start[sel])  # first and last position in the way's direction
    e = np.where(rev, start[sel], end[sel])
    xs, ys = (net.x, net.y) if coords == "xy" else (net.lon, net.lat)
    way = pway[sel]
    new = np.ones(len(sel), bool)  # a part starts a line unless it continues the previous one
    new[1:] = (way[1:] != way[:-1]) | (xs[e[:-1]] != xs[s[1:]]) | (ys[e[:-1]] != ys[s[1:]])
    count = np.abs(e - s) + new  # a continuing part shares its first point with the line
    first = s + np.where(rev, -1, 1) * ~new
    step = np.where(rev, -1, 1)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    pos = np.repeat(first, count) + np.repeat(step, count) * k
    line = np.cumsum(new) - 1
    return way[new].astype(np.int64), shapely.linestrings(xs[pos], ys[pos], indices=np.repeat(line, count))


def _base_class(cls: str) -> str:
    return cls.removesuffix("_link")


def _mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.clip(lat, -85.0, 85.0)
    return np.radians(lon), np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


class _Along:
    """Points at given distances along many lines at once: linear interpolation between
    vertices, as ``shapely.line_interpolate_point``, on plain arrays (millions of candidate
    spots would otherwise be as many shapely objects)."""

    def __init__(self, lines: np.ndarray):
        self.xy, idx = shapely.get_coordinates(lines, return_index=True)
        step = np.hypot(*np.diff(self.xy, axis=0).T)
        step[idx[1:] != idx[:-1]] = 0.0
        self.cum = np.concatenate([[0.0], np.cumsum(step)])
        self.first = np.searchsorted(idx, np.arange(len(lines)))
        self.last = np.r_[self.first[1:], len(idx)] - 1
        self.length = self.cum[self.last] - self.cum[self.first]

    def points(self, line: np.ndarray, dist: np.ndarray) -> np.ndarray:
        """(n, 2) coordinates at ``dist`` (clamped to the line) along ``line[i]``."""
        key = self.cum[self.first[line]] + np.clip(dist, 0.0, self.length[line])
        j = np.clip(np.searchsorted(self.cum, key, side="right") - 1, self.first[line], self.last[line] - 1)
        seg = self.cum[j + 1] - self.cum[j]
        t = np.divide(key - self.cum[j], seg, out=np.zeros(len(j)), where=seg > 0)
        out: np.ndarray = self.xy[j] + t[:, None] * (self.xy[j + 1] - self.xy[j])
        return out


def _chain_anchors(
    along: _Along, spacing: np.ndarray, step: float = 40.0, half: float = 60.0, batch: int = 20_000
) -> tuple[np.ndarray, np.ndarray]:
    """(chain index, distance along it in metres) of the label spots of the chains of ``along``: one per
    ``spacing`` of each chain (at least one), each at the straightest candidate (every ``step``
    metres; chord over path length across ``half`` metres either side) within a quarter spacing
    of its ideal position. Candidates are made ``batch`` chains at a time (bounded memory)."""
    out_c: list[int] = []
    out_s: list[float] = []
    for lo_c in range(0, len(along.length), batch):
        ids = np.arange(lo_c, min(lo_c + batch, len(along.length)))
        length = along.length[ids]
        h = np.minimum(half, length / 2)
        n = np.floor((length - 2 * h + 1e-9) / step).astype(np.int64) + 1
        loc = np.repeat(np.arange(len(ids)), n)
        first = np.cumsum(n) - n
        cand = h[loc] + (np.arange(n.sum()) - np.repeat(first, n)) * step
        lo, hi = np.maximum(cand - h[loc], 0), np.minimum(cand + h[loc], length[loc])
        a, b = along.points(ids[loc], lo), along.points(ids[loc], hi)
        straight = np.round(np.hypot(*(b - a).T) / np.maximum(hi - lo, 1e-9), 2)
        del a, b, lo, hi, loc
        for i, c in enumerate(ids):
            sl = slice(first[i], first[i] + n[i])
            cs, st = cand[sl], straight[sl]
            k = max(1, int(length[i] // spacing[c]))
            for m in range(k):
                off = np.abs(cs - (m + 0.5) * length[i] / k)
                near = off <= max(spacing[c] / 4, step)
                if not near.any():
                    near = off == off.min()
                # straightest first; among equally straight spots (to 1%) the closest to the ideal
                out_c.append(int(c))
                out_s.append(float(cs[int(np.argmax(np.where(near, st * 1e6 - off, -np.inf)))]))
    return np.asarray(out_c, np.int64), np.asarray(out_s)


def road_labels(
    net: Network,
    *,
    way_names: dict[int, tuple[str | None, str | None]] | None = None,
    classes: Sequence[str] = LABELLED_CLASSES,
    to_wgs: Transformer | None = None,
    lines: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[RoadAnchor]:
    """Label anchors of the named roads of ``classes`` (see the module docstring).
    ``way_names``: per OSM way id its (name:zh, name:en); ``to_wgs``: a pyproj Transformer from
    the network's metric CRS to WGS-84 (made here when not given); ``lines``: ``way_lines`` of
    these classes in metres when the caller has them already."""
    to_wgs = to_wgs or Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    way_names = way_names or {}
    ways, lines_m = lines if lines is not None else way_lines(net, [c for c in classes if c in ROAD_CLASSES])
    groups: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(ways):
        name = net.way_name[int(w)].strip()
        if name:
            groups[name].append(i)
    if not groups:
        return []
    meta: list[tuple[str, str | None, str | None, str]] = []
    members_all: list[int] = []
    group_of: list[int] = []
    for name, members in groups.items():
        cls = min((_base_class(ROAD_CLASSES[int(net.way_class[ways[i]])]) for i in members), key=ROAD_CLASSES.index)
        variants = [way_names.get(int(net.way_id[ways[i]])) for i in members]
        zh = Counter(v[0] for v in variants if v and v[0]).most_common(1)
        en = Counter(v[1] for v in variants if v and v[1]).most_common(1)
        meta.append((name, zh[0][0] if zh else None, en[0][0] if en else None, cls))
        members_all += members
        group_of += [len(meta) - 1] * len(members)
    # a street is many OSM ways: merge the ways of each name into chains
    merged = shapely.line_merge(shapely.multilinestrings(lines_m[members_all], indices=group_of))
    del lines_m
    chains, gidx = shapely.get_parts(merged, return_index=True)
    length = shapely.length(chains)
    keep = length >= MIN_CHAIN_M
    chains, gidx, length = chains[keep], gidx[keep], length[keep]
    order = np.lexsort((-length, gidx))  # per name, longest chain first: it keeps its labels
    chains, gidx, length = chains[order], gidx[order], length[order]
    spacing = np.array([ROAD_SPACING_M.get(meta[g][3], 1000.0) for g in gidx])
    along = _Along(chains)
    cidx, s_arr = _chain_anchors(along, spacing)
    pts = along.points(cidx, s_arr)
    # anchors of one name closer than half its spacing are dropped (the other carriageway, a
    # nearby piece): a grid of that cell size per name finds them in O(1)
    kept: dict[tuple[int, int, int], list[tuple[float, float]]] = defaultdict(list)
    ok = np.zeros(len(cidx), bool)
    for k, c in enumerate(cidx):
        g, cell = int(gidx[c]), spacing[c] / 2
        x, y = pts[k]
        gx, gy = int(x // cell), int(y // cell)
        near = (q for dx in (-1, 0, 1) for dy in (-1, 0, 1) for q in kept.get((g, gx + dx, gy + dy), ()))
        if any(math.hypot(x - qx, y - qy) < cell for qx, qy in near):
            continue
        kept[(g, gx, gy)].append((x, y))
        ok[k] = True
    cidx, s_arr = cidx[ok], s_arr[ok]
    clen = length[cidx]
    h = np.minimum(30.0, clen / 2)
    lonlat = []
    for d in (np.maximum(s_arr - h, 0), s_arr, np.minimum(s_arr + h, clen)):
        c = along.points(cidx, d)
        lonlat.append(np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
    mx0, my0 = _mercator(lonlat[0][:, 0], lonlat[0][:, 1])
    mx1, my1 = _mercator(lonlat[2][:, 0], lonlat[2][:, 1])
    angle = np.degrees(np.arctan2(-(my1 - my0), mx1 - mx0))  # screen y points down
    angle = np.where(angle > 90, angle - 180, np.where(angle <= -90, angle + 180, angle))
    anchors = []
    for k, c in enumerate(cidx):
        name, zh_name, en_name, cls = meta[int(gidx[c])]
        anchors.append(
            RoadAnchor(
                name=name,
                name_zh=zh_name,
                name_en=en_name,
                road_class=cls,
                lon=float(lonlat[1][k, 0]),
                lat=float(lonlat[1][k, 1]),
                angle=float(angle[k]),
                minzoom=ROAD_MINZOOM.get(cls, 15) if clen[k] >= SHORT_CHAIN_M else 16,
                rank=ROAD_RANK.get(cls, 25),
            )
        )
    return anchors


def place_labels(places: Sequence[Place], *, within: BaseGeometry | None = None) -> list[LabelFeature]:
    """Label features of OSM place nodes; ``within``: a shapely (multi)polygon in WGS-84 outside
    of which places are left out (the French villages around Monaco's roads, say)."""
    feats = []
    for p in places:
        if within is not None and not within.contains(shapely.Point(p.lon, p.lat)):
            continue
        minzoom = PLACE_MINZOOM.get(p.place, 15)
        if p.population and p.population >= 100_000:
            minzoom -= 1
        props: LabelProps = {
            "kind": "label",
            "class": "place",
            "sub": p.place,
            "name": p.name,
            "minzoom": minzoom,
            "rank": PLACE_RANK0 + (PLACE_TYPES.index(p.place) if p.place in PLACE_TYPES else len(PLACE_TYPES)),
        }
        if p.name_zh:
            props["name_zh"] = p.name_zh
        if p.name_en:
            props["name_en"] = p.name_en
        feats.append(_point(p.lon, p.lat, props))
    return feats
