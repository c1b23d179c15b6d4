"""Facility schema, readers and row-level validation, on real data where it exists."""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoservice.sources.coords import bd09_to_wgs84, gcj02_to_wgs84
from geoservice.errors import GeoserviceError
from geoservice.sources.facility_files import FacilityFileError, layer_geojson, read_facilities, write_layer
from geoservice.sources.facility_rows import RowError, validate_records
from geoservice.sources.osm_pois import OSM_ATTRIBUTION, OSM_SOURCE, read_osm_pois
from geoservice.sources.schema import COLUMNS, FACILITY_TYPES, LEVELS
from geoservice.sources.opening_hours import is_open


def _metres(lon1, lat1, lon2, lat2) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------- real CSV


def test_wuhan_bd09_csv_every_row_loads_or_is_reported(real_data):
    path = real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv"
    with open(path, encoding="utf-8") as f:
        n_rows = sum(1 for _ in csv.DictReader(f))
    res = read_facilities(path, type="hospital", crs="bd09")  # columns are lng/lat
    bad_rows = {e.row for e in res.errors}
    assert len(res.layer) + len(bad_rows) == n_rows == 79
    layer = res.layer
    assert list(layer.columns) == [*COLUMNS, "geometry"]
    assert layer.crs.to_epsg() == 4326
    assert layer["id"].is_unique
    assert set(layer["type"]) == {"hospital"}
    assert set(layer["source"]) == {path.name}
    assert not layer["demo"].any()
    # converted from BD-09: the Hongshan gym lands on the independent WGS-84 pin
    row = layer[layer["name"] == "武昌洪山体育馆方舱医院"].iloc[0]
    assert _metres(row.lon, row.lat, 114.329131, 30.548343) < 60
    assert row.geometry.x == row.lon and row.geometry.y == row.lat
    # same result when the column names are given explicitly
    res2 = read_facilities(path, type="hospital", crs="bd09", lon_col="lng", lat_col="lat")
    np.testing.assert_allclose(res2.layer["lon"], layer["lon"])


# --------------------------------------------------------------------------- bad rows

BAD_CSV = """\
id,type,name,level,capabilities,status,door_to_needle_min,demo,admin_code,lon,lat
c1,chest_pain_center,武汉亚洲心脏病医院,standard,,certified,,,420103,114.27,30.58
c2,chest_pain_center,坐标不是数字,basic,,,,,,abc,30.5
c3,chest_pain_center,纬度NaN,basic,,,,,,114.3,NaN
c4,chest_pain_center,经度越界,basic,,,,,,200,30.5
c5,chest_pain_center,纬度越界,basic,,,,,,114.3,-95
c6,chest_pain_center,缺经度,basic,,,,,,,30.5
c7,heart_clinic,未知类型,,,,,,,114.3,30.5
c8,chest_pain_center,等级不对,advanced,,,,,,114.3,30.5
s1,stroke_center,未知能力,center,"ivt,tpa",,,,,114.3,30.5
a1,aed,AED有能力,,ivt,,,,,114.3,30.5
c1,chest_pain_center,重复ID,basic,,,,,,114.3,30.5
c9,chest_pain_center,状态不对,basic,,approved,,,,114.3,30.5
s2,stroke_center,DNT不是数字,advanced,,,fast,,,114.3,30.5
c10,chest_pain_center,,basic,,,,,,114.3,30.5
a2,aed,AED有等级,basic,,,,,,114.3,30.5
c11,,没有类型,,,,,,,114.3,30.5
c12,chest_pain_center,演示标记不对,basic,,,,maybe,,114.3,30.5
c13,chest_pain_center,多了一列,basic,,,,,,114.3,30.5,extra
s3,stroke_center,同济医院,advanced,"evt; IVT",in-construction,45,true,420102,114.26,30.58

,aed,没有ID的AED,,,,,,,114.31,30.59
"""

EXPECTED_ERRORS = [
    (2, "lon"), (3, "lat"), (4, "lon"), (5, "lat"), (6, "lon"), (7, "type"), (8, "level"),
    (9, "capabilities"), (10, "capabilities"), (11, "id"), (12, "status"),
    (13, "door_to_needle_min"), (14, "name"), (15, "level"), (16, "type"), (17, "demo"),
    (18, "row"),
]


