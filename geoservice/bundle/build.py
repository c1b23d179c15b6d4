"""Build a region bundle from a local OSM file and facility files."""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely

from ..errors import GeoserviceError
from ..fileio import OutputBusy, output_lock, replace_dir
from ..sources.osm_names import OsmNames, read_osm_names
from ..sources.osm_roads import check_osm_path, read_osm_roads
from ..sources.speeds import DEFAULT_PROFILES, DEFAULT_SPEED_KMH, MAJOR_CLASSES, ROAD_CLASSES, Profile
from .cch import build_cch
from .dropped_roads import DroppedRoads, dropped_roads
from .network import Network, build_network
from .population_inside import Extent
from .store import ATTRIBUTION, stage_network, write_bundle_files

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Progress:
    """Step timing logged (logger ``geoservice.bundle.build``, INFO): long builds show where they
    are, with the resident memory now and the peak so far (the process's high-water mark)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            log.info("[%7.1fs %5.2f GB, peak %5.2f GB] %s", time.perf_counter() - self.t0, _rss_gb(), _peak_gb(), msg)


def release_memory() -> None:
    """Hand freed memory back to the system after a big step. numpy's temporaries of a few MB
    to tens of MB come from the C heap, which glibc keeps for reuse: without this, a province
    build holds ~0.4 GB it no longer uses while the next step (and the contraction hierarchy
    in its thread) allocates more."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _peak_gb() -> float:
    """The process's peak resident memory so far (``ru_maxrss``, KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _rss_gb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def basemap_layers(
    drive: Network,
    out: Path,
    *,
    water: list[dict] | None = None,
    names: OsmNames | None = None,
    simplify_m: float = 5.0,
    outline_cell_m: float = 500.0,
) -> Path:
    """Offline basemap written to ``out`` as GeoJSON: water (drawn first), major roads (one line
    per OSM way, simplified by ``simplify_m``), the network outline (cells of ``outline_cell_m``
    holding road nodes) and, last, labels (``kind="label"``, see ``bundle.labels``): road names
    placed on the roads, and place names of ``names`` (from ``sources.osm_names``) within the
    outline. Written feature by feature: a province's basemap is hundreds of MB of text."""
    import json

    from pyproj import Transformer

    from .labels import LABELLED_CLASSES, place_labels, road_labels, way_lines

    to_wgs = Transformer.from_crs(drive.crs, "EPSG:4326", always_xy=True)

    def wgs(geom):
        return shapely.transform(geom, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))

    def dumps(obj) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    ways, lines_m = way_lines(drive, sorted(MAJOR_CLASSES, key=ROAD_CLASSES.index))
    with open(out, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","attribution":' + json.dumps(ATTRIBUTION, ensure_ascii=False))
        f.write(',"features":[\n')
        sep = ""
        for feat in water or []:
            f.write(sep + dumps(feat))
            sep = ",\n"
        for lo in range(0, len(ways), 50_000):  # in batches: one GeoJSON string per road at a time
            lines = shapely.set_precision(wgs(shapely.simplify(lines_m[lo : lo + 50_000], simplify_m)), 1e-6)
            for gj, w in zip(shapely.to_geojson(lines), ways[lo : lo + 50_000]):
                props = {"kind": "road", "class": ROAD_CLASSES[int(drive.way_class[w])], "name": drive.way_name[int(w)]}
                f.write(f'{sep}{{"type":"Feature","geometry":{gj},"properties":{dumps(props)}}}')
                sep = ",\n"
        outline_m = _outline(drive, outline_cell_m)
        f.write(
            sep
            + '{"type":"Feature","geometry":'
            + shapely.to_geojson(shapely.set_precision(wgs(outline_m), 1e-6))
            + ',"properties":{"kind":"outline","class":"network","name":"road network extent"}}'
        )
        same = set(LABELLED_CLASSES) == set(MAJOR_CLASSES)
        anchors = road_labels(
            drive,
            way_names=names.way_names if names else None,
            to_wgs=to_wgs,
            lines=(ways, lines_m) if same else None,
        )
        del lines_m
        labels = [a.feature() for a in anchors]
        if names is not None:
            labels += place_labels(names.places, within=wgs(outline_m.buffer(outline_cell_m)))
        for feat in labels:
            f.write(",\n" + dumps(feat))
        f.write("]}")
    return out


def _outline(drive: Network, cell: float):
    """The network's extent in metres: cells of ``cell`` holding road nodes, closed and
    hole-filled, polygonised."""
    from rasterio.features import shapes
    from rasterio.transform import Affine
    from scipy.ndimage import binary_closing, binary_fill_holes

    x0, y0 = drive.node_x.min() - 2 * cell, drive.node_y.min() - 2 * cell
    nx = int((drive.node_x.max() - x0) // cell) + 3
    ny = int((drive.node_y.max() - y0) // cell) + 3
    grid = np.zeros((ny, nx), bool)
    grid[((drive.node_y - y0) // cell).astype(int), ((drive.node_x - x0) // cell).astype(int)] = True
    grid = binary_fill_holes(binary_closing(grid, iterations=2)).astype(np.uint8)
    polys: list = [
        shapely.geometry.shape(g)
        for g, v in shapes(grid, mask=grid.astype(bool), transform=Affine(cell, 0, x0, 0, cell, y0))
        if v == 1
    ]
    return shapely.MultiPolygon(polys)


def build_region(osm: str | Path, out: str | Path, **options) -> Path:
    """Build the bundle of ``osm`` into ``out`` (options: ``_build_region``) while holding the lock
    of ``out``: a second build to the same folder refuses at once instead of racing the first."""
    try:
        with output_lock(out):
            return _build_region(osm, out, **options)
    except OutputBusy:
        raise GeoserviceError(
            "out", f"another build is writing {out} now; wait for it to finish or choose another --out"
        ) from None


def _build_region(
    osm: str | Path,
    out: str | Path,
    *,
    facilities: list[tuple[Path, dict]] | None = None,
    name: str | None = None,
    profiles: dict[str, Profile] | None = None,
    osm_pois: bool = True,
    networks: tuple[str, ...] = ("drive", "walk"),
    quiet: bool = False,
    population=None,
    ch_profiles: tuple[str, ...] = ("drive",),
    strict: bool = False,
    display_name: dict[str, str] | None = None,
    extent: Extent | None = None,
    tiles: bool = True,
) -> Path:
    """Build a bundle. ``facilities`` is a list of (file, read options) for read_facilities.
    ``population``: a sources.population.PopulationSpec; the part of each unit inside the road
    extract is spread onto the networks into extra/ (``bundle.population_files``), its files recorded
    in ``meta["inputs"]`` and its totals inside / outside in ``meta["population"]``.
    ``display_name``: the region's name per language ({"zh": …, "en": …}), ``meta["display_name"]``.
    ``tiles``: write the vector tile set (``bundle.vector_tiles``, its summary in ``meta["tiles"]``).
    ``extent``: the area the extract covers, for the people inside (a piece of ``split`` passes the
    whole file's, see ``bundle.population_inside``); default the box the file declares, else the
    convex hull of the drive network's nodes. Parts of a network not connected to the rest are
    dropped; the build warns with their nodes and the people along them (``bundle.dropped_roads``).

    Each facility file is read first, so a bad one fails before the roads are: a file of which no
    row loads (lon/lat swapped in every row, say) always fails, with ``strict`` any bad row does.
    Then its positions are checked (``sources.crs_check.check_positions``) against the OSM
    hospitals, clinics and AEDs of the extract by name, else against the drive roads: a likely
    wrong coordinate system is logged and kept in ``meta["facility_checks"]`` (with ``strict`` it
    fails the build before anything is written); points nowhere near the roads fail it."""
    import geopandas as gpd
    import pandas as pd

    from ..sources.crs_check import Reference, check_positions, network_distances, nothing_loaded
    from ..sources.facility_files import read_facilities
    from ..sources.osm_pois import read_osm_pois
    from ..sources.schema import COLUMNS

    progress = Progress(quiet)
    osm = check_osm_path(osm)
    profiles = profiles or DEFAULT_PROFILES
    unknown = set(ch_profiles) - set(profiles)
    if unknown:
        raise GeoserviceError(
            "ch", f"unknown profile(s) {', '.join(sorted(unknown))}; choose from {', '.join(profiles)}"
        )
    inputs = [{"path": str(osm), "role": "osm", "sha256": sha256_file(osm), "bytes": osm.stat().st_size}]
    region_name = name or Path(out).name or osm.name.split(".")[0]

    # the facility files first: a file that cannot be used fails before minutes of road work
    loaded = []
    load_errors = []
    for path, opts in facilities or []:
        path = Path(path)
        progress(f"reading facilities {path.name}")
        res = read_facilities(path, **opts)
        unusable = None
        if res.errors and len(res.layer) == 0:
            unusable = nothing_loaded(path.name, res.errors, field_name="facilities", nothing="nothing built")
        if unusable is None or not unusable.extra.get("swapped"):  # one line says it for every row
            for e in res.errors:
                load_errors.append({"file": path.name, "row": e.row, "field": e.field, "reason": e.reason})
                log.warning("%s row %s: %s: %s", path.name, e.row, e.field, e.reason)
        if unusable is not None:
            raise unusable
        if strict and res.errors:
            bad = len({e.row for e in res.errors})
            raise GeoserviceError(
                "facilities", f"{path.name}: {bad} bad row{'s' if bad > 1 else ''} (listed above); nothing built"
            )
        loaded.append((path, opts, res))

    # the bundle is written into a sibling folder as it is made, and swapped in at the end (a
    # failed build leaves the old one as it was)
    with replace_dir(Path(out)) as stage:
        progress(f"reading roads from {osm.name}")
        raw = read_osm_roads(osm, progress=lambda n: progress(f"  {n:,} ways read"))
        progress(f"{len(raw.way_id):,} road ways, {len(raw.ref):,} node references")
        nets: dict[str, Network] = {}
        dropped: dict[str, DroppedRoads] = {}
        crs = None
        ch_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contraction")
        contractions: list = []
        for kind in networks:
            progress(f"building the {kind} network")
            try:
                net = build_network(raw, kind, profiles, crs=crs)
            except GeoserviceError as exc:
                if kind == "walk":
                    progress(f"  skipped: {exc}")
                    continue
                raise
            crs = net.crs
            nets[kind] = net
            stage_network(net, stage)  # on disk and mapped back: later steps hold only what they read
            release_memory()
            if set(ch_profiles) & set(net.profiles):
                # one metric-independent contraction serves every profile and scenario of the network;
                # it runs without the GIL: overlap it with the rest of the build
                progress(f"  customizable contraction hierarchy for the {kind} network (fast matrices) started")
                cch = ch_pool.submit(build_cch, net.edge_u, net.edge_v, net.node_x, net.node_y, net.n_nodes, spill=True)
                contractions.append((net, cch))
            r = net.report
            progress(
                f"  {net.n_nodes:,} nodes, {net.n_edges:,} edges kept; dropped {r['nodes_dropped']:,} "
                f"nodes / {r['edges_dropped']:,} edges outside the largest strongly connected component"
            )
            if population is not None:  # where the dropped parts are: the people along them are counted
                dropped[kind] = dropped_roads(raw, net)
            elif r["nodes_dropped"]:
                log.warning(
                    "the %s network dropped %s nodes in parts not connected to the rest (no population data: "
                    "the people along them are not known)",
                    kind,
                    f"{r['nodes_dropped']:,}",
                )
        osm_stamp, osm_warnings = raw.osm_timestamp, list(raw.warnings)
        del raw
        release_memory()

        layers = []
        facility_checks = []
        pois = None
        if osm_pois or loaded:  # with --no-osm-pois they are still what a file's names are checked against
            progress("reading OSM hospitals, clinics and AEDs")
            pois = read_osm_pois(osm)
            if osm_pois and len(pois):
                layers.append(pois)
        roads = nets.get("drive") or next(iter(nets.values()))
        reference = Reference.from_layer(pois, f"the OpenStreetMap facilities of {osm.name}") if loaded else None
        distances = network_distances(roads) if loaded else None
        for path, opts, res in loaded:
            if len(res.layer) and distances is not None:
                try:
                    check = check_positions(
                        res.layer["lon"].to_numpy(),
                        res.layer["lat"].to_numpy(),
                        opts.get("crs", "wgs84"),
                        distances,
                        region=region_name,
                        names=res.layer["name"],
                        types=res.layer["type"],
                        reference=reference,
                        label=path.name,
                        strict=strict,
                        nothing="nothing built",
                    )
                except GeoserviceError:
                    ch_pool.shutdown(cancel_futures=True)
                    raise
                if check is not None:
                    facility_checks.append({"file": path.name, "network": roads.name, **check.to_meta()})
                    if check.warning:
                        log.warning("%s", check.warning)
            layers.append(res.layer)
            inputs.append(
                {
                    "path": str(path),
                    "role": "facilities",
                    "sha256": sha256_file(path),
                    "bytes": path.stat().st_size,
                    "rows_loaded": int(len(res.layer)),
                    "rows_rejected": len(res.errors),
                    "options": {k: str(v) for k, v in opts.items()},
                }
            )
        if layers:
            fac = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs="EPSG:4326")
            dup = fac["id"].duplicated(keep="last")
            if dup.any():  # a facility file may override an OSM POI of the same id (e.g. a designation)
                fac = fac[~dup].reset_index(drop=True)
        else:
            fac = gpd.GeoDataFrame(
                {c: [] for c in COLUMNS if c != "geometry"},
                geometry=gpd.GeoSeries([], crs="EPSG:4326"),
                crs="EPSG:4326",
            )
        progress(f"{len(fac)} facilities: " + ", ".join(f"{k} {v}" for k, v in fac["type"].value_counts().items()))
        from .facility_names import name_unnamed_facilities

        places = lambda: read_osm_names(osm, highways=()).places  # read only when needed
        if renamed := name_unnamed_facilities(fac, nets.get("walk") or roads, places):
            progress(f"  {renamed} facilities without a name in OSM named by their street")

        drive = nets.get("drive") or next(iter(nets.values()))
        bbox = [
            float(drive.node_lon.min()),
            float(drive.node_lat.min()),
            float(drive.node_lon.max()),
            float(drive.node_lat.max()),
        ]
        for inp in getattr(population, "inputs", None) or []:
            src = Path(inp["path"])
            inputs.append(dict(inp, sha256=sha256_file(src), bytes=src.stat().st_size))
        meta = {
            "name": region_name,
            "display_name": dict(display_name) if display_name else None,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": inputs,
            "osm_timestamp": osm_stamp,
            "osm_warnings": osm_warnings,
            "bbox": bbox,
            "speed_table_kmh": DEFAULT_SPEED_KMH,
            "speed_source": "geoservice.sources.speeds (JTG B01-2014, CJJ 37-2012, 道路交通安全法实施条例 §45)",
            "facility_errors": load_errors,
            "facility_checks": facility_checks,
            "attribution": ATTRIBUTION,
        }
        import tempfile

        from ..sources.osm_areas import read_osm_areas
        from .tile_layers import region_tiles

        with tempfile.TemporaryDirectory() as tmpdir:
            progress("reading water, green areas, buildings, landmarks and names for the offline basemap")
            areas, names = read_osm_areas(osm), read_osm_names(osm)
            progress(
                f"  {len(areas.water):,} water features, {len(areas.green):,} green areas, "
                f"{len(areas.buildings):,} buildings, {len(areas.landmarks):,} landmarks, "
                f"{len(names.places):,} places; drawing the basemap"
            )
            basemap = basemap_layers(drive, stage / "basemap.geojson", water=areas.water, names=names)
            if tiles:
                meta["tiles"] = region_tiles(drive, names, areas, stage, bbox, progress)
            del areas, names
            release_memory()
            extra = None
            if population is not None:
                from .population_files import population_extra_files

                progress("spreading population onto the networks")
                from .population_inside import declared_bounds

                pop_files = population_extra_files(
                    population, nets, Path(tmpdir), bounds=declared_bounds(osm), extent=extent, dropped=dropped
                )
                for warning in pop_files.warnings:
                    log.warning("%s", warning)
                for kind, counts in pop_files.meta["networks"].items():
                    nets[kind].report["people_on_dropped_parts"] = counts["people_on_dropped_parts"]
                extra = pop_files.files
                meta["population"] = pop_files.meta
                progress(
                    f"  {pop_files.meta['total_inside']:,} people inside the road extract, "
                    f"{pop_files.meta['total_outside']:,} outside"
                )
            from .landmarks import write_landmarks

            progress("reading landmarks for the place search")
            road_names = {str(n) for n in getattr(drive.way_name, "names", drive.way_name) if n}
            extra = {**(extra or {}), **write_landmarks(osm, Path(tmpdir), road_names)}
            for net, fut in contractions:
                net.arrays.update(fut.result().network_arrays())
                progress(f"contraction hierarchy for the {net.name} network done")
            ch_pool.shutdown()
            progress("writing bundle")
            write_bundle_files(stage, meta=meta, networks=nets, facilities=fac, basemap=basemap, extra_files=extra)
    path = Path(out)
    progress(f"bundle written to {path}")
    return path
