"""GET /access (capacity-aware access, equity, standards): the answer equals the analysis run
directly, a facility's capacity set through the API is used at once, bad input is a 422 naming
the field, and the path is of the heavy class."""

from __future__ import annotations

import pytest

from geoservice.analyses.access import NO_CAPACITY_NOTE, access_report
from geoservice.faces.api.admission import request_class

ANDORRA = {"type": "chest_pain_center", "region": "andorra"}


def test_access_answer_equals_the_analysis(client, state):
    r = client.get("/access", params={**ANDORRA, "layer": "true", "standards": "true"})
    assert r.status_code == 200, r.text
    ans = r.json()
    direct = access_report(state.engine("andorra"), type="chest_pain_center", minutes=30)
    assert ans["capacity_note"] == NO_CAPACITY_NOTE and ans["capacity_used"] is False
    assert [u["score_per_100k"] for u in ans["units"]] == pytest.approx([u.score_per_100k for u in direct.units])
    assert ans["population"] == direct.population and len(ans["facilities"]) == 3
    assert ans["equity"]["access"]["lorenz"][-1] == {"population_share": 1.0, "value_share": 1.0}
    assert len(ans["layer"]["features"]) == len(ans["units"])
    aed = [s for s in ans["standards"]["rows"] if s["measure"] == "aed_per_100k" and s["admin_code"] is None][0]
    assert aed["target"] is None and aed["met"] is None and "no default target" in aed["source"]  # not a Chinese plan
    assert ans["points"] is None


def test_capacity_set_through_the_api_is_used(client, editor):
    before = client.get("/access", params={**ANDORRA, "equity": "false"}).json()
    fid = before["facilities"][0]["id"]
    r = client.patch(f"/facilities/{fid}?region=andorra", json={"capacity": 4}, headers=editor)
    assert r.status_code == 200, r.text
    after = client.get("/access", params={**ANDORRA, "equity": "false"}).json()
    f0 = next(f for f in after["facilities"] if f["id"] == fid)
    assert f0["capacity"] == 4 and f0["capacity_given"] is True and after["capacity_used"] is True
    assert "1 of 3" in after["capacity_note"]
    # the facility's supply ratio is four times what it was (the people in its catchment are the same)
    b0 = next(f for f in before["facilities"] if f["id"] == fid)
    assert f0["ratio_per_100k"] == pytest.approx(4 * b0["ratio_per_100k"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"decay": "zones", "zones": "ten:1"}, "zones"),
        ({"decay": "cubic"}, "decay"),
        ({"minutes": 0}, "minutes"),
        ({"type": "spaceport"}, "type"),
        ({"standards": "true", "share_target": 2}, "share_target"),
    ],
)
def test_bad_input_names_the_field(client, params, field):
    r = client.get("/access", params={**ANDORRA, **params})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_bad_capacity_through_the_api(client, editor):
    fid = client.get("/access", params={**ANDORRA, "equity": "false"}).json()["facilities"][0]["id"]
    r = client.patch(f"/facilities/{fid}?region=andorra", json={"capacity": -1}, headers=editor)
    assert r.status_code == 422 and r.json()["field"] == "capacity"


def test_access_is_heavy():
    assert request_class("GET", "/access") == "heavy"
