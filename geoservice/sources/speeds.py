"""Travel profiles, road-class speed tables and OSM ``maxspeed`` parsing.

Default speeds (km/h) follow Chinese standards, used when a way has no usable ``maxspeed``:

* 公路工程技术标准 JTG B01-2014 (highway design speeds): 高速公路 120/100/80, 一级公路 100/80/60,
  二级公路 80/60, 三级公路 40/30, 四级公路 30/20.
* 城市道路工程设计规范 CJJ 37-2012 (urban design speeds): 快速路 100-60, 主干路 60-40,
  次干路 50-30, 支路 40-20.
* 道路交通安全法实施条例 第四十五条: roads without a centre line 30 (urban) / 40 (highway);
  one lane each way 50 (urban) / 70 (highway).

We map OSM classes to the lower-middle of those ranges because ambulances and private cars
rarely reach design speed in mixed traffic: motorway 100, trunk 80, primary 60, secondary 50,
tertiary 40, unclassified/residential 30, living_street 10, service 15, links about 60% of
their parent class. Walking uses 5 km/h (1.39 m/s), the usual pedestrian planning speed.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from ..errors import GeoserviceError

# Road classes, in a fixed order: the bundle stores a class index per edge.
ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
    "service",
    "track",
    "pedestrian",
    "footway",
    "path",
    "steps",
    "cycleway",
    "corridor",
    "bridleway",
)
CLASS_INDEX = {c: i for i, c in enumerate(ROAD_CLASSES)}

# motorway .. service: cars use service roads (15 km/h), except the parking aisles, driveways,
# private and emergency-access ones (service=*, excluded in sources.osm_roads._drive_ok)
DRIVE_CLASSES = frozenset(ROAD_CLASSES[: ROAD_CLASSES.index("service") + 1])
WALK_CLASSES = frozenset(ROAD_CLASSES) - {"motorway", "motorway_link", "trunk", "trunk_link", "bridleway"}
MAJOR_CLASSES = frozenset(ROAD_CLASSES[:10])  # drawn on the offline basemap

DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100,
    "motorway_link": 60,
    "trunk": 80,
    "trunk_link": 50,
    "primary": 60,
    "primary_link": 40,
    "secondary": 50,
    "secondary_link": 35,
    "tertiary": 40,
    "tertiary_link": 30,
    "unclassified": 30,
    "residential": 30,
    "living_street": 10,
    "road": 30,
    "service": 15,
    "track": 15,
}

# Implicit limits ("CN:urban" etc.), km/h. Country-specific first, then generic zone names.
ZONE_SPEEDS_KMH: dict[str, float] = {
    "cn:urban": 50,
    "cn:rural": 70,
    "cn:motorway": 120,
    "cn:expressway": 100,
    "cn:living_street": 20,
    "urban": 50,
    "rural": 90,
    "motorway": 120,
    "trunk": 100,
    "living_street": 10,
    "walk": 7,
    "zone30": 30,
    "zone20": 20,
    "bicycle_road": 30,
}
MPH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)

WALK_SPEED_KMH = 5.0


def parse_maxspeed(value: str | None) -> float | None:
    """Return a ``maxspeed`` tag as km/h, or None when it carries no usable number.

    Handles "50", "50 mph", "70|100" and "70;100" (mean of the parts, as osmnx does),
    implicit zones such as "CN:urban" or "RU:rural", "walk", and rejects junk,
    "none", "signals", "variable" and speeds outside 3..200 km/h.
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    parts = [p for p in re.split(r"[|;]", text) if p.strip()]
    speeds = []
    for part in parts:
        part = part.strip()
        m = _NUMBER.match(part)
        if m:
            kmh = float(m.group(1)) * (MPH if (m.group(2) or "").lower() == "mph" else 1.0)
        elif part in ZONE_SPEEDS_KMH:
            kmh = ZONE_SPEEDS_KMH[part]
        elif ":" in part and part.split(":", 1)[1] in ZONE_SPEEDS_KMH:
            kmh = ZONE_SPEEDS_KMH[part.split(":", 1)[1]]
        else:
            continue
        if 3.0 <= kmh <= 200.0 and math.isfinite(kmh):
            speeds.append(kmh)
    if not speeds:
        return None
    return sum(speeds) / len(speeds)


class ProfileDict(TypedDict):
    """A ``Profile`` as its bundle stores it (JSON)."""

    name: str
    network: str
    factors: dict[str, float]
    max_kmh: float
    fixed_kmh: float | None
    use_maxspeed: bool


