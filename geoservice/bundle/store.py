"""Region bundle on disk: write once (atomically), load fast, never re-parse OSM.

Layout of a bundle directory::

    meta.json              inputs with sha256, OSM timestamp, profiles, speed table, reports
    net_drive.npz          arrays of the drive network (see bundle.network)
    net_walk.npz           arrays of the walk network
    cch_drive/             the drive network's customizable contraction hierarchy (bundle.cch),
                           one .npy per array, memory-mapped read-only when loaded
    ways.json              way names (Chinese kept) per way index
    facilities.geojson     all facility layers in one schema (type column)
    basemap.geojson        major roads and the network outline, for offline maps
    extra/                 optional layers added by analyses (population, admin units)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import GeoserviceError
from ..fileio import replace_dir
from ..sources.speeds import Profile
from .network import Network

BUNDLE_VERSION = 5
ATTRIBUTION = "Road and POI data © OpenStreetMap contributors, ODbL 1.0"


class BundleError(GeoserviceError):
    """A bundle directory is missing, incomplete or from an incompatible version."""

    def __init__(self, message: str, field: str = "region"):
        super().__init__(field, message)


@dataclass
class Region:
    path: Path
    meta: dict
    networks: dict[str, Network]
    facilities: object  # geopandas.GeoDataFrame
    load_seconds: float = 0.0
    extras: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.meta.get("name", self.path.name)

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


def save_network(net: Network, path: Path) -> None:
    """The network's arrays in one .npz, except its CCH arrays (``cch_*``): large, and read only
    in part by a query, each goes to its own .npy in ``cch_<network>/`` beside it, so that loading
    maps them instead of reading them (and processes share their pages)."""
    main = {k: v for k, v in net.arrays.items() if not k.startswith(CCH_PREFIX)}
    np.savez(path, **main)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    cch = {k: v for k, v in net.arrays.items() if k.startswith(CCH_PREFIX)}
    if cch:
        folder = path.parent / f"{CCH_PREFIX}{net.name}"
        folder.mkdir(exist_ok=True)
        for k, v in cch.items():
            np.save(folder / f"{k}.npy", v)


def write_bundle(
    out: Path,
    *,
    meta: dict,
    networks: dict[str, Network],
    facilities,
    basemap: str,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write to a sibling temp dir, then swap it in, so a failed build leaves no half bundle."""
    out = Path(out)
    with replace_dir(out) as tmp:
        for name, net in networks.items():
            save_network(net, tmp / f"net_{name}.npz")
        any_net = next(iter(networks.values()))
        (tmp / "ways.json").write_text(json.dumps(any_net.way_name, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "way_id.npy", any_net.way_id)
        np.save(tmp / "way_class.npy", any_net.way_class)
        facilities.to_file(tmp / "facilities.geojson", driver="GeoJSON")
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
    return out


def is_current_bundle(path: str | os.PathLike) -> bool:
    """True when ``path`` holds a bundle this version of geoservice can load."""
    try:
        meta = json.loads((Path(path) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("bundle_version") == BUNDLE_VERSION


def load_region(path: str | os.PathLike) -> Region:
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
    way_name = json.loads((p / "ways.json").read_text(encoding="utf-8"))
    way_id = np.load(p / "way_id.npy")
    way_class = np.load(p / "way_class.npy")
    networks = {}
    for name, info in meta["networks"].items():
        f = p / f"net_{name}.npz"
        if not f.is_file():
            raise BundleError(f"bundle {p} is incomplete: {f.name} missing; rebuild it")
        with np.load(f) as z:
            arrays = {k: z[k] for k in z.files}
        for a in sorted((p / f"{CCH_PREFIX}{name}").glob(f"{CCH_PREFIX}*.npy")):
            arrays[a.stem] = np.load(a, mmap_mode="r")
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
