"""Bystander and AED dispatch against brute force, on the real Monaco and central Shanghai networks.

The responders are SYNTHETIC: random positions around the arrest (seeded), standing in for the
volunteers of a real responder app. The AEDs are the regions' own (Monaco: the 5 real OSM AEDs,
hours unknown; Shanghai: demo designations of real hospitals, some with weekday hours).

Brute force: every responder x AED pair through separate networkx Dijkstra runs on the exported
walk graph, with edge times computed here from the edge lengths at the responders' speed (steps
at half speed), not from the engine's time arrays.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime

import networkx as nx
import numpy as np
import pytest

from geoservice.analyses.dispatch import DispatchOptions, Responder, plan_dispatch
from geoservice.bundle.to_networkx import network_to_networkx
from geoservice.engine.router import SnapError
from geoservice.faces.cli import main
from geoservice.sources.opening_hours import is_open
from geoservice.sources.speeds import ROAD_CLASSES

SPEED = 1.8
TUESDAY_10 = datetime(2026, 12, 1, 10, 0)
SUNDAY_03 = datetime(2026, 11, 29, 3, 0)
MONACO_ARREST = (7.4236, 43.7384)  # Place du Casino
SHANGHAI_ARREST = (121.4540, 31.2185)  # 湖南路街道, beside a weekday-hours AED (demo designation)


def synthetic_responders(lon: float, lat: float, n: int, seed: int, spread_deg: float = 0.004) -> list[Responder]:
    """SYNTHETIC responder positions, normally spread around the arrest."""
    rng = np.random.default_rng(seed)
    return [
        Responder(
            f"synthetic-{i}", lon + float(rng.normal(0, spread_deg)), lat + float(rng.normal(0, spread_deg * 0.8))
        )
        for i in range(n)
    ]


class BruteWalk:
    """Point-to-point walking times by networkx on the exported walk graph, at ``speed``."""

    def __init__(self, router, speed: float):
        self.net = net = router.net
        self.router = router
        self.speed = speed
        G = network_to_networkx(net, geometry=False)
        for _, _, d in G.edges(data=True):
            d["t"] = d["length"] / speed * (2.0 if d["highway"] == "steps" else 1.0)
        self.G = G
        self._runs: dict[int, dict[int, float]] = {}

    def _factor(self, g: int) -> float:
        return 2.0 if ROAD_CLASSES[int(self.net.way_class[int(self.net.geom_way[g])])] == "steps" else 1.0

    def _piece(self, s) -> tuple[int, int, float]:
        g = s.geom
        return int(self.net.geom_u[g]), int(self.net.geom_v[g]), float(self.net.geom_len[g]) * self._factor(g)

    def ends_from(self, s):
        """(node, seconds) leaving the point along its road piece."""
        u, v, L = self._piece(s)
        out = []
        if self.net.geom_fwd[s.geom] >= 0:
            out.append((v, (1 - s.frac) * L / self.speed))
        if self.net.geom_bwd[s.geom] >= 0:
            out.append((u, s.frac * L / self.speed))
        return out

    def ends_to(self, s):
        """(node, seconds) from which the point is reached along its road piece."""
        u, v, L = self._piece(s)
        out = []
        if self.net.geom_fwd[s.geom] >= 0:
            out.append((u, s.frac * L / self.speed))
        if self.net.geom_bwd[s.geom] >= 0:
            out.append((v, (1 - s.frac) * L / self.speed))
        return out

    def _from_node(self, n: int) -> dict[int, float]:
        if n not in self._runs:
            self._runs[n] = nx.single_source_dijkstra_path_length(self.G, n, weight="t")
        return self._runs[n]

    def time(self, a, b) -> float:
        """Walk from a to b: both off-network legs (the point to its place on the path, measured
        here from the coordinates) and the best way along the paths."""
        if (a.px, a.py) == (b.px, b.py):
            return 0.0
        legs = (np.hypot(a.px - a.x, a.py - a.y) + np.hypot(b.px - b.x, b.py - b.y)) / self.speed
        best = np.inf
        if a.geom == b.geom:
            _, _, L = self._piece(a)
            best = abs(a.frac - b.frac) * L / self.speed
        for n0, c0 in self.ends_from(a):
            d = self._from_node(n0)
            for n1, c1 in self.ends_to(b):
                if n1 in d:
                    best = min(best, c0 + d[n1] + c1)
        return legs + best


def brute_plan(engine, lon, lat, responders, at, speed=SPEED, k=3, limit_s=1800.0, unknown="allow"):
    """The plan by exhaustive search over every responder and AED (same rules as the module docstring)."""
    router = engine.router_for("walk")
    bw = BruteWalk(router, speed)
    p = router.snap(lon, lat)
    snaps = router.snap_many([r.lon for r in responders], [r.lat for r in responders], strict=False)
    resp = [(r, s) for r, s in zip(responders, snaps) if s is not None]
    fac = engine.facilities
    aeds = []
    for _, row in fac[fac["type"] == "aed"].iterrows():
        state = is_open(row["opening_hours"] if isinstance(row["opening_hours"], str) else None, at)
        s = router.snap_many([row.geometry.x], [row.geometry.y], strict=False)[0]
        if s is None or state is False or (state is None and unknown == "exclude"):
            continue
        aeds.append((row["id"], s, state))
    to_p = {r.id: bw.time(s, p) for r, s in resp}
    reach = [(r, s) for r, s in resp if to_p[r.id] <= limit_s]
    a_to_p = {aid: bw.time(s, p) for aid, s, _ in aeds}
    reach_a = [(aid, s, st) for aid, s, st in aeds if a_to_p[aid] <= limit_s]
    pairs = {(r.id, aid): bw.time(rs, s) for r, rs in reach for aid, s, _ in reach_a}

    def best(rids, aids):
        cands = [(pairs[(r, a)] + a_to_p[a], r, a) for r in rids for a in aids]
        return min(cands) if cands else None

    first = best([r.id for r, _ in reach], [a for a, _, _ in reach_a])
    backup = None
    if first is not None and dict((a, st) for a, _, st in reach_a)[first[2]] is None:
        backup = best([r.id for r, _ in reach if r.id != first[1]], [a for a, _, st in reach_a if st is True])
    fetchers = {f[1] for f in (first, backup) if f is not None}
    direct = sorted(to_p[r.id] for r, _ in reach if r.id not in fetchers)[:k]
    # someone at the patient: min over AEDs within the limit both ways of walk(p -> a) + walk(a -> p)
    trips = [(bw.time(p, s) + a_to_p[aid], aid, bw.time(p, s)) for aid, s, _ in reach_a if bw.time(p, s) <= limit_s]
    return {
        "first": first,
        "backup": backup,
        "direct": direct,
        "pairs": pairs,
        "a_to_p": a_to_p,
        "to_p": to_p,
        "bystander": min(trips) if trips else None,
    }


def _check_against_brute(engine, lon, lat, responders, at, **kw):
    opts = DispatchOptions(walk_speed_ms=kw.get("speed", SPEED), unknown_hours=kw.get("unknown", "allow"))
    plan = plan_dispatch(engine, lon, lat, responders=responders, at=at, options=opts)
    ref = brute_plan(engine, lon, lat, responders, at, **kw)
    # direct CPR: the k nearest on foot, fetchers left out
    assert [d.leg.time_s for d in plan.direct] == pytest.approx(ref["direct"], abs=0.06)
    for plan_fetch, ref_fetch in ((plan.aed, ref["first"]), (plan.aed_backup, ref["backup"])):
        assert (plan_fetch is None) == (ref_fetch is None)
        if plan_fetch is None:
            continue
        assert plan_fetch.time_s == pytest.approx(ref_fetch[0], abs=0.11)
        # the legs are those of the responder and AED the plan names (the multi-source label is right)
        pair = (plan_fetch.responder.id, plan_fetch.aed["id"])
        assert plan_fetch.to_aed.time_s == pytest.approx(ref["pairs"][pair], abs=0.06)
        assert plan_fetch.to_patient.time_s == pytest.approx(ref["a_to_p"][pair[1]], abs=0.06)
    # the bystander's AED: the round trip from the patient, each way against networkx
    assert (plan.bystander is None) == (ref["bystander"] is None)
    if plan.bystander is not None:
        assert plan.bystander.time_s == pytest.approx(ref["bystander"][0], abs=0.11)
        aid = plan.bystander.aed["id"]
        assert plan.bystander.back.time_s == pytest.approx(ref["a_to_p"][aid], abs=0.06)
    return plan, ref


@pytest.mark.parametrize("at", [TUESDAY_10, SUNDAY_03], ids=["tuesday-10h", "sunday-03h"])
def test_shanghai_plan_equals_brute_force(shanghai_engine, at):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    plan, ref = _check_against_brute(shanghai_engine, lon, lat, people, at)
    assert plan.considered == len(ref["to_p"]) == 12
    assert len(plan.direct) == 3 and plan.aed is not None
    assert plan.aed.responder.id not in {d.responder.id for d in plan.direct}  # one task each
    if at == SUNDAY_03:  # weekday-hours AEDs are closed: the plan never sends anyone to one
        assert plan.aed.open_at is not False
        assert plan.aed.aed["opening_hours"] in ("24/7", None) or plan.aed.open_at is None


def test_shanghai_hours_change_the_plan(shanghai_engine):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    day = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=DispatchOptions())
    night = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=SUNDAY_03, options=DispatchOptions())
    assert day.aed.aed["opening_hours"] == "Mo-Fr 08:00-17:00; Sa 08:00-12:00" and day.aed.open_at is True
    assert night.aed.aed["id"] != day.aed.aed["id"]
    assert night.aed.time_s > day.aed.time_s


def test_monaco_plan_equals_brute_force(monaco_engine):
    lon, lat = MONACO_ARREST
    people = synthetic_responders(lon, lat, 10, seed=3, spread_deg=0.003)
    plan, _ = _check_against_brute(monaco_engine, lon, lat, people, SUNDAY_03)
    # the 5 real OSM AEDs have no opening hours: allowed, flagged, and said
    assert plan.aed is not None and plan.aed.open_at is None and plan.aed_backup is None
    assert any("unknown opening hours" in n for n in plan.notes)


def test_unknown_hours_excluded(monaco_engine):
    lon, lat = MONACO_ARREST
    people = synthetic_responders(lon, lat, 10, seed=3, spread_deg=0.003)
    plan, _ = _check_against_brute(monaco_engine, lon, lat, people, SUNDAY_03, unknown="exclude")
    assert plan.aed is None and plan.first_shock[1] == "ambulance"
    assert any("unknown hours excluded" in n for n in plan.notes)


def test_backup_plan_when_hours_are_unknown(shanghai_engine):
    """At 上海市儿童医院's AED (hours unknown) the plan flags it and adds a backup through an AED
    known to be open, for another responder; both against brute force."""
    lon, lat = 121.4437, 31.2312
    people = synthetic_responders(lon, lat, 8, seed=5)
    plan, ref = _check_against_brute(shanghai_engine, lon, lat, people, SUNDAY_03)
    assert plan.aed.open_at is None and plan.aed.aed["id"] == "demo-aed-way-1153655815"
    assert plan.aed_backup is not None and plan.aed_backup.open_at is True
    assert plan.aed_backup.responder.id != plan.aed.responder.id


def test_walking_speed_setting_scales_every_walk(shanghai_engine):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    slow = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=DispatchOptions())
    fast_opts = DispatchOptions(walk_speed_ms=2.3)
    fast = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=fast_opts)
    for a, b in zip(slow.direct, fast.direct):
        assert a.responder == b.responder and b.leg.distance_m == a.leg.distance_m
        assert b.leg.time_s == pytest.approx(a.leg.time_s * 1.8 / 2.3, abs=0.1)  # both rounded to 0.1 s
    # the routes are walked at the setting's speed: metres / seconds = 1.8 m/s (steps slower)
    for leg in [d.leg for d in slow.direct] + [slow.aed.to_aed, slow.aed.to_patient]:
        assert leg.distance_m <= leg.time_s * SPEED + 0.5
        assert leg.distance_m >= leg.time_s * SPEED / 2 - 0.5


def test_routes_join_responder_aed_and_patient(shanghai_engine):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    plan = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=DispatchOptions())
    router = shanghai_engine.router_for("walk")
    f = plan.aed
    rs = router.snap(f.responder.lon, f.responder.lat)
    a = router.snap(f.aed["lon"], f.aed["lat"])
    # each walk runs from the real position to the path, along it, and off it to the real position
    real_aed = [f.aed["lon"], f.aed["lat"]]
    assert f.to_aed.coords[0] == pytest.approx([f.responder.lon, f.responder.lat], abs=1e-6)
    assert f.to_aed.coords[1] == pytest.approx([rs.lon, rs.lat], abs=1e-6)
    assert f.to_aed.coords[-2] == pytest.approx([a.lon, a.lat], abs=1e-6)
    assert f.to_aed.coords[-1] == pytest.approx(real_aed, abs=1e-6)
    assert f.to_patient.coords[0] == pytest.approx(real_aed, abs=1e-6)
    assert f.to_patient.coords[1] == pytest.approx([a.lon, a.lat], abs=1e-6)
    assert f.to_patient.coords[-2] == pytest.approx(list(plan.snapped), abs=1e-6)
    assert f.to_patient.coords[-1] == pytest.approx([lon, lat], abs=1e-6)
    for d in plan.direct:
        assert d.leg.coords[-2] == pytest.approx(list(plan.snapped), abs=1e-6)
        assert d.leg.coords[-1] == pytest.approx([lon, lat], abs=1e-6)


def _drive_time(router, a, b) -> float:
    """Station → patient by networkx on the drive graph (engine edge times, partial pieces by hand)."""
    net = router.net
    G = network_to_networkx(net, geometry=False)
    t = net.times("drive")

    def piece(s, leaving: bool):
        out = []
        ef, eb = int(net.geom_fwd[s.geom]), int(net.geom_bwd[s.geom])
        u, v = int(net.geom_u[s.geom]), int(net.geom_v[s.geom])
        if ef >= 0:
            out.append((v, (1 - s.frac) * t[ef]) if leaving else (u, s.frac * t[ef]))
        if eb >= 0:
            out.append((u, s.frac * t[eb]) if leaving else (v, (1 - s.frac) * t[eb]))
        return out

    best = router.along_same_edge(a, b, "drive")
    for n0, c0 in piece(a, True):
        d = nx.single_source_dijkstra_path_length(G, n0, weight="travel_time_drive")
        for n1, c1 in piece(b, False):
            if n1 in d:
                best = min(best, c0 + d[n1] + c1)
    return best


def test_ambulance_eta_and_first_shock(shanghai_engine):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    opts = DispatchOptions(dispatch_delay_s=60, aed_setup_s=60)
    plan = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=opts)
    router = shanghai_engine.router_for("drive")
    p = router.snap(lon, lat)
    ems = shanghai_engine.facilities[shanghai_engine.facilities["type"] == "ems_station"]
    # the drive ends at the kerb (the crew walks the patient's leg) and starts with the station's own leg
    ref = min(
        _drive_time(router, s, p) + s.dist_m / (5 / 3.6)
        for s in (router.snap(r.geometry.x, r.geometry.y) for _, r in ems.iterrows())
    )
    amb = plan.ambulance
    assert amb.drive.time_s == pytest.approx(ref, abs=0.06)
    assert amb.access_s == pytest.approx(p.dist_m / SPEED, abs=0.06)
    assert amb.eta_s == pytest.approx(60 + ref + p.dist_m / SPEED, abs=0.15)
    t, by = plan.first_shock
    assert t == pytest.approx(min(plan.aed.time_s, plan.bystander.time_s, amb.eta_s) + 60, abs=1e-9)
    assert plan.first_cpr_s == pytest.approx(plan.direct[0].leg.time_s)


def test_no_responders_still_gives_the_ambulance(monaco_engine):
    plan = plan_dispatch(monaco_engine, *MONACO_ARREST, responders=[], at=SUNDAY_03, options=DispatchOptions())
    assert plan.direct == [] and plan.aed is None and plan.ambulance is not None
    assert "no available responder within reach" in plan.notes
    # Place du Casino: the nearest AED there and back is slower than the ambulance, which shocks first
    assert plan.bystander is not None and plan.bystander.time_s > plan.ambulance.eta_s
    assert plan.first_shock[1] == "ambulance"


# issue 21: an AED 37 m from the patient, no live volunteer, and the plan said nothing about it
ISSUE21_AED = (7.42736, 43.739985)  # osm-node-3760302961, a real OSM AED (hours unknown)
ISSUE21_ARREST = (7.42782, 43.739985)  # 37 m east of it


def test_no_volunteer_still_advises_the_nearest_aed(monaco_engine):
    """No responder at all: the plan names the AED a bystander fetches (there and back on foot,
    against networkx), and its shock (round trip + set-up) comes before the ambulance's."""
    from geoservice.bundle.network import haversine_m

    lon, lat = ISSUE21_ARREST
    assert haversine_m(lon, lat, *ISSUE21_AED) == pytest.approx(37, abs=0.5)
    plan, ref = _check_against_brute(monaco_engine, lon, lat, [], SUNDAY_03)
    b = plan.bystander
    assert plan.aed is None and plan.direct == []
    assert b is not None and b.aed["id"] == "osm-node-3760302961" == ref["bystander"][1] and b.open_at is None
    bw = BruteWalk(monaco_engine.router_for("walk"), SPEED)
    router = monaco_engine.router_for("walk")
    p, a = router.snap(lon, lat), router.snap(*ISSUE21_AED)
    assert b.to_aed.time_s == pytest.approx(bw.time(p, a), abs=0.06)
    assert b.back.time_s == pytest.approx(bw.time(a, p), abs=0.06)
    # the walk runs from the patient's real position to the AED's and back
    assert b.to_aed.coords[0] == pytest.approx([lon, lat]) and b.to_aed.coords[-1] == pytest.approx(list(ISSUE21_AED))
    assert b.back.coords[0] == pytest.approx(list(ISSUE21_AED)) and b.back.coords[-1] == pytest.approx([lon, lat])
    # a short walk: at least the straight line there and back, at most a few times it
    assert 2 * 37 <= b.to_aed.distance_m + b.back.distance_m <= 4 * 37
    t, by = plan.first_shock
    assert by == "bystander_aed" and t == pytest.approx(b.time_s + 60) and t < plan.ambulance.eta_s + 60
    assert t <= 240  # the 4-minute target is met by the caller's bystander


