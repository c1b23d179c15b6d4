"""The facility ``capacity`` field (issue 23): read from files, checked (a positive number, else
an error naming the field), kept through the registry, and used as E2SFCA supply."""

from __future__ import annotations

import math

import pytest

from geoservice.service.registry.store import layer_from_records
from geoservice.sources.facility_files import read_facilities
from geoservice.sources.facility_rows import validate_records
from geoservice.sources.schema import COLUMNS

CSV = """\
id,type,name,level,capacity,lon,lat
c1,chest_pain_center,甲医院,standard,3,121.47,31.23
c2,chest_pain_center,乙医院,basic,,121.48,31.22
c3,chest_pain_center,丙医院,basic,0,121.46,31.21
c4,chest_pain_center,丁医院,basic,-2,121.45,31.24
c5,chest_pain_center,戊医院,basic,many,121.44,31.25
c6,stroke_center,己医院,center,12.5,121.43,31.26
"""


def test_capacity_read_and_checked(tmp_path):
    path = tmp_path / "centers.csv"
    path.write_text(CSV, encoding="utf-8")
    res = read_facilities(path, source="test")
    assert [(e.row, e.field) for e in res.errors] == [(3, "capacity"), (4, "capacity"), (5, "capacity")]
    assert "positive number" in res.errors[0].reason and "not a number" in res.errors[2].reason
    layer = res.layer.set_index("id")
    assert "capacity" in COLUMNS and layer["capacity"].dtype == "float64"
    assert layer.loc["c1", "capacity"] == 3.0 and layer.loc["c6", "capacity"] == 12.5
    assert math.isnan(layer.loc["c2", "capacity"])  # none given: counts 1 in the analyses


def test_capacity_through_records_and_the_registry_layer():
    good = validate_records(
        [{"type": "aed", "name": "lobby", "lon": 7.42, "lat": 43.73, "capacity": 2}], source="api"
    ).records
    assert good[0]["capacity"] == 2.0
    layer = layer_from_records([{**good[0], "id": "a"}, {**good[0], "id": "b", "capacity": None}])
    assert layer["capacity"].tolist()[0] == 2.0 and math.isnan(layer["capacity"].tolist()[1])
    bad = validate_records([{"type": "aed", "name": "x", "lon": 7.42, "lat": 43.73, "capacity": "nan?"}], source="api")
    assert [e.field for e in bad.errors] == ["capacity"]


@pytest.mark.parametrize("value", [0, -1, float("inf")])
def test_bad_capacity_names_the_field(value):
    res = validate_records([{"type": "aed", "name": "x", "lon": 7.42, "lat": 43.73, "capacity": value}], source="t")
    assert [e.field for e in res.errors] == ["capacity"]
