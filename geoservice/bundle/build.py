"""Build a region bundle from a local OSM file and facility files."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import shapely

from ..sources.osm_roads import check_osm_path, read_osm_roads
from ..sources.speeds import DEFAULT_PROFILES, DEFAULT_SPEED_KMH, MAJOR_CLASSES, ROAD_CLASSES, Profile
from .network import Network, build_network
from .store import ATTRIBUTION, write_bundle

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Progress:
    """Step timing printed to stderr: long builds show where they are."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def basemap_layers(drive: Network, walk: Network | None = None) -> dict:
    """Major roads as GeoJSON lines plus the network outline: the offline basemap."""
    feats = []
    major_idx = np.array([ROAD_CLASSES.index(c) for c in MAJOR_CLASSES])
    gcls = drive.way_class[drive.geom_way]
    sel = np.flatnonzero(np.isin(gcls, major_idx))
    for g in sel:
        a, b = int(drive.geom_a[g]), int(drive.geom_b[g])
        coords = np.column_stack([drive.lon[a:b + 1], drive.lat[a:b + 1]]).round(6).tolist()
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                      "properties": {"kind": "road", "class": ROAD_CLASSES[gcls[g]],
                                     "name": drive.way_name[int(drive.geom_way[g])]}})
    pts = shapely.points(np.column_stack([drive.node_lon, drive.node_lat]))
    hull = shapely.concave_hull(shapely.multipoints(pts), ratio=0.05)
    feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(hull),
                  "properties": {"kind": "outline", "class": "network", "name": "road network extent"}})
    return {"type": "FeatureCollection", "features": feats, "attribution": ATTRIBUTION}


def build_region(osm: str | Path, out: str | Path, *, facilities: list[tuple[Path, dict]] | None = None,
                 name: str | None = None, profiles: dict[str, Profile] | None = None,
                 osm_pois: bool = True, networks: tuple[str, ...] = ("drive", "walk"),
                 quiet: bool = False, population=None) -> Path:
    """Build a bundle. ``facilities`` is a list of (file, read options) for read_facilities.
    ``population``: a sources.population.PopulationSpec spread onto the networks into extra/."""
    import geopandas as gpd
    import pandas as pd

    from ..sources.facilities import COLUMNS, read_facilities, read_osm_pois

    progress = Progress(quiet)
    osm = check_osm_path(osm)
    profiles = profiles or DEFAULT_PROFILES
    inputs = [{"path": str(osm), "role": "osm", "sha256": sha256_file(osm), "bytes": osm.stat().st_size}]

    progress(f"reading roads from {osm.name}")
    raw = read_osm_roads(osm, progress=lambda n: progress(f"  {n:,} ways read"))
    progress(f"{len(raw.way_id):,} road ways, {len(raw.ref):,} node references")
    nets: dict[str, Network] = {}
    crs = None
    for kind in networks:
        progress(f"building the {kind} network")
        try:
            net = build_network(raw, kind, profiles, crs=crs)
        except ValueError as exc:
            if kind == "walk":
                progress(f"  skipped: {exc}")
                continue
            raise
        crs = net.crs
        nets[kind] = net
        r = net.report
        progress(f"  {net.n_nodes:,} nodes, {net.n_edges:,} edges kept; dropped {r['nodes_dropped']:,} "
                 f"nodes / {r['edges_dropped']:,} edges outside the largest strongly connected component")
    osm_stamp, osm_warnings = raw.osm_timestamp, list(raw.warnings)
    del raw

    layers = []
    load_errors = []
    if osm_pois:
        progress("reading OSM hospitals, clinics and AEDs")
        pois = read_osm_pois(osm)
        if len(pois):
            layers.append(pois)
    for path, opts in facilities or []:
        path = Path(path)
        progress(f"reading facilities {path.name}")
        res = read_facilities(path, **opts)
        for e in res.errors:
            load_errors.append({"file": path.name, "row": e.row, "field": e.field, "reason": e.reason})
            log.warning("%s row %s: %s: %s", path.name, e.row, e.field, e.reason)
        layers.append(res.layer)
        inputs.append({"path": str(path), "role": "facilities", "sha256": sha256_file(path),
                       "bytes": path.stat().st_size, "rows_loaded": int(len(res.layer)),
                       "rows_rejected": len(res.errors), "options": {k: str(v) for k, v in opts.items()}})
    if layers:
        fac = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs="EPSG:4326")
        dup = fac["id"].duplicated(keep="last")
        if dup.any():  # a facility file may override an OSM POI of the same id (e.g. a designation)
            fac = fac[~dup].reset_index(drop=True)
    else:
        fac = gpd.GeoDataFrame({c: [] for c in COLUMNS if c != "geometry"},
                               geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    progress(f"{len(fac)} facilities: " + ", ".join(f"{k} {v}" for k, v in fac["type"].value_counts().items()))

    drive = nets.get("drive") or next(iter(nets.values()))
    bbox = [float(drive.node_lon.min()), float(drive.node_lat.min()),
            float(drive.node_lon.max()), float(drive.node_lat.max())]
    meta = {
        "name": name or osm.name.split(".")[0],
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": inputs,
        "osm_timestamp": osm_stamp,
        "osm_warnings": osm_warnings,
        "bbox": bbox,
        "speed_table_kmh": DEFAULT_SPEED_KMH,
        "speed_source": "geoservice.sources.speeds (JTG B01-2014, CJJ 37-2012, 道路交通安全法实施条例 §45)",
        "facility_errors": load_errors,
        "attribution": ATTRIBUTION,
    }
    progress("writing bundle")
    basemap = basemap_layers(drive)
    import tempfile
    with tempfile.TemporaryDirectory() as tmpdir:
        extra = None
        if population is not None:
            from .population import population_extra_files
            progress("spreading population onto the networks")
            extra = population_extra_files(population, nets, Path(tmpdir))
            meta["population"] = population.to_meta()
        path = write_bundle(Path(out), meta=meta, networks=nets, facilities=fac, basemap=basemap,
                            extra_files=extra)
    progress(f"bundle written to {path}")
    return path
