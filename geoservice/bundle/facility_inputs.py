"""A build's facility files: read first (a file that cannot be used fails before minutes of road
work), then their positions checked against the region's OSM facilities and roads, then merged
with the OSM facilities into the bundle's facility layer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from ..errors import GeoserviceError
from ..sources.crs_check import Namesakes, Reference, Wording, check_positions, network_distances, nothing_loaded
from ..sources.facility_files import read_facilities
from ..sources.schema import COLUMNS
from .progress import sha256_file

if TYPE_CHECKING:
    from ..sources.facility_rows import LoadResult
    from .network import Network

log = logging.getLogger("geoservice.bundle.build")

FacilityOptions = Mapping[str, str]
"""A facility file's read options (``read_facilities``' keywords: type, crs, lon_col, …)."""


@dataclass(frozen=True)
class LoadedFile:
    """A facility file as read: its path, read options and rows (good and rejected)."""

    path: Path
    opts: FacilityOptions
    res: LoadResult


def load_facility_files(
    facilities: Sequence[tuple[Path, FacilityOptions]], *, strict: bool, progress: Callable[[str], None]
) -> tuple[list[LoadedFile], list[dict[str, object]]]:
    """Every facility file read, and the rows rejected (file, row, field, reason; logged). A file
    of which no row loads fails; with ``strict`` any bad row does."""
    loaded: list[LoadedFile] = []
    load_errors: list[dict[str, object]] = []
    for path, opts in facilities:
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
        loaded.append(LoadedFile(path, opts, res))
    return loaded, load_errors


@dataclass
class CheckedFiles:
    """The facility layers to merge, the position checks (``meta["facility_checks"]``) and the
    files' entries for ``meta["inputs"]``."""

    layers: list[gpd.GeoDataFrame]
    checks: list[dict[str, object]]
    inputs: list[dict[str, object]]


def check_facility_files(
    loaded: Sequence[LoadedFile],
    pois: gpd.GeoDataFrame | None,
    roads: Network,
    *,
    osm_name: str,
    region: str,
    strict: bool,
) -> CheckedFiles:
    """Each file's positions checked (``sources.crs_check.check_positions``) against ``pois``
    (the OSM facilities of the extract ``osm_name``) by name, else against the ``roads``; a likely wrong
    coordinate system is logged (raised with ``strict``), points nowhere near the roads raise."""
    out = CheckedFiles([], [], [])
    reference = Reference.from_layer(pois, f"the OpenStreetMap facilities of {osm_name}") if loaded else None
    distances = network_distances(roads) if loaded else None
    for f in loaded:
        layer = f.res.layer
        if len(layer) and distances is not None:
            check = check_positions(
                layer["lon"].to_numpy(),
                layer["lat"].to_numpy(),
                f.opts.get("crs", "wgs84"),
                distances,
                region=region,
                namesakes=Namesakes(layer["name"], layer["type"], reference),
                wording=Wording(label=f.path.name, strict=strict, nothing="nothing built"),
            )
            if check is not None:
                out.checks.append({"file": f.path.name, "network": roads.name, **check.to_meta()})
                if check.warning:
                    log.warning("%s", check.warning)
        out.layers.append(layer)
        out.inputs.append(
            {
                "path": str(f.path),
                "role": "facilities",
                "sha256": sha256_file(f.path),
                "bytes": f.path.stat().st_size,
                "rows_loaded": int(len(layer)),
                "rows_rejected": len(f.res.errors),
                "options": {k: str(v) for k, v in f.opts.items()},
            }
        )
    return out


def facility_layer(layers: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The layers as one (a later layer's row overrides an earlier one of the same id, e.g. a
    designation an OSM POI), or an empty layer of the schema's columns."""
    if layers:
        fac = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs="EPSG:4326")
        dup = fac["id"].duplicated(keep="last")
        if dup.any():
            fac = fac[~dup].reset_index(drop=True)
        return fac
    return gpd.GeoDataFrame(
        {c: [] for c in COLUMNS if c != "geometry"},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