@dataclass(frozen=True)
class Profile:
    """How one kind of traveller moves on a network.

    ``factors`` multiply the road speed per class (an ambulance with lights runs faster on
    arterials); ``max_kmh`` caps the result. ``network`` names the bundle network it uses.
    """

    name: str
    network: str  # "drive" or "walk"
    factors: dict[str, float] = field(default_factory=dict)
    max_kmh: float = 130.0
    fixed_kmh: float | None = None  # walking: one speed everywhere
    use_maxspeed: bool = True

    def speed_kmh(self, road_class: str, maxspeed_kmh: float | None) -> float:
        if self.fixed_kmh is not None:
            base = self.fixed_kmh * (0.5 if road_class == "steps" else 1.0)
            return base
        base = maxspeed_kmh if (self.use_maxspeed and maxspeed_kmh) else DEFAULT_SPEED_KMH.get(road_class, 20.0)
        return min(base * self.factors.get(road_class, 1.0), self.max_kmh)

    def to_dict(self) -> ProfileDict:
        return {
            "name": self.name,
            "network": self.network,
            "factors": dict(self.factors),
            "max_kmh": self.max_kmh,
            "fixed_kmh": self.fixed_kmh,
            "use_maxspeed": self.use_maxspeed,
        }

    @classmethod
    def from_dict(cls, d: ProfileDict) -> Profile:
        return cls(**d)


# An ambulance with lights and siren gains most on urban arterials; on motorways the cap holds.
AMBULANCE_FACTORS = {
    "primary": 1.2,
    "primary_link": 1.2,
    "secondary": 1.2,
    "secondary_link": 1.2,
    "tertiary": 1.15,
    "tertiary_link": 1.15,
    "unclassified": 1.1,
    "residential": 1.1,
    "trunk": 1.1,
    "trunk_link": 1.1,
}

DEFAULT_PROFILES: dict[str, Profile] = {
    "drive": Profile("drive", "drive"),
    "ambulance": Profile("ambulance", "drive", factors=AMBULANCE_FACTORS, max_kmh=120.0),
    "walk": Profile("walk", "walk", fixed_kmh=WALK_SPEED_KMH, use_maxspeed=False),
}


# Time-band scenarios: travel-time multipliers per road class (1.0 = free flow). "peak" follows
# the usual picture of Chinese city rush hours, where arterials lose most (AMap/Gaode reports give
# peak congestion indices of about 1.5-2.0 in large cities); a custom table can be passed instead.
SCENARIOS: dict[str, dict[str, float]] = {
    "free_flow": {},
    "off_peak": {"primary": 1.1, "secondary": 1.1, "tertiary": 1.05, "trunk": 1.05},
    "peak": {
        "motorway": 1.3,
        "motorway_link": 1.4,
        "trunk": 1.5,
        "trunk_link": 1.5,
        "primary": 1.7,
        "primary_link": 1.7,
        "secondary": 1.6,
        "secondary_link": 1.6,
        "tertiary": 1.4,
        "tertiary_link": 1.4,
        "unclassified": 1.2,
        "residential": 1.2,
        "living_street": 1.1,
        "road": 1.2,
        "service": 1.1,
    },
}


WeightKey = tuple[str, tuple[tuple[str, float], ...]]
"""A weight set's name: (profile, sorted (road class, factor) pairs other than 1)."""


def scenario_key(profile: str, scenario: str | Mapping[str, float] | None) -> WeightKey:
    """(profile, sorted {road class: factor} items) naming a weight set; free flow has no items.
    A scenario name must be in SCENARIOS; a table's classes must be road classes and its factors
    numbers in (0, 100)."""
    if scenario is None or scenario == "free_flow":
        return profile, ()
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise GeoserviceError(
                "scenario", f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)} or give a table"
            )
        table = SCENARIOS[scenario]
    else:
        table = dict(scenario)
    items: list[tuple[str, float]] = []
    for cls, f in table.items():
        try:
            factor = float(f)
        except (TypeError, ValueError):
            factor = float("nan")
        if cls not in CLASS_INDEX or not (0 < factor < 100):
            raise GeoserviceError(
                "scenario", f"bad congestion entry {cls!r}: {f!r} (road class with a factor in (0, 100))"
            )
        if factor != 1.0:
            items.append((cls, factor))
    return profile, tuple(sorted(items))


# ---------------------------------------------------------------- time of day
# Hourly travel-time factors per road class, for a departure time (``scenario_for_depart``).
#
# Source of the shape: the annual and quarterly traffic reports of AMap (高德地图《中国主要城市交通
# 分析报告》) and Baidu Maps (百度地图《中国城市交通报告》) measure congestion as a delay index, the
# actual travel time over the free-flow travel time (so it is a travel-time factor, like ours).
# Their weekday curves for large Chinese cities have the same shape every year: lowest at night
# (index close to 1 between about 23:00 and 06:00), a morning peak at 07:00-09:00, a plateau
# through the day, an evening peak at 17:00-19:00 that is usually the day's worst, and a decline
# through the evening; the peak-hour index of the most congested cities lies at about 1.5-2.0.
#
# Assumption (not a measurement): each hour is placed on that curve as a mix of the tables above,
# level 0 = free flow, 1 = ``off_peak``, 2 = ``peak``, fractions interpolating linearly between
# neighbouring levels; the per-class factors are those of SCENARIOS. Calibrate with a city's own
# data through ``read_hourly_profiles`` (CSV: ``road_class,h00,h01,...,h23``).
HOUR_LEVELS: tuple[float, ...] = (
    0.0,  # 00
    0.0,  # 01
    0.0,  # 02
    0.0,  # 03
    0.0,  # 04
    0.0,  # 05
    0.5,  # 06 traffic builds up
    2.0,  # 07 morning peak
    2.0,  # 08 morning peak
    1.5,  # 09 peak fading
    1.0,  # 10 daytime
    1.0,  # 11
    1.0,  # 12
    1.0,  # 13
    1.0,  # 14
    1.0,  # 15
    1.5,  # 16 building up
    2.0,  # 17 evening peak
    2.0,  # 18 evening peak
    1.5,  # 19 peak fading
    1.0,  # 20
    1.0,  # 21
    0.5,  # 22
    0.0,  # 23
)
HOURLY_SOURCE = (
    "shape of AMap / Baidu weekday congestion-delay curves (peaks 07-09 and 17-19); per-class factors "
    "from geoservice.sources.speeds.SCENARIOS (an assumption, not a measurement)"
)


