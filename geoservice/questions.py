"""The questions the service answers, each one typed value built once at a face and carried unchanged.

A face (CLI, HTTP API) reads its flags or query parameters, converts the point to WGS-84, parses
the facility filter (``sources.schema.FacilityFilter``) and builds one question; the service, the
analyses and the engine read that object and never parse or restate its parts again. The limits
live here, once: the API declares its query parameters with them (so its OpenAPI document and its
422 answers name them) and the CLI and service refuse the same values with the same field named.

- :class:`NearestQuestion`: the k nearest facilities from or to a point (``/nearest``, ``nearest``).
- :class:`CoverageQuestion`: who reaches a facility within a time (``/coverage``, ``/whatif``,
  ``coverage``, ``whatif``).
- :class:`IsochroneQuestion`: travel-time polygons around a point (``/isochrones``, ``isochrone``).
- :class:`ServiceAreaQuestion`: per facility, where it is reached within a time (``/service-areas``).
- :class:`MatrixQuestion`: travel times from every origin to every destination (``matrix``).
- :class:`TrafficAsk`: the traffic a question names: a ``scenario`` or the hour of a ``depart``
  time, and a ``percentile`` of the spread of real trips; the service resolves it per region.

Every check raises :class:`~geoservice.errors.GeoserviceError` naming the field (snake_case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, Unpack

from .errors import GeoserviceError
from .sources.schema import DEFAULT_MINUTES, FacilityFilter, travel_profile

__all__ = [
    "MAX_K",
    "MAX_MINUTES",
    "MAX_MINUTES_VALUES",
    "MAX_CUTOFF_MINUTES",
    "DIRECTIONS",
    "COVERAGE_BY",
    "Scenario",
    "TrafficAsk",
    "NearestQuestion",
    "CoverageQuestion",
    "IsochroneQuestion",
    "ServiceAreaQuestion",
    "MatrixQuestion",
    "parse_minutes",
    "threshold_minutes",
]

MAX_K = 20
"""At most this many facilities per nearest question (API ``k``, CLI ``--k``, service)."""
MAX_MINUTES = 240
"""Every travel-time limit (``max_minutes``, ``minutes``) is in (0, MAX_MINUTES]."""
MAX_MINUTES_VALUES = 8
"""At most this many distinct minutes per isochrone question (``minutes=5,10,15``)."""
MAX_CUTOFF_MINUTES = 24 * 60.0
"""A matrix's ``cutoff_minutes`` is in (0, MAX_CUTOFF_MINUTES]."""
DIRECTIONS = ("to", "from")
"""``to``: from the point to the facility (a patient); ``from``: facility to point (an ambulance)."""
COVERAGE_BY = ("admin", "county", "unit", "none")
"""How a coverage report is broken down: per administrative unit (``county``, ``unit`` alike) or not."""

Scenario = str | dict[str, float] | None
"""A traffic scenario: a name (free_flow, off_peak, peak) or factors per road class; None: free flow."""


def _check_lonlat(lon: float, lat: float, lon_field: str = "lon", lat_field: str = "lat") -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise GeoserviceError(lon_field, f"must be within [-180, 180], got {lon}")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise GeoserviceError(lat_field, f"must be within [-90, 90], got {lat}")


def parse_minutes(
    text: str | float | list[float], field: str = "minutes", max_n: int = MAX_MINUTES_VALUES
) -> list[float]:
    """ "5,10,15" → [5.0, 10.0, 15.0]: sorted, duplicates dropped, each in (0, MAX_MINUTES]."""
    if isinstance(text, (int, float)):
        raw: list[float] = [float(text)]
    elif isinstance(text, (list, tuple)):
        raw = [float(v) for v in text]
    else:
        try:
            raw = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
        except ValueError:
            raise GeoserviceError(
                field, f"must be comma-separated numbers such as 5,10,15; got {str(text)[:60]!r}"
            ) from None
    if not raw:
        raise GeoserviceError(field, "empty; give e.g. 5,10,15")
    for v in raw:
        if not math.isfinite(v) or v <= 0 or v > MAX_MINUTES:
            raise GeoserviceError(field, f"each value must be in (0, {MAX_MINUTES:g}] minutes; got {v:g}")
    vals = sorted(set(raw))
    if len(vals) > max_n:
        raise GeoserviceError(field, f"at most {max_n} values")
    return vals


@dataclass(frozen=True)
class TrafficAsk:
    """The traffic a question names (``service.traffic.resolve`` turns it into edge factors per region):
    ``scenario`` or ``depart`` (HH:MM, that hour's factors) or neither (free flow), and a percentile."""

    scenario: Scenario = None
    depart: str | None = None
    percentile: int | None = None


