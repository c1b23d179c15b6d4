"""Calibration of hourly travel-time factors (issue 19): synthetic trips drawn on the real central
Shanghai roads from a hidden truth (factors per class and hour band, a 45 s overhead, lognormal
noise) are calibrated, and the held-out predictions must recover the truth within a few percent
where free flow misses by tens of percent; injected outliers must change nothing; and the
profile written must give, through ``matrix --depart --hourly-profiles``, exactly the times
networkx computes with the same factors on the exported graph."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer

from geoservice.analyses.calibration import CalibrationOptions, calibrate, factor_tables
from geoservice.analyses.calibration_model import FIT_CLASSES
from geoservice.analyses.calibration_synthetic import DEFAULT_TRUTH, synthetic_trips
from geoservice.faces.cli import main
from geoservice.faces.cli.calibrate import EXAMPLE
from geoservice.sources.speeds import default_hourly_profiles, read_hourly_profiles, scenario_for_depart
from geoservice.sources.trips import REQUIRED, read_trips

REPO = Path(__file__).resolve().parents[1]
N_TRIPS = 2000


def write_trips(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(REQUIRED), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def clean(shanghai_engine, tmp_path_factory):
    """(rows with the hidden true times, the calibration of the clean file)."""
    rows = synthetic_trips(shanghai_engine, N_TRIPS, seed=11)
    path = write_trips(tmp_path_factory.mktemp("trips") / "clean.csv", rows)
    cal = calibrate(
        shanghai_engine,
        read_trips(path),
        region="shanghai",
        before=default_hourly_profiles(),
        before_label="built-in curve",
    )
    return rows, cal


def test_held_out_predictions_recover_the_truth(clean):
    rows, cal = clean
    true = np.array([r["true_s"] for r in rows])[cal.index]
    s = cal.scored
    assert s.sum() >= 0.99 * N_TRIPS and cal.converged
    after = cal.after_cv[s] / true[s] - 1
    free = cal.free_flow[s] / true[s] - 1
    before = cal.before[s] / true[s] - 1
    # the calibrated factors predict each held-out trip's noise-free time within a few percent
    assert np.median(np.abs(after)) < 0.03 and abs(np.median(after)) < 0.015
    assert np.mean(np.abs(after) < 0.05) > 0.8
    # free flow misses by tens of percent (too fast), the built-in curve by about 20%
    assert np.median(free) < -0.2 and np.median(before) < -0.12
    # the observed errors tell the same story
    obs = cal.observed[s]
    assert np.median(np.abs(cal.after_cv[s] - obs)) < 0.75 * np.median(np.abs(cal.before[s] - obs))


def test_factors_and_overhead_recover_the_truth(clean):
    """Where the trips drive (primary, secondary, tertiary, residential: hours of free-flow time
    each), the fitted factors are within 0.1 of the truth on average, most truths lie inside the
    95% intervals, and the overhead is near 45 s; factors are written rounded to 3 decimals."""
    _, cal = clean
    truth = DEFAULT_TRUTH.hourly()
    fit = cal.fit
    err, inside, weight = [], [], []
    for c in ("primary", "secondary", "tertiary", "residential"):
        k = FIT_CLASSES.index(c)
        f, se, t = np.array(cal.profile[c]), fit.factor_se[k], np.array(truth[c])
        err.append(np.abs(f - t))
        inside.append(np.abs(f - t) <= 1.96 * se + 0.0005)
        weight.append(fit.support_s[k])
    err_a, w = np.concatenate(err), np.concatenate(weight)
    assert np.average(err_a, weights=w) < 0.07 and np.mean(np.concatenate(inside)) > 0.75
    ov, ov_se = fit.value(fit.layout.i_overhead)
    assert abs(ov - DEFAULT_TRUTH.overhead_s) < max(12.0, 2.5 * ov_se)
    assert all(v == round(v, 3) for vals in cal.profile.values() for v in vals)


def test_fit_ignores_outliers(shanghai_engine, clean, tmp_path):
    """3-hour 'trips', GPS fixes in another city, impossible and inflated times (8% of the trips)
    and bad rows are each reported with their reason, none is fitted, and the factors are those of
    the clean file without those trips (up to the routes' near-ties)."""
    rows, cal = clean
    rng = np.random.default_rng(5)
    dirty = [dict(r) for r in rows]
    pick = rng.choice(len(dirty), 160, replace=False)
    for j, i in enumerate(pick):
        r = dirty[i]
        kind = j % 4
        if kind == 0:
            r["observed_s"] = 10800.0  # a 3-hour "trip"
        elif kind == 1:
            r["origin_lon"], r["origin_lat"] = 116.397, 39.909  # a GPS fix in Beijing
        elif kind == 2:
            r["observed_s"] = 12.0  # faster than any road allows
        else:
            r["observed_s"] = float(r["observed_s"]) * 5  # the meter left running
    bad = [dict(rows[0], trip_id=rows[1]["trip_id"]), dict(rows[2], trip_id="x-no-hour", depart="2026-03-03")]

    def run(name: str, file_rows: list[dict]):
        path = write_trips(tmp_path / name, file_rows)
        return calibrate(
            shanghai_engine,
            read_trips(path),
            region="shanghai",
            before=default_hourly_profiles(),
            before_label="curve",
            options=CalibrationOptions(folds=2),
        )

    got = run("dirty.csv", dirty + bad)
    by_id = {r.trip_id: r.reason for r in got.rejected if r.row <= N_TRIPS}
    kinds = {0: {"outlier"}, 1: {"off_network"}, 2: {"too_fast"}, 3: {"outlier"}}
    for j, i in enumerate(pick):
        assert by_id.get(dirty[i]["trip_id"]) in kinds[j % 4], (j, dirty[i]["trip_id"])
    assert {r.reason for r in got.rejected if r.row > N_TRIPS} == {"duplicate_id", "no_hour"}
    used = set(np.array(got.trips.trip_id)[got.index[~got.outlier]])
    assert not used & {dirty[i]["trip_id"] for i in pick}
    # the same factors as a fit of the clean file without those trips: the outliers weigh nothing
    ref = run("reference.csv", [r for i, r in enumerate(rows) if i not in set(pick.tolist())])
    got_f = np.array([got.profile[c] for c in FIT_CLASSES])
    ref_f = np.array([ref.profile[c] for c in FIT_CLASSES])
    busy = ref.fit.support_s > 3600  # class-hours with an hour of free-flow time
    diff = (got_f - ref_f)[busy]
    assert np.abs(diff).max() < 0.045 and abs(diff.mean()) < 0.01, (np.abs(diff).max(), diff.mean())
    assert abs(got.fit.x[got.fit.layout.i_overhead] - ref.fit.x[ref.fit.layout.i_overhead]) < 4
    true = {r["trip_id"]: r["true_s"] for r in rows}
    s = got.scored
    ids = np.array(got.trips.trip_id)[got.index[s]]
    after = got.after_cv[s] / np.array([true[i] for i in ids]) - 1
    assert np.median(np.abs(after)) < 0.03 and abs(np.median(after)) < 0.015


def test_calibration_times_are_the_engines(shanghai_engine, clean):
    """The routes calibration fits along give, under the written factors, the very times
    Engine.matrix gives for the departure hour (plus the overhead)."""
    rows, cal = clean
    written, tables = factor_tables(cal.fit.layout, cal.fit.x)
    ov = cal.fit.x[cal.fit.layout.i_overhead]
    hours = cal.hour
    for h in (3, 8, 12, 18):
        k = np.flatnonzero(hours == h)[:40]
        pos = cal.index[k]
        t = cal.trips
        o = list(zip(t.o_lon[pos], t.o_lat[pos]))
        d = list(zip(t.d_lon[pos], t.d_lat[pos]))
        got = np.array([r[1][j] for j, r in enumerate(shanghai_engine.matrix(o, d, scenario=tables[h] or None))])
        np.testing.assert_allclose(cal.after_fit[k] - ov, got, rtol=0, atol=1e-6)
        assert tables[h] == scenario_for_depart(f"{h:02d}:10", {c: written.get(c, (1.0,) * 24) for c in written})


# ------------------------------------------------------------------------- the profile in matrix
WALK_MS = 5.0 / 3.6


def spliced(G: nx.MultiDiGraph, net, snaps: dict[str, object], where: dict[str, tuple[float, float]]):
    """``G`` with a node per snapped point on its road piece (the piece cut at the snap fraction,
    each part weighted by its share of the piece's ``w``) and the point itself joined to it by its
    walk (metres in the network's CRS / 5 km/h, both ways)."""
    to_m = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    H = G.copy()
    by_id = {d["edge_id"]: (u, v, k) for u, v, k, d in G.edges(keys=True, data=True)}
    pieces: dict[int, list] = {}
    for name, s in snaps.items():
        lon, lat = where[name]
        (x0, x1), (y0, y1) = to_m.transform([lon, s.lon], [lat, s.lat])
        leg = float(np.hypot(x1 - x0, y1 - y0)) / WALK_MS
        H.add_edge(name, f"{name}@road", w=leg)
        H.add_edge(f"{name}@road", name, w=leg)
        pieces.setdefault(s.geom, []).append((s.frac, f"{name}@road"))
    for g, pts in pieces.items():
        chain = [(0.0, int(net.geom_u[g])), *sorted(pts), (1.0, int(net.geom_v[g]))]
        for e, forward in ((int(net.geom_fwd[g]), True), (int(net.geom_bwd[g]), False)):
            if e < 0:
                continue
            u, v, k = by_id[e]
            w = G.edges[u, v, k]["w"]
            H.remove_edge(u, v, k)
            for (f0, n0), (f1, n1) in zip(chain, chain[1:]):
                H.add_edge(*((n0, n1) if forward else (n1, n0)), w=(f1 - f0) * w)
    return H


def test_matrix_with_the_profile_equals_networkx(shanghai_engine, clean, regions_dir, tmp_path):
    """``matrix --depart 08:30 --hourly-profiles profile.csv`` gives exactly (to the file's 0.1 s)
    the times of networkx's Dijkstra on the graph ``export-graph`` wrote, each edge's drive time
    times the profile's hour-08 factor of its own class, with the walks to the roads."""
    from geoservice.bundle.to_networkx import load_graph

    _, cal = clean
    profile = tmp_path / "profile.csv"
    written, _ = factor_tables(cal.fit.layout, cal.fit.x)
    profile.write_text("\n".join(",".join(r) for r in _rows(written)) + "\n")
    assert read_hourly_profiles(profile)["primary"] == written["primary"]
    region = str(regions_dir / "shanghai")
    graph = tmp_path / "drive.graphml"
    assert main(["export-graph", "--region", region, "-o", str(graph)]) == 0
    G = load_graph(graph)
    factor8 = {c: v[8] for c, v in read_hourly_profiles(profile).items()}
    for _, _, d in G.edges(data=True):
        d["w"] = d["travel_time_drive"] * factor8[d["highway"]]
    pts = {f"p{i}": (float(cal.trips.o_lon[i]), float(cal.trips.o_lat[i])) for i in range(0, 60, 6)}
    pts |= {f"q{i}": (float(cal.trips.d_lon[i]), float(cal.trips.d_lat[i])) for i in range(0, 60, 6)}
    with open(tmp_path / "pts.csv", "w") as fh:
        fh.write("id,lon,lat\n" + "".join(f"{k},{lon},{lat}\n" for k, (lon, lat) in pts.items()))
    out = tmp_path / "od.csv"
    argv = ["matrix", "--region", region, "--origins", str(tmp_path / "pts.csv"), "--destinations"]
    argv += [str(tmp_path / "pts.csv"), "--depart", "08:30", "--hourly-profiles", str(profile), "-o", str(out)]
    assert main(argv) == 0
    router = shanghai_engine.router_for("drive")
    snaps = {k: router.snap(*p) for k, p in pts.items()}
    H = spliced(G, router.net, snaps, pts)
    with open(out) as fh:
        got = {(r["origin_id"], r["destination_id"]): float(r["time_s"]) for r in csv.DictReader(fh)}
    slower = 0
    for a in pts:
        ref = nx.single_source_dijkstra_path_length(H, a, weight="w")
        for b in pts:
            if a != b:
                assert got[(a, b)] == pytest.approx(ref[b], abs=0.051), (a, b)
                slower += 1
    assert slower == len(pts) * (len(pts) - 1)


def _rows(written):
    from geoservice.analyses.calibration import profile_rows

    return profile_rows(written)


# ------------------------------------------------------------------------- the command
def test_help_example_runs(regions_dir, tmp_path, capsys):
    """The example of ``geoservice calibrate --help`` runs as written (on the demo region, the
    committed SYNTHETIC file) and writes every promised file; the profile reads back."""
    assert main(["calibrate", "--help"]) == 0
    assert EXAMPLE in capsys.readouterr().out
    argv = shlex.split(EXAMPLE)[1:]
    argv[argv.index("--trips") + 1] = str(REPO / argv[argv.index("--trips") + 1])
    argv[argv.index("--out") + 1] = str(tmp_path / "calib")
    assert main([*argv, "--region", str(regions_dir / "shanghai")]) == 0
    err = capsys.readouterr().err
    assert "held-out median error" in err and "geoservice attach-profile --region" in err
    out = tmp_path / "calib"
    for f in ("profile.csv", "report.json", "report.html", "predictions.csv", "observed_vs_predicted.png"):
        assert (out / f).is_file(), f
    assert {"residuals_by_hour.png", "factors.png"} <= {p.name for p in out.iterdir()}
    rep = json.loads((out / "report.json").read_text())
    assert rep["trips"]["read"] == 1505 and rep["trips"]["by_reason"] == {
        **{k: v for k, v in rep["trips"]["by_reason"].items() if k == "too_fast"},
        "outlier": 1,
        "off_network": 1,
        "no_hour": 1,
        "bad_time": 1,
        "duplicate_id": 1,
    }
    ids = {r["trip_id"]: r["reason"] for r in rep["rejections"]}
    assert ids["flawed-3h"] == "outlier" and ids["flawed-wrong-city"] == "off_network"
    ev = rep["evaluation"]["models"]
    assert (
        ev["after"]["median_abs_error_s"] < ev["before"]["median_abs_error_s"] < ev["free_flow"]["median_abs_error_s"]
    )
    assert {"bias_by_hour", "bias_by_distance", "bias_by_road_class"} <= set(rep["evaluation"])
    mult = rep["evaluation"]["time_multipliers"]
    assert mult["p10"] < 1 < mult["p90"] < mult["p95"] and abs(mult["p50"] - 1) < 0.05
    assert rep["overhead_s"]["lo95"] < rep["overhead_s"]["estimate"] < rep["overhead_s"]["hi95"]
    prof = read_hourly_profiles(out / "profile.csv")
    assert prof["primary"][8] > 1.5 and prof["primary"][3] < 1.2
    html = (out / "report.html").read_text()
    assert "http" not in html.replace("http-equiv", "") and "factors.png" in html
