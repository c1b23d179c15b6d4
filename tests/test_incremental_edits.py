"""An edit applied incrementally (Engine.apply_changes) gives exactly the answers of a full rebuild."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from geoservice.engine.engine import Engine
from geoservice.questions import NearestQuestion
from geoservice.service.registry.store import layer_from_records

QUERIES = [
    ("aed", "walk", None),
    ("chest_pain_center", "drive", None),
    ("stroke_center", "drive", "evt"),
    ("ems_station", "drive", None),
]


def _answers(eng, pts):
    out = []
    for x, y in pts:
        for ftype, profile, cap in QUERIES:
            res = eng.nearest(NearestQuestion.of(x, y, type=ftype, profile=profile, capability=cap, k=3))
            out.append([(h.facility["id"], h.time_s, h.distance_m) for h in res.hits])
        for d in ("to", "from"):
            res = eng.nearest(NearestQuestion.of(x, y, type="aed", profile="walk", direction=d, k=2))
            out.append([(h.facility["id"], h.time_s) for h in res.hits])
    return out


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_apply_changes_equals_full_rebuild(request, seed):
    region = request.getfixturevalue("monaco" if seed % 2 else "andorra")
    rng = np.random.default_rng(seed)
    eng = Engine(region)
    net = eng.router_for("drive").net  # drive roads have walkable ways beside them: both profiles snap
    cand = [(float(net.node_lon[i]) + 2e-4, float(net.node_lat[i]) + 1e-4) for i in rng.choice(net.n_nodes, 30)]
    walk = eng.router_for("walk").snap_many([p[0] for p in cand], [p[1] for p in cand], strict=False)
    pts = [p for p, s in zip(cand, walk) if s is not None][:6]  # some drive roads are far from any footpath
    assert len(pts) == 6
    _answers(eng, pts)  # fill the selection and target caches that the edit must carry over
    records = [dict(r) for r in eng.facilities.drop(columns="geometry").to_dict("records")]
    for step in range(4):
        before = copy.copy(eng)
        ids = [r["id"] for r in records]
        # odd steps delete (rows move up); even steps only replace and add (rows kept in place)
        removed = set(rng.choice(ids, 2, replace=False).tolist()) if step % 2 else set()
        changed = [
            dict(r)
            for r in records
            if r["id"] in set(rng.choice(ids, 2, replace=False).tolist()) and r["id"] not in removed
        ]
        for r in changed:  # move them to another road node
            v = int(rng.integers(net.n_nodes))
            r["lon"], r["lat"] = float(net.node_lon[v]) + 1e-5, float(net.node_lat[v]) + 1e-5
        new = []
        for i in range(3):
            v = int(rng.integers(net.n_nodes))
            new.append(
                {
                    **records[0],
                    "id": f"new-{seed}-{step}-{i}",
                    "type": ["aed", "chest_pain_center", "stroke_center"][i],
                    "level": [None, "basic", "center"][i],
                    "capabilities": ["", "", "evt,ivt"][i],
                    "opening_hours": None,
                    "lon": float(net.node_lon[v]),
                    "lat": float(net.node_lat[v]),
                }
            )
        records = [r for r in records if r["id"] not in removed and r["id"] not in {c["id"] for c in changed}]
        records += changed + new
        eng.apply_changes(layer_from_records(changed + new), removed)
        full = Engine(region)
        full.set_facilities(layer_from_records(records))
        assert _answers(eng, pts) == _answers(full, pts)

        def rows(t):  # by id; a missing value is missing whatever the column's dtype
            cols = ["id", "type", "level", "lon", "lat"]
            return [[None if pd.isna(v) else v for v in r] for r in t[cols].sort_values("id").values.tolist()]

        assert rows(eng.facilities) == rows(full.facilities)
        assert list(eng.facilities.geometry.x) == list(eng.facilities["lon"])
        for name in eng.routers:
            assert sorted(eng.unsnapped[name]) == sorted(full.unsnapped[name])
        # the engine copied before the edit still answers from the old table
        assert set(before.facilities["id"]) != set(eng.facilities["id"])