def _level_table(level: float) -> dict[str, float]:
    """Factor per road class at a curve level (0 free flow, 1 off_peak, 2 peak)."""
    lo = min(int(level), 1)
    frac = level - lo
    a = SCENARIOS[("free_flow", "off_peak")[lo]]
    b = SCENARIOS[("off_peak", "peak")[lo]]
    out = {}
    for cls in ROAD_CLASSES:
        f = a.get(cls, 1.0) + frac * (b.get(cls, 1.0) - a.get(cls, 1.0))
        out[cls] = round(f, 6)
    return out


def default_hourly_profiles() -> dict[str, tuple[float, ...]]:
    """{road class: 24 travel-time factors, hour 0 to 23} of the curve above."""
    tables = [_level_table(level) for level in HOUR_LEVELS]
    return {cls: tuple(t[cls] for t in tables) for cls in ROAD_CLASSES}


def read_hourly_profiles(path: str | os.PathLike[str]) -> dict[str, tuple[float, ...]]:
    """Hourly factors from a CSV file: a header ``road_class,h00,h01,...,h23`` and one row per
    road class with 24 travel-time factors in (0, 100) (1 = free flow); classes not listed keep
    1.0 at every hour. Errors name the file's row (``speed_profile`` field)."""
    import csv

    want = ["road_class"] + [f"h{h:02d}" for h in range(24)]
    out: dict[str, tuple[float, ...]] = {cls: (1.0,) * 24 for cls in ROAD_CLASSES}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or [c.strip() for c in rows[0]] != want:
        raise GeoserviceError("speed_profile", f"{path}: the header must be {','.join(want)}")
    seen: set[str] = set()
    for i, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        cls = row[0].strip()
        if cls not in CLASS_INDEX:
            raise GeoserviceError("speed_profile", f"{path} row {i}: unknown road class {cls!r}")
        if cls in seen:
            raise GeoserviceError("speed_profile", f"{path} row {i}: road class {cls!r} given twice")
        if len(row) != 25:
            raise GeoserviceError("speed_profile", f"{path} row {i}: 24 hourly factors needed, got {len(row) - 1}")
        factors = []
        for h, text in enumerate(row[1:]):
            f = _factor(text)
            if f is None:
                raise GeoserviceError(
                    "speed_profile", f"{path} row {i}, h{h:02d}: {text!r} is not a factor in (0, 100)"
                )
            factors.append(f)
        seen.add(cls)
        out[cls] = tuple(factors)
    return out


def _factor(text: str) -> float | None:
    """A travel-time factor in (0, 100) from text, or None."""
    if not re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", text):
        return None
    f = float(text)
    return f if 0 < f < 100 else None


def parse_depart(depart: object) -> int:
    """The hour (0-23) of a departure time given as ``"HH:MM"``, a datetime / time or an hour."""
    if isinstance(depart, (datetime.datetime, datetime.time)):
        return depart.hour
    if isinstance(depart, int) and not isinstance(depart, bool) and 0 <= depart <= 23:
        return depart
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", depart) if isinstance(depart, str) else None
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise GeoserviceError("depart", f"departure time must be HH:MM (00:00 to 23:59), got {depart!r}")
    return int(m.group(1))


def scenario_for_depart(depart: object, profiles: dict[str, tuple[float, ...]] | None = None) -> dict[str, float]:
    """The congestion table ({road class: factor}, for ``Router.weights`` / ``Engine.matrix``'s
    ``scenario``) of the hour a trip departs in (``"HH:MM"``, a datetime / time or an hour),
    from ``profiles`` (``read_hourly_profiles``) or the default curve. Classes at 1.0 are left
    out, so hours with equal factors give equal tables (one cached hierarchy)."""
    hour = parse_depart(depart)
    table = profiles if profiles is not None else default_hourly_profiles()
    return {cls: f[hour] for cls, f in table.items() if f[hour] != 1.0}
