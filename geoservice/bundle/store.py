"""Region bundle on disk: write once (atomically), load fast, never re-parse OSM.

Layout of a bundle directory::

    meta.json              inputs with sha256, OSM timestamp, profiles, speed table, reports
    net_drive/             arrays of the drive network (see bundle.network), one .npy each
    net_walk/              arrays of the walk network
    cch_drive/             the drive network's customizable contraction hierarchy (bundle.cch)
    ways.json              the distinct way names (Chinese kept)
    way_name.npy, way_id.npy, way_class.npy   per way index: its name in ways.json, OSM id, road class
    facilities.geojson     all facility layers in one schema (type column)
    basemap.geojson        major roads and the network outline, for offline maps
    extra/                 optional layers added by analyses (population, admin units)

Every array is its own .npy, memory-mapped read-only when loaded: the worker processes of one
machine share one copy of a region's pages (the kernel's page cache), and a query touches only
the pages it reads.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GeoserviceError
from ..fileio import replace_dir
from ..sources.speeds import Profile
from .network import Network, WayNames

if TYPE_CHECKING:
    import geopandas as gpd

BundleMeta = dict[str, Any]
"""A bundle's ``meta.json`` (JSON: name, display_name, inputs, bbox, networks, population, …)."""

BUNDLE_VERSION = 9  # 9: off_network per unit in population_<network>.npz (people off a network)
ATTRIBUTION = "Road and POI data © OpenStreetMap contributors, ODbL 1.0"


class BundleError(GeoserviceError):
    """A bundle directory is missing, incomplete or from an incompatible version."""

    def __init__(self, message: str, field: str = "region") -> None:
        super().__init__(field, message)


@dataclass
class Region:
    path: Path
    meta: BundleMeta
    networks: dict[str, Network]
    facilities: gpd.GeoDataFrame
    load_seconds: float = 0.0
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", self.path.name))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return tuple(self.meta["bbox"])

    def network_for(self, profile: str) -> Network:
        for net in self.networks.values():
            if profile in net.profiles:
                return net
        raise KeyError(profile)

    @property
    def profiles(self) -> list[str]:
        return [p for net in self.networks.values() for p in net.profiles]


CCH_PREFIX = "cch_"
NET_PREFIX = "net_"


def save_network(net: Network, folder: Path) -> None:
    """The network's arrays, one .npy each, in ``folder`` (``net_<network>``); its CCH arrays
    (``cch_*``) in ``cch_<network>`` beside it. An array already mapped from its own file there
    is left as it is (a build saves each network as soon as it is made, see ``stage_network``)."""
    for sub, keep in ((folder, False), (folder.parent / f"{CCH_PREFIX}{net.name}", True)):
        arrays = {k: v for k, v in net.arrays.items() if k.startswith(CCH_PREFIX) == keep}
        if arrays:
            sub.mkdir(exist_ok=True)
        for k, v in arrays.items():
            f = sub / f"{k}.npy"
            if isinstance(v, np.memmap) and v.filename is not None and f.exists() and os.path.samefile(v.filename, f):
                continue  # mapped from this very file: rewriting it would pull the pages from under the map
            np.save(f, np.ascontiguousarray(v), allow_pickle=False)


def stage_network(net: Network, bundle_dir: Path) -> None:
    """Save ``net`` into the bundle being written and map its arrays back read-only: a build
    then holds in memory only the pages its later steps read, not every network it has made."""
    folder = bundle_dir / f"{NET_PREFIX}{net.name}"
    save_network(net, folder)
    net.arrays = {**net.arrays, **map_arrays(folder)}


def map_arrays(folder: Path) -> dict[str, np.ndarray]:
    """Every .npy of ``folder``, memory-mapped read-only (writing to one raises)."""
    return {f.stem: np.load(f, mmap_mode="r", allow_pickle=False) for f in sorted(folder.glob("*.npy"))}


