"""The last metres count everywhere (issue 17, item 3): every time includes the off-network legs
between each end and its road, walked at 5 km/h and shown as their own leg; a point farther
than the snap limit is an error naming its distance, in the API and the CLI alike."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer

from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.faces.cli import main
from geoservice.questions import NearestQuestion

WALK_MS = 5.0 / 3.6
SEA_FAR = (7.4400, 43.7350)  # the sea off Monaco, ~890 m from the nearest road
SEA_NEAR = (7.4300, 43.7330)  # ~120 m off the harbour road


def off_road_point(router, seed: int, lo: float = 40.0, hi: float = 120.0) -> tuple[float, float]:
    """A point ``lo``-``hi`` m from any road: a junction's position moved ~80 m, drawn until one fits."""
    net = router.net
    rng = np.random.default_rng(seed)
    while True:
        n = int(rng.choice(net.n_nodes))
        p = (float(net.node_lon[n]) + rng.uniform(-0.001, 0.001), float(net.node_lat[n]) + rng.uniform(-0.0008, 0.0008))
        if lo <= router.snap(*p, max_snap_m=1e6).dist_m <= hi:
            return p


def _metres(crs: str, a: tuple[float, float], b: tuple[float, float]) -> float:
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    (x0, x1), (y0, y1) = tr.transform([a[0], b[0]], [a[1], b[1]])
    return float(np.hypot(x1 - x0, y1 - y0))


def test_nearest_counts_both_legs_against_networkx(andorra_engine):
    """A point 60-80 m off the road to the nearest chest pain center: networkx over the exported
    graph from the point's road position to the facility's, plus both legs measured here."""
    eng = andorra_engine
    router = eng.router_for("drive")
    net = router.net
    G = network_to_networkx(net, geometry=False)
    lon, lat = off_road_point(router, 4)
    res = eng.nearest(NearestQuestion.of(lon, lat, type="chest_pain_center", k=1, direction="to"))
    hit = res.hits[0]
    origin = router.snap(lon, lat)
    fac = eng.facilities[eng.facilities["id"] == hit.facility["id"]].geometry.iloc[0]
    fsnap = router.snap(fac.x, fac.y)
    here = _metres(net.crs, (lon, lat), (origin.lon, origin.lat))
    there = _metres(net.crs, (fac.x, fac.y), (fsnap.lon, fsnap.lat))
    assert here > 20  # the test point is really off the road
    assert hit.access_s == pytest.approx(here / WALK_MS, abs=0.06)
    assert hit.facility_access_s == pytest.approx(there / WALK_MS, abs=0.06)
    # the road part by networkx between the two snapped places (partial pieces by the seeds' rule)
    t = net.times("drive")

    def ends(s, leaving):
        ef, eb = int(net.geom_fwd[s.geom]), int(net.geom_bwd[s.geom])
        u, v = int(net.geom_u[s.geom]), int(net.geom_v[s.geom])
        out = []
        if ef >= 0:
            out.append((v, (1 - s.frac) * t[ef]) if leaving else (u, s.frac * t[ef]))
        if eb >= 0:
            out.append((u, s.frac * t[eb]) if leaving else (v, (1 - s.frac) * t[eb]))
        return out

    road = min(
        c0 + nx.dijkstra_path_length(G, n0, n1, weight="travel_time_drive") + c1
        for n0, c0 in ends(origin, True)
        for n1, c1 in ends(fsnap, False)
    )
    assert hit.time_s == pytest.approx(road + (here + there) / WALK_MS, abs=0.15)


def test_isochrone_and_matrix_include_the_leg(andorra_engine):
    eng = andorra_engine
    net = eng.router_for("drive").net
    node = int(np.random.default_rng(9).choice(net.n_nodes))
    on = (float(net.node_lon[node]), float(net.node_lat[node]))
    off = off_road_point(eng.router_for("drive"), 9)
    dest = (float(net.node_lon[(node + 97) % net.n_nodes]), float(net.node_lat[(node + 97) % net.n_nodes]))
    rows = {i: t for i, t, _ in eng.matrix([on, off], [dest], profile="drive")}
    snap = eng.router_for("drive").snap(*off)
    leg = _metres(net.crs, off, (snap.lon, snap.lat)) / WALK_MS
    assert leg > 10
    # from the point off the road: at least its walk more than from where it joins the road
    joined = {i: t for i, t, _ in eng.matrix([(snap.lon, snap.lat)], [dest], profile="drive")}
    assert rows[1][0] == pytest.approx(joined[0][0] + leg, abs=0.1)
    iso = eng.isochrones(*off, [5], profile="drive")
    assert iso[0]["properties"]["access_s"] == pytest.approx(leg, abs=0.1)
    assert iso[0]["properties"]["snap_m"] == pytest.approx(leg * WALK_MS, abs=0.1)


def test_a_tap_in_the_sea_is_an_error_naming_its_distance(monaco, capsys, tmp_path):
    code = main(
        ["nearest", "--region", str(monaco.path), "--db", str(tmp_path / "r.sqlite"), "--lon", str(SEA_FAR[0]),
         "--lat", str(SEA_FAR[1]), "--type", "hospital"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("geoservice: error: ") and len(err.strip().splitlines()) == 1
    assert " m from the nearest drive road; the limit is 500 m" in err
    # near the harbour the answer comes, with the walk to the road as its own leg
    code = main(
        ["nearest", "--region", str(monaco.path), "--db", str(tmp_path / "r.sqlite"), "--lon", str(SEA_NEAR[0]),
         "--lat", str(SEA_NEAR[1]), "--type", "hospital"]
    )  # fmt: skip
    out, _ = capsys.readouterr()
    ans = json.loads(out)
    r = ans["results"][0]
    assert code == 0 and ans["origin"]["snap_m"] > 100
    assert r["access_s"] == pytest.approx(ans["origin"]["snap_m"] / WALK_MS, abs=0.06)
    assert r["time_s"] >= r["access_s"] + r["facility_access_s"]
