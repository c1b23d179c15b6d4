"""Build a region bundle from a local OSM file and facility files."""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict, Unpack

from ..errors import GeoserviceError
from ..fileio import OutputBusy, output_lock, replace_dir
from ..sources.osm_areas import read_osm_areas
from ..sources.osm_names import read_osm_names
from ..sources.osm_pois import read_osm_pois
from ..sources.osm_roads import RawWays, check_osm_path, read_osm_roads
from ..sources.population import PopulationSpec
from ..sources.speeds import DEFAULT_PROFILES, DEFAULT_SPEED_KMH, Profile
from .basemap import basemap_layers
from .cch import CCHTopology, build_cch
from .dropped_roads import DroppedRoads, dropped_roads
from .facility_inputs import FacilityOptions, check_facility_files, facility_layer, load_facility_files
from .facility_names import name_unnamed_facilities
from .landmarks import write_landmarks
from .network import Network, build_network
from .population_files import population_extra_files
from .population_inside import Extent, declared_bounds
from .progress import Progress, release_memory, sha256_file
from .store import ATTRIBUTION, BundleMeta, stage_network, write_bundle_files
from .tile_layers import region_tiles

log = logging.getLogger(__name__)

__all__ = ["BuildOptions", "build_region"]


@dataclass(frozen=True)
class BuildOptions:
    """What a build makes besides the roads of its OSM file (see ``_build_region``)."""

    facilities: list[tuple[Path, FacilityOptions]] | None = None
    name: str | None = None
    profiles: dict[str, Profile] | None = None
    osm_pois: bool = True
    networks: tuple[str, ...] = ("drive", "walk")
    quiet: bool = False
    population: PopulationSpec | None = None
    ch_profiles: tuple[str, ...] = ("drive",)
    strict: bool = False
    display_name: dict[str, str] | None = None
    extent: Extent | None = None
    tiles: bool = True


class BuildArgs(TypedDict, total=False):
    """``BuildOptions``' fields as ``build_region``'s keywords."""

    facilities: list[tuple[Path, FacilityOptions]] | None
    name: str | None
    profiles: dict[str, Profile] | None
    osm_pois: bool
    networks: tuple[str, ...]
    quiet: bool
    population: PopulationSpec | None
    ch_profiles: tuple[str, ...]
    strict: bool
    display_name: dict[str, str] | None
    extent: Extent | None
    tiles: bool


def build_region(osm: str | Path, out: str | Path, **options: Unpack[BuildArgs]) -> Path:
    """Build the bundle of ``osm`` into ``out`` (options: ``BuildOptions``, see ``_build_region``)
    while holding the lock of ``out``: a second build to the same folder refuses at once instead of
    racing the first."""
    opts = BuildOptions(**options)
    try:
        with output_lock(out):
            return _build_region(osm, out, opts)
    except OutputBusy:
        raise GeoserviceError(
            "out", f"another build is writing {out} now; wait for it to finish or choose another --out"
        ) from None


@dataclass
class _Networks:
    """The networks built, the roads each dropped, the contractions running in ``pool``."""

    nets: dict[str, Network] = field(default_factory=dict)
    dropped: dict[str, DroppedRoads] = field(default_factory=dict)
    contractions: list[tuple[Network, Future[CCHTopology]]] = field(default_factory=list)
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="contraction")
    )


def _build_networks(raw: RawWays, stage: Path, opts: BuildOptions, progress: Progress) -> _Networks:
    """Every network of ``opts.networks`` staged, each contraction started in the background."""
    profiles = opts.profiles or DEFAULT_PROFILES
    out = _Networks()
    crs = None
    for kind in opts.networks:
        progress(f"building the {kind} network")
        try:
            net = build_network(raw, kind, profiles, crs=crs)
        except GeoserviceError as exc:
            if kind == "walk":
                progress(f"  skipped: {exc}")
                continue
            raise
        crs = net.crs
        out.nets[kind] = net
        stage_network(net, stage)  # on disk and mapped back: later steps hold only what they read
        release_memory()
        if set(opts.ch_profiles) & set(net.profiles):
            # one metric-independent contraction serves every profile and scenario of the network;
            # it runs without the GIL: overlap it with the rest of the build
            progress(f"  customizable contraction hierarchy for the {kind} network (fast matrices) started")
            cch = out.pool.submit(build_cch, net.edge_u, net.edge_v, net.node_x, net.node_y, net.n_nodes, spill=True)
            out.contractions.append((net, cch))
        r = net.report
        progress(
            f"  {net.n_nodes:,} nodes, {net.n_edges:,} edges kept; dropped {r['nodes_dropped']:,} "
            f"nodes / {r['edges_dropped']:,} edges outside the largest strongly connected component"
        )
        if opts.population is not None:  # where the dropped parts are: the people along them are counted
            out.dropped[kind] = dropped_roads(raw, net)
        elif r["nodes_dropped"]:
            log.warning(
                "the %s network dropped %s nodes in parts not connected to the rest (no population data: "
                "the people along them are not known)",
                kind,
                f"{r['nodes_dropped']:,}",
            )
    return out


