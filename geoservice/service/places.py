"""Offline place search: the road, district and facility names of the served regions, so that a
caller who cannot share a GPS position can still say where the patient is ("中山南路", "徐汇区",
"上海市胸科医院").

Nothing is looked up online. Per region, road names (from the bundle's networks) and admin unit
names (``extra/admin_units.geojson``) are indexed once, on first use, in a bounded cache keyed by
the bundle; facility names come from the region's current facility table (the registry's, so an
edit is found at once) and are indexed again only when that table changes. Roads and districts get
a point on their roads (``place_index``), facilities their own position.

Names are matched by normalised substring: Unicode compatibility forms folded (full-width Ｇ → g),
case and accents dropped, spaces and punctuation ignored; Chinese is matched as written (no pinyin).
Ranking: exact name, then prefix, then substring; facilities and districts before roads; shorter
names first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from ..errors import GeoserviceError
from ..sources.cell_values import check_text
from .answers import Crs
from .caches import BoundedCache
from .core import GeoService, RegionEntry
from .output_crs import shift_point
from .place_index import AdminUnit, NamedPoints, admin_units, facility_points, normalise, static_points

__all__ = ["Place", "PlaceRole", "PlaceList", "search_places", "normalise", "MAX_QUERY", "MAX_LIMIT"]

MAX_QUERY = 100  # characters of the query as typed
MAX_LIMIT = 50
DEFAULT_LIMIT = 8
STATIC_REGIONS = 16  # regions whose road/district index is kept (bounded)

Kind = Literal["facility", "district", "road"]
_KIND_RANK = {"facility": 0, "district": 0, "road": 1}


class PlaceRole(BaseModel):
    type: str
    level: str | None = None
    demo: bool = Field(False, description="a demo designation, not a real certification")


class Place(BaseModel):
    """One answer of the place search: a name and a point to search from."""

    name: str
    kind: Kind = Field(description="facility, district (admin unit) or road")
    lon: float
    lat: float
    region: str
    district: str | None = Field(None, description="the admin unit the point lies in, when the region has them")
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

    @classmethod
    def of(cls, points: NamedPoints) -> _Index:
        norms = points.keys
        lengths = np.array([len(n) for n in norms], dtype=np.int64)
        starts = np.zeros(len(norms), dtype=np.int64)
        if len(norms) > 1:
            starts[1:] = np.cumsum(lengths[:-1] + 1)
        return cls(points, "\x00".join(norms), starts, lengths)

    def matches(self, q: str) -> list[tuple[int, int]]:
        """(row, rank) of every name containing ``q``: rank 0 exact, 1 prefix, 2 substring."""
        if not self.haystack:
            return []
        pos = np.fromiter((m.start() for m in re.finditer(re.escape(q), self.haystack)), dtype=np.int64)
        if len(pos) == 0:
            return []
        rows = np.searchsorted(self.starts, pos, side="right") - 1
        rows, first = np.unique(rows, return_index=True)  # the first hit in a name is its earliest
        at_start = pos[first] == self.starts[rows]
        exact = at_start & (self.lengths[rows] == len(q))
        rank = np.where(exact, 0, np.where(at_start, 1, 2))
        return list(zip(rows.tolist(), rank.tolist(), strict=True))


@dataclass(frozen=True)
class _Static:
    units: list[AdminUnit]
    index: _Index


_static: BoundedCache[_Static] = BoundedCache(STATIC_REGIONS)


def _static_index(entry: RegionEntry) -> _Static:
    """Roads and admin units of a bundle: built once per bundle, whatever the edits."""
    region = entry.region
    assert region is not None
    key = (str(entry.path), region.meta.get("created"), region.meta.get("bundle_version"))

    def build() -> _Static:
        units = admin_units(region)
        return _Static(units, _Index.of(static_points(region, units)))

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


def _place(pts: NamedPoints, row: int, region: str, crs: str) -> Place:
    lon, lat = shift_point(float(pts.lon[row]), float(pts.lat[row]), crs)
    return Place(
        name=pts.names[row],
        kind=pts.kinds[row],
        lon=lon,
        lat=lat,
        region=region,
        district=pts.districts[row],
        roles=[PlaceRole(type=r.type, level=r.level, demo=r.demo) for r in pts.roles[row]],
    )


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
    svc: GeoService, q: str | None, *, region: str | None = None, limit: int = DEFAULT_LIMIT, crs: str = "wgs84"
) -> PlaceList:
    """Places whose name contains ``q`` (see the module docstring for matching and ranking)."""
    norm = check_query(q)
    if not 1 <= limit <= MAX_LIMIT:
        raise GeoserviceError("limit", f"must be 1 to {MAX_LIMIT}, got {limit}")
    hits: list[tuple[tuple[int, int, int, str, str], str, NamedPoints, int]] = []
    for entry in svc.entries(region):
        for index in (_facility_index(svc, entry), _static_index(entry).index):
            pts = index.points
            for row, rank in index.matches(norm):
                name = pts.names[row]
                hits.append(((rank, _KIND_RANK[pts.kinds[row]], len(name), name, entry.name), entry.name, pts, row))
    hits.sort(key=lambda h: h[0])
    places = [_place(pts, row, region_name, crs) for _, region_name, pts, row in hits[:limit]]
    return PlaceList(q=str(q).strip(), count=len(places), places=places, crs_name=crs)
