"""Downloads of what the planner shows (`format=geojson|gpkg|csv` on /coverage, /service-areas and
/layers), checked against the CLI's files for the same analysis and against independent
computations (areas in a metric projection, features counted in the JSON answers), on the real
demo regions; and the traffic scenario of service areas and isochrones."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from geoservice.faces.api.app import create_app
from geoservice.faces.cli import main
from geoservice.service.core import GeoService
from geoservice.service.registry.store import Registry
from geoservice.service.usecases.downloads import COVERAGE_FIELDS

CPC = {"type": "chest_pain_center", "minutes": 30, "region": "andorra"}


@pytest.fixture(scope="module")
def served(andorra, monaco, regions_dir, tmp_path_factory):
    """(client, CLI region/registry arguments): the API and the CLI over one registry."""
    db = tmp_path_factory.mktemp("downloads") / "registry.sqlite"
    svc = GeoService([andorra, monaco], registry=Registry(db))
    with TestClient(create_app(svc)) as client:
        yield client, ["--region", regions_dir / "andorra", "--region", regions_dir / "monaco", "--db", db]
    svc.close()


def get_file(client, path: str, params: dict, fmt: str):
    r = client.get(path, params={**params, "format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    return r


def read_csv(r) -> list[dict[str, str]]:
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese names right
    return list(csv.DictReader(io.StringIO(text[1:])))


def gpkg_layers(r, tmp_path) -> dict[str, dict]:
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "download.gpkg"
    path.write_bytes(r.content)
    return {
        str(name): pyogrio.read_info(path, layer=str(name)) | {"path": path} for name, _ in pyogrio.list_layers(path)
    }


def run_cli(capsys, *args) -> None:
    code = main([str(a) for a in args])
    _, err = capsys.readouterr()
    assert code == 0, err


def km2_utm(geom, epsg: int) -> float:
    """Area in km² in a UTM zone (an independent measure of the geodesic area the CSV reports)."""
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    return shapely.transform(geom, lambda c: list(zip(*to_utm.transform(c[:, 0], c[:, 1]), strict=True))).area / 1e6


@pytest.mark.parametrize(
    ("params", "cli_args"),
    [
        (dict(CPC, scenario="peak"), ["--type", "chest_pain_center", "--minutes", "30", "--scenario", "peak"]),
        ({"type": "aed", "region": "monaco"}, ["--type", "aed"]),  # on foot, 4 min by default
    ],
)
def test_coverage_csv_and_gaps_are_the_cli_files(served, capsys, tmp_path, params, cli_args):
    client, regions = served
    out = tmp_path / "cli"
    order = regions[2:] + regions[:2] if params["region"] == "monaco" else regions  # its region first
    run_cli(capsys, "coverage", *order, *cli_args, "-o", out)
    with open(out / "coverage.csv", encoding="utf-8", newline="") as f:
        cli_rows = list(csv.DictReader(f))
    r = get_file(client, "/coverage", params, "csv")
    rows = read_csv(r)
    cli_fields = list(cli_rows[0])
    assert list(rows[0])[: len(cli_fields)] == cli_fields == COVERAGE_FIELDS
    # the same figures, written the same way, row by row (overall first, then each admin unit)
    assert [{k: row[k] for k in cli_fields} for row in rows] == cli_rows
    assert rows[0]["admin_code"] == "ALL" and len(rows) > 2
    ans = client.get("/coverage", params=params).json()
    assert {row["scenario"] for row in rows} == {ans["scenario"]} and {row["profile"] for row in rows} == {
        ans["profile"]
    }
    assert ans["profile"] == ("walk" if params["type"] == "aed" else "drive")
    assert all("OpenStreetMap" in row["attribution"] for row in rows)
    # the GeoJSON is the CLI's gaps.geojson; the GeoPackage holds the same gaps and the table
    gj = json.loads(get_file(client, "/coverage", params, "geojson").content)
    cli_gaps = json.loads((out / "gaps.geojson").read_text(encoding="utf-8"))
    assert gj["features"] == cli_gaps["features"] and gj["method"] == cli_gaps["method"]
    assert "OpenStreetMap" in gj["attribution"]
    layers = gpkg_layers(get_file(client, "/coverage", params, "gpkg"), tmp_path)
    assert set(layers) == {"gaps", "coverage"}
    gaps = pyogrio.read_dataframe(layers["gaps"]["path"], layer="gaps")
    cli_gpkg = pyogrio.read_dataframe(out / "gaps.gpkg", layer="gaps")
    assert len(gaps) == len(cli_gpkg) == len(cli_gaps["features"]) > 0
    assert gaps["gap_id"].tolist() == cli_gpkg["gap_id"].tolist()
    assert gaps["population"].sum() == pytest.approx(cli_gpkg["population"].sum())
    assert shapely.union_all(gaps.geometry.values).equals_exact(shapely.union_all(cli_gpkg.geometry.values), 1e-9)
    assert layers["gaps"]["crs"] == "EPSG:4326" and "OpenStreetMap" in layers["gaps"]["dataset_metadata"]["attribution"]
    table = pyogrio.read_dataframe(layers["coverage"]["path"], layer="coverage", read_geometry=False)
    assert table["admin_code"].tolist() == [row["admin_code"] for row in cli_rows]
    covered = [float(row["population_covered"]) if row["population_covered"] else None for row in cli_rows]
    assert [None if v != v else v for v in table["population_covered"].tolist()] == covered


def test_service_areas_in_every_format_match_the_answer(served, tmp_path):
    client, _ = served
    params = dict(CPC, scenario="off_peak")
    fc = client.get("/service-areas", params=params).json()
    assert len(fc["features"]) == 3  # the three demo chest pain centers of Andorra
    by_id = {f["properties"]["id"]: shapely.geometry.shape(f["geometry"]) for f in fc["features"]}
    r = get_file(client, "/service-areas", params, "csv")
    assert "service_areas_chest_pain_center_30min_off_peak_andorra.csv" in r.headers["content-disposition"]
    rows = read_csv(r)
    assert list(rows[0])[:2] == ["id", "name"] and list(rows[0])[-1] == "attribution"
    assert {row["id"] for row in rows} == set(by_id)
    for row in rows:  # a table for a spreadsheet: the area, not the shape
        geom = by_id[row["id"]]
        assert float(row["area_km2"]) == pytest.approx(km2_utm(geom, 32631), rel=0.005)  # Andorra: UTM 31N
        assert row["scenario"] == "off_peak" and float(row["minutes"]) == 30 and "wkt" not in row
    gj = json.loads(get_file(client, "/service-areas", params, "geojson").content)
    assert gj["features"] == fc["features"] and "OpenStreetMap" in gj["attribution"]
    layers = gpkg_layers(get_file(client, "/service-areas", params, "gpkg"), tmp_path)
    gdf = pyogrio.read_dataframe(layers["service_areas"]["path"], layer="service_areas")
    assert sorted(gdf["id"]) == sorted(by_id) and layers["service_areas"]["geometry_type"] == "MultiPolygon"
    for rid, geom in zip(gdf["id"], gdf.geometry, strict=True):
        assert geom.equals_exact(shapely.geometry.MultiPolygon(by_id[rid].geoms), 1e-9)
    assert "OpenStreetMap" in layers["service_areas"]["layer_metadata"]["DESCRIPTION"]


def test_facility_layer_downloads(served, tmp_path):
    client, _ = served
    fc = client.get("/layers/all", params={"region": "monaco"}).json()
    rows = read_csv(get_file(client, "/layers/all", {"region": "monaco"}, "csv"))
    assert len(rows) == len(fc["features"]) >= 5
    want = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in fc["features"]}
    for row in rows:
        assert [float(row["lon"]), float(row["lat"])] == pytest.approx(want[row["id"]])
    aed = {row["id"] for row in rows if row["type"] == "aed"}
    assert len(aed) == 5  # Monaco's real OSM AEDs
    layers = gpkg_layers(get_file(client, "/layers/aed", {"region": "monaco"}, "gpkg"), tmp_path)
    gdf = pyogrio.read_dataframe(layers["facilities"]["path"], layer="facilities")
    assert set(gdf["id"]) == aed and layers["facilities"]["crs"] == "EPSG:4326"
    assert layers["facilities"]["geometry_type"] == "Point"
    # a layer with nothing in it is still a valid, empty file (Andorra has no AED)
    empty = gpkg_layers(get_file(client, "/layers/aed", {"region": "andorra"}, "gpkg"), tmp_path)
    assert empty["facilities"]["features"] == 0
    gj = json.loads(get_file(client, "/layers/aed", {"region": "andorra"}, "geojson").content)
    assert gj["type"] == "FeatureCollection" and gj["features"] == []


def test_bad_format_names_the_field(served):
    client, _ = served
    for path, params in (("/coverage", CPC), ("/service-areas", CPC), ("/layers/aed", {})):
        r = client.get(path, params={**params, "format": "shp"})
        assert r.status_code == 422 and r.json()["field"] == "format", r.text


def test_peak_areas_are_inside_free_flow_ones(served):
    """Peak hours slow every road class (factors >= 1), so each service area and isochrone under peak
    lies inside its free-flow one (up to the drawing grid: each query lays out its own ~100 m
    grid), and some are clearly smaller."""
    client, _ = served
    areas = {}
    for sc in ("free_flow", "peak"):
        fc = client.get("/service-areas", params=dict(CPC, minutes=15, scenario=sc)).json()
        areas[sc] = {f["properties"]["id"]: shapely.geometry.shape(f["geometry"]) for f in fc["features"]}
        assert {f["properties"]["scenario"] for f in fc["features"]} == {sc}
    assert set(areas["peak"]) == set(areas["free_flow"])
    shrunk = 0
    for fid, geom in areas["peak"].items():
        free = areas["free_flow"][fid]
        assert geom.difference(free).area <= 0.03 * geom.area
        shrunk += geom.area < 0.9 * free.area
    assert shrunk >= 1
    iso = {
        sc: shapely.geometry.shape(
            client.get("/isochrones", params={"lon": 1.5212, "lat": 42.5069, "minutes": "10", "scenario": sc}).json()[
                "features"
            ][0]["geometry"]
        )
        for sc in ("free_flow", "peak")
    }
    assert iso["peak"].difference(iso["free_flow"]).area <= 0.03 * iso["peak"].area
    assert iso["peak"].area < 0.9 * iso["free_flow"].area
    r = client.get("/isochrones", params={"lon": 1.5212, "lat": 42.5069, "minutes": "10", "scenario": "rush"})
    assert r.status_code == 422 and r.json()["field"] == "scenario"
