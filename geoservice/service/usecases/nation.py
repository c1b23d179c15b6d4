"""The national batch: one Dask task per split region (``geoservice split``), results streamed into
one national output.

Why Dask: a country does not fit one machine's memory as one bundle, but each province does; Dask
distributed runs one task per region on a ``LocalCluster`` (worker processes) or on any
``tcp://`` scheduler, and each task loads its own bundle from a path every worker can read.
Each finished region is written at once to ``OUT/regions/<id>.json`` (atomically), so a rerun
skips it (resumable); a failing region is reported with its error and the others go on.
``scheduler=None`` runs the same tasks in this process, one after the other (the reference the
cluster run must equal).
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

from ...analyses.owned_coverage import ROW_FIELDS, OwnedUnitRow, owned_codes, owned_rows
from ...bundle.population import load_population
from ...bundle.population_inside import Extent, osm_extent
from ...errors import GeoserviceError, InputFileError
from ...fileio import atomic_path, atomic_write_text
from ...questions import CoverageQuestion, TrafficAsk
from ...sources.admin_units import AdminCensusOptions
from ...sources.coords import to_wgs84
from ...sources.osm_split import EXTRACT_FILE, REGION_FILE, SplitResult, split_osm
from ...sources.schema import FacilityFilter
from ..core import GeoService
from ..facility_filter import table_error
from . import queries
from .bundles import build

__all__ = [
    "CoverageOptions",
    "BuildOptions",
    "outcome_rows",
    "RegionOutcome",
    "BatchResult",
    "run_batch",
    "build_task",
    "coverage_task",
    "BUNDLE",
    "require_facilities",
    "split",
]

log = logging.getLogger(__name__)
BUNDLE = "bundle"  # a region's bundle: <region dir>/bundle


@dataclass(frozen=True)
class CoverageOptions:
    type: str
    minutes: float | None = None
    profile: str | None = None
    level: str | None = None
    capability: str | None = None
    scenario: str | dict[str, float] | None = None
    depart: str | None = None


@dataclass(frozen=True)
class BuildOptions:
    facilities: tuple[Path, ...] = ()
    crs: str = "wgs84"
    census: AdminCensusOptions | None = None
    ch_profiles: tuple[str, ...] = ("drive",)
    osm_pois: bool = False


@dataclass
class RegionOutcome:
    """What one region's task answered (``error`` set when it failed)."""

    region: str
    seconds: float
    peak_rss_mb: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False
    # CPU seconds of the task's process over the task, all its threads (a Dask worker runs one
    # task at a time): what a national run costs whatever the cores were shared with
    cpu_seconds: float = 0.0


@dataclass
class BatchResult:
    outcomes: list[RegionOutcome]
    seconds: float
    dashboard: str | None
    files: list[Path]

    @property
    def failed(self) -> list[RegionOutcome]:
        return [o for o in self.outcomes if o.error]


def split(
    osm: str | Path, units: Any, out: str | Path, *, buffer_km: float = 50.0, boundaries_source: str = ""
) -> SplitResult:
    """``sources.osm_split.split_osm`` with the input's extent by the rule of ``build``
    (``bundle.population_inside.osm_extent``: the declared box, else the convex hull of its drive
    network's nodes, for which a file without a box has its roads read once more): each piece's
    units then count the people they have in the whole file."""
    src = Path(osm)
    if not src.is_file():
        raise InputFileError("osm", f"file not found: {src}")
    ext = osm_extent(src)
    return split_osm(
        src, units, out, buffer_km=buffer_km, boundaries_source=boundaries_source, extent=(ext.shape, ext.how)
    )


def _region_doc(folder: Path) -> dict[str, Any]:
    f = folder / REGION_FILE
    if not f.is_file():
        raise InputFileError("regions", f"{folder} is not a split region (no {REGION_FILE}; see 'geoservice split')")
    doc: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
    return doc


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _facilities_inside(folder: Path, doc: dict[str, Any], opts: BuildOptions) -> list[tuple[Path, dict[str, Any]]]:
    """The facility files cut to the region's buffered polygon (a facility beyond it must not be
    snapped onto the extract's edge), written as CSV into the region folder."""
    poly = shape(doc["buffered"])
    out = []
    for i, f in enumerate(opts.facilities):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        lon, lat = to_wgs84(df["lon"].astype(float).to_numpy(), df["lat"].astype(float).to_numpy(), opts.crs)
        inside = shapely.contains_xy(poly, lon, lat)
        dst = folder / f"facilities_{i}.csv"
        with atomic_path(dst) as tmp:
            df[inside].to_csv(tmp, index=False)
        out.append((dst, {"crs": opts.crs}))
    return out


