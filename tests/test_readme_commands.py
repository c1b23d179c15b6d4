"""Every command of the README's tour and of the manual's "Command line" page
(docs/howto/command-line.en.md) runs as written on the demo."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from geoservice.faces.cli import main

REPO = Path(__file__).resolve().parents[1]


COMMAND_PAGE = REPO / "docs" / "howto" / "command-line.en.md"


def _block_commands(path: Path, heading: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, f"{path.name} has no bash block under {heading!r}"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith("geoservice ")]


def tour_commands() -> list[str]:
    """The README's 10-line tour."""
    return _block_commands(REPO / "README.md", "## A 10-line tour")


def readme_commands() -> list[str]:
    """The tour, then the manual's command list (each command once, in order)."""
    return list(dict.fromkeys(tour_commands() + _block_commands(COMMAND_PAGE, "## Command line")))


def test_readme_tour_is_ten_lines_of_the_command_list():
    tour = tour_commands()
    assert len(tour) == 10
    assert set(tour) <= set(_block_commands(COMMAND_PAGE, "## Command line"))


@pytest.fixture(scope="module")
def home(regions_dir, tmp_path_factory):
    """A fresh HOME whose demo cache holds the session's bundles; the README's paths are relative
    to the working folder, which also sees examples/ and tests/data."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(
        regions_dir, home / ".cache" / "geoservice" / "regions", ignore=shutil.ignore_patterns("registry.sqlite*")
    )
    work = home / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    (work / "tests").symlink_to(REPO / "tests")
    (work / "geoservice").symlink_to(REPO / "geoservice")
    return home


@pytest.fixture
def in_home(home, monkeypatch):
    from geoservice.service import settings

    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "GEOSERVICE_REGIONS_DIR", "GEOSERVICE_REGIONS", "GEOSERVICE_DB_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(home / "work")
    settings.get_settings.cache_clear()
    yield home
    settings.get_settings.cache_clear()


def test_readme_lists_the_commands():
    names = {shlex.split(c)[1] for c in readme_commands()}
    assert {
        "build",
        "build-demo",
        "nearest",
        "isochrone",
        "matrix",
        "export-graph",
        "import-layer",
        "coverage",
        "site",
        "grid531",
        "triage",
        "timeline",
        "publish",
        "apikey",
        "settings",
        "serve",
    } <= names


@pytest.mark.parametrize("line", [c for c in readme_commands() if not c.startswith("geoservice serve")])
def test_readme_command_runs(line, in_home, capsys):
    argv = [os.path.expanduser(a) for a in shlex.split(line)[1:]]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, f"{line}\n{err}"
    if argv[0] == "nearest":
        assert json.loads(out)["results"], line


def test_readme_serve_answers(in_home):
    line = next(c for c in readme_commands() if c.startswith("geoservice serve"))
    argv = [os.path.expanduser(a) for a in shlex.split(line)[1:]]
    port = int(argv[argv.index("--port") + 1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoservice", *argv],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.loads(r.read())["regions"] == ["shanghai", "andorra", "monaco"]
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