class _NearestOptions(TypedDict, total=False):
    k: int
    profile: str | None
    direction: str
    at: datetime | None
    max_minutes: float | None
    traffic: TrafficAsk
    region: str | None
    crs: str
    given: tuple[float, float] | None


@dataclass(frozen=True)
class NearestQuestion:
    """The k nearest facilities matching ``where`` from (``direction`` to) or to (``from``) a point.

    ``lon``/``lat`` are WGS-84 (the face converted them); ``given`` is the point as the user typed it
    in ``crs`` (echoed in the answer; None: the WGS-84 point). ``profile`` None: walk for AEDs, else
    drive (:attr:`mode`). ``at``: only facilities not closed then. ``max_minutes``: search no farther."""

    lon: float
    lat: float
    where: FacilityFilter = field(default_factory=FacilityFilter)
    k: int = 1
    profile: str | None = None
    direction: str = "to"
    at: datetime | None = None
    max_minutes: float | None = None
    traffic: TrafficAsk = field(default_factory=TrafficAsk)
    region: str | None = None
    crs: str = "wgs84"
    given: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_lonlat(self.lon, self.lat)
        if isinstance(self.k, bool) or not 1 <= self.k <= MAX_K:
            raise GeoserviceError("k", f"must be 1 to {MAX_K}, got {self.k}")
        if self.direction not in DIRECTIONS:
            raise GeoserviceError("direction", f"direction must be one of {DIRECTIONS}")
        m = self.max_minutes
        if m is not None and not (math.isfinite(m) and 0 < m <= MAX_MINUTES):
            raise GeoserviceError("max_minutes", f"must be in (0, {MAX_MINUTES:g}], got {m}")

    @classmethod
    def of(
        cls,
        lon: float,
        lat: float,
        *,
        type: str | None = None,
        level: str | None = None,
        capability: str | None = None,
        **options: Unpack[_NearestOptions],
    ) -> NearestQuestion:
        """The question with its filter parsed from text (``FacilityFilter.parse``): what faces and tests use."""
        return cls(lon, lat, FacilityFilter.parse(type=type, level=level, capability=capability), **options)

    @property
    def mode(self) -> str:
        """The travel profile: the one asked for, else walk for AEDs, else drive."""
        return travel_profile(self.where.type, self.profile)

    @property
    def origin(self) -> tuple[float, float]:
        """The point as given (in ``crs``)."""
        return self.given if self.given is not None else (self.lon, self.lat)


def threshold_minutes(ftype: str | None, minutes: float | None) -> float:
    """The threshold asked for, else the plan target of the type (30 chest pain, 60 stroke, 4 AED)."""
    if minutes is not None:
        if not 0 < minutes <= MAX_MINUTES:
            raise GeoserviceError("minutes", f"must be in (0, {MAX_MINUTES:g}], got {minutes:g}")
        return float(minutes)
    if ftype in DEFAULT_MINUTES:
        return DEFAULT_MINUTES[ftype]
    raise GeoserviceError("minutes", f"required for type {ftype!r} (no default target)")


class _CoverageOptions(TypedDict, total=False):
    minutes: float | None
    profile: str | None
    traffic: TrafficAsk
    by: str
    gaps: bool
    add_sites: tuple[tuple[float, float], ...]
    remove_ids: tuple[str, ...]
    region: str | None
    crs: str


class _TypedThreshold:
    """What a question about one facility type within a time has: :attr:`type`, :attr:`threshold`, :attr:`mode`."""

    where: FacilityFilter
    minutes: float | None
    profile: str | None

    @property
    def type(self) -> str:
        """The facility type (always set)."""
        return str(self.where.type)

    @property
    def threshold(self) -> float:
        """The minutes asked for, else the type's plan target."""
        return threshold_minutes(self.where.type, self.minutes)

    @property
    def mode(self) -> str:
        """The travel profile: the one asked for, else walk for AEDs, else drive."""
        return travel_profile(self.where.type, self.profile)


