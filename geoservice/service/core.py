"""The service every face uses: the regions served, the facility registry, the engines built from
bundle + registry, and their bounded caches.

Regions are loaded on first use (a CLI query loads only the region its point lies in). When a
registry is open, it is the source of truth for facilities: a region's bundle seeds it once, and
every later edit (from the API, from any process) is what every face sees.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bundle.store import Region, is_current_bundle, load_region
from ..engine.engine import Engine
from ..errors import GeoserviceError, NotFoundError, UnavailableError
from .caches import BoundedCache, CacheBudget
from .registry.store import Registry, layer_from_records, open_registry
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 1000  # edits applied one by one after a change; more at once: reload the region
BBOX_MARGIN_DEG = 0.02  # a point this close outside a bundle's bbox may still snap to its roads

__all__ = ["GeoService", "RegionEntry", "region_paths", "default_db_path"]


def region_paths(given: Sequence[str | Path] | None = None, settings: Settings | None = None) -> list[Path]:
    """The bundles to use: those given, else ``GEOSERVICE_REGIONS``, else the demo regions (built
    on first use). A given bundle must be current."""
    from ..bundle.demo import DEMO_REGIONS, ensure_demo  # lazy: loads the OSM builder (pyosmium), for demos only

    s = settings or get_settings()
    if given:
        paths = [Path(r) for r in given]
    elif s.paths.regions:
        paths = [Path(r) for r in s.paths.regions]
    else:
        log.info("using the demo regions (built on first use): %s", ", ".join(DEMO_REGIONS))
        return [ensure_demo(n, s.paths.data_dir, s.paths.regions_dir, quiet=True) for n in DEMO_REGIONS]
    for p in paths:
        if not is_current_bundle(p):
            raise GeoserviceError(
                "region", f"{p} is not a current region bundle; build it with 'geoservice build --osm FILE --out {p}'"
            )
    return paths


def planned_region_paths(given: Sequence[str | Path] | None = None, settings: Settings | None = None) -> list[Path]:
    """Where the bundles of ``region_paths`` are, without building a missing demo region."""
    from ..bundle.demo import DEMO_REGIONS  # lazy: loads the OSM builder (pyosmium), for demos only

    s = settings or get_settings()
    if given or s.paths.regions:
        return [Path(r) for r in (given or s.paths.regions)]
    return [Path(s.paths.regions_dir) / n for n in DEMO_REGIONS]


def default_db_path(paths: Sequence[Path], settings: Settings | None = None) -> Path:
    """The registry shared by ``serve`` and the CLI: GEOSERVICE_DB_PATH, else beside the first bundle."""
    s = settings or get_settings()
    if s.paths.db_path:
        return Path(s.paths.db_path)
    return Path(paths[0]).parent / "registry.sqlite"


@dataclass
class RegionEntry:
    """One served region: where its bundle is, and once loaded its engine and answer cache."""

    name: str
    path: Path
    bbox: tuple[float, float, float, float]
    cache: BoundedCache[Any]
    region: Region | None = None
    engine_: Engine | None = None
    version: int = -1  # the registry version of the facilities loaded (-1: none yet)
    last_change: int = 0  # the last audit row applied to them
    lock: threading.Lock = field(default_factory=threading.Lock)
    reload_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def loaded(self) -> bool:
        return self.engine_ is not None

    def contains(self, lon: float, lat: float, margin: float = BBOX_MARGIN_DEG) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 - margin <= lon <= x1 + margin and y0 - margin <= lat <= y1 + margin


class GeoService:
    """Regions + registry + engines; see the module docstring."""

    def __init__(
        self,
        regions: Sequence[Path | Region],
        *,
        registry: Registry | None = None,
        settings: Settings | None = None,
        preparing: str | None = None,
    ) -> None:
        if not regions and preparing is None:
            raise GeoserviceError("region", "no region to serve")
        self.settings = settings or get_settings()
        self.registry = registry
        self.preparing = preparing  # what is being done before the (other) regions are served
        self.cache_budget = CacheBudget(self.settings.server.cache_bytes)  # every region's answer cache together
        self.regions: dict[str, RegionEntry] = {}
        self._lock = threading.RLock()
        for r in regions:
            entry = self._entry_for(r)
            if entry.name in self.regions:
                raise GeoserviceError(
                    "region",
                    f"two regions are named {entry.name!r} ({self.regions[entry.name].path} "
                    f"and {entry.path}); rename one bundle (meta.json name)",
                )
            self.regions[entry.name] = entry

    @classmethod
    def open(
        cls,
        *,
        regions: Sequence[str | Path] | None = None,
        db: str | Path | None = None,
        settings: Settings | None = None,
        create_registry: bool = True,
    ) -> GeoService:
        """The service over the given (else configured, else demo) regions and registry.

        With ``create_registry=False`` (read-only commands) a registry that does not exist yet is
        not created: facilities then come from the bundles."""
        s = settings or get_settings()
        paths = region_paths(regions, s)
        registry = open_registry(db or s.paths.database_url or default_db_path(paths, s), create=create_registry)
        return cls(paths, registry=registry, settings=s)

    def _entry_for(self, r: Path | Region) -> RegionEntry:
        s = self.settings
        cache: BoundedCache[Any] = BoundedCache(
            s.server.cache_entries, s.server.cache_region_bytes, budget=self.cache_budget
        )
        if isinstance(r, Region):
            entry = RegionEntry(r.name, r.path, r.bbox, cache, region=r)
            self._load(entry)
            return entry
        meta = json.loads((Path(r) / "meta.json").read_text(encoding="utf-8"))
        return RegionEntry(meta.get("name", Path(r).name), Path(r), tuple(meta["bbox"]), cache)

    # ------------------------------------------------------------------ engines
    def _load(self, entry: RegionEntry) -> None:
        if entry.region is None:
            entry.region = load_region(entry.path)
        fac: Any = entry.region.facilities
        if not len(fac) and "type" not in fac:
            # a bundle built without facilities stores an empty layer, read back without columns:
            # the facility table keeps its schema (what-if sites, removals and maps read it)
            entry.region.facilities = layer_from_records([])
        if self.registry is not None:
            self.registry.seed(entry.name, entry.region.facilities, entry.region.meta.get("created"))
        entry.engine_ = Engine(entry.region, max_snap_m=self.settings.limits.max_snap_m)
        self._reload(entry)
        # A region is millions of long-lived objects: without this, every full collection walks
        # them all (~130 ms on a 12x12 mosaic, landing on whichever request triggers it).
        gc.freeze()

    def _reload(self, entry: RegionEntry, seen: int | None = None) -> None:
        """Rebuild the facility table from the registry and swap in an engine copy atomically, so
        concurrent queries see either the old or the new facilities, never a mix. ``seen`` is the
        region's registry version read *before* the records (a later edit triggers another reload)."""
        if self.registry is None or entry.engine_ is None:
            return
        if seen is None:
            seen = self.registry.region_versions().get(entry.name, 0)
        last = self.registry.last_change(entry.name)  # before the records: later edits are re-applied
        layer = layer_from_records(self.registry.records(entry.name))
        with entry.lock:
            eng = copy.copy(entry.engine_)
            eng.set_facilities(layer)
            entry.engine_ = eng
            entry.version = seen
            entry.last_change = last
            entry.cache.clear(keep_stable=True)  # each facility's service area is keyed by its position

    def _catch_up(self, entry: RegionEntry, seen: int) -> None:
        """Apply the region's edits since the engine's table was read (from the audit, oldest
        first), touching only the facilities they name; many at once: a full reload."""
        assert self.registry is not None and entry.engine_ is not None
        changes, last = self.registry.changes_since(entry.name, entry.last_change, limit=CATCH_UP_LIMIT)
        if len(changes) >= CATCH_UP_LIMIT:
            self._reload(entry, seen)
            return
        final: dict[str, dict[str, Any] | None] = {}
        for fid, record in changes:  # the last edit of each facility wins
            final.pop(fid, None)
            final[fid] = record
        upserts = [r for r in final.values() if r is not None]
        removed = {fid for fid, r in final.items() if r is None}
        with entry.lock:
            eng = copy.copy(entry.engine_)
            eng.apply_changes(layer_from_records(upserts), removed)
            entry.engine_ = eng
            entry.version = seen
            entry.last_change = last
            entry.cache.clear(keep_stable=True)  # each facility's service area is keyed by its position

    def add_region(self, path: Path, before_serving: Callable[[RegionEntry], object] | None = None) -> RegionEntry:
        """Load the bundle at ``path`` and serve it from now on (``serve`` adds the demo regions one
        by one while they are built). ``before_serving(entry)`` runs once it is loaded, before any
        request can reach it (e.g. compiling the query kernels). The region table is replaced, not
        changed in place, so requests iterating over it meanwhile are not disturbed."""
        entry = self._entry_for(path)
        if entry.name in self.regions:
            raise GeoserviceError(
                "region", f"region {entry.name!r} is served already ({self.regions[entry.name].path})"
            )
        with self._lock:
            self._load(entry)
        if before_serving is not None:
            before_serving(entry)
        self.regions = {**self.regions, entry.name: entry}
        return entry

    def _not_ready(self, field_name: str) -> UnavailableError:
        return UnavailableError(
            field_name, f"the regions are being prepared ({self.preparing}); try again in a few seconds", retry_after=5
        )

    def entry(self, name: str, field_name: str = "region") -> RegionEntry:
        """A region by name, loaded."""
        e = self.regions.get(name)
        if e is None and self.preparing is not None:
            raise self._not_ready(field_name)
        if e is None:
            raise NotFoundError(field_name, f"unknown region {name!r}; served: {', '.join(self.regions)}")
        if not e.loaded:
            with self._lock:
                if not e.loaded:
                    self._load(e)
        return e

    def engine(self, name: str) -> Engine:
        engine = self.entry(name).engine_
        assert engine is not None
        return engine

    def refresh(self, name: str) -> None:
        """After this process edited region ``name``: reload it and any other region changed meanwhile."""
        self.entry(name)
        self.sync()

    def sync(self) -> None:
        """Reload every loaded region whose registry version moved (an edit by this or another
        process: uvicorn worker, CLI). One small read when nothing changed."""
        if self.registry is None:
            return
        versions = self.registry.region_versions()
        for e in self.regions.values():
            v = versions.get(e.name, 0)
            if e.loaded and v != e.version:
                with e.reload_lock:
                    if v != e.version:
                        self._catch_up(e, v)

    def close(self) -> None:
        if self.registry is not None:
            self.registry.close()

    def after_fork(self) -> None:
        """In a worker process forked from this loaded service: its own registry connection (a
        database connection or pool never crosses a fork; the parent closed its own)."""
        if self.registry is not None:
            self.registry = self.registry.reopened()

    # ------------------------------------------------------------------ lookup
    def describe(self) -> str:
        return "; ".join(f"{e.name} [{', '.join(f'{v:.4f}' for v in e.bbox)}]" for e in self.regions.values())

    def locate(
        self, lon: float, lat: float, profile: str = "drive", region: str | None = None, field_name: str = "lon,lat"
    ) -> RegionEntry:
        """The region whose network holds the point (bbox first, then the nearest road)."""
        if region is not None:
            return self.entry(region)
        cands = [e for e in self.regions.values() if e.contains(lon, lat)]
        if not cands and len(self.regions) == 1 and self.preparing is None:
            cands = list(self.regions.values())  # its engine says how far the point is from a road
        if not cands and self.preparing is not None:
            raise self._not_ready(field_name)
        if not cands:
            raise NotFoundError(
                field_name,
                f"point ({lon:.6f}, {lat:.6f}) is in no served region; served (lon/lat bbox): {self.describe()}",
            )
        if len(cands) == 1:
            return self.entry(cands[0].name)
        best, best_d = cands[0], float("inf")
        for e in cands:
            eng = self.engine(e.name)
            if profile not in eng.profiles:
                continue
            s = eng.router_for(profile).snap_many([lon], [lat], max_snap_m=1e6, strict=False)[0]
            if s is not None and s.dist_m < best_d:
                best, best_d = e, s.dist_m
        return self.entry(best.name)

    def pick(self, region: str | None) -> RegionEntry:
        """The region of a question that has no point: the one named, else the first one served
        (every answer names its region)."""
        if region is None and not self.regions:
            raise self._not_ready("region")
        return self.entry(region if region is not None else next(iter(self.regions)))

    def entries(self, region: str | None = None) -> list[RegionEntry]:
        """The region named, else all of them (loaded)."""
        return [self.entry(region)] if region else [self.entry(n) for n in self.regions]
