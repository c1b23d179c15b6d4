"""Offline place search: the landmark, road, district and facility names of the served regions, so
that a caller who cannot share a GPS position can still say where the patient is ("人民广场",
"中山南路", "徐汇区", "上海市胸科医院").

Nothing is looked up online. Per region, road names (from the bundle's networks), admin unit names
(``extra/admin_units.geojson``) and landmarks (``extra/landmarks.json``: squares, stations, bus
stops, malls, schools, parks, hospitals, attractions from the OSM extract) are indexed once, on
first use, in a bounded cache keyed by the bundle; facility names come from the region's current
facility table (the registry's, so an edit is found at once) and are indexed again only when that
table changes. Roads and districts get a point on their roads (``place_index``), landmarks and
facilities their own position.

Names are matched by normalised substring: Unicode compatibility forms folded (full-width Ｇ → g),
case and accents dropped, spaces and punctuation ignored. A place is also found by its other names
(OSM ``name:en`` / ``name:zh``: "Huaihai Road") and, for a Chinese name, by its pinyin and pinyin
initials ("renminguangchang", "rmgc"; computed at build time for roads and landmarks).
Ranking: exact name (pinyin after a written name), then prefix, then substring; facilities,
landmarks and districts before bus stops, bus stops before roads; then, with ``near``, the nearest
first, else shorter names first. Places of one name closer than ``SAME_PLACE_M`` (a hospital's OSM
landmark and its facility record) are shown once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from ...errors import GeoserviceError
from ...sources.cell_values import check_text
from ..answers.queries import Crs
from ..caches import BoundedCache
from ..core import GeoService, RegionEntry
from ..output_crs import shift_point, to_wgs84
from .place_index import ALT_PINYIN, AdminUnit, NamedPoints, admin_units, facility_points, normalise, static_points
from .place_landmarks import landmark_layer, landmark_points

__all__ = [
    "Place",
    "PlaceRole",
    "PlaceList",
    "search_places",
    "parse_near",
    "normalise",
    "MAX_QUERY",
    "MAX_LIMIT",
]

MAX_QUERY = 100  # characters of the query as typed
MAX_LIMIT = 50
DEFAULT_LIMIT = 8
STATIC_REGIONS = 16  # regions whose road/district index is kept (bounded)

SAME_PLACE_M = 300.0
_EARTH_M_PER_DEG = 111_195.0

Kind = Literal["facility", "landmark", "district", "road"]
_KIND_RANK = {"facility": 0, "landmark": 0, "district": 0, "bus_stop": 1, "road": 2}


class PlaceRole(BaseModel):
    type: str
    level: str | None = None
    demo: bool = Field(False, description="a demo designation, not a real certification")


class Place(BaseModel):
    """One answer of the place search: a name and a point to search from."""

    name: str = Field(description="the name as mapped (Chinese in China)")
    name_en: str | None = Field(None, description="the English name (OSM name:en), when mapped; English pages show it")
    kind: Kind = Field(description="facility, landmark, district (admin unit) or road")
    category: str | None = Field(
        None,
        description="landmark: square, station, bus_stop, mall, school, university, park, hospital, attraction "
        "or building",
    )
    id: str | None = Field(None, description="landmark: the OSM feature it was read from (osm-node-…, osm-way-…)")
    lon: float
    lat: float
    region: str
    district: str | None = Field(None, description="the admin unit the point lies in, when the region has them")
    distance_m: float | None = Field(None, description="straight-line metres from `near`, when it was given")
    roles: list[PlaceRole] = Field(default_factory=list, description="facility: the roles found at this place")


class PlaceList(BaseModel):
    q: str
    count: int
    places: list[Place]
    crs_name: Crs = "wgs84"
    attribution: str = "Road and place names © OpenStreetMap contributors, ODbL 1.0"


@dataclass(frozen=True)
class _Index:
    """Named points with their normalised names joined into one string, searched in C."""

    points: NamedPoints
    haystack: str
    starts: np.ndarray  # where each name begins in ``haystack``
    lengths: np.ndarray

    rows: np.ndarray  # the row of each key
    pinyin: np.ndarray  # whether each key is a pinyin key

    @classmethod
    def of(cls, points: NamedPoints) -> _Index:
        norms, rows, pinyin = list(points.keys), list(range(len(points.keys))), [False] * len(points.keys)
        for row, alts in enumerate(points.alt_keys):
            for key, source in alts:
                norms.append(key)
                rows.append(row)
                pinyin.append(source == ALT_PINYIN)
        lengths = np.array([len(n) for n in norms], dtype=np.int64)
        starts = np.zeros(len(norms), dtype=np.int64)
        if len(norms) > 1:
            starts[1:] = np.cumsum(lengths[:-1] + 1)
        return cls(points, "\x00".join(norms), starts, lengths, np.array(rows, np.int64), np.array(pinyin, bool))

    def matches(self, q: str) -> list[tuple[int, int]]:
        """(row, rank) of every place with a key containing ``q``: rank 0 exact name, 1 exact pinyin,
        2 / 3 prefix of a name / pinyin, 4 / 5 substring (pinyin substrings only for 3+ letters)."""
        if not self.haystack:
            return []
        pos = np.fromiter((m.start() for m in re.finditer(re.escape(q), self.haystack)), dtype=np.int64)
        if len(pos) == 0:
            return []
        keys = np.searchsorted(self.starts, pos, side="right") - 1
        keys, first = np.unique(keys, return_index=True)  # the first hit in a key is its earliest
        at_start = pos[first] == self.starts[keys]
        exact = at_start & (self.lengths[keys] == len(q))
        pinyin = self.pinyin[keys]
        rank = np.where(exact, 0, np.where(at_start, 2, 4)) + pinyin
        keep = ~(pinyin & (rank >= 4) & (len(q) < 3))
        rows, rank = self.rows[keys[keep]], rank[keep]
        order = np.lexsort((rank, rows))  # per row, its best rank first
        rows, rank = rows[order], rank[order]
        first_of_row = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, bool)
        return list(zip(rows[first_of_row].tolist(), rank[first_of_row].tolist(), strict=True))


@dataclass(frozen=True)
class _Static:
    units: list[AdminUnit]
    index: _Index  # districts and roads
    landmarks: _Index


_static: BoundedCache[_Static] = BoundedCache(STATIC_REGIONS)


def _static_index(entry: RegionEntry) -> _Static:
    """Roads and admin units of a bundle: built once per bundle, whatever the edits."""
    region = entry.region
    assert region is not None
    key = (str(entry.path), region.meta.get("created"), region.meta.get("bundle_version"))

    def build() -> _Static:
        units = admin_units(region)
        doc = landmark_layer(region)
        roads = static_points(region, units, doc["road_names_en"], doc["pinyin"])
        return _Static(units, _Index.of(roads), _Index.of(landmark_points(region, units, doc)))

    return _static.get_or_compute(key, build)


def _facility_index(svc: GeoService, entry: RegionEntry) -> _Index:
    """The facility names of the region's current table, less those no search can start from (too
    far from every network of the region). An edit swaps in a new table (and clears the region's
    cache), so the key is the table itself: held by the cache, its id stays unique."""
    eng = svc.engine(entry.name)
    table = eng.facilities
    units = _static_index(entry).units
    nets = [set(ids) for ids in eng.unsnapped.values()]
    off_network = set.intersection(*nets) if nets else set()
    cached: tuple[Any, _Index] = entry.cache.get_or_compute(
        ("places", id(table)), lambda: (table, _Index.of(facility_points(table, units, skip=off_network)))
    )
    return cached[1]


def _place(pts: NamedPoints, row: int, region: str, crs: str, distance_m: float | None) -> Place:
    lon, lat = shift_point(float(pts.lon[row]), float(pts.lat[row]), crs)
    return Place(
        name=pts.names[row],
        name_en=pts.names_en[row],
        kind=pts.kinds[row],
        category=pts.categories[row],
        id=pts.ids[row],
        lon=lon,
        lat=lat,
        region=region,
        district=pts.districts[row],
        distance_m=None if distance_m is None else round(distance_m, 1),
        roles=[PlaceRole(type=r.type, level=r.level, demo=r.demo) for r in pts.roles[row]],
    )


def parse_near(near: str | None, crs: str = "wgs84") -> tuple[float, float] | None:
    """``near`` ("lon,lat" in ``crs``) as a WGS-84 point, or why it is not one (field ``near``)."""
    if near is None or not near.strip():
        return None
    parts = near.split(",")
    try:
        lon, lat = (float(x) for x in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lon = lat = math.nan
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeoserviceError("near", f"{near.strip()[:40]!r} is not 'lon,lat' (two numbers, e.g. 121.4737,31.2304)")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoserviceError("near", f"lon must be -180..180 and lat -90..90, got {lon:g},{lat:g}")
    return to_wgs84(lon, lat, crs)


def _metres(pts: NamedPoints, row: int, at: tuple[float, float]) -> float:
    lon, lat = float(pts.lon[row]), float(pts.lat[row])
    kx = math.cos(math.radians((lat + at[1]) / 2))
    return math.hypot((lon - at[0]) * kx, lat - at[1]) * _EARTH_M_PER_DEG


def _same_place(kept: list[tuple[str, float, float]], key: str, pts: NamedPoints, row: int) -> bool:
    return any(k == key and _metres(pts, row, (x, y)) < SAME_PLACE_M for k, x, y in kept)


def check_query(q: str | None) -> str:
    """The normalised query, or why it cannot be searched for (field ``q``)."""
    if q is None or not q.strip():
        raise GeoserviceError("q", "empty; type part of a road, district or hospital name")
    if len(q) > MAX_QUERY:
        raise GeoserviceError("q", f"at most {MAX_QUERY} characters, got {len(q)}")
    check_text("q", q)
    norm = normalise(q)
    if not norm:
        raise GeoserviceError("q", f"{q.strip()[:40]!r} has no letters or digits to search for")
    return norm


def search_places(
    svc: GeoService,
    q: str | None,
    *,
    region: str | None = None,
    limit: int = DEFAULT_LIMIT,
    crs: str = "wgs84",
    near: str | None = None,
) -> PlaceList:
    """Places whose name (or other name, or pinyin) contains ``q``; ``near`` ("lon,lat" in ``crs``,
    the map's centre or the user's position) ranks places of one match and kind by distance (see
    the module docstring for matching and ranking)."""
    norm = check_query(q)
    at = parse_near(near, crs)
    if not 1 <= limit <= MAX_LIMIT:
        raise GeoserviceError("limit", f"must be 1 to {MAX_LIMIT}, got {limit}")
    hits: list[tuple[tuple[Any, ...], str, NamedPoints, int, float | None]] = []
    for entry in svc.entries(region):
        static = _static_index(entry)
        for index in (_facility_index(svc, entry), static.landmarks, static.index):
            pts = index.points
            for row, rank in index.matches(norm):
                name = pts.names[row]
                kind = _KIND_RANK.get(pts.categories[row] or "", _KIND_RANK[pts.kinds[row]])
                d = None if at is None else _metres(pts, row, at)
                order = (rank, kind, d if d is not None else len(name), name, entry.name)
                hits.append((order, entry.name, pts, row, d))
    hits.sort(key=lambda h: h[0])
    places: list[Place] = []
    kept: list[tuple[str, float, float]] = []
    for _, region_name, pts, row, d in hits:
        if len(places) == limit:
            break
        if pts.kinds[row] != "road" and _same_place(kept, pts.keys[row], pts, row):
            continue  # a hospital's OSM landmark beside its facility record: shown once
        kept.append((pts.keys[row], float(pts.lon[row]), float(pts.lat[row])))
        places.append(_place(pts, row, region_name, crs, d))
    return PlaceList(q=str(q).strip(), count=len(places), places=places, crs_name=crs)