def test_bystander_aed_beside_responders(shanghai_engine):
    """With responders too the bystander's AED is given; the first shock is the earliest of the three."""
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    plan, ref = _check_against_brute(shanghai_engine, lon, lat, people, TUESDAY_10)
    b = plan.bystander
    assert b.open_at is True and b.aed["opening_hours"] == "Mo-Fr 08:00-17:00; Sa 08:00-12:00"
    t, by = plan.first_shock
    assert t == pytest.approx(min(plan.aed.time_s, b.time_s, plan.ambulance.eta_s) + 60)
    assert by == "bystander_aed"


def test_arrest_off_the_footpaths_names_the_distance(monaco_engine):
    with pytest.raises(SnapError) as e:
        plan_dispatch(monaco_engine, 7.47, 43.70, responders=[], at=SUNDAY_03, options=DispatchOptions())
    assert e.value.field == "lon,lat" and "walk" in e.value.message


# ---------------------------------------------------------------------------- CLI
def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_with_a_responders_file(capsys, regions_dir, shanghai_engine, tmp_path):
    lon, lat = SHANGHAI_ARREST
    people = synthetic_responders(lon, lat, 12, seed=11)
    f = tmp_path / "synthetic_responders.csv"
    f.write_text("id,lon,lat\n" + "".join(f"{r.id},{r.lon},{r.lat}\n" for r in people), encoding="utf-8")
    code, out, err = cli(
        capsys, "dispatch", "--region", regions_dir / "shanghai", "--db", tmp_path / "none.sqlite",
        "--lon", lon, "--lat", lat, "--at", "2026-12-01T10:00", "--responders", f,
    )  # fmt: skip
    assert code == 0, err
    ans = json.loads(out)
    plan = plan_dispatch(shanghai_engine, lon, lat, responders=people, at=TUESDAY_10, options=DispatchOptions())
    assert ans["responders_source"] == "file" and ans["at"] == "2026-12-01T10:00"
    assert [d["responder"]["id"] for d in ans["direct"]] == [d.responder.id for d in plan.direct]
    assert ans["aed_plan"]["responder"]["id"] == plan.aed.responder.id
    assert ans["aed_plan"]["aed"]["id"] == plan.aed.aed["id"] and ans["aed_plan"]["aed"]["demo"] is True
    assert ans["first_shock"]["time_s"] == pytest.approx(plan.first_shock[0], abs=0.1)
    assert ans["first_shock"]["target_s"] == 240 and ans["assumptions"]["walk_speed_ms"] == 1.8
    b = ans["bystander_aed"]  # what to tell the caller, as the plan has it
    assert b["aed"]["id"] == plan.bystander.aed["id"] and b["time_s"] == pytest.approx(plan.bystander.time_s, abs=0.1)
    assert b["shock_s"] == pytest.approx(plan.bystander.time_s + 60, abs=0.1) and b["back"]["route"]["coordinates"]
    assert not (tmp_path / "none.sqlite").exists()  # a read-only command creates no registry


