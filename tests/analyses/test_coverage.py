"""coverage_report against independent computations: networkx shortest paths on the exported
graph (population and road km), shapely on the gap polygons and the facilities' isochrones (area)."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.coverage import CoverageReport, coverage_report
from geoservice.bundle.population import load_population
from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.errors import GeoserviceError
from geoservice.questions import CoverageQuestion


def brute_force_times(engine, *, type, profile="drive", add_sites=(), exclude=()):
    """Multi-source Dijkstra with networkx on the reversed exported graph, from a super source
    joined to each facility's snapped road piece."""
    router = engine.router_for(profile)
    net = router.net
    G = network_to_networkx(net, geometry=False).reverse(copy=True)
    fac = engine.facilities[engine.facilities["type"] == type]
    fac = fac[~fac["id"].astype(str).isin(set(exclude))]
    pts = list(zip(fac.geometry.x, fac.geometry.y)) + list(add_sites)
    snaps = router.snap_many([p[0] for p in pts], [p[1] for p in pts], strict=False)
    src = "SRC"
    G.add_node(src)
    for s in snaps:
        if s is None:
            continue
        sd = router.seeds(s, profile, "to")
        for n, c in zip(sd.node, sd.cost):
            G.add_edge(src, int(n), **{f"travel_time_{profile}": float(c)})
    d = nx.single_source_dijkstra_path_length(G, src, weight=f"travel_time_{profile}")
    return np.array([d.get(i, np.inf) for i in range(net.n_nodes)])


@pytest.mark.parametrize(
    "region,type,minutes,profile",
    [
        ("andorra", "chest_pain_center", 10, "drive"),
        ("monaco", "stroke_center", 6, "drive"),
        ("monaco", "aed", 4, "walk"),
    ],
)
def test_population_share_matches_brute_force(request, region, type, minutes, profile):
    eng = request.getfixturevalue(f"{region}_engine")
    rep = coverage_report(eng, CoverageQuestion.of(type=type, minutes=minutes, profile=profile))
    t = brute_force_times(eng, type=type, profile=profile)
    net = eng.router_for(profile).net
    layer = load_population(eng.region, net.name)
    pop = layer.population
    covered = float(pop[t <= minutes * 60 + 1e-6].sum())
    # the people off this network (walking: parts the build dropped) are counted, never covered
    total = pop.sum() + layer.off.sum()
    assert rep.overall.population == pytest.approx(total)
    assert rep.overall.population_off_network == pytest.approx(layer.off.sum())
    assert rep.overall.population_covered == pytest.approx(covered, abs=0.5)
    assert rep.overall.population_share == pytest.approx(covered / total, abs=1e-5)
    assert 0 < rep.overall.population_share < 1  # a threshold that actually splits
    # per unit sums to overall
    assert sum(u.population_covered for u in rep.by_unit) == pytest.approx(covered, abs=1)
    json.dumps(rep.to_json())


def test_what_if_add_and_remove(andorra_engine):
    eng = andorra_engine
    base = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=10))
    site = (1.5980302, 42.5667074)  # Canillo
    more = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=10, add_sites=[site]))
    t = brute_force_times(eng, type="chest_pain_center", add_sites=[site])
    pop = load_population(eng.region, "drive").population
    assert more.overall.population_covered == pytest.approx(float(pop[t <= 600 + 1e-6].sum()), abs=0.5)
    assert more.overall.population_covered > base.overall.population_covered
    less = coverage_report(
        eng, CoverageQuestion.of(type="chest_pain_center", minutes=10, remove_ids=["demo-chest_pain_center-2"])
    )
    t = brute_force_times(eng, type="chest_pain_center", exclude={"demo-chest_pain_center-2"})
    assert less.overall.population_covered == pytest.approx(float(pop[t <= 600 + 1e-6].sum()), abs=0.5)
    assert less.overall.population_covered < base.overall.population_covered


def test_peak_covers_less_and_shares_monotone(andorra_engine):
    free = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=10))
    peak = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=10), scenario="peak")
    assert peak.overall.population_covered < free.overall.population_covered
    wider = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=15))
    for k in ("population_share", "area_share", "road_share"):
        assert getattr(wider.overall, k) >= getattr(free.overall, k)
    assert free.gaps["features"] and all(
        f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in free.gaps["features"]
    )
    assert free.farthest[0].time_s > 600


@pytest.mark.parametrize(
    "kw,field",
    [
        (dict(type="hotel", minutes=30), "type"),
        (dict(type="chest_pain_center", minutes=-3), "minutes"),
        (dict(type="chest_pain_center", minutes=30, profile="boat"), "profile"),
        (dict(type="chest_pain_center", minutes=30, scenario="rush"), "scenario"),
        (dict(type="chest_pain_center", minutes=30, remove_ids=["nope"]), "remove_ids"),
        (dict(type="chest_pain_center", minutes=30, add_sites=[(500, 1)]), "add_sites"),
    ],
)
def test_bad_inputs(andorra_engine, kw, field):
    scenario = kw.pop("scenario", None)
    with pytest.raises(GeoserviceError) as ei:  # the question's, CoverageError, or the engine's / router's error
        coverage_report(andorra_engine, CoverageQuestion.of(**kw), scenario=scenario)
    assert ei.value.field == field


