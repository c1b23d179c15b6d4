"""Bundles for the faces: building one from local files, the demo bundles, and exporting the exact
graph a region's engine routes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...bundle.build import build_region
from ...bundle.demo import DEMO_REGIONS, build_demo
from ...bundle.to_networkx import save_graph
from ...errors import GeoserviceError
from ...fileio import atomic_path
from ...sources.admin_units import AdminCensusOptions, admin_census_spec, parse_folds
from ...sources.population import PopulationSpec
from ..core import GeoService
from ..settings import Settings, get_settings

__all__ = [
    "build",
    "build_demos",
    "export_graph",
    "display_name",
    "population_spec",
    "AdminCensusOptions",
    "parse_folds",
    "DEMO_REGIONS",
]


def build(osm: str | Path, out: str | Path, *, census: AdminCensusOptions | None = None, **options: Any) -> Path:
    """A region bundle from a local OSM file (see ``bundle.build.build_region`` for the options).
    ``census``: the user's admin units and census, read and checked before the roads are."""
    population = population_spec(census) if census is not None else None
    return Path(build_region(osm, out, population=population, **options))


def population_spec(census: AdminCensusOptions) -> PopulationSpec:
    """The admin units joined to the census exactly as ``build`` reads them (errors name the flag)."""
    return admin_census_spec(census)


def display_name(meta: dict[str, Any], name: str) -> dict[str, str]:
    """The name to show for a region, per language: the bundle's ``display_name`` (``build
    --display-name``), else a demo's own (a bundle built before display names), else its name."""
    given = meta.get("display_name")
    if isinstance(given, dict) and given:
        return {str(k): str(v) for k, v in given.items()}
    if name in DEMO_REGIONS and DEMO_REGIONS[name].display_name:
        return dict(DEMO_REGIONS[name].display_name)
    return {"zh": name, "en": name}


def build_demos(out: Path | None = None, *, quiet: bool = False, settings: Settings | None = None) -> list[Path]:
    """Every demo bundle, from the data shipped with geoservice."""
    s = settings or get_settings()
    return [build_demo(name, s.paths.data_dir, out or s.paths.regions_dir, quiet=quiet) for name in DEMO_REGIONS]


def export_graph(svc: GeoService, path: Path, *, network: str = "drive", region: str | None = None) -> tuple[str, Any]:
    """Write the network a region's engine uses (.graphml or .gpkg, atomically); (region, network)."""
    if path.suffix not in (".graphml", ".gpkg"):
        raise GeoserviceError("output", f"must end in .graphml or .gpkg, got {path.name}")
    entry = svc.pick(region)
    assert entry.region is not None
    net = entry.region.networks.get(network)
    if net is None:
        raise GeoserviceError(
            "network", f"{network!r} is not in region {entry.name} (has {', '.join(sorted(entry.region.networks))})"
        )
    with atomic_path(path) as tmp:
        save_graph(net, tmp)
    return entry.name, net