@pytest.mark.parametrize(
    "rows,expect",
    [
        ("id,lon\nx,7.42\n", "--responders: "),
        ("id,lon,lat\nx,abc,43.7\n", "row 1"),
        ("id,lon,lat\nx,7.4236,43.7384\nx,7.4237,43.7385\n", "row 2: duplicate id 'x' (first at row 1)"),
    ],
)
def test_cli_bad_responders_file(capsys, regions_dir, tmp_path, rows, expect):
    f = tmp_path / "r.csv"
    f.write_text(rows, encoding="utf-8")
    code, _, err = cli(
        capsys, "dispatch", "--region", regions_dir / "monaco", "--db", tmp_path / "none.sqlite",
        "--lon", MONACO_ARREST[0], "--lat", MONACO_ARREST[1], "--responders", f,
    )  # fmt: skip
    assert code == 2 and err.startswith("geoservice: error: --responders: ") and expect in err


# ---------------------------------------------------------------------------- README
def dispatch_readme_commands() -> list[str]:
    from pathlib import Path

    # the README's Dispatch section now lives in the manual
    page = Path(__file__).resolve().parents[1] / "docs" / "explanation" / "dispatch.en.md"
    text = page.read_text(encoding="utf-8")
    section = text[text.index("## Dispatch") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "docs/explanation/dispatch.en.md has no bash block under '## Dispatch'"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith("geoservice ")]


