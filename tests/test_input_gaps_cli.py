"""Input gaps of the command line (issue 18, item 6): bad input is one line ``geoservice: error: …``
with exit status 2, never a traceback, and leaves nothing behind.

* ``import-layer --strict`` refuses a header-only file and points far outside ``--region`` (lon
  and lat swapped outside China: both readings are valid coordinates), caps names as the API
  does, refuses control characters as every face does, and prints at most the first 50 row
  problems with a count;
* ``matrix`` (and ``dispatch --responders``) refuse duplicate or empty ids; a failed matrix run
  leaves no output folder behind;
* ``certify`` refuses decision dates that are no day, and writes CSV a spreadsheet opens as text
  (no formula injection in ``unresolved.csv``), as every CSV writer of geoservice does.
"""

from __future__ import annotations

import csv
import json

import pytest

from geoservice.faces.cli import main

MONACO_CSV = "id,name,lon,lat,source\n1,Gare,7.42,43.73,survey\n2,Port,7.425,43.735,survey\n"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("geoservice: error: ") and "Traceback" not in err
    return last


# --------------------------------------------------------------------------- import-layer
def test_import_layer_strict_refuses_a_header_only_file(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text("id,name,lon,lat,source\n", encoding="utf-8")
    out = tmp_path / "aeds.geojson"
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict", "-o", out)
    assert "no rows below the header; nothing written" in one_line_error(code, err)
    assert not out.exists()
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "-o", out)  # without --strict: said
    assert code == 0 and "WARNING" in err and "no rows below the header" in err


def test_import_layer_strict_refuses_lon_lat_swapped_outside_china(capsys, tmp_path, regions_dir):
    # row 3 has lon and lat swapped: (43.735, 7.425) is a valid point, in Ethiopia, 4,000 km away
    src = tmp_path / "aeds.csv"
    src.write_text(MONACO_CSV + "3,Swapped,43.735,7.425,survey\n", encoding="utf-8")
    out = tmp_path / "aeds.geojson"
    args = ["import-layer", src, "--type", "aed", "--region", regions_dir / "monaco", "-o", out]
    code, _, err = run(capsys, *args, "--strict")
    assert "1 bad rows" in one_line_error(code, err) and not out.exists()
    assert "row 3: lon,lat: (43.735000, 7.425000) is outside region 'monaco'; lon/lat look swapped" in err
    code, _, err = run(capsys, *args)  # without --strict the row is left out, as the API's import does
    assert code == 0 and "2 rows loaded, 1 rejected" in err
    assert [f["properties"]["id"] for f in json.loads(out.read_text())["features"]] == ["1", "2"]


def test_import_layer_caps_names_as_the_api_does(capsys, tmp_path):
    from geoservice.faces.api.schemas import FacilityIn

    limit = FacilityIn.model_json_schema()["properties"]["name"]["anyOf"][0]["maxLength"]
    src = tmp_path / "aeds.csv"
    src.write_text(MONACO_CSV + f"3,{'N' * (limit + 1)},7.421,43.731,survey\n", encoding="utf-8")
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict")
    one_line_error(code, err)
    assert f"row 3: name: at most {limit} characters, got {limit + 1}" in err