@dataclass(frozen=True)
class CoverageQuestion(_TypedThreshold):
    """Who reaches a facility matching ``where`` (its ``type`` is required) within ``minutes`` (None: the
    type's plan target, :attr:`threshold`), with hypothetical ``add_sites`` (WGS-84) and closed
    ``remove_ids``; per administrative unit unless ``by`` is none, with gap polygons if ``gaps``."""

    where: FacilityFilter
    minutes: float | None = None
    profile: str | None = None
    traffic: TrafficAsk = field(default_factory=TrafficAsk)
    by: str = "admin"
    gaps: bool = True
    add_sites: tuple[tuple[float, float], ...] = ()
    remove_ids: tuple[str, ...] = ()
    region: str | None = None
    crs: str = "wgs84"

    def __post_init__(self) -> None:
        if self.where.type is None:
            raise GeoserviceError("type", "required")
        threshold_minutes(self.where.type, self.minutes)
        if self.by not in COVERAGE_BY:
            raise GeoserviceError("by", f"by must be 'admin' (or 'county') or 'none', got {self.by!r}")
        sites = []
        for i, p in enumerate(self.add_sites):
            try:
                lon, lat = float(p[0]), float(p[1])
            except (TypeError, ValueError, IndexError):
                raise GeoserviceError("add_sites", f"add_sites[{i}] must be (lon, lat), got {p!r}") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise GeoserviceError("add_sites", f"add_sites[{i}] ({lon}, {lat}) is not a lon/lat")
            sites.append((lon, lat))
        # lists given are kept as tuples: the question stays hashable and equal to the same one typed otherwise
        object.__setattr__(self, "add_sites", tuple(sites))
        object.__setattr__(self, "remove_ids", tuple(str(r) for r in self.remove_ids))

    @classmethod
    def of(
        cls,
        *,
        type: str,
        level: str | None = None,
        capability: str | None = None,
        **options: Unpack[_CoverageOptions],
    ) -> CoverageQuestion:
        """The question with its filter parsed from text (``FacilityFilter.parse``): what faces and tests use."""
        return cls(FacilityFilter.parse(type=type, level=level, capability=capability), **options)


@dataclass(frozen=True)
class IsochroneQuestion:
    """Travel-time polygons around a point (WGS-84: the face converted it from ``crs``), one per
    distinct ``minutes`` value. ``minutes`` may be given as text ("5,10,15") or numbers: it is kept
    sorted without duplicates (:func:`parse_minutes`). ``profile`` is drive unless given."""

    lon: float
    lat: float
    minutes: tuple[float, ...] = (5.0, 10.0, 15.0)
    profile: str = "drive"
    direction: str = "to"
    traffic: TrafficAsk = field(default_factory=TrafficAsk)
    region: str | None = None
    crs: str = "wgs84"

    def __post_init__(self) -> None:
        mins: str | float | list[float] = (
            self.minutes if isinstance(self.minutes, (str, int, float)) else list(self.minutes)
        )
        object.__setattr__(self, "minutes", tuple(parse_minutes(mins)))
        _check_lonlat(self.lon, self.lat)
        if self.direction not in DIRECTIONS:
            raise GeoserviceError("direction", f"direction must be one of {DIRECTIONS}")


class _ServiceAreaOptions(TypedDict, total=False):
    minutes: float | None
    profile: str | None
    traffic: TrafficAsk
    region: str | None
    crs: str


@dataclass(frozen=True)
class ServiceAreaQuestion(_TypedThreshold):
    """Per facility matching ``where`` (its ``type`` is required), where a patient reaches it within
    ``minutes`` (None: the type's plan target, :attr:`threshold`); ``region`` None: every region."""

    where: FacilityFilter
    minutes: float | None = None
    profile: str | None = None
    traffic: TrafficAsk = field(default_factory=TrafficAsk)
    region: str | None = None
    crs: str = "wgs84"

    def __post_init__(self) -> None:
        if self.where.type is None:
            raise GeoserviceError("type", "required")
        threshold_minutes(self.where.type, self.minutes)

    @classmethod
    def of(
        cls,
        *,
        type: str,
        level: str | None = None,
        capability: str | None = None,
        **options: Unpack[_ServiceAreaOptions],
    ) -> ServiceAreaQuestion:
        """The question with its filter parsed from text (``FacilityFilter.parse``): what faces and tests use."""
        return cls(FacilityFilter.parse(type=type, level=level, capability=capability), **options)


@dataclass(frozen=True)
class MatrixQuestion:
    """Travel times and distances from every origin to every destination (WGS-84 lon/lat, each with
    its id); ``profile`` None: drive; ``cutoff_minutes``: only the pairs within it."""

    origin_ids: tuple[str, ...]
    origins: tuple[tuple[float, float], ...]
    destination_ids: tuple[str, ...]
    destinations: tuple[tuple[float, float], ...]
    profile: str | None = None
    traffic: TrafficAsk = field(default_factory=TrafficAsk)
    cutoff_minutes: float | None = None

    def __post_init__(self) -> None:
        for name in ("origin_ids", "origins", "destination_ids", "destinations"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        c = self.cutoff_minutes
        if c is not None and not (math.isfinite(c) and 0 < c <= MAX_CUTOFF_MINUTES):
            raise GeoserviceError("cutoff_minutes", f"must be in (0, {MAX_CUTOFF_MINUTES:g}], got {c:g}")

    @property
    def mode(self) -> str:
        """The travel profile: the one asked for, else drive."""
        return self.profile or "drive"

    @property
    def cutoff_s(self) -> float | None:
        """The cutoff in seconds (None: every pair)."""
        return None if self.cutoff_minutes is None else self.cutoff_minutes * 60.0