def test_to_json_has_the_api_shape(andorra_engine):
    from geoservice.service.answers.queries import CoverageResponse

    rep = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=10))
    assert isinstance(rep, CoverageReport)
    doc = rep.to_json()
    assert list(doc) == [
        "type",
        "minutes",
        "profile",
        "scenario",
        "method",
        "population_data",
        "overall",
        "by_unit",
        "gaps",
        "farthest",
    ]
    assert set(doc["overall"]) == set(CoverageResponse.model_fields["overall"].annotation.model_fields)
    assert set(doc["by_unit"][0]) == {
        "admin_code",
        "name",
        "population",
        "population_covered",
        "population_share",
        "road_share",
        "census_population",
        "share_inside",
        "population_off_network",
    }
    assert set(doc["farthest"][0]) == {"lon", "lat", "time_s", "population"}
    resp = CoverageResponse(**doc, region="andorra")
    assert resp.overall.population_share == rep.overall.population_share
    json.dumps(doc)


# ---------------------------------------------------------------- road and area against independent computations
def _piece_key(geom):
    import shapely

    return shapely.normalize(geom).wkb


@pytest.mark.parametrize(
    "region,type,minutes,profile",
    [
        ("andorra", "chest_pain_center", 10, "drive"),
        ("monaco", "aed", 4, "walk"),
    ],
)
def test_road_km_matches_networkx(request, region, type, minutes, profile):
    """Covered road km from networkx shortest-path times: every directed edge u->v toward the
    facilities covers (T - t_v) / edge time of its piece from the v end; a two-way piece is covered
    by the sum of its two directions (at most all of it)."""
    eng = request.getfixturevalue(f"{region}_engine")
    rep = coverage_report(eng, CoverageQuestion.of(type=type, minutes=minutes, profile=profile, gaps=False))
    T = minutes * 60.0
    t = brute_force_times(eng, type=type, profile=profile)
    G = network_to_networkx(eng.router_for(profile).net, geometry=True)
    pieces: dict[bytes, list] = {}
    for _u, v, d in G.edges(data=True):
        tt = d[f"travel_time_{profile}"]
        frac = 0.0 if not np.isfinite(t[v]) else (1.0 if tt <= 0 else min(max((T - t[v]) / tt, 0.0), 1.0))
        entry = pieces.setdefault(_piece_key(d["geometry"]), [d["length"], 0.0])
        entry[1] += frac
    total = sum(L for L, _ in pieces.values()) / 1000
    covered = sum(L * min(f, 1.0) for L, f in pieces.values()) / 1000
    assert rep.overall.road_km == pytest.approx(total, abs=5e-4 + 1e-6 * total)  # reported to 0.001 km
    assert rep.overall.road_km_covered == pytest.approx(covered, abs=0.002 + 1e-6 * total)
    assert rep.overall.road_share == pytest.approx(covered / total, abs=1e-5)
    assert 0 < rep.overall.road_share < 1


def _to_metres(geom, crs):
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def test_area_and_gap_polygons_match_independent_geometry(andorra_engine):
    import shapely
    from shapely.geometry import shape

    eng = andorra_engine
    minutes, T = 10, 600.0
    rep = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=minutes))
    net = eng.router_for("drive").net
    feats = rep.gaps["features"]
    assert 0 < len(feats) < 500  # not truncated: the polygons are all the gaps
    gaps = shapely.union_all([shape(f["geometry"]) for f in feats])
    gaps_m = _to_metres(gaps, net.crs)
    cell = 100.0

    # 1. gaps + covered = the road extent: every place within the off-road margin (1.5 cells) of a
    #    road, here shapely's buffer of every road piece. The engine draws it as a contour on a
    #    lattice of one cell (a round end becomes chords between lattice edges): within 1.5 %
    pieces = [np.column_stack([net.x[a : b + 1], net.y[a : b + 1]]) for a, b in zip(net.geom_a, net.geom_b)]
    extent = shapely.union_all(shapely.buffer([shapely.LineString(p) for p in pieces], 1.5 * cell, quad_segs=16))
    assert rep.overall.area_km2 == pytest.approx(extent.area / 1e6, rel=0.015)
    assert gaps_m.area / 1e6 + rep.overall.area_covered_km2 == pytest.approx(rep.overall.area_km2, abs=0.02)
    assert sum(f["properties"]["area_km2"] for f in feats) == pytest.approx(gaps_m.area / 1e6, abs=0.01)
    # (the areas are rounded to 0.001 km2, the share to 1e-6)
    assert rep.overall.area_share == pytest.approx(rep.overall.area_covered_km2 / rep.overall.area_km2, abs=2e-5)

    # 2. gaps do not overlap the facilities' own isochrones (built on another grid, in degrees): at
    #    most a band of up to two cells (grid misalignment) along the gap edges
    fac = eng.facilities[eng.facilities["type"] == "chest_pain_center"]
    isos = shapely.union_all(
        [
            shape(eng.isochrones(float(g.x), float(g.y), [minutes], profile="drive", direction="to")[0]["geometry"])
            for g in fac.geometry
        ]
    )
    isos_m = _to_metres(isos, net.crs)
    assert gaps_m.buffer(-2 * cell).intersection(isos_m).area == pytest.approx(0, abs=1.0)
    assert gaps_m.intersection(isos_m).area < 0.02 * gaps_m.area

    # 3. every populated node farther than T (networkx times) lies in a gap, with its people
    t = brute_force_times(eng, type="chest_pain_center")
    pop = load_population(eng.region, "drive").population
    late = np.flatnonzero((pop > 0) & ~(t <= T + 1e-6))
    assert len(late)
    pts = shapely.points(net.node_lon[late], net.node_lat[late])
    assert shapely.covers(gaps, pts).all(), pop[late[~shapely.covers(gaps, pts)]].sum()
    assert sum(f["properties"]["population"] for f in feats) == pytest.approx(float(pop[late].sum()), abs=1)


