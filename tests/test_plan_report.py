"""The plan report (``geoservice report``, ``GET /plans/report``) on the central Shanghai demo, zh
and en: its figures are the individual commands' outputs (coverage shares, the 531 counts, the
plan's targets) or an independent count (AED density by a geopandas spatial join), its PDF has
one page per county after the summary, its Chinese page has no English UI words, bad input is
one line and exit 2 (422 in the API), and the manual's commands are the ones run here."""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import subprocess
import unicodedata
from pathlib import Path

import geopandas as gpd
import pytest

from geoservice.analyses.plan_report import Figure, changes, greedy_sites
from geoservice.bundle.population import load_population
from geoservice.faces.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "howto"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # as tests/browser
BASH = re.compile(r"^```bash[^\n]*\n(.*?)^```", re.S | re.M)


def doc_commands(lang: str) -> list[str]:
    text = (DOCS / f"plan-report.{lang}.md").read_text(encoding="utf-8")
    return [line for block in BASH.findall(text) for line in block.strip().splitlines()]


@pytest.fixture(scope="module")
def reports(regions_dir, tmp_path_factory):
    """The manual's two commands run: report/ (zh, PDF) and report-en/ (en, --previous, a target)."""
    cwd = tmp_path_factory.mktemp("plan-report")
    for line in doc_commands("en"):
        args = shlex.split(line.replace("~/.cache/geoservice/regions", str(regions_dir)))
        assert args[0] == "geoservice"
        args = [str(cwd / a) if a.endswith(("/", ".json")) and not a.startswith("/") else a for a in args[1:]]
        assert main(args) == 0, line
    zh = json.loads((cwd / "report" / "report.json").read_text(encoding="utf-8"))
    en = json.loads((cwd / "report-en" / "report.json").read_text(encoding="utf-8"))
    return cwd, zh, en


RADICALS = str.maketrans({"\u2ee9": "黄", "\u2ed3": "长"})  # the PDF's glyphs of 黄, 长 read back as radicals


def pdf_text(text: str) -> str:
    """A PDF page's text with the CJK radical forms pypdf reads for some glyphs as the characters."""
    return unicodedata.normalize("NFKC", text).translate(RADICALS)


def fig(unit: dict, key: str) -> dict:
    return next(f for f in unit["figures"] if f["key"] == key)


def values(doc: dict) -> list[dict[str, float | None]]:
    """Per unit {key: value}, without the thrombolysis rates (given to the first report only)."""
    return [{f["key"]: f["value"] for f in u["figures"] if f["key"] != "thrombolysis_rate"} for u in doc["units"]]


def test_manual_pages_hold_the_same_commands():
    assert doc_commands("zh") == doc_commands("en")
    assert doc_commands("en")[0].startswith("geoservice report --region") and "--by admin" in doc_commands("en")[0]


