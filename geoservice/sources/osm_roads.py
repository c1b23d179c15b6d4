"""Stream the roads of a local OSM file into flat arrays (no osmnx, no per-node Python objects kept).

Reads .osm, .osm.pbf, .osm.gz and .osm.bz2 with pyosmium. Node locations are resolved by
libosmium's location index in one pass. Ways that reference nodes missing from a clipped
extract are split at the gap, and the loss is reported rather than raised.
"""

from __future__ import annotations

import logging
import os
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputFileError
from .speeds import CLASS_INDEX, DRIVE_CLASSES, WALK_CLASSES, parse_maxspeed

if TYPE_CHECKING:
    from osmium.osm import TagList

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.gz", ".osm.bz2", ".osm.xml")
FLAG_DRIVE = 1
FLAG_WALK = 2
FLAG_OFF_GRADE = 4  # bridge, tunnel, viaduct or a layer other than 0: joined only at its ends
FLAG_LIMITED = 8  # motorway, motorway link, trunk with motorroad=yes: cars join only at ramps
JOIN_FLAGS = {"drive": FLAG_OFF_GRADE | FLAG_LIMITED, "walk": FLAG_OFF_GRADE}
"""The way flags that make a road a poor place to *join* the network for each network's
traveller (``engine.router`` snaps to such a road only when no other is near)."""


class OSMReadError(InputFileError):
    """The OSM file cannot be used; the message names the file and what to do."""

    def __init__(self, message: str, field: str = "osm"):
        super().__init__(field, message)


@dataclass
class RawWays:
    """Road ways as flat arrays: way ``i`` uses positions ``ptr[i]:ptr[i+1]``."""

    way_id: np.ndarray  # int64
    way_class: np.ndarray  # uint8 index into ROAD_CLASSES
    way_oneway: np.ndarray  # int8: 0 both ways, 1 forward only, -1 backward only
    way_maxspeed: np.ndarray  # float32 km/h, NaN when absent or unusable
    way_flags: np.ndarray  # uint8 bit set of FLAG_DRIVE / FLAG_WALK / FLAG_OFF_GRADE / FLAG_LIMITED
    way_name: list[str]
    ptr: np.ndarray  # int64, len(ways) + 1
    ref: np.ndarray  # int64 node ids
    lon: np.ndarray  # float64
    lat: np.ndarray  # float64
    osm_timestamp: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    warnings: list[str] = field(default_factory=list)
    missing_refs: int = 0


def check_osm_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise OSMReadError(f"OSM file not found: {p} (give a local .osm, .osm.pbf, .osm.gz or .osm.bz2 file)")
    if not p.name.lower().endswith(OSM_SUFFIXES):
        raise OSMReadError(f"unsupported OSM file type: {p.name} (expected .osm, .osm.pbf, .osm.gz or .osm.bz2)")
    return p


def _drive_ok(tags: TagList) -> bool:
    if tags.get("area") == "yes":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    if (
        tags.get("access") in ("no", "private")
        and tags.get("motor_vehicle") not in ("yes", "designated")
        and tags.get("motorcar") not in ("yes", "designated")
    ):
        return False
    return tags.get("service") not in ("parking_aisle", "driveway", "private", "emergency_access")


def _walk_ok(tags: TagList) -> bool:
    if tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if foot in ("no", "private"):
        return False
    return not (tags.get("access") in ("no", "private") and foot not in ("yes", "designated", "permissive"))


def _layer(tags: TagList) -> float:
    try:
        return float((tags.get("layer") or "0").split(";")[0])
    except ValueError:
        return 0.0


def join_flags(tags: TagList, hw: str) -> int:
    """FLAG_OFF_GRADE and FLAG_LIMITED of a way: whether a point beside it can join it anywhere.

    A bridge, viaduct, tunnel or a way on another layer is reached only at its ends (a building
    passage is at grade); a motorway (and its links) or a trunk road marked ``motorroad=yes`` is
    joined by car only at its ramps."""
    flags = 0
    bridge = (tags.get("bridge") or "no").lower()
    tunnel = (tags.get("tunnel") or "no").lower()
    if bridge not in ("no", "false", "0") or tunnel not in ("no", "false", "0", "building_passage") or _layer(tags):
        flags |= FLAG_OFF_GRADE
    if hw in ("motorway", "motorway_link") or (hw in ("trunk", "trunk_link") and tags.get("motorroad") == "yes"):
        flags |= FLAG_LIMITED
    return flags


def _oneway(tags: TagList, hw: str) -> int:
    v = (tags.get("oneway") or "").lower()
    if v in ("yes", "true", "1"):
        return 1
    if v in ("-1", "reverse"):
        return -1
    if v in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or hw == "motorway":
        return 1
    return 0


