"""Population layer: exact totals through disaggregation (Hubei census, demo regions)."""

from __future__ import annotations

import numpy as np
import pytest

from geoservice.bundle.population import largest_remainder, load_population, spread, spread_on_grid
from geoservice.sources.population import HUBEI_TOTAL_2020, PopulationError, read_hubei_counties


def test_largest_remainder_exact_and_proportional():
    out = largest_remainder(10, np.array([1.0, 1.0, 1.0]))
    assert out.sum() == 10 and sorted(out.tolist()) == [3, 3, 4]
    assert largest_remainder(7, np.zeros(4)).sum() == 7  # equal shares when no weight
    assert largest_remainder(0, np.array([2.0, 5.0])).tolist() == [0, 0]
    with pytest.raises(ValueError):
        largest_remainder(5, np.array([]))
    with pytest.raises(ValueError):
        largest_remainder(5, np.array([1.0, -1.0]))


def test_spread_keeps_unit_totals_and_rejects_empty_units():
    pop = spread(
        np.array([100.0, 7.0, np.nan]), np.array([0, 0, 1, 1, 1, -1, 2]), np.array([1.0, 3.0, 0.0, 0.0, 0.0, 9.0, 5.0])
    )
    assert pop.tolist()[:2] == [25, 75] and pop[2:5].sum() == 7 and pop[5] == 0 and pop[6] == 0
    with pytest.raises(ValueError, match="no point"):
        spread(np.array([5.0, 5.0]), np.array([0, 0]), np.array([1.0, 1.0]))


@pytest.fixture(scope="module")
def hubei(demo_data):
    return read_hubei_counties(demo_data)


def test_hubei_census_joined(hubei):
    u = hubei.units
    assert len(u) == 103
    assert int(u["population"].sum()) == HUBEI_TOTAL_2020 == 57_752_557
    assert u["population"].notna().all()


def test_hubei_totals_preserved_exactly_on_grid(hubei):
    grid = spread_on_grid(hubei, cell_deg=0.1)
    assert int(grid["population"].sum()) == 57_752_557
    per = grid.groupby("admin_code")["population"].sum()
    want = hubei.units.set_index("admin_code")["population"].astype("int64")
    assert set(per.index) == set(want.index)
    assert (per.reindex(want.index) == want).all()
    assert (grid["population"] >= 0).all()


def test_hubei_missing_file_is_clear(tmp_path):
    with pytest.raises(PopulationError, match="not found"):
        read_hubei_counties(tmp_path)


def test_demo_population_in_bundle(andorra, monaco):
    for region, total in ((andorra, 83_888), (monaco, 35_881 + 13_515 + 5_022 + 3_180)):
        for net in ("drive", "walk"):
            layer = load_population(region, net)
            assert layer.has_census
            # every network counts the same people: on foot, those along parts of the walking
            # network the build dropped (not connected to the rest) are off it, counted apart
            assert int(layer.population.sum() + layer.off.sum()) == total
            assert net == "walk" or not layer.off.any()
            assert "dasymetric" in layer.method and "OpenStreetMap" in layer.source
    lay = load_population(andorra, "drive")
    assert len(lay.units) == 7 and (lay.unit >= 0).all()
    # monaco: every counted unit keeps its published count exactly
    lay = load_population(monaco, "drive")
    per = np.bincount(lay.unit[lay.unit >= 0], lay.population[lay.unit >= 0], minlength=len(lay.units))
    assert per.astype(int).tolist() == lay.units["population"].astype(int).tolist()
