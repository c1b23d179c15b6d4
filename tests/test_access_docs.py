"""The manual's page on capacity-aware access, equity and standards (docs/explanation/access-equity):
its example runs as written on the demo, the same in both languages, and the figures it quotes are
the ones the commands write."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

from test_readme_commands import home, in_home  # noqa: F401  (the README test's demo HOME, reused)

from geoservice.faces.cli import main

REPO = Path(__file__).resolve().parents[1]
PAGES = {lang: REPO / "docs" / "explanation" / f"access-equity.{lang}.md" for lang in ("zh", "en")}
BASH = re.compile(r"^```bash[^\n]*\n(.*?)^```", re.S | re.M)


def commands(lang: str) -> list[str]:
    blocks = BASH.findall(PAGES[lang].read_text(encoding="utf-8"))
    return [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip().startswith("geoservice ")]


def test_example_runs_and_the_figures_match(in_home):  # noqa: F811
    assert commands("zh") == commands("en") and len(commands("en")) == 2
    for cmd in commands("en"):
        argv = [Path(a).expanduser().as_posix() if a.startswith("~") else a for a in shlex.split(cmd)[1:]]
        assert main(argv) == 0, cmd
    out = Path("access-shanghai")
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    units = {u["name"]: u for u in doc["units"]}
    acc, tt = doc["equity"]["access"], doc["equity"]["travel_time"]
    std = {r["measure"]: r for r in doc["standards"]["rows"] if r["admin_code"] is None}
    worst = {u["name"]: u["people"] for u in acc["worst_decile_units"]}
    en = PAGES["en"].read_text(encoding="utf-8")
    zh = PAGES["zh"].read_text(encoding="utf-8")
    quoted = [
        f"{doc['score_per_100k']:.3f}",
        f"{units['浦东新区']['score_per_100k']:.3f}",
        f"{units['长宁区']['score_per_100k']:.3f}",
        f"{units['浦东新区']['mean_nearest_min']:.1f}",
        f"{acc['gini']:.3f}",
        f"{acc['theil_t']:.4f}",
        f"{tt['gini']:.3f}",
        f"{acc['worst_decile_people']:,.0f}",
        f"{worst['杨浦区']:,.0f}",
        f"{worst['浦东新区']:,.0f}",
        f"{std['aed_per_100k']['value']:.2f}",
        f"{100 * std['aed_fetch_return']['value']:.2f}%",
        f"{100 * std['ems_radius']['value']:.1f}%",
        f"{100 * std['ems_time']['value']:.1f}%",
        f"{doc['population']:,.0f}",
    ]
    for text in quoted:
        assert text in en and text in zh, text
    assert doc["capacity_note"] in en and doc["capacity_note"] in zh
    assert (
        std["aed_per_100k"]["target"] == 50.0 and std["cpc_time"]["value"] == 1.0 and std["stroke_time"]["value"] == 1.0
    )
    # the worst-off districts are named in the page in the order of the answer
    names = list(worst)
    assert names[:4] == ["杨浦区", "浦东新区", "虹口区", "普陀区"]
    # the zones run wrote its folder with the zones of the command
    zones = json.loads(Path("access-zones/report.json").read_text(encoding="utf-8"))
    assert zones["decay"] == "zones" and "5-10 min: 0.68" in zones["decay_text"] and zones["minutes"] == 15
    with (out / "units.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 8