def build_task(folder: str, opts: BuildOptions) -> RegionOutcome:
    """Build ``<folder>/bundle`` from the split extract (one Dask task)."""
    t0, c0 = time.perf_counter(), _cpu_s()
    d = Path(folder)
    doc = _region_doc(d)
    try:
        build(
            d / EXTRACT_FILE,
            d / BUNDLE,
            extent=Extent.from_json(doc["extent"]) if doc.get("extent") else None,
            facilities=_facilities_inside(d, doc, opts),
            name=f"region-{doc['unit_id']}",
            census=opts.census,
            osm_pois=opts.osm_pois,
            ch_profiles=opts.ch_profiles,
            quiet=True,
        )
        err = None
    except Exception as exc:  # reported per region: the batch goes on
        err = _failure(exc)
    return RegionOutcome(doc["unit_id"], time.perf_counter() - t0, _peak_mb(), error=err, cpu_seconds=_cpu_s() - c0)


def coverage_task(folder: str, opts: CoverageOptions) -> RegionOutcome:
    """Coverage of the units ``folder`` owns, on its own bundle (one Dask task)."""
    t0, c0 = time.perf_counter(), _cpu_s()
    d = Path(folder)
    doc = _region_doc(d)
    try:
        svc = GeoService.open(regions=[d / BUNDLE], create_registry=False)
        # a region without any such facility (none within its buffer): nobody covered, a true
        # answer there; a filter no region has is refused before the batch (require_facilities)
        ask = CoverageQuestion.of(
            type=opts.type,
            level=opts.level,
            capability=opts.capability,
            minutes=opts.minutes,
            profile=opts.profile,
            traffic=TrafficAsk(opts.scenario, opts.depart),
            gaps=False,
        )
        entry, rep = queries.coverage(svc, ask, require_facilities=False)
        assert entry.region is not None
        layer = load_population(entry.region, rep.profile if rep.profile in entry.region.networks else "drive")
        # without a census the bundle has one pseudo-unit, the whole extract: the region's own
        owned = owned_codes(layer.units, shape(doc["owned"])) if layer.has_census else {"all"}
        rows: list[dict[str, Any]] = [asdict(r) for r in owned_rows(rep, region=doc["unit_id"], owned=owned)]
        err = None
    except Exception as exc:  # reported per region: the batch goes on
        rows, err = [], _failure(exc)
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return RegionOutcome(doc["unit_id"], seconds, _peak_mb(), rows=rows, error=err, cpu_seconds=cpu)


def require_facilities(regions: Sequence[str | Path], opts: CoverageOptions) -> None:
    """Refuse a batch coverage whose filter selects no facility of any built region (it would
    report 0 everywhere): a :class:`~.facility_filter.NoFacilityError` naming the filter part."""
    import pyogrio  # lazy: reads the facility files' columns only, for this check

    where = FacilityFilter.parse(type=opts.type, level=opts.level, capability=opts.capability)
    tables = []
    for r in regions:
        f = Path(r) / BUNDLE / "facilities.geojson"
        if not f.is_file():
            continue  # not built: its task says so
        cols = [c for c in ("type", "level", "capabilities") if c in pyogrio.read_info(f)["fields"]]
        fac = pyogrio.read_dataframe(f, columns=cols, read_geometry=False) if cols else pd.DataFrame()
        fac = fac.reindex(columns=["type", "level", "capabilities"])
        if len(fac) and where.mask(fac).any():
            return
        tables.append(fac)
    if tables:
        err = table_error(pd.concat(tables, ignore_index=True), where, f"the {len(tables)} built region(s)")
        if err is not None:
            raise err


def _failure(exc: Exception) -> str:
    """A user error as its message; anything else (a bug) with its traceback."""
    if isinstance(exc, GeoserviceError):
        return f"{exc.field}: {exc.message}" if exc.field else exc.message
    return f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"


def _client(scheduler: str, workers: int, memory_limit: str | None) -> Any:
    try:
        from dask.distributed import Client, LocalCluster  # lazy: optional extra geoservice[nation]
    except ImportError as exc:
        raise GeoserviceError(
            "scheduler", "the national batch runs on Dask: pip install 'geoservice[nation]' (dask[distributed])"
        ) from exc
    if not log.isEnabledFor(logging.INFO):  # Dask logs every worker's start and stop at INFO
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler == "local":
        cluster = LocalCluster(  # type: ignore[no-untyped-call]  # dask.distributed is not annotated
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit or "auto",
            dashboard_address=":0",
        )
        return Client(cluster)  # type: ignore[no-untyped-call]  # dask.distributed is not annotated
    if not scheduler.startswith("tcp://"):
        raise GeoserviceError("scheduler", f"local, none or tcp://HOST:PORT, got {scheduler!r}")
    return Client(scheduler)  # type: ignore[no-untyped-call]  # dask.distributed is not annotated


