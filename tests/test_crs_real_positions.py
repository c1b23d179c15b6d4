"""A misplaced facility file is caught on real positions (issue 17, item 4).

The 131 real OSM hospitals of the central Shanghai demo (``geoservice/data/shanghai/facilities.csv``)
are shifted to GCJ-02 and to BD-09 by this file's own implementation of the public formulas (not
the product's ``sources.coords``). Hospitals are campus centres 50-60 m from a road, so the roads
cannot tell a shifted file from a right one; their names can: declared WGS-84, the shifted files
are refused with ``--strict`` by ``build``, ``import-layer`` and ``POST /facilities/import``,
naming the system; declared right, and the WGS-84 file as it is, they pass. Wuhan's hospitals on
the Shanghai region are an error everywhere, and a file with lon/lat swapped in every row fails
``build`` as it fails ``import-layer``.

``build`` checks a file against the OSM hospitals of the extract it reads. The demo extract holds
roads only, so the build tests add the real OSM hospitals of the same box
(``tests/data/shanghai/shanghai_hospitals_osm.csv``) to it as nodes, as a full extract has them;
``import-layer`` and the API check against the OSM-sourced facilities of the demo bundle.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from geoservice.faces.cli import main

# --------------------------------------------------------------------------- the public formulas
# WGS-84 → GCJ-02 (the published "Mars" offset on the Krasovsky ellipsoid) and GCJ-02 → BD-09
# (Baidu's published formula), written here independently of geoservice.sources.coords.

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def _t_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _t_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    d_lat, d_lon = _t_lat(lon - 105.0, lat - 35.0), _t_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = d_lon * 180.0 / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def to_bd09(lon: float, lat: float) -> tuple[float, float]:
    x, y = to_gcj02(lon, lat)
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


SHIFT = {"wgs84": lambda x, y: (x, y), "gcj02": to_gcj02, "bd09": to_bd09}
SYSTEM = {"gcj02": "GCJ-02", "bd09": "BD-09"}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    e = (b[0] - a[0]) * 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot(e, (b[1] - a[1]) * 111_320.0)


def test_own_formulas_give_the_known_offsets():
    """Central Shanghai: GCJ-02 is about 480 m from WGS-84, BD-09 about 1.1 km."""
    p = (121.47, 31.23)
    assert 450 < _metres(p, to_gcj02(*p)) < 520
    assert 1050 < _metres(p, to_bd09(*p)) < 1250


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def hospitals(demo_data) -> list[dict[str, str]]:
    """The 131 hospitals of the Shanghai demo (real OSM positions and names, WGS-84)."""
    with open(demo_data / "shanghai" / "facilities.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["type"] == "hospital"]
    assert len(rows) == 131
    return rows


def _write(path: Path, rows: list[dict[str, str]], written: str, *, prefix: str = "", swap: bool = False) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "type", "lon", "lat"])
        for r in rows:
            x, y = SHIFT[written](float(r["lon"]), float(r["lat"]))
            if swap:
                x, y = y, x
            w.writerow([prefix + r["id"], r["name"], r["type"], f"{x:.7f}", f"{y:.7f}"])
    return path


@pytest.fixture(scope="module")
def files(hospitals, tmp_path_factory) -> dict[str, Path]:
    """The hospitals written in WGS-84, GCJ-02 and BD-09 (own formulas), and swapped."""
    d = tmp_path_factory.mktemp("files")
    out = {c: _write(d / f"hospitals_{c}.csv", hospitals, c) for c in SHIFT}
    out["swapped"] = _write(d / "hospitals_swapped.csv", hospitals, "wgs84", swap=True)
    return out


@pytest.fixture(scope="module")
def wuhan(real_data, tmp_path_factory) -> Path:
    """Wuhan's 2020 hospitals (BD-09 numbers) with a type column, as build needs one."""
    with open(real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    path = tmp_path_factory.mktemp("wuhan") / "wuhan_hospitals.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "type", "lon", "lat"])
        for r in rows:
            w.writerow([r["name"], "hospital", r["lng"], r["lat"]])
    return path


@pytest.fixture(scope="module")
def osm_with_hospitals(demo_data, real_data, tmp_path_factory) -> Path:
    """The demo extract (roads only) with the real OSM hospitals and clinics of its box added as
    nodes (name and amenity tags), as a full OSM extract has them."""
    with open(real_data / "shanghai" / "shanghai_hospitals_osm.csv", encoding="utf-8", newline="") as f:
        pois = [
            r
            for r in csv.DictReader(f)
            if r["in_central_bbox"] == "1" and r["name"] and r["amenity"] in ("hospital", "clinic")
        ]
    nodes = "".join(
        f'  <node id="{90_000_000_000 + i}" lat="{r["lat"]}" lon="{r["lon"]}">'
        f'<tag k="amenity" v="{r["amenity"]}"/><tag k="name" v={quoteattr(r["name"])}/></node>\n'
        for i, r in enumerate(pois)
    )
    text = gzip.decompress((demo_data / "shanghai" / "shanghai-center.osm.gz").read_bytes()).decode("utf-8")
    at = text.index("  <way ")  # nodes before ways, ids ascending
    path = tmp_path_factory.mktemp("osm") / "shanghai-center-hospitals.osm"
    path.write_text(text[:at] + nodes + text[at:], encoding="utf-8")
    return path


def _cli(capsys, *args) -> tuple[int, list[str]]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err.strip().splitlines()


def _checks(out: Path) -> list[dict]:
    return json.loads((out / "meta.json").read_text(encoding="utf-8"))["facility_checks"]


# --------------------------------------------------------------------------- build


@pytest.mark.parametrize("written", ["gcj02", "bd09"])
def test_build_strict_refuses_a_shifted_file_declared_wgs84(osm_with_hospitals, files, tmp_path, capsys, written):
    out = tmp_path / "b"
    code, err = _cli(
        capsys, "build", "--osm", osm_with_hospitals, "--facilities", files[written], "--out", out,
        "--ch", "none", "--strict", "--quiet",
    )  # fmt: skip
    assert code == 2 and not out.exists()
    msg = err[-1]
    assert msg.startswith(f"geoservice: error: --crs: hospitals_{written}.csv: declared wgs84, but ")
    assert "whose names match the OpenStreetMap facilities of shanghai-center-hospitals.osm" in msg
    assert f"the file is probably {SYSTEM[written]}; pass --crs {written}; nothing built" in msg


def test_build_passes_files_declared_right_and_warns_without_strict(osm_with_hospitals, files, tmp_path, capsys):
    from geoservice.bundle.build import build_region

    # --crs gcj02 --strict: built, the names agree
    out = tmp_path / "gcj"
    code, err = _cli(
        capsys, "build", "--osm", osm_with_hospitals, "--facilities", files["gcj02"], "--out", out,
        "--crs", "gcj02", "--ch", "none", "--strict", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    (check,) = _checks(out)
    assert check["evidence"] == "names" and check["likely"] is None and check["warning"] is None
    assert check["names_matched"] >= 120 and check["votes"]["gcj02"] >= 120 and check["median_m"]["gcj02"] < 10

    # in one build: WGS-84 as such and BD-09 as such pass; GCJ-02 declared WGS-84 is a warning
    # without strict, logged and kept in the bundle
    out = build_region(
        osm_with_hospitals,
        tmp_path / "mixed",
        facilities=[(files["wgs84"], {"crs": "wgs84"}), (files["bd09"], {"crs": "bd09"}), (files["gcj02"], {})],
        ch_profiles=(),
        quiet=True,
    )
    by_file = {c["file"]: c for c in _checks(out)}
    for name, declared in (("hospitals_wgs84.csv", "wgs84"), ("hospitals_bd09.csv", "bd09")):
        c = by_file[name]
        assert c["declared"] == declared and c["evidence"] == "names" and c["likely"] is None, c
        assert c["votes"][declared] >= 120 and c["median_m"][declared] < 10
    c = by_file["hospitals_gcj02.csv"]
    assert c["likely"] == "gcj02" and c["evidence"] == "names"
    assert 450 < c["median_m"]["wgs84"] < 520 and c["median_m"]["gcj02"] < 10  # the ~480 m GCJ-02 offset
    assert "probably GCJ-02; pass --crs gcj02" in c["warning"]


def test_build_with_wuhan_hospitals_on_the_shanghai_extract_fails(osm_with_hospitals, wuhan, tmp_path, capsys):
    out = tmp_path / "shanghai-h"  # the region is named after its folder
    code, err = _cli(
        capsys, "build", "--osm", osm_with_hospitals, "--facilities", wuhan, "--out", out, "--ch", "none", "--quiet"
    )
    assert code == 2 and not out.exists()
    assert err[-1].startswith("geoservice: error: --facilities: wuhan_hospitals.csv: none of its 79 points lies ")
    assert "within 2 km of the roads of region 'shanghai-h'" in err[-1]


def test_build_with_lon_lat_swapped_in_every_row_exits_2(demo_data, files, tmp_path, capsys):
    """Fails before the roads are read, with or without --strict, naming the swap (as import-layer)."""
    osm = demo_data / "shanghai" / "shanghai-center.osm.gz"
    for strict in ([], ["--strict"]):
        code, err = _cli(
            capsys, "build", "--osm", osm, "--facilities", files["swapped"], "--out", tmp_path / "b", "--quiet", *strict
        )
        assert code == 2 and not (tmp_path / "b").exists()
        assert err[-1].startswith("geoservice: error: --facilities: hospitals_swapped.csv: lon and lat are swapped ")
        assert "in every row (131 rows; row 1: " in err[-1] and err[-1].endswith("nothing built")
        assert len(err) == 1  # one line for every row: no row listed on its own
    code, err = _cli(capsys, "import-layer", files["swapped"], "-o", tmp_path / "x.geojson")
    assert code == 2 and err[-1].startswith("geoservice: error: ") and not (tmp_path / "x.geojson").exists()
    assert "hospitals_swapped.csv: lon and lat are swapped in every row (131 rows; row 1: " in err[-1]


# --------------------------------------------------------------------------- import-layer


@pytest.mark.parametrize("written", ["gcj02", "bd09"])
def test_import_layer_strict_refuses_and_warns_without(regions_dir, files, tmp_path, capsys, written):
    region = regions_dir / "shanghai"
    out = tmp_path / "out.geojson"
    code, err = _cli(capsys, "import-layer", files[written], "--region", region, "--strict", "-o", out)
    assert code == 2 and len(err) == 1 and not out.exists()
    assert err[0].startswith(f"geoservice: error: --crs: hospitals_{written}.csv: declared wgs84, but ")
    assert "the OpenStreetMap facilities of region shanghai" in err[0]
    assert f"probably {SYSTEM[written]}; pass --crs {written}; nothing written" in err[0]
    code, err = _cli(capsys, "import-layer", files[written], "--region", region, "-o", out)
    assert code == 0 and err[0].startswith(f"geoservice: WARNING: hospitals_{written}.csv: declared wgs84, but ")
    assert err[-1].startswith("131 rows loaded") and out.exists()


@pytest.mark.parametrize("written", ["wgs84", "gcj02", "bd09"])
def test_import_layer_strict_passes_files_declared_right(regions_dir, files, tmp_path, capsys, written):
    out = tmp_path / "out.geojson"
    code, err = _cli(
        capsys, "import-layer", files[written], "--crs", written, "--region", regions_dir / "shanghai", "--strict",
        "-o", out,
    )  # fmt: skip
    assert code == 0 and "WARNING" not in "\n".join(err) and err[-1].startswith("131 rows loaded, 0 rejected")


def test_import_layer_wuhan_on_shanghai_is_an_error(regions_dir, real_data, tmp_path, capsys):
    src = real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv"
    out = tmp_path / "out.geojson"
    code, err = _cli(
        capsys, "import-layer", src, "--type", "hospital", "--lon-col", "lng", "--crs", "bd09",
        "--region", regions_dir / "shanghai", "-o", out,
    )  # fmt: skip
    assert code == 2 and len(err) == 1 and not out.exists()
    assert err[0].startswith("geoservice: error: FILE: wuhan_hospitals_2020_bd09.csv: none of its 79 points lies ")
    assert "of region 'shanghai', in any coordinate system" in err[0]


# --------------------------------------------------------------------------- POST /facilities/import


@pytest.fixture
def sh_client(shanghai, tmp_path):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    svc = GeoService([shanghai], registry=Registry(tmp_path / "registry.sqlite"))
    _, token = svc.registry.create_key("sh-editor", "editor")
    with TestClient(create_app(svc)) as c:
        yield c, {"X-API-Key": token}
    svc.close()


def _rows(hospitals, written: str, prefix: str) -> list[dict]:
    out = []
    for r in hospitals:
        x, y = SHIFT[written](float(r["lon"]), float(r["lat"]))
        # the numbers a CSV of them holds (7 decimals), so that both faces judge the same points
        out.append(
            {"id": prefix + r["id"], "type": "hospital", "name": r["name"], "lon": round(x, 7), "lat": round(y, 7)}
        )
    return out


def _count(client) -> int:
    return client.get("/facilities", params={"region": "shanghai"}).json()["count"]


def test_api_refuses_shifted_batches_declared_wgs84_and_takes_them_declared_right(
    sh_client, regions_dir, hospitals, files, capsys
):
    client, editor = sh_client
    for written in ("gcj02", "bd09"):
        n = _count(client)
        rows = _rows(hospitals, written, f"{written}-")
        r = client.post("/facilities/import", json={"region": "shanghai", "facilities": rows}, headers=editor)
        assert r.status_code == 422, r.text
        err = r.json()
        assert err["field"] == "crs" and err["detail"].startswith("crs: declared wgs84, but ")
        api_fix = f' — the file is probably {SYSTEM[written]}; send "crs": "{written}"; nothing written'
        assert api_fix in err["detail"]
        assert _count(client) == n
        # one rule, one wording: import-layer --strict says the same of the same rows (its flag aside)
        code, lines = _cli(
            capsys, "import-layer", files[written], "--region", regions_dir / "shanghai", "--strict", "-o", "-"
        )
        cli_fix = f" — the file is probably {SYSTEM[written]}; pass --crs {written}; nothing written"
        assert code == 2 and lines[0].endswith(cli_fix)
        cli_core = lines[0].removeprefix(f"geoservice: error: --crs: hospitals_{written}.csv: ")
        assert err["detail"].removeprefix("crs: ").split(api_fix)[0] == cli_core.removesuffix(cli_fix)
        # declared right: written, no warning, the names agree
        r = client.post(
            "/facilities/import", json={"region": "shanghai", "crs": written, "facilities": rows}, headers=editor
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["warnings"] == [] and body["written"] == 131
        check = body["crs_check"]
        assert check["evidence"] == "names" and check["likely"] is None and check["votes"][written] >= 120
    # WGS-84 as it is: no false alarm
    rows = _rows(hospitals, "wgs84", "w-")
    r = client.post("/facilities/import", json={"region": "shanghai", "facilities": rows}, headers=editor)
    assert r.status_code == 201 and r.json()["warnings"] == [] and r.json()["crs_check"]["likely"] is None
    # strict false: written as declared, with the warning in the answer
    rows = _rows(hospitals, "gcj02", "loud-")
    r = client.post(
        "/facilities/import", json={"region": "shanghai", "strict": False, "facilities": rows}, headers=editor
    )
    assert r.status_code == 201, r.text
    (warning,) = r.json()["warnings"]
    assert warning.startswith("declared wgs84, but ") and 'probably GCJ-02; send "crs": "gcj02"' in warning
    assert r.json()["crs_check"]["likely"] == "gcj02"


def test_api_wuhan_on_shanghai_is_422(sh_client, real_data):
    client, editor = sh_client
    with open(real_data / "facilities" / "wuhan_hospitals_2020_bd09.csv", encoding="utf-8", newline="") as f:
        rows = [{"type": "hospital", "name": r["name"], "lon": r["lng"], "lat": r["lat"]} for r in csv.DictReader(f)]
    n = _count(client)
    for body in ({"region": "shanghai", "crs": "bd09"}, {"crs": "bd09", "strict": False}):
        r = client.post("/facilities/import", json={**body, "facilities": rows}, headers=editor)
        assert r.status_code == 422, r.text
        err = r.json()
        assert err["field"] == "facilities" and "none of the 79 points lies within 2 km" in err["detail"]
        assert "of region 'shanghai'" in err["detail"]
    assert _count(client) == n


# --------------------------------------------------------------------------- the rule itself


@pytest.fixture(scope="module")
def judge(shanghai):
    """check_positions against the demo bundle: its OSM-sourced facilities and its drive roads."""
    from geoservice.sources.crs_check import Namesakes, Reference, check_positions, network_distances

    ref = Reference.from_layer(shanghai.facilities, "the OSM facilities of shanghai")
    dist = network_distances(shanghai.networks["drive"])

    def run(rows, lon, lat, declared, **kw):
        return check_positions(
            lon, lat, declared, dist, region="shanghai",
            namesakes=Namesakes([r["name"] for r in rows], [r["type"] for r in rows], ref), **kw,
        )  # fmt: skip

    return run


def _loaded(rows, written, declared, jitter_m=0.0, seed=0):
    """The rows written in ``written`` (jittered by up to ``jitter_m`` as another source would
    place them), then loaded as ``declared`` (to WGS-84 by the product's converter)."""
    import random

    from geoservice.sources.coords import to_wgs84

    rnd = random.Random(seed)
    xs, ys = [], []
    for r in rows:
        lon, lat = float(r["lon"]), float(r["lat"])
        a, d = rnd.uniform(0, 2 * math.pi), jitter_m * math.sqrt(rnd.random())
        lon += d * math.cos(a) / (111_320.0 * math.cos(math.radians(lat)))
        lat += d * math.sin(a) / 111_320.0
        x, y = SHIFT[written](lon, lat)
        xs.append(x)
        ys.append(y)
    return to_wgs84(xs, ys, declared)


@pytest.mark.parametrize("written", ["wgs84", "gcj02", "bd09"])
def test_names_decide_with_positions_up_to_150_m_apart(judge, hospitals, written):
    """Another source's position of a hospital (gate, main building) is not OSM's: jittered up
    to 150 m, every reading is still told apart, and declared right there is no false alarm."""
    for declared in dict.fromkeys([written, "wgs84"]):
        check = judge(hospitals, *_loaded(hospitals, written, declared, jitter_m=150.0), declared)
        assert check is not None and check.evidence == "names" and check.matched == 129
        assert check.votes[written] >= 110 and sum(check.votes.values()) - check.votes[written] <= 3
        assert check.likely == (None if declared == written else written)
        assert check.median_m[written] < 120


def test_without_names_the_roads_decide_and_hospitals_tell_them_nothing(judge, hospitals):
    """Names that match nothing fall back on the roads; hospitals 50-60 m from a road read as
    GCJ-02 lie as close to some road, so the roads neither warn nor (rightly) refuse."""
    unnamed = [dict(r, name=f"Hospital {i}") for i, r in enumerate(hospitals)]
    for declared in ("wgs84", "gcj02"):
        check = judge(unnamed, *_loaded(unnamed, "gcj02", declared), declared)
        assert check is not None and check.evidence == "roads" and check.matched == 0
        assert check.likely is None
    # a handful of names cannot decide either (MIN_MATCHES)
    few = [r if i < 4 else dict(r, name=f"Hospital {i}") for i, r in enumerate(hospitals)]
    check = judge(few, *_loaded(few, "gcj02", "wgs84"), "wgs84")
    assert check.evidence == "roads" and check.matched == 4 and check.votes["gcj02"] == 4


def test_only_osm_positions_are_a_reference(hospitals):
    import pandas as pd

    from geoservice.sources.crs_check import Reference

    rows = pd.DataFrame(hospitals[:3]).astype({"lon": float, "lat": float})
    assert Reference.from_layer(rows.assign(source="api:editor"), "x") is None
    ref = Reference.from_layer(rows, "x")
    assert ref is not None and ref.namesakes(hospitals[0]["name"], "chest_pain_center") == (0,)
    assert ref.namesakes(hospitals[0]["name"], "aed") == ()  # AEDs match AEDs only
