"""Every option of geoservice in one place, for every face (CLI, API, pages, published maps).

The options come in four groups, each read from the same ``GEOSERVICE_<NAME>`` environment
variables and ``.env`` keys as ever (pydantic-settings; the group is not part of the name):

* ``settings.paths``: where the inputs, bundles and the registry are;
* ``settings.server``: how the HTTP server runs (caches, the web pages' basemap, CORS, timeouts,
  admission slots and queues, API-key and rate limits, responder retention, the local clock);
* ``settings.limits``: the largest question or answer accepted (snap distances, walk minutes,
  answer and body sizes, outline precision);
* ``settings.planning``: planning assumptions and targets (plan targets, stroke tiers, EMS
  models, hourly travel-time factors, bystander and AED dispatch).

A CLI flag given explicitly (``--region``, ``--db``) wins over them. ``geoservice settings``
prints the values in force, group by group.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from ..errors import GeoserviceError
from .hourly_file import hourly_profiles

__all__ = [
    "PACKAGE_DIR",
    "ENV_PREFIX",
    "PathSettings",
    "ServerSettings",
    "LimitSettings",
    "PlanningSettings",
    "Settings",
    "GROUPS",
    "get_settings",
]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
ENV_PREFIX = "GEOSERVICE_"


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geoservice"


class _Group(BaseSettings):
    """One group of settings; each field is read from ``GEOSERVICE_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")


class PathSettings(_Group):
    """Where the inputs, the built bundles and the facility registry are."""

    data_dir: Path = Field(
        PACKAGE_DIR / "data", description="demo inputs shipped with geoservice (OSM extracts, designations)"
    )
    regions_dir: Path = Field(
        default_factory=lambda: _cache_dir() / "regions", description="where the demo bundles are built on first use"
    )
    regions: list[Path] = Field([], description="bundles to use (JSON list); empty: the demo regions")
    db_path: Path | None = Field(
        None,
        description="facility registry (SQLite) shared by the CLI and the API; "
        "default: registry.sqlite beside the first bundle",
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL + PostGIS registry for production (postgresql://user:pass@host/db); "
        "when set it is used instead of the SQLite db_path (an explicit --db still wins)",
    )


class ServerSettings(_Group):
    """How the HTTP server runs: answer caches, the pages' basemap, CORS, timeouts, admission
    slots and queues, API-key and rate limits, responder retention, the local clock."""

    cache_entries: int = Field(
        4096,
        ge=1,
        le=1_000_000,
        description="answers kept per region (coverage, each facility's service area); least recent dropped",
    )
    cache_bytes: int = Field(
        256 << 20,
        ge=1 << 20,
        description="bytes (estimated) all regions' answer caches may hold together; least recently used "
        "dropped first, whichever region holds it",
    )
    cache_region_bytes: int = Field(
        128 << 20, ge=1 << 20, description="bytes (estimated) one region's answer cache may hold (within cache_bytes)"
    )
    basemap_tiles: str | None = Field(
        None, description="optional XYZ tile URL for the web pages; None keeps them fully offline"
    )
    basemap_gcj02: bool = Field(
        False, description="true when basemap_tiles is a GCJ-02 basemap (AMap): overlays are shifted to GCJ-02"
    )
    cors_origins: list[str] = Field(
        [], description="origins allowed to call the API from a browser (JSON list); empty: CORS off"
    )
    request_timeout_s: float = Field(
        30.0,
        gt=0,
        description="an API request running longer is answered 503; a heavy request's child process is "
        "stopped then, other sync work finishes in the background",
    )
    failed_key_limit: int = Field(
        10,
        ge=1,
        description="wrong API keys sharing their first characters, from one client address, within "
        "failed_key_window_s before such keys get 429 (a valid key is never refused)",
    )
    failed_key_window_s: float = Field(60.0, gt=0, description="window (seconds) for failed_key_limit")
    writes_per_minute: int = Field(120, ge=1, description="edits per API key per minute; more get 429")
    failed_keys_per_address: int = Field(
        100,
        ge=1,
        description="wrong API keys from one client address (any keys) within failed_key_window_s before its wrong "
        "keys get 429; a valid key is never refused for them",
    )
    trusted_proxies: list[str] = Field(
        [],
        description='addresses or networks (JSON list, e.g. ["10.0.0.5", "10.1.0.0/16"]) of the reverse proxies '
        "whose X-Forwarded-For names the client; empty: the header is ignored, the peer is the client",
    )
    public_rate_per_s: float = Field(
        50.0,
        gt=0,
        description="budget of requests without a valid API key, per client address (an IPv6 /64): cost units "
        "refilled per second (/nearest, pages 1; other reads 2; coverage, service areas, plans 30)",
    )
    public_burst: float = Field(3000.0, gt=0, description="most cost units a client may spend at once (429 beyond)")
    citizen_slots: int = Field(
        64, ge=1, le=10_000, description="per worker: /nearest, pages and static files answered at once"
    )
    read_slots: int = Field(4, ge=1, le=1000, description="per worker: other reads (isochrones, layers...) at once")
    edit_slots: int = Field(8, ge=1, le=1000, description="per worker: edits, dispatch and keyed reads at once")
    heavy_slots: int = Field(
        1,
        ge=1,
        le=64,
        description="per worker: coverage, what-if, service areas and /plans at once, each in a child process "
        "stopped at request_timeout_s",
    )
    queue_wait_s: float = Field(
        0.05,
        gt=0,
        le=60,
        description="longest a request should wait for a slot of its class once its queue is longer than its "
        "slots (a page's own burst always queues): one that would wait longer (predicted from recent "
        "requests) gets 503 at once",
    )
    heavy_queue_wait_s: float = Field(
        20.0,
        gt=0,
        le=120,
        description="longest a heavy request (coverage, service areas, what-if, plans) should wait for its slot: a "
        "planner page asks two at once; one predicted to wait longer gets 503 at once",
    )
    heavy_nice: int = Field(
        10, ge=0, le=19, description="CPU priority given up by heavy requests' child processes (nice increment)"
    )
    responder_ttl_s: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="a responder's posted position is forgotten (deleted) this many seconds after it was posted",
    )
    local_timezone: str | None = Field(
        None,
        description="IANA time zone of the regions' wall clock (e.g. Asia/Shanghai) for 'now' when a request "
        "gives no time (dispatch); default: the server's local time",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, v: list[str]) -> list[str]:
        """Each an IP address or network, checked at start (naming ``trusted_proxies``)."""
        for item in v:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5, 10.1.0.0/16)") from None
        return [item.strip() for item in v]

    @field_validator("local_timezone")
    @classmethod
    def _check_timezone(cls, v: str | None) -> str | None:
        """An unknown zone stops at start, naming ``local_timezone``."""
        if v:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Shanghai") from None
        return v or None