def run_batch(
    task: Callable[[str, Any], RegionOutcome],
    regions: Sequence[str | Path],
    options: Any,
    *,
    out: str | Path,
    scheduler: str | None = "local",
    workers: int = 2,
    memory_limit: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BatchResult:
    """Run ``task`` on every region (skipping those with a result in ``out/regions``) and write the
    national files; ``scheduler`` None runs in this process."""
    say = progress or (lambda s: sys.stderr.write(s + "\n"))
    folders = [Path(r).resolve() for r in regions]
    ids = [str(_region_doc(f)["unit_id"]) for f in folders]
    if len(set(ids)) != len(ids):
        raise GeoserviceError("regions", "two region folders own the same unit id")
    res_dir = Path(out) / "regions"
    outcomes: dict[str, RegionOutcome] = {}
    todo = []
    for rid, f in zip(ids, folders):
        done = res_dir / f"{rid}.json"
        if done.is_file():
            o = RegionOutcome(**json.loads(done.read_text(encoding="utf-8")))
            o.skipped = True
            outcomes[rid] = o
            say(f"{rid}: done before, skipped")
        else:
            todo.append((rid, f))
    t0 = time.perf_counter()
    dashboard = None

    def finish(o: RegionOutcome) -> None:
        outcomes[o.region] = o
        if o.error:
            say(f"{o.region}: FAILED after {o.seconds:.1f} s: {o.error.splitlines()[0]}")
        else:
            atomic_write_text(res_dir / f"{o.region}.json", json.dumps(asdict(o), ensure_ascii=False) + "\n")
            n = f"[{len(outcomes)}/{len(ids)}]"
            took = f"{o.seconds:.1f} s ({o.cpu_seconds:.0f} s CPU), peak {o.peak_rss_mb:.0f} MB"
            say(f"{o.region}: done, {len(o.rows)} unit rows, {took} {n}")

    if scheduler is None or not todo:
        for _, f in todo:
            finish(task(str(f), options))
    else:
        from dask.distributed import as_completed  # lazy: optional extra geoservice[nation]

        client = _client(scheduler, workers, memory_limit)
        try:
            dashboard = client.dashboard_link
            say(f"dask: {scheduler}, dashboard {dashboard}")
            futs = [client.submit(task, str(f), options, key=f"region-{rid}", pure=False) for rid, f in todo]
            for fut in as_completed(futs):  # type: ignore[no-untyped-call]  # dask.distributed: not annotated
                if fut.status == "error":  # a worker lost (killed over its memory limit)
                    rid = str(fut.key).removeprefix("region-")
                    finish(RegionOutcome(rid, 0.0, 0.0, error=f"task failed: {fut.exception()!r}"))
                else:
                    finish(fut.result())
        finally:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    ordered = [outcomes[r] for r in ids]
    files = _national(ordered, Path(out), folders) if any(o.rows for o in ordered) else []
    return BatchResult(ordered, time.perf_counter() - t0, dashboard, files)


def _national(outcomes: list[RegionOutcome], out: Path, folders: list[Path]) -> list[Path]:
    """national.csv, national.gpkg (unit polygons from each region's bundle) and overview.html."""
    rows = [r for o in outcomes for r in o.rows]
    df = pd.DataFrame(rows, columns=list(ROW_FIELDS))
    csv = out / "national.csv"
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False)
    geoms: dict[str, Any] = {}
    for f in folders:
        p = f / BUNDLE / "extra" / "admin_units.geojson"
        if p.is_file():
            g = gpd.read_file(p)
            for code, geom in zip(g["admin_code"].astype(str), g.geometry):
                geoms.setdefault(code, geom)
    gdf = gpd.GeoDataFrame(df, geometry=[geoms.get(str(c)) for c in df["admin_code"]], crs="EPSG:4326")
    gpkg = out / "national.gpkg"
    with atomic_path(gpkg) as tmp:
        gdf.to_file(tmp, layer="coverage", driver="GPKG")
    html = out / "overview.html"
    _overview(gdf, html)
    return [csv, gpkg, html]


def _overview(gdf: Any, path: Path) -> None:
    """A tile-free folium map: each owned unit shaded by its population share covered."""
    import folium  # lazy: the map library, for this one overview page of the nation command

    g = gdf[gdf.geometry.notna()]
    if g.empty:
        return
    x0, y0, x1, y1 = g.total_bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=9, tiles=None)

    def style(feat: dict[str, Any]) -> dict[str, Any]:
        s = feat["properties"].get("population_share")
        shade = "#cccccc" if s is None else f"#{int(255 * (1 - s)):02x}{int(160 + 95 * s):02x}60"
        return {"fillColor": shade, "color": "#333", "weight": 1, "fillOpacity": 0.7}

    folium.GeoJson(
        g.to_json(),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["region", "admin_code", "name", "population", "population_share"]),
    ).add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    with atomic_path(path) as tmp:
        m.save(str(tmp))


def outcome_rows(result: BatchResult) -> list[OwnedUnitRow]:
    return [OwnedUnitRow(**r) for o in result.outcomes for r in o.rows]
