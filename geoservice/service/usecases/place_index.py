"""The named points behind the place search (``service.places``): roads, admin units and facilities
of one region, each with a point a search can start from.

* A road is one point per stretch: the geometries that carry the name and touch each other form a
  stretch; its point is the middle vertex of its geometry nearest the stretch's length-weighted
  centre, so it lies on the road itself. Stretches of one name closer than ``MERGE_M`` (two
  carriageways, a walk and a drive copy of the same street) are one place; farther ones (a
  "Carrer Major" in every town) stay apart, told apart by their district.
* An admin unit's point is the road junction inside it (and inside the region's roads) nearest
  its representative point: a district only partly covered by the roads gets a point where they are.
* Facilities of one name (bracketed labels such as "[DEMO designation]" aside) within one ~300 m
  cell are one place (a hospital's OSM record and its chest pain and stroke roles), listing them.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ...bundle.network import Network
from ...bundle.store import Region
from ...sources.name_keys import pinyin_keys

__all__ = [
    "NamedPoints",
    "Role",
    "AdminUnit",
    "admin_units",
    "static_points",
    "facility_points",
    "normalise",
    "pinyin_alt_keys",
    "district_of",
    "ALT_EN",
    "ALT_PINYIN",
    "MERGE_M",
]

MERGE_M = 1000.0  # stretches of one road name closer than this are one place
FACILITY_CELL_DEG = 0.003  # ~300 m: facilities of one name in one cell are one place
_EARTH_M_PER_DEG = 111_195.0
_NOT_ALNUM = re.compile(r"[\W_]+")  # anything but letters and digits (accents, once apart, included)
_LABEL = re.compile(r"\s*\[[^\]]*\]")  # "[DEMO designation]"
_UNNAMED = re.compile(r"^unnamed (hospital|clinic)$")  # osm_pois' placeholder for a feature without a name


def normalise(text: str) -> str:
    """Text as it is matched: NFKD (full-width → ASCII), case-folded, accents, spaces and
    punctuation dropped. Chinese characters are kept as they are."""
    if text.isascii():  # the common case, ~3× faster: nothing to decompose
        return _NOT_ALNUM.sub("", text.lower())
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text).casefold())


@dataclass(frozen=True)
class Role:
    """One facility role at a place (a hospital may be a chest pain and a stroke center)."""

    type: str
    level: str | None
    demo: bool


@dataclass
class NamedPoints:
    """Parallel lists: one row per place."""

    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    districts: list[str | None] = field(default_factory=list)
    roles: list[tuple[Role, ...]] = field(default_factory=list)  # facilities: what the place is
    keys: list[str] = field(default_factory=list)  # the names normalised, as they are matched
    names_en: list[str | None] = field(default_factory=list)  # OSM name:en, when mapped
    categories: list[str | None] = field(default_factory=list)  # landmarks: station, square, mall…
    ids: list[str | None] = field(default_factory=list)  # landmarks: the OSM id (a data field)
    # more keys a row is found by: (normalised key, source) with source ALT_EN (its English name) or
    # ALT_PINYIN (the pinyin and initials of its Chinese name)
    alt_keys: list[tuple[tuple[str, int], ...]] = field(default_factory=list)

    def fill(self) -> NamedPoints:
        """The optional columns, where not given, as None / empty (one per row)."""
        n = len(self.names)
        for col in ("names_en", "categories", "ids"):
            if len(getattr(self, col)) != n:
                setattr(self, col, [None] * n)
        if len(self.alt_keys) != n:
            self.alt_keys = [pinyin_alt_keys(name) for name in self.names]
        return self


ALT_EN, ALT_PINYIN = 1, 2


def pinyin_alt_keys(name: str, stored: dict[str, list[str]] | None = None) -> tuple[tuple[str, int], ...]:
    """The pinyin keys of a Chinese name (``stored`` at build time, else computed)."""
    keys = (stored or {}).get(name) or pinyin_keys(name)
    return tuple((k, ALT_PINYIN) for k in dict.fromkeys(keys or ()) if k)


# --------------------------------------------------------------------------- admin units
@dataclass(frozen=True)
class AdminUnit:
    name: str
    geom: Any  # shapely (Multi)Polygon, prepared


def admin_units(region: Region) -> list[AdminUnit]:
    """The bundle's admin units (``extra/admin_units.geojson``; none when it has no such layer)."""
    path = region.path / "extra" / "admin_units.geojson"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    units = []
    for f in data.get("features", []):
        name = str((f.get("properties") or {}).get("name") or "").strip()
        if not name or not f.get("geometry"):
            continue
        geom = shapely.geometry.shape(f["geometry"])
        if geom.is_empty:
            continue
        shapely.prepare(geom)
        units.append(AdminUnit(name, geom))
    return units


