"""GET /regions/{name}/tiles/{z}/{x}/{y}.mvt and /regions/{name}/tiles.json (issue 21 item 1):
the tile as the PMTiles archive holds it (gzip, decoded here with mapbox_vector_tile), cache
headers and a 304 for a matching ETag, 204 where there is no data, 4xx naming the field for an
unknown region and bad z/x/y, a region built before tiles (404 naming it, its GeoJSON basemap still
served), a bounded tile cache, and tiles as a citizen-class request."""

from __future__ import annotations

import gzip
import math
import shutil

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader

pytestmark = pytest.mark.slow


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


MONACO = (7.4246, 43.7384)  # Monte-Carlo


def test_tilejson(client):
    r = client.get("/regions/monaco/tiles.json")
    assert r.status_code == 200
    tj = r.json()
    assert tj["tiles"][0].endswith("/regions/monaco/tiles/{z}/{x}/{y}.mvt")
    assert tj["attribution"] == "© OpenStreetMap contributors, ODbL"
    assert tj["maxzoom"] == 14 and 0 <= tj["minzoom"] <= 14
    lon0, lat0, lon1, lat1 = tj["bounds"]
    assert lon0 < MONACO[0] < lon1 and lat0 < MONACO[1] < lat1
    assert {"water", "waterway", "green", "buildings", "roads", "admin", "places"} == {
        v["id"] for v in tj["vector_layers"]
    }


def test_tile_bytes_headers_and_etag(client, monaco):
    z = 14
    x, y = tile_of(*MONACO, z)
    r = client.get(f"/regions/monaco/tiles/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["content-encoding"] == "gzip"
    assert "max-age" in r.headers["cache-control"] and r.headers["etag"]
    with open(monaco.path / "tiles.pmtiles", "rb") as f:
        stored = Reader(MmapSource(f)).get(z, x, y)
    assert r.content == gzip.decompress(stored)  # the client undid the gzip: the archive's own tile
    layers = mapbox_vector_tile.decode(r.content)
    assert len(layers["roads"]["features"]) > 20 and layers["buildings"]["features"]
    again = client.get(f"/regions/monaco/tiles/{z}/{x}/{y}.mvt", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = client.get(f"/regions/monaco/tiles/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == r.content


def test_no_data_is_204(client):
    x, y = tile_of(7.5, 43.3, 12)  # the sea south of Monaco
    r = client.get(f"/regions/monaco/tiles/12/{x}/{y}.mvt")
    assert r.status_code == 204 and r.content == b""
    x, y = tile_of(*MONACO, 16)  # deeper than the data: the client draws z14 larger
    assert client.get(f"/regions/monaco/tiles/16/{x}/{y}.mvt").status_code == 204


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/regions/atlantis/tiles/3/4/2.mvt", 404, "region"),
        ("/regions/atlantis/tiles.json", 404, "region"),
        ("/regions/monaco/tiles/3/8/2.mvt", 404, "x"),
        ("/regions/monaco/tiles/3/4/9.mvt", 404, "y"),
        ("/regions/monaco/tiles/25/0/0.mvt", 422, "z"),
        ("/regions/monaco/tiles/-1/0/0.mvt", 422, "z"),
        ("/regions/monaco/tiles/a/0/0.mvt", 422, "z"),
    ],
)
def test_bad_region_or_tile_names_the_field(client, path, status, field):
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.json()


def test_region_built_without_tiles(monaco, open_reg, tmp_path):
    """An older bundle (no tiles.pmtiles) still serves: tiles.json says to rebuild, naming the
    region; the pages then draw its GeoJSON basemap, which is still there."""
    from fastapi.testclient import TestClient

    from geoservice.bundle.store import load_region
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService

    old = tmp_path / "monaco"
    shutil.copytree(monaco.path, old)
    (old / "tiles.pmtiles").unlink()
    with TestClient(create_app(GeoService([load_region(old)], registry=open_reg()))) as c:
        r = c.get("/regions/monaco/tiles.json")
        assert r.status_code == 404 and r.json()["field"] == "region"
        assert "rebuild" in r.json()["detail"]
        assert c.get("/regions/monaco/tiles/14/8529/5974.mvt").status_code == 404
        assert c.get("/regions/monaco/basemap").json()["features"]


def test_tile_cache_is_bounded(client, monkeypatch):
    from geoservice.faces.api.routers import tiles

    monkeypatch.setattr(tiles, "CACHE_BYTES", 60_000)
    x0, y0 = tile_of(7.40, 43.75, 14)
    for dx in range(4):
        for dy in range(3):
            client.get(f"/regions/monaco/tiles/14/{x0 + dx}/{y0 + dy}.mvt")
    assert 0 < tiles._cached_bytes <= 60_000
    assert sum(len(v or b"") for v in tiles._tiles.values()) == tiles._cached_bytes


def test_tiles_are_citizen_requests():
    from geoservice.faces.api.admission import request_class

    assert request_class("GET", "/regions/shanghai/tiles/14/13720/6694.mvt") == "citizen"
    assert request_class("GET", "/regions/shanghai/tiles.json") == "citizen"
    assert request_class("GET", "/regions/shanghai/basemap") == "read"
