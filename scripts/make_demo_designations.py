"""Write the demo designations of the demo regions (run once; output is committed).

Andorra and Monaco have no chest pain or stroke centers in any real register we hold, so the
demo *designates* real OSM hospitals for those roles. Every row says so: ``demo`` is true and
``source`` names the OSM object. Coordinates are the OSM object's position (ODbL).
"""

from __future__ import annotations

import csv
from pathlib import Path

from geoservice.sources.osm_pois import read_osm_pois

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "geoservice" / "data"  # the demo data shipped inside the package

# (osm id, type, level, capabilities, door_to_needle_min, label)
# Four of Andorra's seven OSM "hospital" nodes lie 1-2 km from any road (mountain huts?): they
# stay in the data as plain hospitals (and are reported unroutable) but get no role.
# Grassroots units sit at the OSM place node of a town or village: a township health centre there
# is assumed, which is exactly what "demo designation" means here.
ANDORRA = [
    ("osm-way-194554955", "chest_pain_center", "standard", "", "", "main valley hospital"),
    ("osm-node-2050364490", "chest_pain_center", "basic", "", "", "south hospital"),
    ("osm-node-522787974", "chest_pain_center", "basic", "", "", "west hospital"),
    ("osm-way-194554955", "stroke_center", "advanced", "evt,ivt", "45", "main valley hospital"),
    ("osm-node-522787974", "stroke_center", "center", "ivt", "60", "west hospital"),
    ("osm-node-2050364490", "stroke_center", "station", "", "", "south hospital"),
    ("place-58963219", "grassroots_unit", "", "", "", "Ordino"),
    ("place-64954433", "grassroots_unit", "", "", "", "Canillo"),
    ("place-64954584", "grassroots_unit", "", "", "", "Encamp"),
    ("place-64954563", "grassroots_unit", "", "", "", "La Massana"),
    ("place-64954486", "grassroots_unit", "", "", "", "Sant Julia de Loria"),
    ("place-64954538", "grassroots_unit", "", "", "", "Soldeu"),
    ("place-64954451", "grassroots_unit", "", "", "", "el Serrat"),
    ("place-64954512", "grassroots_unit", "", "", "", "Santa Coloma"),
    ("place-58957648", "grassroots_unit", "", "", "", "Andorra la Vella"),
    ("osm-way-194554955", "ems_station", "", "", "", "EMS base at main hospital"),
    ("osm-node-2050364490", "ems_station", "", "", "", "EMS base south"),
    ("place-64954433", "ems_station", "", "", "", "EMS base Canillo"),
]
MONACO = [
    ("osm-node-1794111144", "chest_pain_center", "standard", "", "", "Centre Cardio Thoracique de Monaco"),
    ("osm-node-25237989", "stroke_center", "advanced", "evt,ivt", "45", "hospital"),
    ("osm-node-2169430533", "stroke_center", "center", "ivt", "60", "Centre Hospitalier de Menton"),
    ("osm-node-25237989", "ems_station", "", "", "", "EMS base at hospital"),
]


def place_nodes(osm: Path) -> dict[str, tuple[str, float, float]]:
    import osmium

    out = {}
    for o in osmium.FileProcessor(str(osm)).with_filter(osmium.filter.KeyFilter("place")):
        if o.is_node() and o.tags.get("place") in ("city", "town", "village"):
            out[f"place-{o.id}"] = (o.tags.get("name", ""), o.location.lon, o.location.lat)
    return out


def write(region: str, osm: Path, rows: list[tuple]) -> None:
    pois = read_osm_pois(osm).set_index("id")
    places = place_nodes(osm)
    out = DATA / region / "demo_designations.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "type",
                "name",
                "level",
                "capabilities",
                "status",
                "door_to_needle_min",
                "demo",
                "source",
                "lon",
                "lat",
            ]
        )
        for i, (osm_id, typ, level, caps, dtn, label) in enumerate(rows, 1):
            if osm_id.startswith("place-"):
                pname, lon, lat = places[osm_id]
                name = f"{pname} health centre"
                src = f"demo designation at OpenStreetMap place node {osm_id[6:]} ({pname}) (ODbL)"
            else:
                p = pois.loc[osm_id]
                name = p["name"] if p["name"] != "unnamed hospital" else f"{label} ({osm_id})"
                lon, lat = p.geometry.x, p.geometry.y
                src = f"demo designation of OpenStreetMap {osm_id.replace('osm-', '').replace('-', ' ')} (ODbL)"
            w.writerow(
                [
                    f"demo-{typ}-{i}",
                    typ,
                    f"{name} [DEMO designation]",
                    level,
                    caps,
                    "certified",
                    dtn,
                    "true",
                    src,
                    f"{lon:.7f}",
                    f"{lat:.7f}",
                ]
            )
    print(f"wrote {out} ({len(rows)} rows)")


if __name__ == "__main__":
    write("andorra", DATA / "andorra/andorra.osm.pbf", ANDORRA)
    write("monaco", DATA / "monaco/monaco.osm.pbf", MONACO)