class LimitSettings(_Group):
    """The largest question or answer accepted: snap distances, walk minutes, sizes, precision."""

    max_snap_drive_m: float = Field(500.0, gt=0, description="farthest a point may lie from a road (drive)")
    max_snap_walk_m: float = Field(300.0, gt=0, description="farthest a point may lie from a path (walk)")
    max_answer_bytes: int = Field(
        32 << 20,
        ge=1 << 16,
        description="largest service-areas answer (estimated JSON bytes); a larger one is refused (422) naming "
        "this limit and how to narrow the question",
    )
    max_walk_minutes: float = Field(
        60.0,
        gt=0,
        le=240,
        description="longest walk of isochrones and service areas (minutes; driving: 240); more is refused "
        "naming minutes",
    )
    area_simplify_cells: float = Field(
        0.25,
        ge=0,
        le=2,
        description="service-area outlines are simplified to this share of the isochrone lattice step "
        "(0.25: 3.75 m on foot, 25 m by car) and rounded to 1e-6 degrees; 0 keeps them exact",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1, description="largest request body accepted by the API (bytes); larger ones get 413"
    )
    max_import_body_bytes: int = Field(
        8_388_608,
        ge=1,
        description="largest request body of a bulk import (POST /facilities/import: up to 5,000 facilities, "
        "some 1.4 MB with ordinary fields); larger ones get 413",
    )

    @property
    def max_snap_m(self) -> dict[str, float]:
        return {"drive": self.max_snap_drive_m, "walk": self.max_snap_walk_m}


