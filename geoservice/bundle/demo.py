"""The demo regions: real OSM extracts shipped in geoservice/data/, built into bundles on first use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .build import build_region
from .store import is_current_bundle


@dataclass(frozen=True)
class DemoRegion:
    name: str
    osm: str
    designations: str
    about: str


DEMO_REGIONS = {
    "andorra": DemoRegion(
        "andorra",
        "andorra/andorra.osm.pbf",
        "andorra/demo_designations.csv",
        "all of Andorra (468 km², mountain valleys), OSM 2013; chest pain / stroke roles "
        "are demo designations of real OSM hospitals",
    ),
    "monaco": DemoRegion(
        "monaco",
        "monaco/monaco.osm.pbf",
        "monaco/demo_designations.csv",
        "Monaco and surroundings, OSM 2016, with its 5 real OSM AEDs",
    ),
}
DEFAULT_DEMO = "andorra"


def build_demo(name: str, data_dir: Path, regions_dir: Path, *, quiet: bool = False) -> Path:
    from ..sources.population import DEMO_POPULATION, demo_population

    d = DEMO_REGIONS[name]
    population = demo_population(name, data_dir / d.osm) if name in DEMO_POPULATION else None
    return build_region(
        data_dir / d.osm,
        regions_dir / name,
        name=name,
        quiet=quiet,
        facilities=[(data_dir / d.designations, {})],
        population=population,
    )


def ensure_demo(name: str, data_dir: Path, regions_dir: Path, *, quiet: bool = False) -> Path:
    """Path of the demo bundle, building it when missing or stale."""
    path = regions_dir / name
    if not is_current_bundle(path):
        build_demo(name, data_dir, regions_dir, quiet=quiet)
    return path
