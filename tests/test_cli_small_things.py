"""Small things a new user trips over (issue 20, item 4): a closed pipe ends quietly, two builds to
one folder cannot both succeed, and ``build --name`` defaults to the output folder's name."""

from __future__ import annotations

import json
import subprocess
import sys

from geoservice.faces.cli import main
from geoservice.fileio import output_lock


def test_a_reader_that_leaves_early_gets_no_traceback(real_data):
    wuhan = str(real_data / "facilities/wuhan_hospitals_2020_bd09.csv")
    cmd = [
        sys.executable,
        "-m",
        "geoservice",
        "import-layer",
        wuhan,
        "--type",
        "hospital",
        "--crs",
        "bd09",
        "--lon-col",
        "lng",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -0`: nobody reads what it prints
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert proc.returncode == 141


def test_a_second_build_to_the_same_folder_refuses_at_once(demo_data, tmp_path, capsys):
    out = tmp_path / "monaco-x"
    with output_lock(out):  # a first build still writing
        code = main(["build", "--osm", str(demo_data / "monaco/monaco.osm.pbf"), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and not out.exists()
    said = f"another build is writing {out} now; wait for it to finish or choose another --out"
    assert err.strip() == f"geoservice: error: --out: {said}"


def test_build_names_the_region_after_its_folder(demo_data, tmp_path, capsys):
    out = tmp_path / "monaco-custom"
    assert main(["build", "--osm", str(demo_data / "monaco/monaco.osm.pbf"), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["name"] == "monaco-custom"
