"""Every command of the "Emergency response planning" block of the manual
(docs/explanation/planning.en.md, moved there from the README) runs as written on the demo, and the
figures that page quotes are the ones they print."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from geoservice.faces.cli import main

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "explanation" / "planning.en.md"
SECTION = "## Emergency response planning"


def section_text() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def section_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", section_text(), re.S)
    assert block, "no bash block under the planning page's section"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith("geoservice ")]


@pytest.fixture(scope="module")
def work(regions_dir, tmp_path_factory):
    """A fresh HOME whose demo cache holds the session's bundles (no registry: the bundles'
    facilities) and a working folder that sees geoservice/ as the README does."""
    home = tmp_path_factory.mktemp("home-plans")
    shutil.copytree(
        regions_dir, home / ".cache" / "geoservice" / "regions", ignore=shutil.ignore_patterns("registry.sqlite*")
    )
    (home / "work").mkdir()
    (home / "work" / "geoservice").symlink_to(REPO / "geoservice")
    return home


def test_planning_commands_run_and_figures_match(work, monkeypatch, capsys):
    from geoservice.service import settings

    monkeypatch.setenv("HOME", str(work))
    for var in ("XDG_CACHE_HOME", "GEOSERVICE_REGIONS_DIR", "GEOSERVICE_REGIONS", "GEOSERVICE_DB_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(work / "work")
    settings.get_settings.cache_clear()
    try:
        cmds = section_commands()
        assert {shlex.split(c)[1] for c in cmds} == {
            "coverage",
            "aed-week",
            "aed-site",
            "ems-site",
            "plan-targets",
            "publish",
            "triage-compare",
        }
        errs = {}
        for cmd in cmds:
            argv = [os.path.expanduser(a) for a in shlex.split(cmd)[1:]]
            capsys.readouterr()
            rc = main(argv)
            errs[cmd] = capsys.readouterr().err
            assert rc == 0, f"{cmd}\n{errs[cmd]}"
    finally:
        settings.get_settings.cache_clear()
    text = re.sub(r"\s+", " ", section_text())
    out = work / "work"
    week = json.loads((out / "aed-week" / "report.json").read_text(encoding="utf-8"))
    tue, sun = week["hours"][24 + 10], week["hours"][6 * 24 + 3]
    assert f"Tuesday 10:00 **{tue['covered_open']:,.0f} people ({100 * tue['share_open']:.2f}%)**" in text
    assert f"Sunday 03:00 **{sun['covered_open']:,.0f} ({100 * sun['share_open']:.2f}%)**" in text
    assert f"**{100 * week['lost_share_open']:.1f}%** of the 24/7 person-hours" in text
    ems = json.loads((out / "ems-mexclp" / "report.json").read_text(encoding="utf-8"))
    assert f"**{ems['expected_before']:,.0f} → {ems['expected_after']:,.0f}**" in text
    backup = json.loads((out / "ems-backup" / "report.json").read_text(encoding="utf-8"))
    assert f"**{backup['covered_twice_after']:,.0f}**" in text
    tri = json.loads((out / "triage-peak" / "report.json").read_text(encoding="utf-8"))
    assert f"**{tri['population_changed']:,.0f} people" in text and tri["changed_locations"] > 0
    site = json.loads((out / "aed-site-monaco" / "report.json").read_text(encoding="utf-8"))
    assert ", ".join(a["name"] for a in site["added"]) in text
    assert (out / "maps-tiers" / "shanghai_stroke_emergency.html").is_file()
