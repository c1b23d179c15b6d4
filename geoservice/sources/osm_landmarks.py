"""Landmarks a citizen names when asked where they are, read from a local OSM file at build time
for the place search: squares, metro and railway stations, bus stops, malls, schools and
universities, parks, hospitals, attractions and major buildings. Each has its ``name`` (as mapped),
``name:zh`` and ``name:en`` when OSM has them, a kind, and one point (nodes as they are, ways and
multipolygons at their centroid).

One place mapped many times is one landmark: features of one kind and one name closer than
``GROUP_M`` (a station's node and area, the eleven stop positions of the 人民广场 bus stops, the
entrances of a metro station) are grouped at their mean position. A ``railway=subway_entrance``
whose name is that of a station within ``GROUP_M`` ("人民广场站1号口" beside 人民广场站) belongs to
that station; the others are grouped by their own name. Features without any name are skipped.

The English names of roads (``name`` → ``name:en`` of ``highway`` ways) are read in the same pass,
so that the search finds 淮海中路 as "Huaihai Road" too.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import InputFileError

__all__ = ["KINDS", "Landmark", "Landmarks", "read_osm_landmarks", "GROUP_M"]

# kind -> the (key, value) pairs that make it; the first kind a feature matches wins
KINDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "hospital": (("amenity", "hospital"),),
    "station": (
        ("railway", "station"),
        ("railway", "halt"),
        ("station", "subway"),
        ("public_transport", "station"),
        ("railway", "subway_entrance"),
    ),
    "square": (("place", "square"),),
    "mall": (("shop", "mall"), ("shop", "department_store")),
    "university": (("amenity", "university"), ("amenity", "college")),
    "school": (("amenity", "school"),),
    "park": (("leisure", "park"),),
    "attraction": (
        ("tourism", "attraction"),
        ("tourism", "museum"),
        ("tourism", "zoo"),
        ("tourism", "theme_park"),
        ("historic", "castle"),
        ("historic", "monument"),
        ("amenity", "theatre"),
        ("amenity", "townhall"),
        ("leisure", "stadium"),
    ),
    "bus_stop": (("highway", "bus_stop"), ("public_transport", "stop_position"), ("public_transport", "platform")),
}
# a named building of these kinds, or this tall (building:levels), is a landmark ("building")
MAJOR_BUILDINGS: Final = ("office", "commercial", "government", "public", "civic", "train_station", "cathedral")
MAJOR_LEVELS: Final = 20
_BUILDING_TAGS: Final = tuple(("building", b) for b in MAJOR_BUILDINGS) + tuple(
    ("building:levels", str(n)) for n in range(MAJOR_LEVELS, 100)
)
GROUP_M: Final = 500.0
_PUNCT = re.compile(r"[\W_]+")
# an exit's suffix: "1号口", "A口", "2号出入口", "(Exit 3)", "entrance B"
_EXIT = re.compile(r"\s*(([A-Za-z]|\d+)\s*号?\s*(出入)?口|出入口|\(?\s*exit\s*\w*\)?|entrance\s*\w*)\s*$", re.I)


@dataclass
class Landmark:
    id: str  # the first OSM feature of the group: osm-node-1, osm-way-2, osm-relation-3
    kind: str
    name: str
    name_zh: str | None
    name_en: str | None
    lon: float
    lat: float
    count: int = 1  # features grouped into it

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "lon": round(self.lon, 7),
            "lat": round(self.lat, 7),
        }


@dataclass
class Landmarks:
    landmarks: list[Landmark]
    road_names_en: dict[str, str]  # a road's name -> its English name (the most common one mapped)


def _kind(tags: dict[str, str]) -> str | None:
    for kind, pairs in KINDS.items():
        if any(tags.get(k) == v for k, v in pairs):
            if kind == "bus_stop" and tags.get("highway") != "bus_stop" and tags.get("bus") != "yes":
                continue  # a tram or ferry stop position
            return kind
    levels = tags.get("building:levels", "")
    if tags.get("building") in MAJOR_BUILDINGS or (
        "building" in tags and levels.isdigit() and int(levels) >= MAJOR_LEVELS
    ):
        return "building"
    return None


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = 111_320.0 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 111_320.0)


def _point(obj: Any) -> tuple[str, float, float] | None:
    import shapely

    if obj.is_node():
        return (f"osm-node-{obj.id}", obj.location.lon, obj.location.lat) if obj.location.valid() else None
    if obj.is_way():
        pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if not pts:
            return None
        if len(pts) >= 4 and pts[0] == pts[-1]:
            c = shapely.Polygon(pts).centroid
        else:
            c = shapely.LineString(pts).centroid if len(pts) > 1 else shapely.Point(pts[0])
        return f"osm-way-{obj.id}", c.x, c.y
    if obj.is_area() and not obj.from_way():
        rings = [shapely.Polygon([(n.lon, n.lat) for n in r]) for r in obj.outer_rings()]
        if not rings:
            return None
        c = shapely.MultiPolygon(rings).centroid
        return f"osm-relation-{obj.orig_id()}", c.x, c.y
    return None


def _group(found: list[Landmark]) -> list[Landmark]:
    """Features of one kind and name within GROUP_M of a group's first feature join it. The group's
    point is that of its member nearest their mean: a real stop or entrance on its road, not the
    middle of the square the stops surround."""
    groups: dict[tuple[str, str], list[list[Landmark]]] = {}
    for f in found:
        same = groups.setdefault((f.kind, f.name), [])
        g = next((g for g in same if _metres((g[0].lon, g[0].lat), (f.lon, f.lat)) < GROUP_M), None)
        if g is None:
            same.append([f])
        else:
            g.append(f)
    out: list[Landmark] = []
    for members in (g for same in groups.values() for g in same):
        mean = (sum(m.lon for m in members) / len(members), sum(m.lat for m in members) / len(members))
        at = min(members, key=lambda m: _metres((m.lon, m.lat), mean))
        first = members[0]
        out.append(
            Landmark(
                first.id,
                first.kind,
                first.name,
                next((m.name_zh for m in members if m.name_zh), None),
                next((m.name_en for m in members if m.name_en), None),
                at.lon,
                at.lat,
                len(members),
            )
        )
    return out


def _bare(name: str) -> str:
    """A station name as entrances are compared with it: no 站 suffix, case, spaces or punctuation."""
    return _PUNCT.sub("", name.casefold()).removesuffix("站")


def _station_of(entrance: Landmark, stations: list[Landmark]) -> bool:
    """True when a subway entrance is named after a station within GROUP_M of it ("Monaco-Monte Carlo"
    beside "Monaco - Monte Carlo", "人民广场站1号口" beside 人民广场)."""
    bare = _bare(_EXIT.sub("", entrance.name))
    at = (entrance.lon, entrance.lat)
    return any(_bare(s.name) == bare and _metres((s.lon, s.lat), at) < GROUP_M for s in stations)


def read_osm_landmarks(path: str | os.PathLike[str], *, field: str = "osm") -> Landmarks:
    """The landmarks and road English names of an OSM file (.osm, .osm.pbf, .osm.gz, .osm.bz2)."""
    import osmium

    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"{p}: file not found")
    # the tags of a landmark, filtered in C++ (a province has millions of named roads and buildings)
    wanted = tuple(pair for pairs in KINDS.values() for pair in pairs) + _BUILDING_TAGS
    found: list[Landmark] = []
    entrances: list[Landmark] = []
    road_en: dict[str, Counter[str]] = {}
    try:
        fp = (
            osmium.FileProcessor(p)
            .with_locations()
            .with_areas(osmium.filter.TagFilter(*wanted))
            .with_filter(osmium.filter.TagFilter(*wanted))
        )
        obj: Any  # pyosmium's Node | Way | Relation | Area, told apart by is_node() / is_way() / is_area()
        for obj in fp:
            tags = {t.k: t.v for t in obj.tags}
            name = (tags.get("name") or tags.get("name:zh") or tags.get("name:en") or "").strip()
            kind = _kind(tags) if name else None
            if kind is None or (obj.is_way() and "highway" in tags):
                continue
            at = _point(obj)
            if at is None:
                continue
            lm = Landmark(at[0], kind, name, tags.get("name:zh") or None, tags.get("name:en") or None, at[1], at[2])
            (entrances if tags.get("railway") == "subway_entrance" else found).append(lm)
        # the English names of roads: ways only, no locations (a second, cheap pass)
        for obj in osmium.FileProcessor(p, osmium.osm.WAY).with_filter(osmium.filter.KeyFilter("name:en")):
            name, en = obj.tags.get("name"), obj.tags.get("name:en", "").strip()
            if name and en and "highway" in obj.tags:
                road_en.setdefault(name, Counter())[en] += 1
    except RuntimeError as exc:
        raise InputFileError(field, f"{p}: cannot be read as an OSM file ({exc})") from exc
    stations = [f for f in found if f.kind == "station"]
    found += [e for e in entrances if not _station_of(e, stations)]
    roads = {name: c.most_common(1)[0][0] for name, c in road_en.items()}
    return Landmarks(_group(found), roads)
