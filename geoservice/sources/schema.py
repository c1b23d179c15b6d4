"""What a facility is, once for every face: types, levels, capabilities, statuses, the travel mode
of each type, the default time targets, and the one filter over facility tables.

Every face (CLI flags, API parameters, pages, maps) takes its choices and its validation from
here, so an invalid level is the same error, naming the valid values, wherever it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from ..errors import GeoserviceError
from .cell_values import check_text

__all__ = [
    "FACILITY_TYPES",
    "LEVELS",
    "ALL_LEVELS",
    "CAPABILITIES",
    "ALL_CAPABILITIES",
    "STATUSES",
    "COLUMNS",
    "TRAVEL_PROFILE",
    "DEFAULT_MINUTES",
    "travel_profile",
    "FacilityFilter",
]

FACILITY_TYPES: Final = (
    "chest_pain_center",
    "stroke_center",
    "grassroots_unit",
    "aed",
    "ems_station",
    "hospital",
)
LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "chest_pain_center": ("standard", "basic"),
    "stroke_center": ("advanced", "center", "station"),
    "grassroots_unit": (),
    "aed": (),
    "ems_station": (),
    "hospital": ("hospital", "clinic"),
}
ALL_LEVELS: Final = tuple(dict.fromkeys(lv for levels in LEVELS.values() for lv in levels))
CAPABILITIES: Final[dict[str, tuple[str, ...]]] = {
    t: (("evt", "ivt") if t == "stroke_center" else ()) for t in FACILITY_TYPES
}
ALL_CAPABILITIES: Final = ("evt", "ivt")
STATUSES: Final = ("certified", "in_construction", "planned", "unknown")
COLUMNS: Final = (
    "id",
    "type",
    "name",
    "level",
    "capabilities",
    "address",
    "admin_code",
    "status",
    "opening_hours",
    "access",
    "location",  # where to find it on site, e.g. "1F lobby, next to the information desk" (AEDs)
    "floor",  # the floor it is on (OSM level=*; not ``level``, which is the facility's tier)
    "door_to_needle_min",
    "capacity",  # beds, cath labs, stroke unit beds ...: the supply of capacity-aware access (E2SFCA); none = 1
    "source",
    "demo",
    "lon",
    "lat",
)

# A public AED is fetched on foot (the golden 4 minutes); centers and stations are reached by car.
TRAVEL_PROFILE: Final[dict[str, str]] = {"aed": "walk"}
# Plan targets: the 30-minute chest pain circle, the 1-hour stroke transport circle, 4 minutes to an AED.
DEFAULT_MINUTES: Final[dict[str, float]] = {"chest_pain_center": 30.0, "stroke_center": 60.0, "aed": 4.0}


def travel_profile(ftype: str | None, profile: str | None = None) -> str:
    """The profile to use for a facility type: the one asked for, else walk for AEDs, else drive."""
    if profile:
        return profile
    return TRAVEL_PROFILE.get(ftype or "", "drive")


def _split(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [p.strip().lower() for p in parts if p and p.strip()]


def _check(field: str, values: list[str], allowed: tuple[str, ...], what: str) -> frozenset[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise GeoserviceError(
            field, f"unknown {what} {', '.join(map(repr, bad))}; valid: {', '.join(allowed) or '(none for this type)'}"
        )
    return frozenset(values)


@dataclass(frozen=True)
class FacilityFilter:
    """Which facilities a query means. Empty sets and None mean "any"."""

    type: str | None = None
    levels: frozenset[str] = frozenset()
    capabilities: frozenset[str] = frozenset()  # all of these are required
    statuses: frozenset[str] = frozenset()
    demo: bool | None = None
    name_contains: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        type: str | None = None,
        level: str | Iterable[str] | None = None,
        capability: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        demo: bool | None = None,
        name_contains: str | None = None,
        allow_all: bool = False,
    ) -> FacilityFilter:
        """Validate user input (comma-separated text or lists); errors name the field and the valid values
        (a control character, e.g. NUL, is refused in every one: ``cell_values.text_problem``)."""
        given = {"type": type, "level": level, "capability": capability, "status": status}
        for field, value in {**given, "name_contains": name_contains}.items():
            for text in [value] if value is None or isinstance(value, str) else list(value):
                check_text(field, text)
        ftype = None
        if type is not None and type.strip():
            t = type.strip().lower()
            if not (allow_all and t == "all"):
                _check("type", [t], FACILITY_TYPES, "facility type")
                ftype = t
        levels = _check(
            "level", _split(level), LEVELS[ftype] if ftype else ALL_LEVELS, f"level{' of ' + ftype if ftype else ''}"
        )
        caps = _check(
            "capability",
            _split(capability),
            CAPABILITIES[ftype] if ftype else ALL_CAPABILITIES,
            f"capability{' of ' + ftype if ftype else ''}",
        )
        statuses = _check("status", _split(status), STATUSES, "status")
        q = name_contains.strip().lower() if name_contains and name_contains.strip() else None
        return cls(ftype, levels, caps, statuses, demo, q)

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of a facility table that match."""
        n = len(table)
        keep = np.ones(n, bool)
        if n == 0:
            return keep
        if self.type is not None:
            keep &= (table["type"] == self.type).to_numpy()
        if self.levels:
            keep &= table["level"].isin(self.levels).to_numpy()
        if self.statuses:
            keep &= table["status"].fillna("unknown").isin(self.statuses).to_numpy()
        if self.capabilities:
            need = self.capabilities
            keep &= np.array([need <= set(filter(None, str(c or "").split(","))) for c in table["capabilities"]], bool)
        if self.demo is not None:
            keep &= (table["demo"].fillna(False).astype(bool) == self.demo).to_numpy()
        if self.name_contains:
            q = self.name_contains
            keep &= np.array([q in str(v or "").lower() for v in table["name"]], bool)
        return keep

    def matches(self, record: Mapping[str, object]) -> bool:
        """The same test for one record (a dict with the COLUMNS keys)."""
        return bool(self.mask(pd.DataFrame([dict(record)]))[0])