def _build_region(osm_path: str | Path, out: str | Path, opts: BuildOptions) -> Path:
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
    progress = Progress(opts.quiet)
    osm = check_osm_path(osm_path)
    profiles = opts.profiles or DEFAULT_PROFILES
    unknown = set(opts.ch_profiles) - set(profiles)
    if unknown:
        raise GeoserviceError(
            "ch", f"unknown profile(s) {', '.join(sorted(unknown))}; choose from {', '.join(profiles)}"
        )
    inputs: list[dict[str, object]] = [
        {"path": str(osm), "role": "osm", "sha256": sha256_file(osm), "bytes": osm.stat().st_size}
    ]
    region_name = opts.name or Path(out).name or osm.name.split(".")[0]

    # the facility files first: a file that cannot be used fails before minutes of road work
    loaded, load_errors = load_facility_files(opts.facilities or [], strict=opts.strict, progress=progress)

    # the bundle is written into a sibling folder as it is made, and swapped in at the end (a
    # failed build leaves the old one as it was)
    with replace_dir(Path(out)) as stage:
        progress(f"reading roads from {osm.name}")
        raw = read_osm_roads(osm, progress=lambda n: progress(f"  {n:,} ways read"))
        progress(f"{len(raw.way_id):,} road ways, {len(raw.ref):,} node references")
        built = _build_networks(raw, stage, opts, progress)
        nets, ch_pool = built.nets, built.pool
        osm_stamp, osm_warnings = raw.osm_timestamp, list(raw.warnings)
        del raw
        release_memory()

        pois = None
        if opts.osm_pois or loaded:  # with --no-osm-pois they are still what a file's names are checked against
            progress("reading OSM hospitals, clinics and AEDs")
            pois = read_osm_pois(osm)
        roads = nets.get("drive") or next(iter(nets.values()))
        try:
            checked = check_facility_files(
                loaded, pois, roads, osm_name=osm.name, region=region_name, strict=opts.strict
            )
        except GeoserviceError:
            ch_pool.shutdown(cancel_futures=True)
            raise
        inputs += checked.inputs
        osm_layers = [pois] if opts.osm_pois and pois is not None and len(pois) else []
        fac = facility_layer(osm_layers + checked.layers)
        progress(f"{len(fac)} facilities: " + ", ".join(f"{k} {v}" for k, v in fac["type"].value_counts().items()))
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
        for inp in opts.population.inputs if opts.population is not None else []:
            src = Path(inp["path"])
            inputs.append(dict(inp, sha256=sha256_file(src), bytes=src.stat().st_size))
        meta: BundleMeta = {
            "name": region_name,
            "display_name": dict(opts.display_name) if opts.display_name else None,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": inputs,
            "osm_timestamp": osm_stamp,
            "osm_warnings": osm_warnings,
            "bbox": bbox,
            "speed_table_kmh": DEFAULT_SPEED_KMH,
            "speed_source": "geoservice.sources.speeds (JTG B01-2014, CJJ 37-2012, 道路交通安全法实施条例 §45)",
            "facility_errors": load_errors,
            "facility_checks": checked.checks,
            "attribution": ATTRIBUTION,
        }
        with tempfile.TemporaryDirectory() as tmpdir:
            progress("reading water, green areas, buildings, landmarks and names for the offline basemap")
            areas, names = read_osm_areas(osm), read_osm_names(osm)
            progress(
                f"  {len(areas.water):,} water features, {len(areas.green):,} green areas, "
                f"{len(areas.buildings):,} buildings, {len(areas.landmarks):,} landmarks, "
                f"{len(names.places):,} places; drawing the basemap"
            )
            basemap = basemap_layers(drive, stage / "basemap.geojson", water=areas.water, names=names)
            if opts.tiles:
                meta["tiles"] = region_tiles(drive, names, areas, stage, bbox, progress)
            del areas, names
            release_memory()
            extra: dict[str, Path] = {}
            if opts.population is not None:
                progress("spreading population onto the networks")
                pop_files = population_extra_files(
                    opts.population,
                    nets,
                    Path(tmpdir),
                    bounds=declared_bounds(osm),
                    extent=opts.extent,
                    dropped=built.dropped,
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
            progress("reading landmarks for the place search")
            road_names = {str(n) for n in getattr(drive.way_name, "names", drive.way_name) if n}
            extra = {**extra, **write_landmarks(osm, Path(tmpdir), road_names)}
            for net, fut in built.contractions:
                net.arrays.update(fut.result().network_arrays())
                progress(f"contraction hierarchy for the {net.name} network done")
            ch_pool.shutdown()
            progress("writing bundle")
            write_bundle_files(stage, meta=meta, networks=nets, facilities=fac, basemap=basemap, extra_files=extra)
    path = Path(out)
    progress(f"bundle written to {path}")
    return path
