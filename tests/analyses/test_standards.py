"""Standards as targets (analyses/standards.py) on the central Shanghai demo: AED density against
an independent spatial join, EMS radius against great-circle distances, time shares against the
coverage analysis; province defaults, overrides and bad targets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geoservice.analyses.coverage import coverage_report
from geoservice.analyses.standards import StandardsError, StandardTargets, aed_density_default, standards_report
from geoservice.bundle.population import load_population
from geoservice.questions import CoverageQuestion


@pytest.fixture(scope="module")
def shanghai_standards(shanghai_engine):
    return standards_report(shanghai_engine)


def test_aed_density_against_a_spatial_join(shanghai, shanghai_engine, shanghai_standards):
    units = load_population(shanghai, "drive").units
    fac = shanghai_engine.facilities
    polygons = units[["admin_code", "geometry"]].rename(columns={"admin_code": "unit"})
    counts = gpd.sjoin(fac[fac["type"] == "aed"], polygons, predicate="within").groupby("unit").size()
    rows = {r.admin_code: r for r in shanghai_standards.table("aed_per_100k")}
    for _, u in units.iterrows():
        n = int(counts.get(u["admin_code"], 0))
        r = rows[u["admin_code"]]
        assert r.value == pytest.approx(n / u["population_inside"] * 1e5, abs=1e-4)
        assert r.target == 50.0 and "Shanghai" in r.source and r.met is (r.value >= 50)
    overall = rows[None]
    assert overall.value == pytest.approx(15 / 2_159_028 * 1e5, abs=1e-4) and overall.met is False


def test_province_defaults_and_override(shanghai_engine):
    assert aed_density_default(["440304", "440305"])[0] == 300.0  # Shenzhen: the city's own plan
    assert aed_density_default(["330102"])[0] == 45.0
    assert aed_density_default(["420102"]) is None and aed_density_default(["osm-r1"]) is None
    res = standards_report(shanghai_engine, targets=StandardTargets(aed_per_100k=0.5, fetch_minutes=6))
    rows = {r.admin_code: r for r in res.table("aed_per_100k")}
    assert rows[None].target == 0.5 and rows[None].met is True and "given" in rows[None].source
    assert "6 min" in res.table("aed_fetch_return")[0].detail


def test_ems_radius_against_great_circle_distances(shanghai, shanghai_engine, shanghai_standards):
    layer = load_population(shanghai, "drive")
    net = shanghai_engine.router_for("drive").net
    st = shanghai_engine.facilities[shanghai_engine.facilities["type"] == "ems_station"]
    lon1, lat1 = np.radians(net.node_lon)[:, None], np.radians(net.node_lat)[:, None]
    lon2, lat2 = np.radians(st.geometry.x.to_numpy())[None, :], np.radians(st.geometry.y.to_numpy())[None, :]
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    d = (2 * 6_371_008.8 * np.arcsin(np.sqrt(a))).min(axis=1)
    near = d <= 5000.0  # every central Shanghai district is a 区: the urban radius
    rows = {r.admin_code: r for r in shanghai_standards.table("ems_radius")}
    for k, code in enumerate(layer.units["admin_code"]):
        m = layer.unit == k
        want = layer.population[m & near].sum() / (layer.population[m].sum() + layer.off[k])
        # UTM distances and the sphere differ by far less than a node's spacing: allow one boundary node
        assert rows[code].value == pytest.approx(want, abs=0.01)
    assert "国卫医发〔2020〕19号" in rows[None].source


def test_time_shares_equal_the_coverage_analysis(shanghai_engine, shanghai_standards):
    for measure, ftype, minutes, profile in (
        ("cpc_time", "chest_pain_center", 30, "drive"),
        ("aed_fetch_return", "aed", 2, "walk"),  # a 4-minute round trip is 2 minutes each way
    ):
        cov = coverage_report(
            shanghai_engine, CoverageQuestion.of(type=ftype, minutes=minutes, profile=profile, gaps=False)
        )
        rows = {r.admin_code: r for r in shanghai_standards.table(measure)}
        for u in cov.by_unit:
            assert rows[u.admin_code].value == pytest.approx(u.population_share, abs=1e-4), (measure, u.name)
        assert rows[None].value == pytest.approx(cov.overall.population_share, abs=1e-4)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"fetch_minutes": 0}, "fetch_minutes"),
        ({"share_target": 1.5}, "share_target"),
        ({"aed_per_100k": -3}, "aed_per_100k"),
    ],
)
def test_bad_targets_name_the_field(kw, field):
    with pytest.raises(StandardsError) as e:
        StandardTargets(**kw)
    assert e.value.field == field