def test_figures_equal_the_commands(reports, regions_dir, tmp_path, capsys):
    cwd, zh, en = reports
    region = str(regions_dir / "shanghai")
    units = {u["admin_code"]: u for u in zh["units"]}
    assert len(units) == 8 and zh["region"] == "shanghai"
    # coverage shares: geoservice coverage --by admin (chest pain 30 min by car, AEDs 4 min on foot)
    for ftype, minutes, key in (("chest_pain_center", "30", "cpc_30min_share"), ("aed", "4", "aed_4min_share")):
        out = tmp_path / f"cov-{ftype}"
        assert (
            main(["coverage", "--region", region, "--type", ftype, "--minutes", minutes, "--no-gaps", "-o", str(out)])
            == 0
        )
        cov = json.loads((out / "report.json").read_text(encoding="utf-8"))
        for row in cov["by_unit"]:
            assert fig(units[row["admin_code"]], key)["value"] == row["population_share"], (key, row["name"])
        assert fig(zh["province"], key)["value"] == cov["overall"]["population_share"]
    assert fig(units["310110"], "aed_4min_share")["value"] == 0.0  # 杨浦区: no AED within 4 min of anyone
    # the 531 counts: geoservice grid531 (grassroots -> basic, linked / units per county)
    out = tmp_path / "g531"
    assert main(["grid531", "--region", region, "-o", str(out)]) == 0
    g = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for row in (r for r in g["summary"] if r["tier"] == "grassroots->basic"):
        f = fig(units[row["county_code"]], "grid531_linked_share")
        assert f["detail"] == f"{row['linked']}/{row['units']}"
        assert f["met"] is (row["linked"] == row["units"])
    assert fig(units["310101"], "grid531_linked_share")["detail"] == "0/3"  # 黄浦区: no basic center
    # the plan's targets: geoservice plan-targets
    out = tmp_path / "targets"
    assert main(["plan-targets", "--region", region, "-o", str(out)]) == 0
    pt = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for row in (r for r in pt["units"] if r["admin_code"]):
        u = units[row["admin_code"]]
        assert fig(u, "stroke_centers")["value"] == row["stroke_centers"]
        assert fig(u, "cpc_hospital_share")["value"] == row["cpc_share"]
        assert fig(u, "cpc_hospital_share")["met"] is row["cpc_met"]
    # E2SFCA access, equity and the standards: geoservice access --equity --standards
    out = tmp_path / "access"
    assert (
        main(["access", "--region", region, "--type", "chest_pain_center", "--equity", "--standards", "-o", str(out)])
        == 0
    )
    acc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for row in acc["units"]:
        assert fig(units[row["admin_code"]], "cpc_access_per_100k")["value"] == row["score_per_100k"]
        assert fig(units[row["admin_code"]], "cpc_mean_minutes")["value"] == row["mean_nearest_min"]
    eq = {e["measure"]: e for e in zh["equity"]}
    assert eq["cpc_access_per_100k"]["gini"] == acc["equity"]["access"]["gini"]
    assert eq["cpc_mean_minutes"]["theil"] == acc["equity"]["travel_time"]["theil_t"]
    for row in acc["standards"]["rows"]:
        if row["measure"] in ("aed_per_100k", "aed_fetch_return", "ems_radius", "ems_time"):
            f = fig(units[row["admin_code"]] if row["admin_code"] else zh["province"], row["measure"])
            assert (f["value"], f["target"], f["met"]) == (row["value"], row["target"], row["met"]), row
    # AED density, independently: the AEDs joined into the units, per 100,000 people inside the extract
    from geoservice.bundle.store import load_region

    rg = load_region(regions_dir / "shanghai")
    fac = gpd.read_file(Path(rg.path) / "facilities.geojson")
    aeds = fac[fac["type"] == "aed"]
    shapes = load_population(rg, "drive").units[["admin_code", "geometry"]].rename(columns={"admin_code": "unit"})
    per = gpd.sjoin(aeds, shapes, predicate="within").groupby("unit").size().to_dict()
    for code, u in units.items():
        want = per.get(code, 0) / u["population"] * 1e5
        assert math.isclose(fig(u, "aed_per_100k")["value"], want, abs_tol=5e-5), code
        assert fig(u, "aed_per_100k")["met"] is (want >= 50)
    assert math.isclose(fig(units["310101"], "aed_per_100k")["value"], 4 / 662_030 * 1e5, abs_tol=5e-5)  # 黄浦区
    # the stroke tiers of the rates given (plan-targets --thrombolysis-rates; the demo file's rates)
    hp = fig(units["310101"], "thrombolysis_rate")
    assert (hp["value"], hp["target"], hp["met"], hp["detail"]) == (0.062, 0.03, True, "tier high")
    assert hp["confidence"] == "demo value, not a real figure"
    assert fig(units["310115"], "thrombolysis_rate")["met"] is False  # 浦东新区: the low tier, inspection tours
    # every figure names its source; a county's unmet AED target has its build step with the count missing
    assert all(f["source"] for u in zh["units"] for f in u["figures"])
    hp = next(s for s in units["310101"]["build"] if s["target"] == "aed_per_100k")
    assert hp["needed"] == math.ceil(50 * 662_030 / 1e5) - 4 and hp["sites"]
    assert all(s["admin_code"] == "310101" for s in hp["sites"]) and hp["sites"][0]["people_within"] > 0
    gains = [s["people_within"] for s in hp["sites"]]
    assert gains == sorted(gains, reverse=True)  # greedy: most people brought within 4 min first
    cpc = next(s for s in units["310101"]["build"] if s["target"] == "cpc_hospital_share")
    assert cpc["needed"] == math.ceil(0.7 * 15) - 2 == len(cpc["sites"]) and cpc["met_after"] is True


