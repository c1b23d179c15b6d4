"""Every benchmark runs (issue 22 item 5): ``python -m benchmarks NAME`` at Monaco size with tiny
parameters, as a user runs it (a child process from the repository's root), and writes its figures
as JSON. The figures are not judged here (the machine is shared); that each one is a number of the
right kind, and that the checks the benchmarks make themselves hold (matrices equal to Dijkstra's),
is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MONACO_OSM = REPO / "geoservice" / "data" / "monaco" / "monaco.osm.pbf"

pytestmark = pytest.mark.slow


def run(name: str, *args: object, out: Path, timeout: float = 600) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    cmd = [sys.executable, "-m", "benchmarks", name, *map(str, args), "--json", str(out)]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_harness_lists_every_benchmark():
    from benchmarks.__main__ import BENCHMARKS

    done = subprocess.run([sys.executable, "-m", "benchmarks"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0
    modules = {p.stem for p in (REPO / "benchmarks").glob("*.py")} - {"__init__", "__main__", "servers"}
    assert set(BENCHMARKS) == modules and all(name in done.stdout for name in modules)
    bad = subprocess.run([sys.executable, "-m", "benchmarks", "nope"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("benchmarks: error: no benchmark 'nope'")
    for path in (REPO / "benchmarks").glob("*.py"):  # one package: no path edits
        assert "sys.path" not in path.read_text(encoding="utf-8"), path.name


def test_engine(tmp_path):
    doc = run("engine", "--osm", MONACO_OSM, "--work", tmp_path / "work", out=tmp_path / "engine.json")
    m = doc["monaco"]
    assert m["nodes"] > 1000 and m["build_s"] > 0 and m["iso30_ms"] > 0
    assert m["matrix_max_diff_s"] == 0 and m["allnear_max_diff_s"] == 0  # the same as networkx


def test_isochrone(regions_dir, tmp_path):
    doc = run(
        "isochrone", regions_dir / "monaco", "--n", 3, "--minutes", 5, "--profile", "walk", out=tmp_path / "i.json"
    )
    assert doc["origins"] == 3 and doc["wall_ms"]["median"] > 0 and doc["outline_vertices_median"] > 4
    assert set(doc["stages_ms"]) == {"search", "samples", "field", "cut", "contour", "geojson"}


def test_ch(regions_dir, tmp_path):
    doc = run("ch", MONACO_OSM, "--bundle", regions_dir / "monaco", "--n", 10, out=tmp_path / "ch.json")
    assert doc["cch_arcs"] > 0 and doc["cch_same_as_bundle"] == 1
    for sc in ("free", "peak"):  # the hierarchy's matrices equal Dijkstra's under each weighting
        assert doc[f"{sc}_inf_mismatches"] == 0 and doc[f"{sc}_max_diff_s"] < 1e-6


def test_api(regions_dir, tmp_path):
    doc = run(
        "api",
        *("--region", regions_dir / "monaco", "--phases", "base", "--workers", 1, "--clients", 2),
        *("--rate", 20, "--seconds", 1, "--iso-rate", 2, "--iso-seconds", 1, "--mixed-rate", 10, "--mixed-seconds", 1),
        out=tmp_path / "api.json",
    )
    assert doc["aeds"] == 5
    for phase in ("nearest_open_loop", "isochrones_open_loop", "nearest_closed_loop", "mixed_open_loop"):
        assert doc[phase]["errors"] == 0 and doc[phase]["ok"] > 0, (phase, doc[phase])


def test_memory(regions_dir, tmp_path):
    doc = run(
        "memory",
        *("--region", regions_dir / "monaco", "--type", "hospital", "--requests", 2, "--minutes", 5, "--step", 1),
        out=tmp_path / "memory.json",
    )
    assert doc["answered"] == 2 and doc["rss_peak_mb"] >= doc["rss_loaded_mb"] > 0


def test_workers(regions_dir, tmp_path):
    doc = run("workers", "--region", regions_dir / "monaco", "--workers", 2, out=tmp_path / "workers.json")
    assert len(doc["runs"]) == 2 and {"rss", "pss", "uss"} <= set(doc["per_extra_worker_mb"])


def test_calibrate(regions_dir, tmp_path):
    doc = run(
        "calibrate",
        *("--region", regions_dir / "monaco", "--trips", 300, "--folds", 2, "--work", tmp_path / "work"),
        out=tmp_path / "calibrate.json",
    )
    assert doc["trips"]["read"] == 300 and doc["wall_s"] > 0 and doc["held_out"]


def test_osrm(tmp_path):
    from benchmarks.osrm import HOW_TO, find_osrm

    if find_osrm(None) is None:
        pytest.skip(f"no OSRM build on this machine (never downloaded): {HOW_TO}"[:300])
    doc = run("osrm", "--pbf", MONACO_OSM, "--random", 20, out=tmp_path / "osrm.json")
    assert doc, "OSRM's figures"


def test_batch():
    pytest.skip("needs ../shared/tools/make_mosaic_osm.py (province mosaics), not in the repository")


def test_first_run():
    pytest.skip("builds every demo region from scratch in a fresh folder (minutes): run by hand")
