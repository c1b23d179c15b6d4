"""Settings from the environment (GEOSERVICE_*) or a .env file, via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_", env_file=".env", extra="ignore")

    data_dir: Path = REPO_ROOT / "data"
    """Demo inputs (OSM extracts, designations, population)."""
    regions_dir: Path = REPO_ROOT / "regions"
    """Where bundles are built and cached."""
    regions: list[Path] = []
    """Bundles to serve; empty = the demo regions, built on first use."""
    db_path: Path | None = None
    """Facility registry and API keys (SQLite). Default: registry.sqlite beside the first bundle."""
    max_snap_drive_m: float = 1000.0
    max_snap_walk_m: float = 300.0
    basemap_tiles: str | None = None
    """Optional XYZ tile URL for web maps; None keeps maps fully offline."""
    basemap_gcj02: bool = False
    """True when basemap_tiles is a GCJ-02 basemap (AMap): overlays are shifted to GCJ-02."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