def test_en_report_changes_and_targets(reports):
    cwd, zh, en = reports
    assert en["previous"].endswith("report.json") and zh["previous"] is None
    g = next(t for t in en["targets"] if t["key"] == "grassroots_share")
    assert g["value"] == 0.5 and g["source"].startswith("given: grassroots_share=0.5")
    # the figures are the same; the grassroots verdicts of 黄浦区 (3/5) and 虹口区 (1/2) turn to met
    changed = {}
    assert values(zh) == values(en)
    for b in en["units"]:
        assert len(b["changes"]) <= 1
        if b["changes"]:
            changed[b["name"]] = b["changes"][0]
    assert set(changed) == {"黄浦区", "虹口区"}
    assert all(
        (c["key"], c["met_before"], c["met_after"]) == ("grassroots_share", False, True) for c in changed.values()
    )
    hk = next(u for u in en["units"] if u["name"] == "虹口区")
    assert "grassroots_share" not in {s["target"] for s in hk["build"]}
    assert "Changes since the previous report" in (cwd / "report-en" / "report.html").read_text(encoding="utf-8")
    eq = {e["measure"]: e for e in zh["equity"]}
    assert set(eq) == {"cpc_access_per_100k", "cpc_mean_minutes", "aed_walk_minutes"}
    assert 0 < eq["cpc_mean_minutes"]["gini"] < 1 and eq["cpc_mean_minutes"]["lorenz"][-1] == [1.0, 1.0]


