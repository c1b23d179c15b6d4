"""The import-layer command: one-line errors naming flags, nothing written on failure, extras and
OSM attribution kept, GeoJSON on stdout without -o."""

from __future__ import annotations

import json

import pytest

from geoservice.sources.osm_pois import OSM_ATTRIBUTION, OSM_SOURCE
from geoservice.sources.schema import COLUMNS

AEDS_CSV = (
    "id,name,lon,lat,opening_hours,source,phone\n"
    "1,Gare,7.42,43.73,24/7,OpenStreetMap (ODbL),+377 1\n"
    "2,Bad,abc,43.7,,survey,\n"
    "3,Hours,7.43,43.74,Mo-Fr 9-17,survey,\n"
    "4,Port,7.425,43.735,,survey,+377 4\n"
)


def _cli(capsys, *args):
    from geoservice.faces.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_layer_without_type_fails_naming_the_flag(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text(AEDS_CSV, encoding="utf-8")
    out = tmp_path / "out.geojson"
    code, stdout, err = _cli(capsys, "import-layer", src, "-o", out)
    assert code == 2 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoservice: error: --type: ") and "type=" not in err
    assert list(tmp_path.iterdir()) == [src]  # nothing written


@pytest.mark.parametrize("header, flag", [("name,lat", "--lon-col"), ("name,lon", "--lat-col")])
def test_import_layer_errors_name_the_flags(capsys, tmp_path, header, flag):
    src = tmp_path / "pts.csv"
    src.write_text(f"{header}\nGare,1\n", encoding="utf-8")
    code, _, err = _cli(capsys, "import-layer", src, "--type", "aed")
    assert code == 2 and err.startswith(f"geoservice: error: {flag}: ") and len(err.strip().splitlines()) == 1
    assert "_col" not in err


def test_import_layer_geojson_on_stdout_keeps_extras_and_attribution(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text(AEDS_CSV, encoding="utf-8")
    code, stdout, err = _cli(capsys, "import-layer", src, "--type", "aed")
    assert code == 0, err
    fc = json.loads(stdout)  # only the GeoJSON on stdout; messages on stderr
    assert fc["attribution"] == OSM_ATTRIBUTION  # row 1 comes from OpenStreetMap
    props = [f["properties"] for f in fc["features"]]
    assert [p["id"] for p in props] == ["1", "4"]
    assert list(props[0]) == [*COLUMNS, "phone"] and props[1]["phone"] == "+377 4"
    assert props[0]["source"] == OSM_SOURCE
    lines = err.strip().splitlines()
    assert lines[0].startswith("row 2: lon: ") and lines[1].startswith("row 3: opening_hours: ")
    assert lines[-1] == "2 rows loaded, 2 rejected"


def test_import_layer_strict_or_nothing_loadable_writes_nothing(capsys, tmp_path):
    src = tmp_path / "aeds.csv"
    src.write_text(AEDS_CSV, encoding="utf-8")
    out = tmp_path / "aeds.gpkg"
    code, stdout, err = _cli(capsys, "import-layer", src, "--type", "aed", "--strict", "-o", out)
    assert code == 2 and stdout == "" and not out.exists()
    assert "row 2: lon:" in err and err.strip().splitlines()[-1].startswith("geoservice: error: ")
    code, _, err = _cli(capsys, "import-layer", src, "--type", "aed", "-o", out)
    assert code == 0 and out.exists() and "2 rows loaded, 2 rejected; wrote" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,type,lon,lat\nA,aed,abc,1\nB,cathlab,1,1\n", encoding="utf-8")
    code, stdout, err = _cli(capsys, "import-layer", bad, "-o", tmp_path / "bad.geojson")
    assert code == 2 and "no row" in err and not (tmp_path / "bad.geojson").exists()
