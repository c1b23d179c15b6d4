"""A facility file in the wrong coordinate system is caught against real roads: points taken from
the Shanghai/Huangpu extract's drive network (Chinese roads, WGS-84), written as WGS-84, shifted
to GCJ-02 or BD-09 but declared WGS-84, or declared correctly. Plus the row errors for (0, 0)
and swapped lon/lat."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from geoservice.bundle.build import build_region
from geoservice.bundle.store import load_region
from geoservice.errors import GeoserviceError
from geoservice.sources.coords import wgs84_to_bd09, wgs84_to_gcj02
from geoservice.sources.crs_check import MIN_POINTS, check_crs, network_distances
from geoservice.sources.facility_files import read_facilities
from geoservice.sources.facility_rows import validate_records


@pytest.fixture(scope="module")
def huangpu(real_data, tmp_path_factory):
    """The Huangpu bundle without facility files, and 10 real road points of its drive network."""
    out = build_region(real_data / "osm" / "shanghai-huangpu.osm", tmp_path_factory.mktemp("hp") / "hp", quiet=True)
    net = load_region(out).networks["drive"]
    idx = np.linspace(0, net.n_nodes - 1, 10).astype(int)  # nodes are in Z-order: spread over the district
    return out, net, net.node_lon[idx].copy(), net.node_lat[idx].copy()


def _csv(path, lon, lat):
    rows = [f"h{i},Hospital {i},hospital,{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    path.write_text("id,name,type,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _build(real_data, out, csv, crs, **kw):
    return build_region(
        real_data / "osm" / "shanghai-huangpu.osm", out, facilities=[(csv, {"crs": crs})], quiet=True, **kw
    )


def _checks(out):
    return json.loads((out / "meta.json").read_text(encoding="utf-8"))["facility_checks"]


CASES = {  # written as → (declared, the system the check should name, or None)
    "wgs84": ("wgs84", None),
    "gcj02-as-wgs84": ("wgs84", "gcj02"),
    "bd09-as-wgs84": ("wgs84", "bd09"),
    "gcj02": ("gcj02", None),
    "bd09": ("bd09", None),
}


@pytest.mark.parametrize("case", CASES)
def test_build_names_the_likely_system_on_real_roads(huangpu, real_data, tmp_path, caplog, case):
    _, _, lon, lat = huangpu
    written = case.split("-")[0]
    shift = {"wgs84": lambda x, y: (x, y), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}[written]
    csv = _csv(tmp_path / "hospitals.csv", *shift(lon, lat))
    declared, likely = CASES[case]
    with caplog.at_level(logging.WARNING, logger="geoservice"):
        out = _build(real_data, tmp_path / "b", csv, declared)
    (check,) = _checks(out)
    assert check["file"] == "hospitals.csv" and check["declared"] == declared and check["points_checked"] == 10
    assert check["likely"] == likely
    med = check["median_m"]
    warned = [r for r in caplog.records if "probably" in r.getMessage()]
    if likely is None:
        assert check["warning"] is None and not warned
        assert med[declared] < 1.0  # the points are road points
    else:
        assert med[likely] < 1.0 and med[declared] >= 30.0
        msg = check["warning"]
        assert len(warned) == 1 and warned[0].getMessage() == msg and "\n" not in msg
        assert msg.startswith("hospitals.csv: declared wgs84: median ")
        assert f"pass --crs {likely}" in msg and {"gcj02": "GCJ-02", "bd09": "BD-09"}[likely] in msg
    # the loaded facilities are where the declared system puts them (the check changes nothing)
    fac = load_region(out).facilities
    assert len(fac[fac["id"].str.startswith("h")]) == 10


def test_strict_build_fails_and_keeps_the_old_bundle(huangpu, real_data, tmp_path, capsys, caplog):
    from geoservice.faces.cli import main

    _, _, lon, lat = huangpu
    good = _csv(tmp_path / "good.csv", lon, lat)
    out = _build(real_data, tmp_path / "b", good, "wgs84", strict=True)
    before = (out / "meta.json").read_bytes()
    shifted = _csv(tmp_path / "amap.csv", *wgs84_to_gcj02(lon, lat))
    with pytest.raises(GeoserviceError) as exc:
        _build(real_data, out, shifted, "wgs84", strict=True)
    assert exc.value.field == "crs" and "probably GCJ-02" in exc.value.message
    osm = str(real_data / "osm" / "shanghai-huangpu.osm")
    code = main(["build", "--osm", osm, "--facilities", str(shifted), "--out", str(out), "--strict", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("geoservice: error: --crs: amap.csv: declared wgs84: median ")
    # a bad row fails a strict build too, naming --facilities
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text(encoding="utf-8") + "h99,Null Island,hospital,0,0\n", encoding="utf-8")
    code = main(["build", "--osm", osm, "--facilities", str(bad), "--out", str(out), "--strict", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == "geoservice: error: --facilities: bad.csv: 1 bad row (listed above); nothing built"
    assert "bad.csv row 11: lon: (0, 0) is not a real location" in caplog.text  # logged: one line on stderr
    assert (out / "meta.json").read_bytes() == before
    # without --strict both are warnings and the bundle is built
    assert main(["build", "--osm", osm, "--facilities", str(shifted), "--out", str(out), "--quiet"]) == 0
    assert _checks(out)[0]["likely"] == "gcj02"


def test_outside_china_never_warns(andorra, demo_data):
    """The Andorra demo: its designations file is checked like any other and gives no figures
    (no shift exists outside China), even against a 'road' that a shift would fit perfectly."""
    assert andorra.meta["facility_checks"] == []
    res = read_facilities(demo_data / "andorra" / "demo_designations.csv")
    lon, lat = res.layer["lon"].to_numpy(), res.layer["lat"].to_numpy()
    assert len(lon) >= MIN_POINTS
    assert check_crs(lon, lat, "wgs84", lambda x, y: np.full(len(x), 500.0)) is None
    assert check_crs(lon, lat, "wgs84", network_distances(andorra.networks["drive"])) is None


def test_points_off_the_network_or_too_few_say_nothing(huangpu):
    _, net, lon, lat = huangpu
    dist = network_distances(net)
    # Wuhan hospitals against Shanghai roads: nowhere near, nothing to judge
    assert check_crs(lon + 7.0, lat - 0.6, "wgs84", dist) is None
    # fewer than MIN_POINTS points: figures, but no warning
    g = wgs84_to_gcj02(lon[: MIN_POINTS - 1], lat[: MIN_POINTS - 1])
    few = check_crs(*g, "wgs84", dist)
    assert few is not None and few.points == MIN_POINTS - 1 and few.warning is None
    # a file that covers more than the region is judged by the part the region holds
    gx, gy = wgs84_to_gcj02(lon, lat)
    mixed = check_crs(np.r_[gx, gx + 7.0], np.r_[gy, gy - 0.6], "wgs84", dist, label="f.csv")
    assert mixed is not None and mixed.points == 10 and mixed.likely == "gcj02"


def test_network_distances_match_the_engine_snap(huangpu):
    from geoservice.engine.router import Router

    _, net, lon, lat = huangpu
    x, y = wgs84_to_bd09(lon, lat)  # off the road by a few hundred metres
    snaps = Router(net).snap_many(x, y, strict=False, max_snap_m=2000)
    assert network_distances(net)(x, y) == pytest.approx([s.dist_m for s in snaps], abs=1e-6)


# --------------------------------------------------------------------------- row errors


def _one_error(rec):
    res = validate_records([{"name": "A", "type": "hospital", "source": "test", **rec}])
    assert len(res.layer) == 0 and len(res.errors) == 1
    return res.errors[0]


@pytest.mark.parametrize("lon,lat", [(0, 0), ("0.0", "0"), (0.0, -0.0)])
def test_zero_zero_is_a_row_error(lon, lat):
    e = _one_error({"lon": lon, "lat": lat})
    assert (e.row, e.field) == (1, "lon") and e.reason.startswith("(0, 0) is not a real location")


def test_swapped_lon_lat_is_named_when_unambiguous():
    e = _one_error({"lng": 30.59, "lat": 114.31})  # Wuhan, columns swapped
    assert e.field == "lat"
    assert e.reason.startswith(
        "latitude 114.31 outside [-90, 90]; lon/lat look swapped (meant as lon 114.31, lat 30.59)"
    )
    assert "longitudes in lng, latitudes in lat" in e.reason
    # not swappable: no guess
    e = _one_error({"lon": 120.0, "lat": 100.0})
    assert "swapped" not in e.reason
    # valid both ways (e.g. 40, 80 read either way): taken as given
    assert validate_records([{"name": "A", "type": "hospital", "source": "t", "lon": 40, "lat": 80}]).ok
    # one zero is a real place (the equator, the prime meridian)
    assert validate_records([{"name": "A", "type": "hospital", "source": "t", "lon": 0, "lat": 51.48}]).ok


def test_file_rows_report_swaps_and_zeros(tmp_path):
    src = tmp_path / "f.csv"
    src.write_text(
        "name,type,lon,lat\nOk,hospital,114.31,30.59\nSwapped,hospital,30.59,114.31\nZero,hospital,0,0\n",
        encoding="utf-8",
    )
    res = read_facilities(src, crs="bd09")
    assert len(res.layer) == 1
    assert [(e.row, e.field) for e in res.errors] == [(2, "lat"), (3, "lon")]
    assert "lon/lat look swapped" in res.errors[0].reason


# --------------------------------------------------------------------------- import-layer --region


def test_import_layer_with_region_warns_and_strict_leaves_the_output(huangpu, tmp_path, capsys):
    from geoservice.faces.cli import main

    bundle, _, lon, lat = huangpu
    src = _csv(tmp_path / "amap.csv", *wgs84_to_gcj02(lon, lat))
    out = tmp_path / "out.geojson"
    out.write_bytes(b"previous output\n")

    code = main(["import-layer", str(src), "--region", str(bundle), "--strict", "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("geoservice: error: --crs: amap.csv: declared wgs84: median ")
    assert "probably GCJ-02; pass --crs gcj02" in err[0] and err[0].endswith("nothing written")
    assert out.read_bytes() == b"previous output\n"

    code = main(["import-layer", str(src), "--region", str(bundle), "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0 and err[0].startswith("geoservice: WARNING: amap.csv: declared wgs84: median ")
    assert "pass --crs gcj02" in err[0] and err[-1].startswith("10 rows loaded")

    code = main(["import-layer", str(src), "--region", str(bundle), "--crs", "gcj02", "--strict", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "WARNING" not in err
    feats = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert np.allclose([f["geometry"]["coordinates"] for f in feats], np.c_[lon, lat], atol=1e-7)


def test_import_layer_region_far_away_is_an_error(huangpu, real_data, capsys):
    """Wuhan's BD-09 hospitals against the Shanghai roads: no point near them in any reading is an
    error (a file of another region), with or without --strict."""
    from geoservice.faces.cli import main

    bundle = huangpu[0]
    src = real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv"
    code = main(["import-layer", str(src), "--type", "hospital", "--lon-col", "lng", "--region", str(bundle)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("geoservice: error: FILE: wuhan_hospitals_2020_bd09.csv: none of its ")
    assert "within 2 km of the roads of region" in err[-1] and "another region" in err[-1]