def test_import_layer_refuses_control_characters_as_the_api_does(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_bytes((MONACO_CSV + "3,Lob\x00by,7.421,43.731,survey\n4,Hall,7.422,43.732,sur\x1bvey\n").encode())
    out = tmp_path / "aeds.gpkg"
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict", "-o", out)
    one_line_error(code, err)
    assert "row 3: name: contains a control character (U+0000 NUL) at character 4" in err
    assert "row 4: source: contains a control character (U+001B escape)" in err and not out.exists()


def test_import_layer_prints_at_most_50_row_problems_with_a_count(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text("id,name,lon,lat\n" + "".join(f"{i},AED {i},east,43.7\n" for i in range(1, 121)), encoding="utf-8")
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict")
    one_line_error(code, err)
    rows = [line for line in err.splitlines() if line.startswith("row ")]
    assert len(rows) == 50 and rows[0].startswith("row 1: lon: ") and rows[-1].startswith("row 50: ")
    assert "... and 70 more problems not shown (120 in all, in 120 rows)" in err
    assert "(120 bad rows, listed above); nothing written" in err.strip().splitlines()[-1]


def test_facility_csv_is_spreadsheet_safe_and_reads_back(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text(
        'id,name,lon,lat,source,phone\n1,"=HYPERLINK(""http://x"",""y"")",7.42,43.73,@survey,+377 1\n'
        "2,-Port,-7.425,43.735,survey,-1\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "import-layer", src, "--type", "aed", "--strict", "-o", out)
    assert code == 0, err
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["name"] == '\'=HYPERLINK("http://x","y")' and rows[0]["source"] == "'@survey"
    assert rows[0]["phone"] == "'+377 1" and rows[1]["name"] == "'-Port"
    assert rows[1]["lon"] == "-7.425" and rows[1]["phone"] == "-1"  # numbers stay numbers
    code, stdout, err = run(capsys, "import-layer", out, "--strict")  # read back as written
    assert code == 0, err
    props = [f["properties"] for f in json.loads(stdout)["features"]]
    assert [p["name"] for p in props] == ['=HYPERLINK("http://x","y")', "-Port"]
    assert props[0]["source"] == "@survey" and props[0]["phone"] == "+377 1"


# --------------------------------------------------------------------------- matrix
@pytest.mark.parametrize(
    "points, problem",
    [
        ("id,lon,lat\na,1.5212,42.5069\na,1.5836,42.5359\n", "row 2: duplicate id 'a' (first at row 1)"),
        ("id,lon,lat\na,1.5212,42.5069\n,1.5836,42.5359\n", "row 2: id: empty id"),
        ("id,lon,lat\na,1.5212,42.5069\n  ,1.5836,42.5359\n", "row 2: id: empty id"),
    ],
    ids=["duplicate", "empty", "blank"],
)
def test_matrix_refuses_duplicate_or_empty_ids(capsys, tmp_path, regions_dir, points, problem):
    good = tmp_path / "good.csv"
    good.write_text("id,lon,lat\no1,1.5212,42.5069\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(points, encoding="utf-8")
    out = tmp_path / "m.csv"
    args = ["matrix", "--region", regions_dir / "andorra", "--origins", good, "--destinations", bad, "-o", out]
    line = one_line_error(*run(capsys, *args)[::2])
    assert line.startswith("geoservice: error: --destinations: ") and problem in line and not out.exists()
    # the responders of a dispatch are read the same way
    args = ["dispatch", "--region", regions_dir / "andorra", "--lon", 1.5212, "--lat", 42.5069, "--responders", bad]
    line = one_line_error(*run(capsys, *args)[::2])
    assert line.startswith("geoservice: error: --responders: ") and problem in line


def test_failed_matrix_creates_no_output_folder(capsys, tmp_path, regions_dir):
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\na,1.52,42.50\nb,1.0,42.5\n", encoding="utf-8")  # b is 35 km from any road
    out = tmp_path / "new" / "folder" / "m.csv"
    args = ["matrix", "--region", regions_dir / "andorra", "--origins", pts, "--destinations", pts, "-o", out]
    line = one_line_error(*run(capsys, *args)[::2])
    assert "row 2: point (1.000000, 42.500000)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pts.csv"]  # neither new/ nor new/folder/


# --------------------------------------------------------------------------- certify
def _certify(capsys, tmp_path, real_data, names: str, header="batch,decision_date,hospital_name_as_published"):
    lst = tmp_path / "names.csv"
    lst.write_text(header + "\n" + names, encoding="utf-8")
    out, unresolved = tmp_path / "m.csv", tmp_path / "u.csv"
    code, stdout, err = run(
        capsys, "certify", "--list", lst, "--facilities", real_data / "shanghai" / "shanghai_hospitals_osm.csv",
        "--type", "chest_pain_center", "--level", "basic", "--out", out, "--unresolved", unresolved,
    )  # fmt: skip
    return code, stdout, err, out, unresolved


@pytest.mark.parametrize("day", ["2016-02-30", "2016-13-01", "yesterday", "0", "2016 年 2 月 30 日"])
def test_certify_refuses_invalid_decision_dates(capsys, tmp_path, real_data, day):
    names = f"1,2014-02-12,上海仁爱医院\n2,{day},某医院\n"
    code, _, err, out, unresolved = _certify(capsys, tmp_path, real_data, names)
    line = one_line_error(code, err)
    assert line.startswith("geoservice: error: --list: ") and f"row 2: decision_date {day!r}" in line
    assert not out.exists() and not unresolved.exists()


def test_certify_unresolved_csv_is_spreadsheet_safe(capsys, tmp_path, real_data):
    names = '1,2014-02-12,"=HYPERLINK(""http://evil"",""click"")"\n2,2014-02-12,@SUM(1+1)\n3,2014-2-6,+86 医院\n'
    code, stdout, err, _, unresolved = _certify(capsys, tmp_path, real_data, names)
    assert code == 0, err
    with open(unresolved, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["published_name"] for r in rows] == ['\'=HYPERLINK("http://evil","click")', "'@SUM(1+1)", "'+86 医院"]
    assert [r["decision_date"] for r in rows] == ["2014-02-12", "2014-02-12", "2014-02-06"]
    for r in rows:
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in r.values()), r