def write_bundle(
    out: Path,
    *,
    meta: BundleMeta,
    networks: dict[str, Network],
    facilities: gpd.GeoDataFrame,
    basemap: str | Path,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write to a sibling temp dir, then swap it in, so a failed build leaves no half bundle.
    ``basemap``: GeoJSON text, or a file holding it (moved into the bundle)."""
    out = Path(out)
    with replace_dir(out) as tmp:
        write_bundle_files(
            tmp, meta=meta, networks=networks, facilities=facilities, basemap=basemap, extra_files=extra_files
        )
    return out


def write_bundle_files(
    tmp: Path,
    *,
    meta: BundleMeta,
    networks: dict[str, Network],
    facilities: gpd.GeoDataFrame,
    basemap: str | Path,
    extra_files: dict[str, Path] | None = None,
) -> None:
    """Every file of a bundle into the folder ``tmp`` (see ``write_bundle``)."""
    for name, net in networks.items():
        save_network(net, tmp / f"{NET_PREFIX}{name}")
    any_net = next(iter(networks.values()))
    names = any_net.way_name if isinstance(any_net.way_name, WayNames) else WayNames.of(any_net.way_name)
    (tmp / "ways.json").write_text(json.dumps(names.names, ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "way_name.npy", names.ids, allow_pickle=False)
    np.save(tmp / "way_id.npy", any_net.way_id, allow_pickle=False)
    np.save(tmp / "way_class.npy", any_net.way_class, allow_pickle=False)
    facilities.to_file(tmp / "facilities.geojson", driver="GeoJSON")
    if isinstance(basemap, Path):
        if basemap.resolve() != (tmp / "basemap.geojson").resolve():
            shutil.move(basemap, tmp / "basemap.geojson")
    else:
        (tmp / "basemap.geojson").write_text(basemap, encoding="utf-8")
    for name, src in (extra_files or {}).items():
        (tmp / "extra").mkdir(exist_ok=True)
        shutil.copy2(src, tmp / "extra" / name)
    meta = dict(
        meta,
        bundle_version=BUNDLE_VERSION,
        networks={
            k: {
                "crs": n.crs,
                "profiles": {p: pr.to_dict() for p, pr in n.profiles.items()},
                "report": n.report,
                "nodes": n.n_nodes,
                "edges": n.n_edges,
            }
            for k, n in networks.items()
        },
    )
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def is_current_bundle(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` holds a bundle this version of geoservice can load."""
    try:
        meta = json.loads((Path(path) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(meta.get("bundle_version") == BUNDLE_VERSION)


def load_region(path: str | os.PathLike[str]) -> Region:
    import geopandas as gpd

    t0 = time.perf_counter()
    p = Path(path)
    meta_path = p / "meta.json"
    if not meta_path.is_file():
        raise BundleError(
            f"{p} is not a region bundle (no meta.json); build one with 'geoservice build --osm FILE --out {p}'"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("bundle_version") != BUNDLE_VERSION:
        raise BundleError(
            f"{p} was built by an incompatible geoservice (bundle version "
            f"{meta.get('bundle_version')}, need {BUNDLE_VERSION}); rebuild it"
        )
    way_name = WayNames(
        json.loads((p / "ways.json").read_text(encoding="utf-8")), np.load(p / "way_name.npy", mmap_mode="r")
    )
    way_id = np.load(p / "way_id.npy", mmap_mode="r")
    way_class = np.load(p / "way_class.npy", mmap_mode="r")
    networks = {}
    for name, info in meta["networks"].items():
        f = p / f"{NET_PREFIX}{name}"
        if not (f / "edge_u.npy").is_file():
            raise BundleError(f"bundle {p} is incomplete: {f.name}/ missing; rebuild it")
        arrays = map_arrays(f)
        arrays.update(map_arrays(p / f"{CCH_PREFIX}{name}"))
        profiles = {k: Profile.from_dict(v) for k, v in info["profiles"].items()}
        networks[name] = Network(
            name=name,
            arrays=arrays,
            way_name=way_name,
            way_class=way_class,
            way_id=way_id,
            crs=info["crs"],
            profiles=profiles,
            report=info["report"],
        )
    fac = gpd.read_file(p / "facilities.geojson")
    return Region(path=p, meta=meta, networks=networks, facilities=fac, load_seconds=time.perf_counter() - t0)