def test_fully_covered_has_no_gaps(andorra_engine):
    rep = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=30))
    assert rep.gaps["features"] == [] and rep.overall.population_share == 1.0 and rep.overall.area_share == 1.0
    assert rep.to_json()["gaps"]["features"] == []


def brute_road_share_by_unit(engine, times, minutes, profile="drive", samples=400):
    """(covered km, total km) per admin unit, by SAMPLING each road piece at ``samples`` points:
    a point at fraction f of a piece from u to v reaches the facility leaving by v (forward, if
    the piece can be driven u → v) in times[v] + (1 - f) x its forward time, or by u (backward)
    in times[u] + f x its backward time (the exported graph's travel times); a piece counts for
    the unit of its u end, as the report says."""
    net = engine.router_for(profile).net
    G = network_to_networkx(net, geometry=False)
    edge_time = {int(d["edge_id"]): float(d[f"travel_time_{profile}"]) for _, _, d in G.edges(data=True)}
    unit = load_population(engine.region, net.name).unit
    f = (np.arange(samples) + 0.5) / samples
    T = minutes * 60.0
    cov: dict[int, float] = {}
    tot: dict[int, float] = {}
    for g in range(len(net.geom_len)):
        u, v, length, k = int(net.geom_u[g]), int(net.geom_v[g]), float(net.geom_len[g]), int(unit[net.geom_u[g]])
        if k < 0:
            continue
        ef, eb = int(net.geom_fwd[g]), int(net.geom_bwd[g])
        t = np.full(samples, np.inf)
        if ef >= 0:
            t = np.minimum(t, times[v] + (1 - f) * edge_time[ef])
        if eb >= 0:
            t = np.minimum(t, times[u] + f * edge_time[eb])
        tot[k] = tot.get(k, 0.0) + length
        cov[k] = cov.get(k, 0.0) + length * float(np.mean(t <= T))
    return cov, tot


@pytest.mark.parametrize("region,type,minutes,profile", [("andorra", "chest_pain_center", 10, "drive")])
def test_road_share_by_unit_counts_a_partly_covered_road_in_part(request, region, type, minutes, profile):
    """Per admin unit, the share of road length within reach: each road piece counted by how much
    of it is in reach, checked by sampling every piece against networkx times (a piece counted
    whole as soon as one end is in reach would overstate every unit with a road leaving reach)."""
    eng = request.getfixturevalue(f"{region}_engine")
    rep = coverage_report(eng, CoverageQuestion.of(type=type, minutes=minutes, profile=profile))
    times = brute_force_times(eng, type=type, profile=profile)
    cov, tot = brute_road_share_by_unit(eng, times, minutes, profile)
    shares = {u.admin_code: u.road_share for u in rep.by_unit}
    units = load_population(eng.region, eng.router_for(profile).net.name).units
    partly = 0
    for k in range(len(units)):
        code = str(units.iloc[k]["admin_code"])
        if tot.get(k, 0) == 0:
            assert shares[code] is None
            continue
        assert shares[code] == pytest.approx(cov[k] / tot[k], abs=0.003), code
        partly += 0.02 < cov[k] / tot[k] < 0.98
    assert partly >= 2  # units where the threshold splits the roads: the case this test is about
    overall = sum(cov.values()) / sum(tot.values())
    assert rep.overall.road_share == pytest.approx(overall, abs=0.003)
    assert rep.overall.road_km_covered == pytest.approx(sum(cov.values()) / 1000, rel=0.003)
