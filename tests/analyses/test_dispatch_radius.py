"""The dispatch plan's pre-filter (issue 22 item 4): responders and AEDs are first picked within a
straight-line radius of the patient, ``max_walk_s x speed`` plus a margin of twice the largest snap.

A walk is measured in the network's metres (UTM: the off-network legs are straight lines there),
the radius in great-circle metres (haversine on a sphere of 6,371 km). North-south, at Monaco's
latitude, the sphere's metres are about 0.1% longer than the ellipsoid's in UTM: a responder 200
m north of the road, walking to a patient at the road, is 200.15 m away on foot but 200.35 m by
haversine. At a limit between the two, the responder is in reach, and only the margin keeps the
responder in the radius. Real Monaco network; the walk time is checked by pyproj."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyproj import Transformer

from geoservice.analyses.dispatch import DispatchOptions, Responder, plan_dispatch
from geoservice.bundle.network import haversine_m

SPEED = 1.8
TUESDAY_10 = datetime(2026, 12, 1, 10, 0)
# a real walk-network junction at the north edge of the Monaco extract (above Monte-Carlo), and a
# SYNTHETIC responder 200 m due north of it, off the network (the junction is its nearest road)
RESPONDER = (7.4906326, 43.7702617)


@pytest.fixture(scope="module")
def case(monaco_engine):
    router = monaco_engine.router_for("walk")
    s = router.snap(*RESPONDER)
    patient = (s.lon, s.lat)  # on the road, where the responder's off-network leg meets it
    assert s.dist_m > 150, "the responder is far off the network (else the case shows nothing)"
    utm = Transformer.from_crs("EPSG:4326", router.net.crs, always_xy=True)
    (x0, x1), (y0, y1) = utm.transform([RESPONDER[0], patient[0]], [RESPONDER[1], patient[1]])
    walk_m = float(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)  # the whole walk: one straight off-road leg
    line_m = float(haversine_m(*RESPONDER, *patient))
    assert line_m - walk_m > 0.1, (line_m, walk_m)  # the sphere's metres are longer, north-south
    return patient, walk_m, line_m


def test_a_responder_in_reach_is_kept_though_farther_by_haversine_than_the_limit(monaco_engine, case):
    patient, walk_m, line_m = case
    limit = (walk_m + line_m) / 2 / SPEED  # in reach on foot; beyond limit x speed in a straight line
    assert walk_m / SPEED < limit < line_m / SPEED
    opts = DispatchOptions(walk_speed_ms=SPEED, max_walk_s=limit, k=5)
    plan = plan_dispatch(
        monaco_engine, *patient, responders=[Responder("synthetic-north", *RESPONDER)], at=TUESDAY_10, options=opts
    )
    assert plan.considered == 1, f"the responder walks {walk_m / SPEED:.2f} s <= {limit:.2f} s but was left out"
    assert [d.responder.id for d in plan.direct] == ["synthetic-north"]  # no AED that close: sent direct
    assert plan.direct[0].leg.time_s == pytest.approx(walk_m / SPEED, abs=0.1)
    assert plan.direct[0].snap_m == pytest.approx(walk_m, abs=0.1)


def test_a_responder_just_out_of_reach_is_not_planned(monaco_engine, case):
    """The same responder with a limit 0.1 s short of the walk: not in the plan (the margin only
    widens the pre-filter, never the limit)."""
    patient, walk_m, _ = case
    opts = DispatchOptions(walk_speed_ms=SPEED, max_walk_s=walk_m / SPEED - 0.1, k=5)
    plan = plan_dispatch(
        monaco_engine, *patient, responders=[Responder("synthetic-north", *RESPONDER)], at=TUESDAY_10, options=opts
    )
    assert plan.considered == 0 and not plan.direct and plan.aed is None