def read_osm_roads(path: str | os.PathLike[str], *, progress: Callable[[int], None] | None = None) -> RawWays:
    """Stream highway ways of ``path`` into :class:`RawWays`.

    ``progress`` is an optional callable taking the number of ways read so far.
    """
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is a hard dependency
        raise ImportError("reading OSM files needs pyosmium: pip install osmium") from exc
    p = check_osm_path(path)

    buf = _Ways()
    missing = 0
    split_ways = 0
    newest = None
    nan = float("nan")
    try:
        header = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING).header()
        stamp = header.get("osmosis_replication_timestamp") or None
        box = header.box()
        bbox = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat) if box.valid() else None
        fp = (
            osmium.FileProcessor(str(p))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        )
        count = 0
        for w in fp:
            if not isinstance(w, osmium.osm.Way):  # ways only (the filter above)
                continue
            tags = w.tags
            hw = tags.get("highway")
            if hw not in CLASS_INDEX:
                continue
            flags = (FLAG_DRIVE if hw in DRIVE_CLASSES and _drive_ok(tags) else 0) | (
                FLAG_WALK if hw in WALK_CLASSES and _walk_ok(tags) else 0
            )
            if not flags:
                continue
            flags |= join_flags(tags, hw)
            ts = w.timestamp
            if ts is not None and ts.year > 1970 and (newest is None or ts > newest):
                newest = ts
            ms = parse_maxspeed(tags.get("maxspeed"))
            attrs = (
                w.id,
                CLASS_INDEX[hw],
                _oneway(tags, hw),
                nan if ms is None else ms,
                flags,
                tags.get("name") or tags.get("ref") or "",
            )
            run_r: list[int] = []
            run_x: list[float] = []
            run_y: list[float] = []
            pieces = 0
            for n in w.nodes:
                loc = n.location
                if loc.valid():
                    run_r.append(n.ref)
                    run_x.append(loc.lon)
                    run_y.append(loc.lat)
                    continue
                missing += 1
                if len(run_r) >= 2:
                    pieces += 1
                    buf.emit(attrs, run_r, run_x, run_y)
                run_r, run_x, run_y = [], [], []
            if len(run_r) >= 2:
                pieces += 1
                buf.emit(attrs, run_r, run_x, run_y)
            if pieces != 1:
                split_ways += 1
            count += 1
            if progress is not None and count % 50_000 == 0:
                progress(count)
    except RuntimeError as exc:
        raise OSMReadError(f"cannot read OSM file {p.name}: {exc}") from exc

    warnings = []
    if missing:
        warnings.append(
            f"{missing} node references of {split_ways} ways point to nodes missing from "
            f"{p.name} (clipped extract?); those ways were cut at the gaps"
        )
        for w_ in warnings:
            log.warning(w_)
    if newest is not None and not stamp:
        stamp = newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(buf.way_id) == 0:
        raise OSMReadError(f"no usable highway ways in {p.name}: is it a road extract?")
    return RawWays(
        way_id=np.frombuffer(buf.way_id, dtype=np.int64).copy(),
        way_class=np.frombuffer(buf.way_class, dtype=np.uint8).copy(),
        way_oneway=np.frombuffer(buf.way_oneway, dtype=np.int8).copy(),
        way_maxspeed=np.frombuffer(buf.way_max, dtype=np.float32).copy(),
        way_flags=np.frombuffer(buf.way_flags, dtype=np.uint8).copy(),
        way_name=buf.names,
        ptr=np.frombuffer(buf.ptr, dtype=np.int64).copy(),
        ref=np.frombuffer(buf.refs, dtype=np.int64).copy(),
        lon=np.frombuffer(buf.lons, dtype=np.float64).copy(),
        lat=np.frombuffer(buf.lats, dtype=np.float64).copy(),
        osm_timestamp=stamp,
        bbox=bbox,
        warnings=warnings,
        missing_refs=missing,
    )


WayAttrs = tuple[int, int, int, float, int, str]
"""A way's id, class index, one-way (0, 1, -1), maxspeed (km/h, NaN), flags and name."""


class _Ways:
    """The ways read so far, in growing C arrays (see ``RawWays``)."""

    def __init__(self) -> None:
        self.way_id = array("q")
        self.way_class = array("B")
        self.way_oneway = array("b")
        self.way_max = array("f")
        self.way_flags = array("B")
        self.names: list[str] = []
        self.ptr = array("q", [0])
        self.refs = array("q")
        self.lons = array("d")
        self.lats = array("d")

    def emit(self, attrs: WayAttrs, rr: list[int], xx: list[float], yy: list[float]) -> None:
        """One run of a way's nodes (refs ``rr`` at ``xx``/``yy``) as a way of ``attrs``."""
        wid, cls, ow, ms, flags, name = attrs
        self.way_id.append(wid)
        self.way_class.append(cls)
        self.way_oneway.append(ow)
        self.way_max.append(ms)
        self.way_flags.append(flags)
        self.names.append(name)
        self.refs.extend(rr)
        self.lons.extend(xx)
        self.lats.extend(yy)
        self.ptr.append(len(self.refs))
