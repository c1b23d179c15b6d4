"""The service layer: settings, regions, registry, engines and caches, the one place every face
(CLI, API, pages, published maps) gets them. See ``core.GeoService``."""

from .core import GeoService, RegionEntry, default_db_path, region_paths
from .settings import Settings, get_settings

__all__ = ["GeoService", "RegionEntry", "Settings", "get_settings", "region_paths", "default_db_path"]