def district_of(units: list[AdminUnit], lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The name of the first admin unit holding each point (None outside all of them)."""
    out: list[str | None] = [None] * len(lon)
    left = np.ones(len(lon), bool)
    for u in units:
        inside = left & shapely.contains_xy(u.geom, lon, lat)
        for i in np.flatnonzero(inside):
            out[i] = u.name
        left &= ~inside
    return out


def _walk_or_any(region: Region) -> Network:
    return region.networks.get("walk") or next(iter(region.networks.values()))


def _unit_points(region: Region, units: list[AdminUnit]) -> tuple[list[str], list[float], list[float]]:
    net = _walk_or_any(region)
    x0, y0, x1, y1 = region.bbox
    box = shapely.box(x0, y0, x1, y1)
    names, lons, lats = [], [], []
    for u in units:
        part = u.geom.intersection(box)
        if part.is_empty:
            continue
        inside = np.flatnonzero(shapely.contains_xy(u.geom, net.node_lon, net.node_lat))
        if len(inside) == 0:
            continue  # no road of this extract lies in it: nothing to search from
        rep = part.representative_point()
        kx = math.cos(math.radians(rep.y))
        d2 = ((net.node_lon[inside] - rep.x) * kx) ** 2 + (net.node_lat[inside] - rep.y) ** 2
        best = inside[int(np.argmin(d2))]
        names.append(u.name)
        lons.append(float(net.node_lon[best]))
        lats.append(float(net.node_lat[best]))
    return names, lons, lats


# --------------------------------------------------------------------------- roads
@dataclass(frozen=True)
class _Stretches:
    name_id: np.ndarray  # per stretch
    length: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


def _stretches(net: Network, name_of_way: np.ndarray) -> _Stretches:
    """Connected runs of same-named geometries of one network, each with its point on the road."""
    gname = name_of_way[net.geom_way]
    named = np.flatnonzero(gname >= 0)
    empty = np.zeros(0)
    if len(named) == 0:
        return _Stretches(np.zeros(0, np.int64), empty, empty, empty)
    nid = gname[named].astype(np.int64)
    # a geometry joins its two end nodes; the same node under two names is two graph vertices
    keys = np.concatenate([nid * net.n_nodes + net.geom_u[named], nid * net.n_nodes + net.geom_v[named]])
    uniq, inv = np.unique(keys, return_inverse=True)
    m = len(named)
    graph = coo_matrix((np.ones(m), (inv[:m], inv[m:])), shape=(len(uniq), len(uniq)))
    _, label = connected_components(graph, directed=False)
    comp, comp_of = np.unique(label[inv[:m]], return_inverse=True)
    k = len(comp)
    length = np.maximum(net.geom_len[named], 0.01)
    mid = (net.geom_a[named] + net.geom_b[named]) // 2  # a vertex halfway along each geometry
    mx, my = net.x[mid], net.y[mid]
    total = np.bincount(comp_of, length, minlength=k)
    cx = np.bincount(comp_of, length * mx, minlength=k) / total
    cy = np.bincount(comp_of, length * my, minlength=k) / total
    d2 = (mx - cx[comp_of]) ** 2 + (my - cy[comp_of]) ** 2
    order = np.lexsort((d2, comp_of))  # per stretch, its geometry nearest the centre first
    first = order[np.r_[0, np.flatnonzero(np.diff(comp_of[order])) + 1]]
    stretch_name = np.zeros(k, np.int64)
    stretch_name[comp_of] = nid
    return _Stretches(stretch_name, total, net.lon[mid[first]], net.lat[mid[first]])


def _road_points(region: Region) -> tuple[list[str], list[float], list[float]]:
    names_of_ways = next(iter(region.networks.values())).way_name
    uniq, inv = np.unique(np.array([n or "" for n in names_of_ways], dtype=object), return_inverse=True)
    empty = np.flatnonzero(uniq == "")
    name_of_way = inv.astype(np.int64)
    if len(empty):
        name_of_way[name_of_way == empty[0]] = -1
    parts = [_stretches(net, name_of_way) for net in region.networks.values()]
    nid = np.concatenate([p.name_id for p in parts])
    length = np.concatenate([p.length for p in parts])
    lon = np.concatenate([p.lon for p in parts])
    lat = np.concatenate([p.lat for p in parts])
    names, lons, lats = [], [], []
    kept: dict[int, list[tuple[float, float]]] = {}
    for i in np.lexsort((-length, nid)):  # per name, longest stretch first
        n = int(nid[i])
        x, y = float(lon[i]), float(lat[i])
        kx = math.cos(math.radians(y)) * _EARTH_M_PER_DEG
        near = kept.setdefault(n, [])
        if any(math.hypot((x - a) * kx, (y - b) * _EARTH_M_PER_DEG) < MERGE_M for a, b in near):
            continue
        near.append((x, y))
        names.append(str(uniq[n]))
        lons.append(x)
        lats.append(y)
    return names, lons, lats


# --------------------------------------------------------------------------- the indexes
def static_points(
    region: Region, units: list[AdminUnit], road_names_en: dict[str, str], pinyin: dict[str, list[str]]
) -> NamedPoints:
    """Admin units and roads of a bundle (they change only with the bundle), roads with their
    English name (``road_names_en``) and the pinyin keys stored at build time (``pinyin``)."""
    unames, ulon, ulat = _unit_points(region, units)
    rnames, rlon, rlat = _road_points(region)
    lon = np.array(ulon + rlon, dtype=float)
    lat = np.array(ulat + rlat, dtype=float)
    districts = [None] * len(unames) + district_of(units, np.array(rlon, float), np.array(rlat, float))
    names = unames + rnames
    names_en = [None] * len(unames) + [road_names_en.get(n) for n in rnames]
    return NamedPoints(
        names=names,
        kinds=["district"] * len(unames) + ["road"] * len(rnames),
        lon=lon,
        lat=lat,
        districts=districts,
        roles=[()] * len(lon),
        keys=[normalise(n) for n in names],
        names_en=names_en,
        alt_keys=[
            pinyin_alt_keys(n, pinyin) + (((normalise(en), ALT_EN),) if en else ())
            for n, en in zip(names, names_en, strict=True)
        ],
    ).fill()


def _base_name(name: str) -> str:
    """A facility name without its bracketed labels ("X [DEMO designation]" → "X"): the roles of
    one place share it."""
    return _LABEL.sub("", name).strip()


def facility_points(
    table: Any, units: list[AdminUnit], *, skip: set[str] | frozenset[str] = frozenset()
) -> NamedPoints:
    """The facilities of a table, those of one name in one ~300 m cell as one place with the
    roles found there. Left out: the ids in ``skip`` (off every road network: nothing to search
    from) and the placeholder names of unnamed OSM features."""
    out = NamedPoints()
    if len(table) == 0:
        return out.fill()
    lon = table["lon"].to_numpy(dtype=float)
    lat = table["lat"].to_numpy(dtype=float)
    cell_x = np.floor(lon / FACILITY_CELL_DEG).astype(np.int64)
    cell_y = np.floor(lat / FACILITY_CELL_DEG).astype(np.int64)
    demo = table["demo"].fillna(False).astype(bool).to_numpy()
    levels = [None if lv is None or lv != lv else str(lv) for lv in table["level"]]
    groups: dict[tuple[str, int, int], int] = {}
    glon: list[float] = []
    glat: list[float] = []
    roles: list[list[Role]] = []
    ids = [str(v) for v in table["id"].to_numpy().tolist()]
    seen: dict[str, tuple[str, str]] = {}  # raw name -> (shown name, key): names repeat ("AED")
    for i, (raw, ftype) in enumerate(
        zip(table["name"].to_numpy().tolist(), table["type"].to_numpy().tolist(), strict=True)
    ):
        raw = str(raw or "")
        named = seen.get(raw)
        if named is None:
            base = _base_name(raw)
            named = seen[raw] = (base, "" if _UNNAMED.match(base) else normalise(base))
        name, norm = named
        if not norm or ids[i] in skip:
            continue
        role = Role(str(ftype), levels[i], bool(demo[i]))
        key = (norm, int(cell_x[i]), int(cell_y[i]))
        g = groups.get(key)
        if g is None:
            groups[key] = len(out.names)
            out.names.append(name)
            out.keys.append(norm)
            out.kinds.append("facility")
            glon.append(float(lon[i]))
            glat.append(float(lat[i]))
            roles.append([role])
        elif role not in roles[g]:
            roles[g].append(role)
    out.lon, out.lat = np.array(glon), np.array(glat)
    out.districts = district_of(units, out.lon, out.lat)
    out.roles = [tuple(r) for r in roles]
    return out.fill()