def test_bad_rows_are_reported_and_good_rows_load(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    res = read_facilities(path)
    assert [(e.row, e.field) for e in res.errors] == EXPECTED_ERRORS
    assert all(isinstance(e, RowError) and e.reason for e in res.errors)
    # row 20 is blank and is counted like a spreadsheet counts it; row 21 has no id
    assert list(res.layer["id"]) == ["c1", "s3", "aed-21"]
    s3 = res.layer.set_index("id").loc["s3"]
    assert s3["capabilities"] == "evt,ivt"
    assert s3["status"] == "in_construction"
    assert s3["door_to_needle_min"] == 45.0
    assert s3["demo"] is True or s3["demo"] == np.True_
    assert s3["admin_code"] == "420102"
    c1 = res.layer.set_index("id").loc["c1"]
    assert c1["level"] == "standard" and c1["status"] == "certified" and not c1["demo"]
    assert c1["admin_code"] == "420103" and c1["capabilities"] == ""
    aed = res.layer.set_index("id").loc["aed-21"]
    assert aed["level"] is None and aed["status"] == "unknown" and aed["source"] == "mixed.csv"
    # reasons are readable sentences, not tracebacks
    by_row = {e.row: e.reason for e in res.errors}
    assert "abc" in by_row[2] and "200" in by_row[4] and "first at row 1" in by_row[11]
    assert "Traceback" not in " ".join(by_row.values())


def test_type_argument_conflict_and_crs_conversion(tmp_path):
    path = tmp_path / "aeds.csv"
    path.write_text("name,type,lng,latitude,source\n"
                    "A,aed,114.30,30.60,survey\n"
                    "B,,114.31,30.61,survey\n"
                    "C,hospital,114.32,30.62,survey\n", encoding="utf-8")
    res = read_facilities(path, type="aed", crs="gcj02")
    assert [(e.row, e.field) for e in res.errors] == [(3, "type")]
    assert list(res.layer["id"]) == ["aed-1", "aed-2"]
    assert set(res.layer["source"]) == {"survey"}
    wlon, wlat = gcj02_to_wgs84(114.30, 30.60)
    assert res.layer["lon"].iloc[0] == pytest.approx(wlon, abs=1e-12)
    assert res.layer["lat"].iloc[0] == pytest.approx(wlat, abs=1e-12)
    assert abs(res.layer["lon"].iloc[0] - 114.30) > 1e-3  # really converted


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(GeoserviceError, match="allowed") as info:
        validate_records([], type="cathlab")
    assert info.value.field == "type"
    with pytest.raises(GeoserviceError, match="gcj02") as info:
        validate_records([], crs="mars")
    assert info.value.field == "crs"


def test_schema_constants():
    assert set(LEVELS) == set(FACILITY_TYPES)
    assert LEVELS["chest_pain_center"] == ("standard", "basic")
    assert LEVELS["grassroots_unit"] == ()


# --------------------------------------------------------------------------- API records


def test_validate_records_shares_the_file_rules():
    good = {"type": "stroke_center", "name": "湖北省人民医院", "level": "advanced",
            "capabilities": ["ivt", "evt"], "lng": 114.30, "lat": 30.55,
            "source": "api:user-7", "demo": True}
    res = validate_records([good], crs="bd09")
    assert res.ok and len(res.layer) == 1
    row = res.layer.iloc[0]
    assert row["id"] == "stroke_center-1" and row["capabilities"] == "evt,ivt"
    assert row["lon"] == pytest.approx(float(bd09_to_wgs84(114.30, 30.55)[0]))
    bad = dict(good, level="basic", source=None, lng=None)
    res = validate_records([bad])
    assert [(e.row, e.field) for e in res.errors] == [(1, "lng"), (1, "level"), (1, "source")]
    assert len(res.layer) == 0 and list(res.layer.columns) == [*COLUMNS, "geometry"]


# --------------------------------------------------------------------------- round trips


def _sample_layer():
    recs = [
        {"id": "cpc-1", "type": "chest_pain_center", "name": "武汉亚洲心脏病医院",
         "level": "standard", "status": "certified", "admin_code": "420103",
         "address": "武汉市江汉区京汉大道753号", "lon": 114.27, "lat": 30.58, "demo": True,
         "source": "demo designation"},
        {"id": "sc-1", "type": "stroke_center", "name": "同济医院", "level": "advanced",
         "capabilities": "ivt,evt", "door_to_needle_min": 38.5, "lon": 114.26, "lat": 30.58,
         "source": "test"},
        {"id": "aed-1", "type": "aed", "name": "地铁站AED", "opening_hours": "Mo-Su 06:00-23:00",
         "access": "public", "lon": 114.31, "lat": 30.59, "source": "test"},
    ]
    res = validate_records(recs)
    assert res.ok, res.errors
    return res.layer


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv"])
def test_write_then_read_round_trip(tmp_path, suffix):
    layer = _sample_layer()
    path = write_layer(layer, tmp_path / f"layer{suffix}")
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left
    back = read_facilities(path)
    assert back.errors == []
    cols = [c for c in COLUMNS if c != "source"]
    pd.testing.assert_frame_equal(pd.DataFrame(back.layer[cols]), pd.DataFrame(layer[cols]),
                                  check_exact=False, atol=1e-9)
    assert list(back.layer["source"]) == list(layer["source"])


@pytest.mark.parametrize("suffix, cls, method", [(".gpkg", gpd.GeoDataFrame, "to_file"),
                                                 (".csv", pd.DataFrame, "to_csv")])
def test_write_is_atomic(tmp_path, monkeypatch, suffix, cls, method):
    path = tmp_path / f"layer{suffix}"
    write_layer(_sample_layer(), path)
    before = path.read_bytes()

    def broken(self, filename, *a, **k):
        with open(filename, "w") as f:
            f.write("half written")
        raise OSError("disk full")

    monkeypatch.setattr(cls, method, broken)
    with pytest.raises(OSError, match="disk full"):
        write_layer(_sample_layer().iloc[:1], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.parametrize("name, content, field", [
    ("missing.csv", None, "file"),
    ("facilities.xlsx", b"PK\x03\x04", "file"),
    ("broken.geojson", b'{"type": "FeatureCollection", "features": [ {', "file"),
    ("nocoords.csv", "name,address\n协和医院,解放大道1277号\n".encode(), "lon_col"),
    ("nolat.csv", "name,lon\n协和医院,114.3\n".encode(), "lat_col"),
    ("empty.csv", b"", "file"),
])
def test_unreadable_files_raise_one_line_error(tmp_path, name, content, field):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FacilityFileError) as info:
        read_facilities(path, type="hospital")
    msg = str(info.value)
    assert name in msg and "\n" not in msg
    # the field names the argument to change, so a face can name its own flag (--lon-col)
    assert isinstance(info.value, GeoserviceError) and info.value.field == field
    assert "lon_col" not in msg and "lat_col" not in msg and "=" not in msg


# --------------------------------------------------------------------------- opening hours

MON = datetime(2024, 7, 15)  # a Monday


@pytest.mark.parametrize("spec, when, expected", [
    ("24/7", MON.replace(hour=3), True),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00", MON.replace(hour=9), True),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00", MON.replace(hour=19), False),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00", MON + timedelta(days=5, hours=10), True),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00", MON + timedelta(days=5, hours=13), False),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00", MON + timedelta(days=6, hours=10), False),
    ("Mo-Su 07:00-22:00", MON.replace(hour=23), False),
    ("Mo-Su 07:00-22:00", MON + timedelta(days=6, hours=7), True),
    ("Mo,We,Fr 08:00-12:00", MON + timedelta(days=1, hours=9), False),
    ("Mo,We,Fr 08:00-12:00", MON + timedelta(days=2, hours=9), True),
    ("off", MON.replace(hour=12), False),
    ("22:00-02:00", MON.replace(hour=23, minute=30), True),
    ("22:00-02:00", MON.replace(hour=1), True),
    ("22:00-02:00", MON.replace(hour=3), False),
    # PH ignored: China's National Day (a Tuesday) is an ordinary weekday here
    ("Mo-Fr 08:00-18:00; PH off", datetime(2024, 10, 1, 10), True),
    (None, MON, None),
    ("", MON, None),
    ("open when the guard is there", MON, None),
    ("Mo-Fr 08:00-25:99", MON.replace(hour=9), None),
])
def test_is_open(spec, when, expected):
    assert is_open(spec, when) is expected


