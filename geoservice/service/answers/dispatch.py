"""Typed answers of dispatch and of the responder registry (the API returns them, the CLI prints them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .queries import Crs, Facility, LineString, Origin

__all__ = [
    "DispatchLeg",
    "ResponderRef",
    "DirectResponder",
    "AedPlan",
    "BystanderAed",
    "AmbulancePlan",
    "FirstShock",
    "DispatchAssumptions",
    "DispatchResponse",
    "ResponderPositionOut",
    "ResponderList",
    "ResponderRemoved",
]


class DispatchLeg(BaseModel):
    time_s: float
    minutes: float
    distance_m: float = Field(description="metres along the route")
    route: LineString


class ResponderRef(BaseModel):
    id: str = Field(description="the responder (their API key's name, or the file's id)")
    lon: float
    lat: float
    snap_m: float = Field(description="from the posted position to the nearest footpath")
    age_s: float | None = Field(None, description="seconds since the position was posted (null: from a file)")


class DirectResponder(BaseModel):
    """A responder sent straight to the patient to start CPR."""

    responder: ResponderRef
    to_patient: DispatchLeg


class AedPlan(BaseModel):
    """A responder sent to fetch an AED and bring it to the patient."""

    responder: ResponderRef
    aed: Facility
    aed_snap_m: float
    open_at: bool | None = Field(description="true: open at `at`; null: its hours are unknown")
    to_aed: DispatchLeg
    to_patient: DispatchLeg
    time_s: float = Field(description="the AED at the patient: to_aed + to_patient")
    minutes: float
    shock_s: float = Field(description="first shock by this responder: time_s + aed_setup_s")


class BystanderAed(BaseModel):
    """What the dispatcher tells the caller, live responders or not: someone at the patient (a second
    bystander, so that CPR goes on) fetches the nearest AED not closed at `at` and brings it back."""

    aed: Facility
    aed_snap_m: float
    open_at: bool | None = Field(description="true: open at `at`; null: its hours are unknown")
    to_aed: DispatchLeg = Field(description="on foot from the patient to the AED")
    back: DispatchLeg = Field(description="on foot from the AED back to the patient")
    time_s: float = Field(description="the AED at the patient: to_aed + back")
    minutes: float
    shock_s: float = Field(description="first shock by the bystander: time_s + aed_setup_s")


class AmbulancePlan(BaseModel):
    """The nearest EMS station's ambulance, driving toward the patient."""

    station: Facility
    station_snap_m: float
    dispatch_delay_s: float = Field(description="from the call to leaving the station (setting dispatch_delay_s)")
    drive: DispatchLeg
    access_s: float = Field(description="the crew on foot from the road's nearest point to the patient")
    eta_s: float = Field(description="dispatch_delay_s + drive + access_s")
    minutes: float
    shock_s: float = Field(description="first shock by the crew: eta_s + aed_setup_s")


class FirstShock(BaseModel):
    time_s: float | None = Field(description="the earlier of the AED plan's and the ambulance's shock; null: neither")
    minutes: float | None
    by: Literal["responder_aed", "bystander_aed", "ambulance"] | None
    target_s: float = Field(description="the plan's target: a shock within 4 minutes")
    target_met: bool
    aed_hours_unknown: bool = Field(
        False, description="the AED of the first shock (responder's or bystander's) has unknown opening hours"
    )


class DispatchAssumptions(BaseModel):
    """The settings the plan was made with (``geoservice settings``)."""

    walk_speed_ms: float
    dispatch_delay_s: float
    aed_setup_s: float
    max_walk_min: float
    unknown_hours: Literal["allow", "exclude"]
    clock: str = Field(
        "times count from the alert: responders leave at once, the ambulance after dispatch_delay_s",
    )


class DispatchResponse(BaseModel):
    origin: Origin = Field(description="the arrest location, snapped to the walk network")
    at: str = Field(description="the local time the plan is for (AED opening hours)")
    responders_source: Literal["registry", "file"]
    responders_considered: int = Field(description="available responders within max_walk_min of the patient")
    responders_off_network: list[str] = Field(description="responders too far from any footpath to be routed")
    direct: list[DirectResponder] = Field(description="nearest first, the fetchers left out (one task each)")
    aed_plan: AedPlan | None = Field(description="min over responders r and AEDs a of walk(r→a) + walk(a→patient)")
    aed_backup: AedPlan | None = Field(
        None,
        description="when aed_plan's AED has unknown hours: the best plan through an AED known to be open, "
        "for another responder",
    )
    bystander_aed: BystanderAed | None = Field(
        None,
        description="the AED a bystander at the patient can fetch (there and back on foot), live responders or not; "
        "null: none within max_walk_min",
    )
    ambulance: AmbulancePlan | None
    first_cpr_s: float | None = Field(description="when the first person reaches the patient")
    first_shock: FirstShock
    assumptions: DispatchAssumptions
    notes: list[str] = Field(default_factory=list)
    crs_name: Crs = "wgs84"
    attribution: str | None = None


class ResponderPositionOut(BaseModel):
    responder: str
    lon: float
    lat: float
    available: bool
    age_s: float
    expires_in_s: float


class ResponderList(BaseModel):
    count: int
    ttl_s: float
    responders: list[ResponderPositionOut]
    crs_name: Crs = "wgs84"


class ResponderRemoved(BaseModel):
    responder: str
    removed: bool = Field(description="false: there was no position to delete (already expired)")
