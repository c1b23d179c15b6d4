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

import math
import re
from dataclasses import dataclass, field

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

DRIVE_CLASSES = frozenset(ROAD_CLASSES[:14])  # motorway .. road
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

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "network": self.network,
            "factors": dict(self.factors),
            "max_kmh": self.max_kmh,
            "fixed_kmh": self.fixed_kmh,
            "use_maxspeed": self.use_maxspeed,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Profile:
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