class PlanningSettings(_Group):
    """Planning assumptions and targets: plan targets, stroke tiers, EMS models, hourly
    travel-time factors, bystander and AED dispatch."""

    plan_stroke_centers_min: int = Field(
        1, ge=0, description="plan target: stroke centers in every county (admin unit)"
    )
    plan_cpc_share: float = Field(
        0.7,
        ge=0,
        le=1,
        description="plan target: share of grade II+ general hospitals that are chest pain centers (the data has "
        "no grades: hospitals of level 'hospital' stand in for them)",
    )
    plan_grassroots_share: float = Field(
        0.7,
        ge=0,
        le=1,
        description="plan target: share of township health centers and community health service centers "
        "that are grassroots chest-pain units",
    )
    thrombolysis_high_pct: float = Field(
        5.0, ge=0, le=100, description="stroke tiers: a thrombolysis rate above this (%) gets advanced training + QC"
    )
    thrombolysis_low_pct: float = Field(
        3.0, ge=0, le=100, description="stroke tiers: below this (%) inspection tours; in between basic training"
    )
    ems_minutes: float = Field(
        12.0, gt=0, le=240, description="EMS station models: ambulance drive time target (a planning assumption)"
    )
    ems_busy_fraction: float = Field(
        0.3,
        ge=0,
        lt=1,
        description="MEXCLP: share of time an ambulance is out on a call (a planning assumption; estimate it as "
        "calls x mean task time / (ambulances x hours))",
    )
    hourly_profiles: Path | None = Field(
        None,
        description="CSV of hourly travel-time factors (road_class,h00,...,h23) that depart=HH:MM uses; "
        "default: the built-in curve of Chinese cities (sources/speeds.py)",
    )
    responder_walk_speed_ms: float = Field(
        1.8,
        ge=0.5,
        le=4.0,
        description="walking speed of alerted responders (m/s; steps at half speed): lay responders walk at a "
        "median 2.3 m/s, 1.8 m/s in dense areas (issue 11's published figures); 1.8 suits Chinese city centres",
    )
    dispatch_delay_s: float = Field(
        60.0, ge=0, le=1800, description="from the 120 call to the ambulance leaving its station (seconds)"
    )
    aed_setup_s: float = Field(
        60.0,
        ge=0,
        le=600,
        description="from an AED reaching the patient to the first shock (pads on, rhythm analysed; seconds), "
        "for responders and ambulance crews alike; an assumption: set it from local drills",
    )
    dispatch_max_walk_min: float = Field(
        30.0, gt=0, le=120, description="responders and AEDs farther than this on foot are not considered (minutes)"
    )
    dispatch_unknown_hours: Literal["allow", "exclude"] = Field(
        "allow",
        description="AEDs without known opening hours in a dispatch plan: allow (flagged open_at null, with a "
        "backup plan via an AED known to be open) or exclude",
    )

    @field_validator("hourly_profiles")
    @classmethod
    def _check_hourly_profiles(cls, v: Path | None) -> Path | None:
        """Read the file when the settings are made, so a bad one stops ``serve`` (and any
        command) at start with an error naming ``hourly_profiles``, not at the first query."""
        hourly_profiles(v)
        return v


GROUPS: dict[str, type[_Group]] = {
    "paths": PathSettings,
    "server": ServerSettings,
    "limits": LimitSettings,
    "planning": PlanningSettings,
}
"""The groups in the order ``geoservice settings`` and the reference page list them."""

_GROUP_OF = {name: group for group, cls in GROUPS.items() for name in cls.model_fields}


class Settings(BaseModel):
    """geoservice settings, by group; ``Settings()`` reads every group from the environment."""

    paths: PathSettings = Field(
        default_factory=PathSettings, description="where the inputs, the built bundles and the registry are"
    )
    server: ServerSettings = Field(
        default_factory=ServerSettings,
        description="how the HTTP server runs (caches, pages, timeouts, admission, rate limits)",
    )
    limits: LimitSettings = Field(default_factory=LimitSettings, description="the largest question or answer accepted")
    planning: PlanningSettings = Field(
        default_factory=PlanningSettings,
        description="planning assumptions and targets (plans, EMS, travel times, dispatch)",
    )

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings with some fields given by their flat names (``Settings.of(request_timeout_s=60)``),
        validated; the other fields are read from the environment as ``Settings()`` reads them."""
        return cls(**{group: GROUPS[group](**kw) for group, kw in _by_group(values).items()})

    def replace(self, **values: Any) -> Settings:
        """A copy with some fields changed, given by their flat names (not validated, as
        ``model_copy(update=...)``)."""
        update = {g: getattr(self, g).model_copy(update=kw) for g, kw in _by_group(values).items()}
        return self.model_copy(update=update)

    def flat(self) -> dict[str, tuple[str, Any]]:
        """Every field by its flat name: (group, value), groups in order."""
        return {name: (g, getattr(getattr(self, g), name)) for g in GROUPS for name in GROUPS[g].model_fields}


def _by_group(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if name not in _GROUP_OF:
            raise TypeError(f"no setting named {name!r}")
        out.setdefault(_GROUP_OF[name], {})[name] = value
    return out


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (read once). A value the environment gets wrong is an error
    naming the variable, not a traceback."""
    try:
        return Settings(**{group: cls() for group, cls in GROUPS.items()})
    except ValidationError as exc:
        errors = exc.errors()
        name = f"{ENV_PREFIX}{str(errors[0]['loc'][0]).upper()}" if errors and errors[0]["loc"] else "settings"
        bad = "; ".join(
            (f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: " if e["loc"] and i else "") + str(e["msg"])
            for i, e in enumerate(errors)
        )
        raise GeoserviceError(name, bad) from None
    except SettingsError as exc:  # a value that is not even parsable (e.g. a list that is not JSON)
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
        hint = ' (a JSON list, e.g. ["regions/a", "regions/b"])' if field in ("regions",) else ""
        name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        raise GeoserviceError(name, f"cannot be read{hint}") from None