def test_readme_dispatch_commands_run_and_say_what_the_readme_says(regions_dir, tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from geoservice.service import settings

    monkeypatch.setenv("GEOSERVICE_REGIONS_DIR", str(regions_dir))
    monkeypatch.setenv("GEOSERVICE_DB_PATH", str(tmp_path / "registry.sqlite"))
    monkeypatch.delenv("GEOSERVICE_REGIONS", raising=False)
    monkeypatch.delenv("GEOSERVICE_DATABASE_URL", raising=False)
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    settings.get_settings.cache_clear()
    answers = []
    try:
        for line in dispatch_readme_commands():
            code, out, err = cli(capsys, *shlex.split(line)[1:])
            assert code == 0, f"{line}\n{err}"
            if line.startswith("geoservice dispatch"):
                answers.append(json.loads(out))
    finally:
        settings.get_settings.cache_clear()
    tuesday, sunday, live = answers
    # the caller's bystander fetches the AED 123 m away: there and back 2.3 min, the shock at 3.3 min
    assert tuesday["first_shock"]["by"] == "bystander_aed" and tuesday["first_shock"]["minutes"] == 3.3
    assert tuesday["first_shock"]["target_met"] is True and tuesday["bystander_aed"]["minutes"] == 2.3
    assert tuesday["aed_plan"]["responder"]["id"] == "synthetic-03" and tuesday["aed_plan"]["minutes"] == 4.7
    assert tuesday["aed_plan"]["to_aed"]["distance_m"] == pytest.approx(386, abs=1)  # with both walks off the path
    assert tuesday["aed_plan"]["to_patient"]["distance_m"] == pytest.approx(123, abs=1)
    assert "湖南街道社区卫生服务中心" in tuesday["aed_plan"]["aed"]["name"]
    assert [d["responder"]["id"] for d in tuesday["direct"]] == ["synthetic-10", "synthetic-12", "synthetic-08"]
    assert [d["to_patient"]["minutes"] for d in tuesday["direct"]] == [3.0, 3.1, 3.6]
    assert tuesday["ambulance"]["minutes"] == 4.7
    assert sunday["first_shock"]["by"] == "ambulance" and sunday["first_shock"]["minutes"] == 5.7
    assert sunday["first_shock"]["target_met"] is False and sunday["aed_plan"]["minutes"] == 39.8
    assert sunday["bystander_aed"]["minutes"] == 44.1 and sunday["bystander_aed"]["open_at"] is True
    assert live["responders_source"] == "registry" and live["responders_considered"] == 0
