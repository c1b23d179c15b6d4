"""Every option of geoservice in one place, for every face (CLI, API, pages, published maps).

Values come from ``GEOSERVICE_<NAME>`` environment variables or a ``.env`` file in the working
directory (pydantic-settings); a CLI flag given explicitly (``--region``, ``--db``) wins over
them. ``geoservice settings`` prints the values in force.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geoservice"


class Settings(BaseSettings):
    """geoservice settings; each field is read from ``GEOSERVICE_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_", env_file=".env", extra="ignore")

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
    max_snap_drive_m: float = Field(1000.0, gt=0, description="farthest a point may lie from a road (drive)")
    max_snap_walk_m: float = Field(300.0, gt=0, description="farthest a point may lie from a path (walk)")
    cache_entries: int = Field(
        32, ge=1, le=10_000, description="answers kept per region (coverage, service areas); least recent dropped"
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
    max_body_bytes: int = Field(
        1_048_576, ge=1, description="largest request body accepted by the API (bytes); larger ones get 413"
    )
    request_timeout_s: float = Field(
        30.0, gt=0, description="an API request running longer is answered 503 (sync work finishes in the background)"
    )
    failed_key_limit: int = Field(
        10, ge=1, description="wrong API keys per client IP within failed_key_window_s before it gets 429"
    )
    failed_key_window_s: float = Field(60.0, gt=0, description="window (seconds) for failed_key_limit")
    writes_per_minute: int = Field(120, ge=1, description="edits per API key per minute; more get 429")

    @property
    def max_snap_m(self) -> dict[str, float]:
        return {"drive": self.max_snap_drive_m, "walk": self.max_snap_walk_m}


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()
