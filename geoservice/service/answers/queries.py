"""Typed answers of the service, the same for every face (the API returns them, the CLI prints them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...bundle.store import ATTRIBUTION as ATTRIBUTION  # re-exported for the faces
from ..usecases.emergency import EmergencyNumber

Crs = Literal["wgs84", "gcj02"]
Profile = Literal["drive", "ambulance", "walk"]
Direction = Literal["to", "from"]


# ---------------------------------------------------------------------- GeoJSON
class Geometry(BaseModel):
    type: str
    coordinates: Any


class LineString(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[list[float]]


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: Geometry | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    crs_name: Crs = Field("wgs84", description="coordinate system of all coordinates in this answer")
    attribution: str | None = None


# ---------------------------------------------------------------------- facilities
class Facility(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: str
    name: str
    level: str | None = None
    capabilities: str | None = None
    address: str | None = None
    admin_code: str | None = None
    status: str | None = None
    opening_hours: str | None = None
    access: str | None = None
    location: str | None = Field(None, description="where to find it on site (an AED: e.g. lobby, next to the desk)")
    floor: str | None = Field(None, description="floor it is on (OSM level / addr:floor)")
    door_to_needle_min: float | None = None
    source: str | None = None
    demo: bool = False
    lon: float
    lat: float
    region: str | None = None


class FacilityList(BaseModel):
    count: int
    facilities: list[Facility]


class EditResult(BaseModel):
    region: str
    action: Literal["create", "update", "patch", "delete"]
    audit_id: int
    version: int = Field(description="the facility's version after the edit (its ETag; 0 once deleted)")
    facility: Facility | None
    before: Facility | None = None
    unsnapped: list[str] = Field(default_factory=list, description="profiles whose network this point is too far from")


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    region: str
    facility_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(BaseModel):
    count: int
    entries: list[AuditEntry]


# ---------------------------------------------------------------------- queries
class NavLinks(BaseModel):
    geo: str = Field(description="geo: URI (WGS-84), for Android map apps")
    amap: str = Field(description="AMap app URI; coordinates converted to GCJ-02")
    amap_web: str = Field(description="AMap web URI (opens the app when installed); GCJ-02")
    baidu: str = Field(description="Baidu Maps app URI; coordinates converted to BD-09")


class Origin(BaseModel):
    lon: float
    lat: float
    snap_m: float
    snapped: list[float]
    region: str


class NearestResult(BaseModel):
    facility: Facility
    time_s: float = Field(description="the whole trip in seconds: both off-network legs and the road between")
    minutes: float
    distance_m: float = Field(description="metres along the road route (the off-network legs are snap_m)")
    snap_m: float = Field(description="metres between the point asked and the road it joins")
    facility_snap_m: float = Field(description="metres between the facility and the road it joins")
    access_s: float = Field(0.0, description="of time_s: the point's own off-network leg (snap_m), walked at 5 km/h")
    facility_access_s: float = Field(
        0.0, description="of time_s: the facility's off-network leg (facility_snap_m), walked at 5 km/h"
    )
    route: LineString
    nav: NavLinks
    open_at: bool | None = Field(
        None,
        description="with `at`: true if open then, null if its hours are "
        "unknown (never reported as open); closed ones are left out",
    )


class NearestResponse(BaseModel):
    origin: Origin
    type: str | None
    profile: str
    direction: str
    scenario: str = Field("free_flow", description="traffic used: free_flow, off_peak, peak, custom, hour_HH (depart)")
    depart: str | None = Field(None, description="the departure time asked (HH:MM); its hour's traffic was used")
    traffic: str | None = Field(
        None, description="the traffic in words: its hourly factors' source (calibrated, a file, or the assumption)"
    )
    percentile: int | None = Field(None, description="times at this percentile of the spread (50, 80, 90)")
    time_multiplier: float | None = Field(None, description="with percentile: network times x this")
    spread: str | None = Field(
        None, description="with percentile: the spread used (calibrated from N trips, or default)"
    )
    at: str | None = None
    max_minutes: float | None = None
    results: list[NearestResult]
    crs_name: Crs = "wgs84"
    note: str | None = Field(None, description="e.g. why nothing was found")
    attribution: str | None = None


class RegionInfo(BaseModel):
    name: str
    display_name: dict[str, str] = Field(
        default_factory=dict,
        description='the region\'s name to show, per language (e.g. {"zh": "上海 · 中心城区", "en": "Shanghai · city '
        'centre"}); the name itself when the bundle gives none',
    )
    bbox: list[float]
    profiles: list[str]
    facility_counts: dict[str, int]
    osm_timestamp: str | None = None
    attribution: str | None = None
    unsnapped: dict[str, list[str]] = Field(default_factory=dict)
    emergency: EmergencyNumber | None = Field(
        None, description="the number a citizen calls for an ambulance here (120 in China, 112 in Monaco), and why"
    )


# ---------------------------------------------------------------------- coverage
class CoverageOverall(BaseModel):
    """Population figures are those inside the road extract; all null without population data."""

    model_config = ConfigDict(extra="allow")
    population: float | None = Field(None, description="people inside the road extract (null: no population data)")
    population_covered: float | None = None
    population_share: float | None = Field(None, description="share of `population` covered (null: no population data)")
    population_outside_extract: float | None = Field(
        None, description="people of the same admin units living outside the road extract"
    )
    population_off_network: float | None = Field(
        None,
        description="of `population`: people off this travel mode's network (on foot: along roads the walking "
        "network does not connect, e.g. across a river without a footway), never covered",
    )
    area_km2: float | None = None
    area_covered_km2: float | None = None
    area_share: float | None = None
    road_km: float | None = None
    road_km_covered: float | None = None
    road_share: float | None = None


class CoverageUnit(BaseModel):
    model_config = ConfigDict(extra="allow")
    admin_code: str | None = None
    name: str | None = None
    population: float | None = Field(None, description="the unit's people inside the road extract")
    population_covered: float | None = None
    population_share: float | None = None
    road_share: float | None = None
    census_population: float | None = Field(None, description="the whole unit's census count")
    share_inside: float | None = Field(None, description="area share of the unit inside the road extract")
    population_off_network: float | None = Field(
        None, description="of `population`: people off this travel mode's network, never covered"
    )


class CoverageResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    region: str
    type: str
    minutes: float
    profile: str
    scenario: str
    method: str | None = None
    population_data: bool = Field(
        True, description="false: the region has no census, every population figure and share is null"
    )
    overall: CoverageOverall
    by_unit: list[CoverageUnit] = Field(default_factory=list)
    gaps: dict[str, Any] | None = None
    farthest: list[Any] = Field(default_factory=list)
    crs_name: Crs = "wgs84"
    traffic: str | None = Field(None, description="the traffic in words (hourly factors' source, percentile)")
    percentile: int | None = None
    time_multiplier: float | None = None
    spread: str | None = Field(
        None, description="with percentile: the spread used (calibrated from N trips, or default)"
    )
    band: dict[str, Any] | None = Field(
        None,
        description="with percentile: people covered at P50 and P90 and the expected share covered, overall "
        "and per unit (analyses.coverage_band)",
    )


class CoverageDelta(BaseModel):
    population_share: float | None = None
    area_share: float | None = None
    road_share: float | None = None
    population_covered: float | None = None


class WhatIfResponse(BaseModel):
    region: str
    before: CoverageResponse
    after: CoverageResponse
    delta: CoverageDelta