def test_is_open_takes_aware_datetimes_by_wall_clock():
    cst = timezone(timedelta(hours=8))
    assert is_open("Mo-Fr 08:00-18:00", datetime(2024, 7, 15, 9, tzinfo=cst)) is True
    assert is_open("Mo-Fr 08:00-18:00", datetime(2024, 7, 15, 19, tzinfo=cst)) is False


# --------------------------------------------------------------------------- OpenStreetMap


def test_osm_monaco_aeds(demo_data):
    pois = read_osm_pois(demo_data / "monaco" / "monaco.osm.pbf")
    aeds = pois[pois["type"] == "aed"]
    assert len(aeds) == 5
    assert aeds["id"].str.match(r"^osm-node-\d+$").all()
    assert (aeds["source"] == OSM_SOURCE).all()
    assert aeds["level"].isna().all() and aeds["name"].str.len().gt(0).all()
    assert list(pois.columns) == [*COLUMNS, "geometry"] and pois.crs.to_epsg() == 4326
    assert pois.attrs["errors"] == []
    # Monaco: everything within a few km of 7.42E 43.74N
    assert pois["lon"].between(7.2, 7.7).all() and pois["lat"].between(43.6, 43.9).all()


def test_osm_andorra_hospitals(demo_data):
    pois = read_osm_pois(demo_data / "andorra" / "andorra.osm.pbf")
    hosp = pois[pois["type"] == "hospital"]
    assert len(hosp) == 7
    assert set(hosp["level"]) == {"hospital"}
    assert "osm-way-194554955" in set(hosp["id"])  # a hospital mapped as a building outline
    way = hosp.set_index("id").loc["osm-way-194554955"]
    assert 1.4 < way["lon"] < 1.8 and 42.4 < way["lat"] < 42.7
    assert hosp["id"].is_unique


def test_osm_bad_file_raises(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(FacilityFileError, match="bad.osm.pbf"):
        read_osm_pois(bad)