def test_pdf_pages_and_languages(reports):
    from pypdf import PdfReader

    cwd, zh, en = reports
    for folder, doc, title in (
        (cwd / "report", zh, "急救医疗规划报告"),
        (cwd / "report-en", en, "Emergency care plan report"),
    ):
        pages = [pdf_text(p.extract_text()) for p in PdfReader(folder / "report.pdf").pages]
        names = [u["name"] for u in doc["units"]]
        assert len(pages) >= 1 + len(names) + 2  # summary, one per county, build next, sources
        assert title in pages[0]
        for i, name in enumerate(names):  # each county on its own page, whole
            assert pages[1 + i].startswith(name), (i, pages[1 + i][:40])
            assert all(other not in pages[1 + i].splitlines()[0] for other in names if other != name)
        pngs = {p.name for p in folder.glob("*.png")}
        assert {"targets.png", "lorenz.png", "aed_week.png", "unit_00_map.png", "unit_07_targets.png"} <= pngs
        if shutil.which("pdftoppm"):  # the summary and the first county page, to look at
            ARTIFACTS.mkdir(exist_ok=True)
            stem = ARTIFACTS / f"plan_report_{doc['lang']}"
            subprocess.run(
                ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "2", folder / "report.pdf", stem], check=True
            )
    html = (cwd / "report" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "OpenStreetMap" in html and "ODbL" in html


def test_no_english_ui_words_on_zh(reports, regions_dir):
    cwd, zh, _ = reports
    html = (cwd / "report" / "report.html").read_text(encoding="utf-8")
    body = re.sub(r"<style>.*?</style>|<code>.*?</code>|<[^>]+>", " ", html, flags=re.S)
    from geoservice.bundle.store import load_region

    names = " ".join(gpd.read_file(Path(load_region(regions_dir / "shanghai").path) / "facilities.geojson")["name"])
    allowed = {"AED", "OpenStreetMap", "ODbL", "UTC", "SFCA", "target", "OSM", "way", "node", "relation"}  # E2SFCA
    allowed |= set(re.findall(r"[A-Za-z]{2,}", names))
    words = set(re.findall(r"[A-Za-z]{2,}", body)) - allowed
    assert not words, sorted(words)
    assert "DEMO designation" not in html
    en_html = (cwd / "report-en" / "report.html").read_text(encoding="utf-8")
    assert "Figures against targets" in en_html and "各项指标与目标" not in en_html


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--by", "county"], "--by"),
        (["--lang", "fr"], "--lang"),
        (["--target", "aed_per_100k"], "--target"),
        (["--target", "beds=3"], "--target"),
        (["--target", "cpc_30min_share=1.5"], "--target"),
        (["--previous", "nowhere/report.json"], "--previous"),
    ],
)
def test_bad_input_is_one_line(args, flag, regions_dir, tmp_path, capsys):
    capsys.readouterr()
    rc = main(["report", "--region", str(regions_dir / "shanghai"), "-o", str(tmp_path / "r"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("geoservice: error:") and flag in err, err
    assert not (tmp_path / "r").exists()


def test_api_route(reports, regions_dir):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.settings import Settings

    _, zh, _ = reports
    client = TestClient(create_app(GeoService([regions_dir / "shanghai"], settings=Settings.of(request_timeout_s=600))))
    r = client.get("/plans/report", params={"format": "json", "lang": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == "en"
    assert values(body) == values(zh)
    r = client.get("/plans/report", params={"lang": "zh"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "急救医疗规划报告" in r.text and r.text.count("src='data:image/png;base64,") == 3 + 2 * 8
    assert "default-src 'none'" in r.headers["content-security-policy"]
    bad = client.get("/plans/report", params={"target": "beds=3"})
    assert bad.status_code == 422 and bad.json()["field"] == "target"
    assert client.get("/plans/report", params={"lang": "fr"}).status_code == 422
    assert "/plans/report" in client.get("/openapi.json").json()["paths"]


def test_greedy_sites_and_changes_by_hand():
    import numpy as np

    # 4 nodes of 10 people; now 30, 30, 5, inf minutes away; site A brings nodes 0-1 to 10 min, B node 3 to 20
    base = np.array([30, 30, 5, np.inf]) * 60
    a = np.array([10, 10, 5, np.inf]) * 60
    b = np.array([30, 30, 5, 20]) * 60
    pop = np.full(4, 10.0)
    got = greedy_sites(base, [a, b], pop, np.ones(4, bool), 15 * 60, 2)
    # B saves 10 x (120 - 20) = 1000 person-minutes, A 2 x 10 x 20 = 400: B first
    assert got == [(1, 0.0, 10.0), (0, 20.0, 20.0)]
    assert greedy_sites(base, [base], pop, np.ones(4, bool), 900, 3) == []  # nothing saves a minute
    now = [Figure("x", 0.5, 0.6, False, "share", "s"), Figure("y", 2.0, 1.0, True, "count", "s")]
    ch = changes([{"key": "x", "value": 0.4, "met": False}, {"key": "y", "value": 2.0, "met": True}], now)
    assert [(c.key, c.before, c.after) for c in ch] == [("x", 0.4, 0.5)]
    from geoservice.faces.report.text import local_name

    assert local_name("长海医院 [DEMO designation]", "zh") == "长海医院 [演示指定]"
    assert local_name("长海医院 [DEMO designation]", "en") == "长海医院 [DEMO designation]"


def test_a_small_region_without_a_pdf(regions_dir, tmp_path, capsys):
    """Monaco: 4 admin units, fewer candidate sites (4) than the EMS station model asks for (5:
    it takes them all), no AED density target for its province (reported, not judged);
    --no-pdf writes everything but the PDF."""
    out = tmp_path / "mc"
    capsys.readouterr()
    assert main(["report", "--region", str(regions_dir / "monaco"), "--lang", "en", "--no-pdf", "-o", str(out)]) == 0
    assert "plan report of monaco: 4 admin units" in capsys.readouterr().err
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert not (out / "report.pdf").exists() and (out / "report.html").is_file()
    assert all(fig(u, "aed_per_100k")["target"] is None and fig(u, "aed_per_100k")["met"] is None for u in doc["units"])
    assert "aed_per_100k" not in {t["key"] for t in doc["targets"]}
    ems = [st for u in doc["units"] for st in u["build"] if st["target"] == "ems_time"]
    assert ems and all(1 <= len(st["sites"]) <= 4 for st in ems)
