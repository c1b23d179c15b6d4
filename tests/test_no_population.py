"""A region built without admin units / census has no population data, and says so everywhere:
no population figure and no population share (never "100%" of road weights), in coverage,
what-if, siting, triage, timeline and the CLI text; area and road shares are still given."""

from __future__ import annotations

import json

import pytest

from geoservice.faces.cli import main
from geoservice.questions import CoverageQuestion


@pytest.fixture(scope="module")
def bare(demo_data, tmp_path_factory):
    """Andorra's real roads and demo designations, built without any population."""
    from geoservice.bundle.build import build_region
    from geoservice.bundle.store import load_region

    out = tmp_path_factory.mktemp("bare") / "andorra-bare"
    build_region(
        demo_data / "andorra" / "andorra.osm.pbf",
        out,
        name="andorra-bare",
        facilities=[(demo_data / "andorra" / "demo_designations.csv", {})],
        ch_profiles=(),
        quiet=True,
    )
    return load_region(out)


@pytest.fixture(scope="module")
def svc(bare):
    from geoservice.service.core import GeoService

    return GeoService([bare])


def test_coverage_has_no_population_figures(svc, bare):
    from geoservice.service.usecases import queries

    entry, rep = queries.coverage(svc, CoverageQuestion.of(type="chest_pain_center", minutes=10))
    assert "population" not in bare.meta and not rep.population_data
    o = rep.overall
    assert o.population is None and o.population_covered is None and o.population_share is None
    assert o.population_outside_extract is None
    assert 0 < o.area_share < 1 and 0 < o.road_share < 1  # still measured
    assert rep.by_unit and all(u.population is None and u.population_share is None for u in rep.by_unit)
    assert rep.gaps["features"] and all(f["properties"]["population"] is None for f in rep.gaps["features"])
    assert rep.farthest and all(p.population is None for p in rep.farthest)
    assert "no population data" in rep.method
    ans = queries.coverage_answer(entry, rep)
    assert ans.population_data is False and ans.overall.population_share is None
    json.dumps(ans.model_dump(mode="json"))


def test_whatif_delta_has_no_population(svc):
    from geoservice.service.usecases import queries

    ask = CoverageQuestion.of(type="chest_pain_center", minutes=10, add_sites=((1.5212, 42.5069),), gaps=False)
    w = queries.whatif(svc, ask)
    assert w.delta.population_share is None and w.delta.population_covered is None
    assert w.delta.area_share is not None and w.after.population_data is False


def test_planning_answers_have_no_population(svc):
    from geoservice.service.usecases import planning

    _, site = planning.site(svc, planning.SiteAsk("chest_pain_center", minutes=10, add=1))
    assert site.population is None and site.covered_before is None and site.share_after is None
    assert site.added and all(a.population_gained is None for a in site.added)
    assert "no population data" in site.method
    _, tri = planning.triage(svc, rule=planning.TriageRule(15.0, 60.0, 60.0))
    assert tri.population_by_recommendation is None
    assert tri.layer["features"] and all(f["properties"]["population"] is None for f in tri.layer["features"])
    _, tl = planning.timeline(svc, params=planning.TimelineParams(30.0, 3.0, 60.0))
    assert tl.share_transport_met is None and tl.share_chain_met is None and tl.population_by_status is None


def test_cli_says_no_population_data(bare, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "cov"
    assert (
        main(["coverage", "--region", str(bare.path), "--type", "chest_pain_center", "--minutes", "10", "-o", str(out)])
        == 0
    )
    err = capsys.readouterr().err
    assert "no population data" in err and "population share" not in err and "100.0%" not in err.split("area")[0]
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["population_data"] is False and rep["overall"]["population_share"] is None
    assert (
        main(
            ["site", "--region", str(bare.path), "--type", "chest_pain_center", "--minutes", "10", "--add", "1"]
            + ["-o", str(tmp_path / "site")]
        )
        == 0
    )
    assert "no population data" in capsys.readouterr().err
