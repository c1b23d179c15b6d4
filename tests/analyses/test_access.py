"""E2SFCA (analyses/access.py) against PySAL's ``access`` package on the central Shanghai demo,
with and without capacities, Gaussian and zone decays; a 2 x 2 case worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geoservice.analyses.access import NO_CAPACITY_NOTE, AccessError, Decay, access_report, e2sfca
from geoservice.bundle.population import load_population

access = pytest.importorskip("access")
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning", "ignore::Warning:access.*")


def _pysal(engine, res, *, minutes: float, weight_fn, supply: np.ndarray) -> np.ndarray:
    """PySAL's E2SFCA on the same demand nodes and network times (minutes), per populated node."""
    layer = load_population(engine.region, "drive")
    nodes = np.flatnonzero(layer.population > 0)
    fac = engine.facilities[engine.facilities["type"] == res.type]
    pts = [(g.x, g.y) for g in fac.geometry]
    t = engine.cost_matrix(nodes, pts, profile="drive") / 60.0
    i, j = np.nonzero(np.isfinite(t))
    cost = pd.DataFrame({"origin": nodes[i], "dest": j, "cost": t[i, j]})
    demand = pd.DataFrame({"node": nodes, "pop": layer.population[nodes]})
    sup = pd.DataFrame({"site": np.arange(len(pts)), "cap": supply})
    a = access.Access(
        demand_df=demand,
        demand_index="node",
        demand_value="pop",
        supply_df=sup,
        supply_index="site",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = a.enhanced_two_stage_fca(name="e2", max_cost=minutes, weight_fn=weight_fn)
    return out["e2_cap"].reindex(nodes).fillna(0.0).to_numpy()


def _dai(d0: float):
    """The Dai (2010) Gaussian kernel, written out here independently of the module."""
    return lambda x: (math.exp(-0.5 * (x / d0) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))


def test_e2sfca_equals_pysal_on_shanghai_gaussian(shanghai_engine):
    res = access_report(shanghai_engine, type="chest_pain_center", minutes=30)
    n = len(res.facilities)
    ref = _pysal(shanghai_engine, res, minutes=30, weight_fn=_dai(30.0), supply=np.ones(n))
    ours = res.point_score[: len(ref)]
    assert np.allclose(ours, ref, rtol=1e-6, atol=1e-12)
    assert res.capacity_note == NO_CAPACITY_NOTE and not res.capacity_used
    assert res.population == 2_159_028  # the census people inside the extract
    assert len(res.units) == 8 and all(u.score_per_100k and u.score_per_100k > 0 for u in res.units)


def test_e2sfca_equals_pysal_with_zones_and_capacities(shanghai):
    from geoservice.engine.engine import Engine

    eng = Engine(shanghai)
    fac = eng.facilities.copy()
    cpc = np.flatnonzero((fac["type"] == "chest_pain_center").to_numpy())
    caps = np.full(len(fac), np.nan)
    caps[cpc] = [3, 1, 2, 5, 1, 4, 2, 1]
    fac["capacity"] = caps
    eng.set_facilities(fac)
    res = access_report(eng, type="chest_pain_center", minutes=30, decay=Decay("zones"))
    ref = _pysal(eng, res, minutes=30, weight_fn=access.weights.step_fn({10: 1, 20: 0.68, 30: 0.22}), supply=caps[cpc])
    ours = res.point_score[: len(ref)]
    assert np.allclose(ours, ref, rtol=1e-6, atol=1e-12)
    assert res.capacity_used and "8 of 8" in res.capacity_note
    assert [f.capacity for f in res.facilities] == [3, 1, 2, 5, 1, 4, 2, 1]
    # the admin unit figure is the population-weighted mean of its points (independent sum)
    layer = load_population(shanghai, "drive")
    nodes = np.flatnonzero(layer.population > 0)
    u0 = layer.unit[nodes] == 0
    want = (layer.population[nodes][u0] * ref[u0]).sum() / layer.population[nodes][u0].sum() * 1e5
    assert res.units[0].score_per_100k == pytest.approx(want, rel=1e-9)


def test_e2sfca_by_hand():
    # two points (100 and 300 people), two facilities; zones 0-10: 1, 10-20: 0.5; catchment 20
    t = np.array([[5.0, 15.0], [12.0, np.inf]])
    score, ratio, demand = e2sfca(
        t, np.array([100.0, 300.0]), np.array([1.0, 2.0]), catchment=20, decay=Decay("zones", ((10, 1), (20, 0.5)))
    )
    # facility 0: 100*1 + 300*0.5 = 250 -> R0 = 1/250; facility 1: 100*0.5 = 50 -> R1 = 2/50
    assert demand.tolist() == [250.0, 50.0]
    assert ratio.tolist() == pytest.approx([0.004, 0.04])
    # point 0: 1*0.004 + 0.5*0.04 = 0.024; point 1: 0.5*0.004 = 0.002
    assert score.tolist() == pytest.approx([0.024, 0.002])
    # every unit of capacity is handed out: sum_i P_i A_i = sum_j S_j for facilities that serve someone
    assert (np.array([100.0, 300.0]) * score).sum() == pytest.approx(3.0)


def test_gaussian_kernel_values():
    w = Decay().weights(np.array([0.0, 15.0, 30.0, 31.0, np.inf]), 30.0)
    assert w[0] == 1.0 and w[2] == pytest.approx(0.0, abs=1e-15) and w[3] == 0 and w[4] == 0
    assert w[1] == pytest.approx((math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5)))


@pytest.mark.parametrize(
    ("kind", "zones", "field"),
    [
        ("cubic", None, "decay"),
        ("zones", "10:1,5:0.5", "zones"),
        ("zones", "10-1", "zones"),
        ("zones", "10:2", "zones"),
    ],
)
def test_bad_decay_names_the_field(kind, zones, field):
    with pytest.raises(AccessError) as e:
        Decay.parse(kind, zones)
    assert e.value.field == field


def test_blocks_do_not_change_the_figures(shanghai_engine):
    whole = access_report(shanghai_engine, type="aed", minutes=4, profile="walk")
    small = access_report(shanghai_engine, type="aed", minutes=4, profile="walk", block=100)
    assert np.allclose(whole.point_score, small.point_score, rtol=1e-12, atol=0)
    assert [f.weighted_demand for f in whole.facilities] == [f.weighted_demand for f in small.facilities]
    # off the walking network (浦东新区 across the Huangpu): counted, no access, no time
    assert "off the walk network" in " ".join(whole.notes)
    pudong = next(u for u in whole.units if u.name == "浦东新区")
    assert pudong.score_per_100k == 0 and pudong.unreachable == pudong.population
