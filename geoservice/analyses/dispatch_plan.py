"""The answer of ``analyses.dispatch``: who walks where, the ambulance, the first shock (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..sources.schema import DEFAULT_MINUTES

__all__ = [
    "Responder",
    "DispatchOptions",
    "Leg",
    "DirectResponder",
    "AedFetch",
    "BystanderFetch",
    "Ambulance",
    "DispatchPlan",
]


@dataclass(frozen=True)
class Responder:
    """An available responder at a WGS-84 position."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class DispatchOptions:
    walk_speed_ms: float = 1.8
    dispatch_delay_s: float = 60.0
    aed_setup_s: float = 60.0
    max_walk_s: float = 1800.0
    k: int = 3
    unknown_hours: str = "allow"  # or "exclude"
    target_s: float = DEFAULT_MINUTES["aed"] * 60
    # the ambulance's traffic (e.g. a percentile's factors); None: free flow
    drive_scenario: str | dict[str, float] | None = None


@dataclass(frozen=True)
class Leg:
    """One walk or drive: seconds, metres along the route, the route (WGS-84 [lon, lat] pairs). A
    walk runs from the walker's real position to the patient's (its off-network legs included)."""

    time_s: float
    distance_m: float
    coords: list[list[float]]


@dataclass(frozen=True)
class DirectResponder:
    responder: Responder
    snap_m: float
    leg: Leg


@dataclass(frozen=True)
class AedFetch:
    """A responder walks to an AED, then with it to the patient."""

    responder: Responder
    snap_m: float
    aed: dict[str, Any]  # the facility (engine.result.facility_dict)
    aed_snap_m: float
    open_at: bool | None  # True open at the time, None hours unknown
    to_aed: Leg
    to_patient: Leg

    @property
    def time_s(self) -> float:
        return self.to_aed.time_s + self.to_patient.time_s


@dataclass(frozen=True)
class BystanderFetch:
    """What the dispatcher tells the caller: someone at the patient (a second bystander, so that CPR
    goes on) walks to the nearest AED not closed and back with it, whether or not a responder is live."""

    aed: dict[str, Any]  # the facility (engine.result.facility_dict)
    aed_snap_m: float
    open_at: bool | None  # True open at the time, None hours unknown
    to_aed: Leg  # from the patient to the AED
    back: Leg  # from the AED back to the patient

    @property
    def time_s(self) -> float:
        return self.to_aed.time_s + self.back.time_s


@dataclass(frozen=True)
class Ambulance:
    station: dict[str, Any]  # the facility (engine.result.facility_dict)
    station_snap_m: float
    delay_s: float
    drive: Leg
    access_s: float  # the crew on foot from the road's nearest point to the patient

    @property
    def eta_s(self) -> float:
        return self.delay_s + self.drive.time_s + self.access_s


@dataclass(frozen=True)
class DispatchPlan:
    lon: float
    lat: float
    snap_m: float
    snapped: tuple[float, float]
    at: datetime
    options: DispatchOptions
    considered: int  # responders within reach of the patient, on the walk network
    off_network: list[str]  # responders too far from any path
    direct: list[DirectResponder]
    aed: AedFetch | None
    aed_backup: AedFetch | None
    ambulance: Ambulance | None
    bystander: BystanderFetch | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def first_cpr_s(self) -> float | None:
        """When the first person reaches the patient (a responder, a fetcher with the AED, the crew)."""
        times = [d.leg.time_s for d in self.direct]
        times += [p.time_s for p in (self.aed, self.aed_backup) if p is not None]
        if self.ambulance is not None:
            times.append(self.ambulance.eta_s)
        return min(times) if times else None

    @property
    def first_shock(self) -> tuple[float | None, str | None]:
        """(seconds to the first shock, "responder_aed", "bystander_aed" or "ambulance"), or (None, None)."""
        cands = []
        if self.aed is not None:
            cands.append((self.aed.time_s + self.options.aed_setup_s, "responder_aed"))
        if self.bystander is not None:
            cands.append((self.bystander.time_s + self.options.aed_setup_s, "bystander_aed"))
        if self.ambulance is not None:
            cands.append((self.ambulance.eta_s + self.options.aed_setup_s, "ambulance"))
        if not cands:
            return None, None
        t, by = min(cands)
        return t, by
