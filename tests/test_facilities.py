"""Facility schema, readers and row-level validation, on real data where it exists."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from datetime import datetime, timedelta, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoservice.errors import GeoserviceError
from geoservice.sources.coords import bd09_to_wgs84, gcj02_to_wgs84
from geoservice.sources.facility_files import FacilityFileError, layer_geojson, read_facilities, write_layer
from geoservice.sources.facility_rows import RowError, validate_records
from geoservice.sources.opening_hours import is_open, opening_hours_error
from geoservice.sources.osm_pois import OSM_ATTRIBUTION, OSM_SOURCE, osm_attribution, read_osm_pois
from geoservice.sources.schema import COLUMNS, FACILITY_TYPES, LEVELS


def _metres(lon1, lat1, lon2, lat2) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
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
    (2, "lon"),
    (3, "lat"),
    (4, "lon"),
    (5, "lat"),
    (6, "lon"),
    (7, "type"),
    (8, "level"),
    (9, "capabilities"),
    (10, "capabilities"),
    (11, "id"),
    (12, "status"),
    (13, "door_to_needle_min"),
    (14, "name"),
    (15, "level"),
    (16, "type"),
    (17, "demo"),
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
    path.write_text(
        "name,type,lng,latitude,source\n"
        "A,aed,114.30,30.60,survey\n"
        "B,,114.31,30.61,survey\n"
        "C,hospital,114.32,30.62,survey\n",
        encoding="utf-8",
    )
    res = read_facilities(path, type="aed", crs="gcj02")
    assert [(e.row, e.field) for e in res.errors] == [(3, "type")]
    assert "'hospital'" in res.errors[0].reason and "type=" not in res.errors[0].reason
    assert list(res.layer["id"]) == ["aed-1", "aed-2"]
    assert set(res.layer["source"]) == {"survey"}
    wlon, wlat = gcj02_to_wgs84(114.30, 30.60)
    assert res.layer["lon"].iloc[0] == pytest.approx(wlon, abs=1e-12)
    assert res.layer["lat"].iloc[0] == pytest.approx(wlat, abs=1e-12)
    assert abs(res.layer["lon"].iloc[0] - 114.30) > 1e-3  # really converted


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_file_without_type_column_needs_a_type(tmp_path, suffix):
    path = tmp_path / f"untyped{suffix}"
    if suffix == ".csv":
        path.write_text("name,lon,lat,source\nGare,7.42,43.73,survey\n", encoding="utf-8")
    else:
        path.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"name": "Gare", "source": "survey"},
                            "geometry": {"type": "Point", "coordinates": [7.42, 43.73]},
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
    with pytest.raises(FacilityFileError) as info:
        read_facilities(path)  # before: every row rejected, an empty layer returned
    assert info.value.field == "type" and path.name in str(info.value)
    assert "type=" not in str(info.value) and "aed" in str(info.value)
    res = read_facilities(path, type="aed")
    assert res.ok and list(res.layer["type"]) == ["aed"]


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
    good = {
        "type": "stroke_center",
        "name": "湖北省人民医院",
        "level": "advanced",
        "capabilities": ["ivt", "evt"],
        "lng": 114.30,
        "lat": 30.55,
        "source": "api:user-7",
        "demo": True,
    }
    res = validate_records([good], crs="bd09")
    assert res.ok and len(res.layer) == 1
    row = res.layer.iloc[0]
    assert row["id"] == "stroke_center-1" and row["capabilities"] == "evt,ivt"
    assert row["lon"] == pytest.approx(float(bd09_to_wgs84(114.30, 30.55)[0]))
    bad = dict(good, level="basic", source=None, lng=None)
    res = validate_records([bad])
    assert [(e.row, e.field) for e in res.errors] == [(1, "lng"), (1, "level"), (1, "source")]
    assert len(res.layer) == 0 and list(res.layer.columns) == [*COLUMNS, "geometry"]


def test_validate_records_gives_exactly_the_schema_columns():
    rec = {
        "type": "aed",
        "name": "Gare",
        "lon": 7.42,
        "lat": 43.73,
        "source": "api:user-7",
        "phone": "+377 1",
        "note": "lobby",
    }
    res = validate_records([rec])
    assert res.ok and list(res.layer.columns) == [*COLUMNS, "geometry"]
    assert res.with_extras() is res.layer  # the registry and the API never see extra keys


# --------------------------------------------------------------------------- extra columns


def test_extra_columns_are_kept_after_the_schema_columns(tmp_path):
    path = tmp_path / "aeds.csv"
    path.write_text(
        "电话,name,lng,lat,备注,type,楼层说明\n"
        "027-1,Gare,114.30,30.60,lobby,aed,1\n"
        "027-2,Bad,abc,30.60,x,aed,2\n"
        "027-3,Mall,114.31,30.61,,aed,B1\n",
        encoding="utf-8",
    )
    res = read_facilities(path, source="survey")
    assert [(e.row, e.field) for e in res.errors] == [(2, "lng")]
    assert list(res.layer.columns) == [*COLUMNS, "geometry"]  # what validate_records users expect
    full = res.with_extras()
    assert list(full.columns) == [*COLUMNS, "电话", "备注", "楼层说明", "geometry"]  # input order
    assert list(full["电话"]) == ["027-1", "027-3"] and list(full["楼层说明"]) == ["1", "B1"]
    assert full["备注"].iloc[0] == "lobby" and pd.isna(full["备注"].iloc[1])
    for suffix in (".geojson", ".gpkg", ".csv"):  # and kept through every format
        back = read_facilities(write_layer(full, tmp_path / f"out{suffix}"))
        assert back.errors == [], suffix
        assert list(back.with_extras().columns) == list(full.columns), suffix
        assert list(back.with_extras()["电话"]) == ["027-1", "027-3"], suffix


def test_osm_attribution_goes_into_geojson_and_geopackage(tmp_path):
    layer = _sample_layer()
    assert osm_attribution(layer["source"]) is None  # nothing from OSM: nothing claimed
    assert "attribution" not in json.loads(layer_geojson(layer))
    layer.loc[0, "source"] = OSM_SOURCE
    attribution = osm_attribution(layer["source"])
    assert attribution == OSM_ATTRIBUTION
    fc = json.loads(write_layer(layer, tmp_path / "l.geojson", attribution=attribution).read_text())
    assert fc["attribution"] == OSM_ATTRIBUTION and len(fc["features"]) == 3
    gpkg = write_layer(layer, tmp_path / "l.gpkg", attribution=attribution)
    with sqlite3.connect(gpkg) as db:
        assert db.execute("SELECT description FROM gpkg_contents WHERE table_name = 'l'").fetchone() == (
            OSM_ATTRIBUTION,
        )


# --------------------------------------------------------------------------- round trips


def _sample_layer():
    recs = [
        {
            "id": "cpc-1",
            "type": "chest_pain_center",
            "name": "武汉亚洲心脏病医院",
            "level": "standard",
            "status": "certified",
            "admin_code": "420103",
            "address": "武汉市江汉区京汉大道753号",
            "lon": 114.27,
            "lat": 30.58,
            "demo": True,
            "source": "demo designation",
        },
        {
            "id": "sc-1",
            "type": "stroke_center",
            "name": "同济医院",
            "level": "advanced",
            "capabilities": "ivt,evt",
            "door_to_needle_min": 38.5,
            "lon": 114.26,
            "lat": 30.58,
            "source": "test",
        },
        {
            "id": "aed-1",
            "type": "aed",
            "name": "地铁站AED",
            "opening_hours": "Mo-Su 06:00-23:00",
            "access": "public",
            "lon": 114.31,
            "lat": 30.59,
            "source": "test",
        },
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
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.layer[cols]), pd.DataFrame(layer[cols]), check_exact=False, atol=1e-9
    )
    assert list(back.layer["source"]) == list(layer["source"])


@pytest.mark.parametrize(
    "suffix, cls, method", [(".gpkg", gpd.GeoDataFrame, "to_file"), (".csv", pd.DataFrame, "to_csv")]
)
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


@pytest.mark.parametrize(
    "name, content, field",
    [
        ("missing.csv", None, "file"),
        ("facilities.xlsx", b"PK\x03\x04", "file"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [ {', "file"),
        ("nocoords.csv", "name,address\n协和医院,解放大道1277号\n".encode(), "lon_col"),
        ("nolat.csv", "name,lon\n协和医院,114.3\n".encode(), "lat_col"),
        ("empty.csv", b"", "file"),
    ],
)
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


@pytest.mark.parametrize(
    "spec, when, expected",
    [
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
    ],
)
def test_is_open(spec, when, expected):
    assert is_open(spec, when) is expected


def test_unreadable_opening_hours_are_row_errors(tmp_path):
    path = tmp_path / "aeds.csv"
    path.write_text(
        "id,name,lon,lat,opening_hours,source\n"
        "a1,Gare,7.42,43.73,24/7,survey\n"
        "a2,Mairie,7.42,43.73,Mo-Fr 9-17,survey\n"
        "a3,Port,7.42,43.73,open when the guard is there,survey\n"
        "a4,Plage,7.42,43.73,,survey\n",
        encoding="utf-8",
    )
    res = read_facilities(path, type="aed")
    assert [(e.row, e.field) for e in res.errors] == [(2, "opening_hours"), (3, "opening_hours")]
    reason = res.errors[0].reason
    assert "'Mo-Fr 9-17'" in reason and "character 7" in reason and "\n" not in reason
    assert list(res.layer["id"]) == ["a1", "a4"]
    assert res.layer.set_index("id").loc["a4", "opening_hours"] is None  # missing stays unknown
    # the API path (validate_records, a 422 there) shares the rule
    api = validate_records(
        [{"type": "aed", "name": "x", "lon": 7.42, "lat": 43.73, "source": "api", "opening_hours": "Mo-Fr 08:00-25:99"}]
    )
    assert [(e.row, e.field) for e in api.errors] == [(1, "opening_hours")]
    assert opening_hours_error("Mo-Fr 08:00-18:00; PH off") is None
    assert opening_hours_error('Mo-Su 07:00-22:00 "ask"') is None


@pytest.mark.filterwarnings("ignore:.*httpx2.*")
def test_api_answers_422_for_unreadable_opening_hours(andorra, monaco, tmp_path):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    svc = GeoService([andorra, monaco], registry=Registry(tmp_path / "registry.sqlite"))
    headers = {"X-API-Key": svc.registry.create_key("test-editor", "editor")[1]}
    body = {"type": "aed", "name": "Lobby AED", "lon": 7.4201, "lat": 43.7349, "opening_hours": "Mo-Fr 9-17"}
    with TestClient(create_app(svc)) as client:
        r = client.post("/facilities", json=body, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == "opening_hours", r.text
        assert r.json()["detail"].startswith("opening_hours: cannot read 'Mo-Fr 9-17'")
        r = client.post("/facilities", json={**body, "opening_hours": "Mo-Fr 09:00-17:00"}, headers=headers)
        assert r.status_code == 201, r.text


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


def test_osm_garbled_opening_hours_keep_the_aed_with_unknown_hours(tmp_path):
    osm = tmp_path / "aeds.osm"
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        '<node id="1" lat="43.73" lon="7.42" version="1"><tag k="emergency" v="defibrillator"/>'
        '<tag k="opening_hours" v="when the shop is open"/></node>\n'
        '<node id="2" lat="43.74" lon="7.43" version="1"><tag k="emergency" v="defibrillator"/>'
        '<tag k="opening_hours" v="24/7"/></node>\n</osm>\n',
        encoding="utf-8",
    )
    pois = read_osm_pois(osm).set_index("id")
    assert list(pois.index) == ["osm-node-1", "osm-node-2"]
    assert pois.loc["osm-node-1", "opening_hours"] is None and pois.loc["osm-node-2", "opening_hours"] == "24/7"
    [note] = pois.attrs["errors"]
    assert note.field == "opening_hours" and "osm-node-1" in note.reason and "unknown" in note.reason


def test_osm_bad_file_raises(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(FacilityFileError, match="bad.osm.pbf"):
        read_osm_pois(bad)
