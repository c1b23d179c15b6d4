"""Road networks from local OSM files, speeds, bundles: real extracts and bad inputs."""

from __future__ import annotations

import bz2
import gzip
import json
import shutil

import numpy as np
import pytest

from geoservice.bundle.build import build_region
from geoservice.bundle.network import build_network
from geoservice.bundle.store import BundleError, load_region
from geoservice.engine.engine import Engine
from geoservice.sources.osm_roads import OSMReadError, read_osm_roads
from geoservice.sources.speeds import DEFAULT_PROFILES, parse_maxspeed


@pytest.mark.parametrize(
    "value, kmh",
    [
        ("50", 50),
        ("50 mph", 80.467),
        ("70|100", 85),
        ("60;80", 70),
        ("CN:urban", 50),
        ("CN:rural", 70),
        ("RU:urban", 50),
        ("walk", 7),
        (" 40 km/h ", 40),
        ("none", None),
        ("signals", None),
        ("fast", None),
        ("", None),
        (None, None),
        ("0", None),
        ("999", None),
        ("50;junk", 50),
    ],
)
def test_parse_maxspeed(value, kmh):
    got = parse_maxspeed(value)
    assert got == (pytest.approx(kmh, abs=0.01) if kmh is not None else None)


def test_speeds_from_maxspeed_else_class_default(demo_data):
    raw = read_osm_roads(demo_data / "andorra" / "andorra.osm.pbf")
    net = build_network(raw, "drive", DEFAULT_PROFILES)
    speed = net.edge_len / net.times("drive") * 3.6
    ways = net.geom_way[net.edge_geom]
    has = np.isfinite(raw.way_maxspeed[ways])
    assert has.any() and (~has).any()
    assert np.allclose(speed[has], raw.way_maxspeed[ways][has], rtol=1e-5)
    # ambulance is never slower than a car and respects its cap
    amb = net.edge_len / net.times("ambulance") * 3.6
    assert np.all(amb >= np.minimum(speed, 120) - 1e-6) and amb.max() <= 120 + 1e-6


def test_times_summed_on_raw_segments(demo_data):
    """Edge time = sum over its raw OSM segments of length/speed (no post-simplification speeds)."""
    raw = read_osm_roads(demo_data / "andorra" / "andorra.osm.pbf")
    net = build_network(raw, "drive", DEFAULT_PROFILES)
    from geoservice.bundle.network import haversine_m

    for e in np.random.default_rng(1).choice(net.n_edges, 50, replace=False):
        g = net.edge_geom[e]
        a, b = net.geom_a[g], net.geom_b[g]
        seg = haversine_m(net.lon[a:b], net.lat[a:b], net.lon[a + 1 : b + 1], net.lat[a + 1 : b + 1])
        assert net.edge_len[e] == pytest.approx(seg.sum(), rel=1e-9)


@pytest.mark.parametrize("compress", ["none", "gz", "bz2"])
def test_osm_xml_variants_load_the_same(real_data, tmp_path, compress):
    src = real_data / "osm" / "shanghai-huangpu.osm"
    if compress == "none":
        path = src
    else:
        path = tmp_path / f"huangpu.osm.{compress}"
        opener = gzip.open if compress == "gz" else bz2.open
        with open(src, "rb") as f, opener(path, "wb") as g:
            shutil.copyfileobj(f, g)
    raw = read_osm_roads(path)
    ref = read_osm_roads(src)
    assert np.array_equal(raw.ref, ref.ref)


def test_chinese_extract_keeps_names_and_routes(real_data, tmp_path):
    out = build_region(real_data / "osm" / "shanghai-huangpu.osm", tmp_path / "huangpu", quiet=True)
    region = load_region(out)
    net = region.networks["drive"]
    names = {n for n in net.way_name if n}
    assert any("路" in n for n in names), "Chinese road names (…路) are kept"
    eng = Engine(region)
    feats = eng.isochrones(121.4867, 31.2337, [5])
    assert feats[0]["geometry"]["coordinates"]
    assert json.loads((out / "basemap.geojson").read_text(encoding="utf-8"))["features"]


def test_clipped_extract_loads_with_warning(real_data, tmp_path, caplog):
    out = build_region(real_data / "osm" / "campo-grande.osm.gz", tmp_path / "cg", quiet=True, networks=("drive",))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["osm_warnings"] and "missing" in meta["osm_warnings"][0]
    assert "missing" in caplog.text
    assert meta["networks"]["drive"]["nodes"] > 5000


def test_bundle_metadata_and_scc_report(regions_dir, demo_data):
    meta = json.loads((regions_dir / "andorra" / "meta.json").read_text())
    osm = meta["inputs"][0]
    import hashlib

    assert osm["sha256"] == hashlib.sha256((demo_data / "andorra" / "andorra.osm.pbf").read_bytes()).hexdigest()
    assert meta["osm_timestamp"].startswith("2013")
    assert set(meta["networks"]) == {"drive", "walk"}
    rep = meta["networks"]["drive"]["report"]
    assert rep["nodes_dropped"] > 0 and rep["nodes_kept"] == meta["networks"]["drive"]["nodes"]
    assert "drive" in meta["networks"]["drive"]["profiles"] and "ambulance" in meta["networks"]["drive"]["profiles"]
    assert meta["speed_table_kmh"]["primary"] == 60


def test_bundle_is_strongly_connected(andorra):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    net = andorra.networks["drive"]
    m = csr_matrix((np.ones(net.n_edges), (net.edge_u, net.edge_v)), shape=(net.n_nodes,) * 2)
    assert connected_components(m, directed=True, connection="strong")[0] == 1


def test_demo_facilities_are_labelled(andorra, monaco):
    fac = andorra.facilities
    roles = fac[fac["type"].isin(["chest_pain_center", "stroke_center", "grassroots_unit", "ems_station"])]
    assert len(roles) and roles["demo"].all() and roles["name"].str.contains("DEMO").all()
    assert (fac[fac["type"] == "hospital"]["source"].str.contains("OpenStreetMap")).all()
    assert (monaco.facilities["type"] == "aed").sum() == 5


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("missing.osm.pbf", None, "not found"),
        ("roads.txt", b"hello", "unsupported OSM file type"),
        ("broken.osm", b"<osm><way id='1'><nd ref=", "cannot read OSM file"),
        ("empty.osm", b"<?xml version='1.0'?><osm version='0.6'></osm>", "no usable highway ways"),
    ],
)
def test_bad_osm_files(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OSMReadError, match=match):
        build_region(path, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_failed_rebuild_keeps_old_bundle(regions_dir, tmp_path):
    target = tmp_path / "andorra"
    shutil.copytree(regions_dir / "andorra", target)
    bad = tmp_path / "bad.osm"
    bad.write_bytes(b"<osm><way")
    with pytest.raises(OSMReadError):
        build_region(bad, target, quiet=True)
    assert load_region(target).networks["drive"].n_nodes > 1000


def test_load_rejects_non_bundle(tmp_path):
    with pytest.raises(BundleError, match="not a region bundle"):
        load_region(tmp_path)
