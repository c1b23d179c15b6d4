"""Equity indices (analyses/equity.py) against hand computations on small arrays, their
properties (equal values -> 0, one holder -> the maximum), and on the Shanghai demo's access."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geoservice.analyses.access import access_report
from geoservice.analyses.equity import EquityUnits, access_equity, equity, gini, lorenz, theil_t, unit_types


def test_two_people_by_hand():
    # values 1 and 3: mu = 2, sum |xi - xj| over ordered pairs = 4 -> G = 4 / (2 * 2^2 * 2) = 0.25
    assert gini([1, 3], [1, 1]) == pytest.approx(0.25)
    # T = 1/2 (0.5 ln 0.5 + 1.5 ln 1.5)
    assert theil_t([1, 3], [1, 1]) == pytest.approx(0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5)))
    p, v = lorenz([3, 1], [1, 1])
    assert p.tolist() == [0.0, 0.5, 1.0] and v.tolist() == [0.0, 0.25, 1.0]


def test_weighted_by_hand():
    # values 1, 2, 4 held by 2, 1, 1 people: W = 4, mu = 8 / 4 = 2
    # ordered pairs: 2 x (2*1*1 + 2*1*3 + 1*1*2) = 20 -> G = 20 / (2 * 16 * 2) = 0.3125
    assert gini([1, 2, 4], [2, 1, 1]) == pytest.approx(0.3125)
    # T = 1/4 (2 * 0.5 ln 0.5 + 1 * 1 ln 1 + 1 * 2 ln 2) = ln(2) / 4
    assert theil_t([1, 2, 4], [2, 1, 1]) == pytest.approx(math.log(2) / 4)
    # weights are replication: the same as four people valued 1, 1, 2, 4
    assert gini([1, 1, 2, 4], [1, 1, 1, 1]) == pytest.approx(0.3125)
    p, v = lorenz([4, 1, 2], [1, 2, 1])
    assert p.tolist() == [0.0, 0.5, 0.75, 1.0] and v.tolist() == [0.0, 0.25, 0.5, 1.0]


@pytest.mark.parametrize("n", [2, 5, 17])
def test_equal_values_and_one_holder(n):
    rng = np.random.default_rng(n)
    w = np.ones(n)
    assert gini(np.full(n, 7.0), rng.uniform(1, 9, n)) == pytest.approx(0.0, abs=1e-12)
    assert theil_t(np.full(n, 7.0), rng.uniform(1, 9, n)) == pytest.approx(0.0, abs=1e-12)
    one = np.zeros(n)
    one[n // 2] = 5.0
    assert gini(one, w) == pytest.approx(1 - 1 / n)
    assert theil_t(one, w) == pytest.approx(math.log(n))
    # any other distribution lies in between
    x = rng.uniform(0, 10, n)
    assert 0 < gini(x, w) < 1 - 1 / n and 0 < theil_t(x, w) < math.log(n)


def test_worst_decile_and_units_by_hand():
    # 100 people: 5 at value 0 and 10 at value 5 (unit A), 85 at value 10 (unit B)
    res = equity(
        np.array([0.0, 5.0, 10.0]),
        np.array([5.0, 10.0, 85.0]),
        np.array([0, 0, 1]),
        units=EquityUnits(["A", "B"], ["a", "b"]),
    )
    assert res.worst_decile_people == 10.0
    assert res.worst_decile_threshold == 5.0
    assert res.worst_decile_mean == pytest.approx((5 * 0 + 5 * 5) / 10)
    assert [(u.admin_code, u.people, u.share_of_unit) for u in res.worst_decile_units] == [("A", 10.0, 0.6667)]
    # across units: A's mean is 50/15, B's 10
    assert res.gini == pytest.approx(gini([50 / 15, 10.0], [15, 85]))


def test_travel_time_unreachable_are_worst():
    # 4 people reach nothing, 10 at 3 min, 86 at 10 min: the worst 10 are the 4 and 6 of those at 10 min
    res = equity(
        np.array([np.inf, 3.0, 10.0]),
        np.array([4.0, 10.0, 86.0]),
        np.array([0, 0, 1]),
        units=EquityUnits(["A", "B"], ["a", "b"]),
        measure="travel_time",
        higher_is_better=False,
    )
    assert res.worst_decile_people == 10.0 and res.worst_decile_threshold == 10.0
    assert [(u.admin_code, u.people) for u in res.worst_decile_units] == [("B", 6.0), ("A", 4.0)]  # most first
    assert res.gini_people == pytest.approx(gini([3.0, 10.0], [10, 86]))
    assert "4 people reach no facility" in res.notes[0]


def test_urban_rural_from_names():
    units = pd.DataFrame(
        {
            "admin_code": ["420102", "420222", "420281", "429021", "x"],
            "name": ["江岸区", "阳新县", "大冶市", "神农架林区", "某地"],
        }
    )
    assert unit_types(units) == {"420102": "urban", "420222": "rural", "420281": "rural", "429021": "rural"}
    res = equity(
        np.array([4.0, 1.0, 1.0, 2.0]),
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.array([0, 1, 2, 3]),
        units=EquityUnits(
            ["420102", "420222", "420281", "429021"], ["江岸区", "阳新县", "大冶市", "神农架林区"], unit_types(units)
        ),
    )
    urban, rural = res.urban_rural
    assert (urban.group, urban.units, urban.mean) == ("urban", 1, 4.0)
    assert (rural.group, rural.units, rural.mean) == ("rural", 3, pytest.approx(4 / 3))
    assert rural.gini == pytest.approx(gini([1, 1, 2], [1, 1, 1]))


def test_shanghai_access_equity(shanghai_engine):
    res = access_report(shanghai_engine, type="chest_pain_center", minutes=30)
    acc, tt = access_equity(res)
    units = [u for u in res.units if u.population > 0]
    assert acc.gini == pytest.approx(gini([u.score_per_100k for u in units], [u.population for u in units]), abs=1e-6)
    assert 0 < acc.gini < 0.2 and 0 < tt.gini < 0.5
    assert acc.worst_decile_people == pytest.approx(0.1 * res.population, abs=0.2)
    assert [g.group for g in acc.urban_rural] == ["urban"]  # every district of central Shanghai is a 区
