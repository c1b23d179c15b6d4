"""Published maps: self-contained HTML (no CDN), legends, popups, attribution, notice; print PNG."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from geoservice.questions import CoverageQuestion
from geoservice.service.core import GeoService


@pytest.fixture(scope="module")
def published(regions_dir, tmp_path_factory):
    from geoservice.faces.maps.publish import publish
    from geoservice.service.core import GeoService

    out = tmp_path_factory.mktemp("maps")
    png = shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists()
    svc = GeoService([regions_dir / "andorra"])  # no registry: the bundle's facilities
    files = publish(svc, "andorra", out, png=png)  # Chinese by default
    return out, files, png


@pytest.fixture(scope="module")
def published_en(regions_dir, tmp_path_factory):
    from geoservice.faces.maps.publish import publish

    out = tmp_path_factory.mktemp("maps-en")
    publish(GeoService([regions_dir / "andorra"]), "andorra", out, png=False, lang="en")
    return out


def test_writes_both_maps(published):
    out, files, png = published
    names = {f.name for f in files}
    assert {"andorra_chest_pain_centers.html", "andorra_stroke_emergency.html"} <= names
    if png:
        for stem in ("andorra_chest_pain_centers", "andorra_stroke_emergency"):
            p = out / f"{stem}.png"
            assert p.stat().st_size > 20_000
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("stem", ["andorra_chest_pain_centers", "andorra_stroke_emergency"])
def test_html_is_self_contained_and_complete(published, published_en, stem):
    out, _, _ = published
    text = (out / f"{stem}.html").read_text(encoding="utf-8")
    remote = re.findall(r"""<(?:script|link|img)[^>]+(?:src|href)\s*=\s*["'](?:https?:)?//[^"']*""", text, re.I)
    assert remote == []
    assert "cdn.jsdelivr" not in text and "code.jquery.com" not in text
    assert "L.map(" in text or "L.map (" in text  # Leaflet inlined, map built
    assert "BasemapLabels.add(" in text  # our label renderer inlined and used
    assert "© OpenStreetMap 贡献者，ODbL 1.0" in text
    assert "审图号" in text
    assert re.search(r"L\.control\.scale\(", text)
    assert "gs-legend" in text and "L.control.layers" in text
    assert "[DEMO designation]" in text  # popups with names
    en = (published_en / f"{stem}.html").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors, ODbL 1.0" in en and "审图号" in en
    if stem == "andorra_stroke_emergency":
        for zh, english in (
            ("高级卒中中心", "Advanced stroke center"),
            ("卒中防治中心", "Stroke prevention and treatment center"),
            ("基层卒中防治站", "Grassroots stroke prevention station"),
            ("可取栓", "EVT: thrombectomy"),
            ("仅可溶栓", "IVT: thrombolysis only"),
            ("60 分钟车程范围", "Reached within 60 min by car"),
            ("能力：取栓、溶栓", "Capabilities: EVT (thrombectomy)"),
        ):
            assert zh in text and english in en, (zh, english)
        assert "★" in text and "☆" in text
    else:
        for zh, english in (
            ("标准版胸痛中心", "Chest pain center (standard)"),
            ("基层版胸痛中心", "Chest pain center (basic)"),
            ("30 分钟车程范围", "Reached within 30 min by car"),
        ):
            assert zh in text and english in en, (zh, english)


def test_html_renders_offline_without_errors(published):
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not chromium:
        pytest.skip("Debian chromium is not installed")
    from concurrent.futures import ThreadPoolExecutor

    out, _, _ = published
    # own thread: another test module may hold a sync Playwright session on this one
    with ThreadPoolExecutor(1) as pool:
        errors, external, n_markers, popup, attribution, scale = pool.submit(_render, chromium, out).result()
    assert errors == [] and external == []
    assert n_markers == 3 + 3  # three stroke centers and three EMS stations
    assert "取栓" in popup and "高级卒中中心" in popup and "状态：已认证" in popup
    assert "ODbL" in attribution and "OpenStreetMap 贡献者" in attribution
    assert scale == 1


def _render(chromium, out):
    from playwright.sync_api import sync_playwright

    errors, external = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = b.new_page(viewport={"width": 1600, "height": 1100})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                external.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto((out / "andorra_stroke_emergency.html").as_uri())
        page.wait_for_selector(".leaflet-marker-pane .gs-stroke_center-advanced", timeout=10000)
        page.wait_for_timeout(300)
        n_markers = page.locator(".leaflet-marker-pane .gs-ico").count()
        page.locator(".leaflet-marker-pane .gs-stroke_center-advanced").first.click()
        page.wait_for_selector(".leaflet-popup-content", timeout=10000)
        popup = page.locator(".leaflet-popup-content").inner_text()
        attribution = page.locator(".leaflet-control-attribution").inner_text()
        scale = page.locator(".leaflet-control-scale").count()
        assert re.fullmatch(r"\d+ (米|公里)", page.locator(".leaflet-control-scale-line").inner_text().strip())
        b.close()
    return errors, external, n_markers, popup, attribution, scale


def test_no_browser_keeps_the_rendered_png(andorra, tmp_path, monkeypatch, caplog):
    """Without Chromium, publish says in one line how to get the PNG and never writes a placeholder
    over a rendered one."""
    from geoservice.faces.maps import publish as pub

    monkeypatch.setattr(pub, "find_chromium", lambda: None)
    old = tmp_path / "andorra_chest_pain_centers.png"
    old.write_bytes(b"\x89PNG\r\n\x1a\nrendered-before")
    with caplog.at_level("WARNING"):
        files = pub.publish(GeoService([andorra]), "andorra", tmp_path, png=True)
    assert old.read_bytes() == b"\x89PNG\r\n\x1a\nrendered-before"
    assert not (tmp_path / "andorra_stroke_emergency.png").exists()
    assert all(f.suffix == ".html" for f in files)
    msgs = [r.getMessage() for r in caplog.records if "print PNG skipped" in r.getMessage()]
    assert len(msgs) == 2 and "apt-get install chromium" in msgs[0] and "\n" not in msgs[0]


# ------------------------------------------------------------ language, names, legend, population
def _page_text(html_text: str) -> str:
    """The page without the libraries it inlines (Leaflet, its CSS, our label renderer)."""
    from geoservice.faces.maps.base import JQUERY_SHIM, STATIC

    for lib in ("leaflet.js", "leaflet.css", "basemap_labels.js"):
        html_text = html_text.replace((STATIC / lib).read_text(encoding="utf-8"), "")
    return html_text.replace(JQUERY_SHIM, "")


# the bilingual / English strings the maps used to carry, and every English string they carry now
OLD_ENGLISH = (
    "Chest pain centers",
    "Stroke emergency map",
    "Standard 标准版",
    "Advanced stroke center",
    "Stroke prevention station",
    "Capabilities",
    "Address",
    "Status:",
    "Population within",
    "drive area",
    "Gap",
    "EMS station",
    "Not an officially reviewed map",
    "Roads, water",
    "© OpenStreetMap contributors",
)


@pytest.mark.parametrize("stem", ["andorra_chest_pain_centers", "andorra_stroke_emergency"])
def test_chinese_map_carries_no_english_ui_string(published, stem):
    from geoservice.faces.maps.i18n import TEXT

    out, _, _ = published
    text = _page_text((out / f"{stem}.html").read_text(encoding="utf-8"))
    english = set(OLD_ENGLISH)
    for key, value in TEXT.items():
        if key == "demo_note":
            continue  # "[DEMO designation]" is the data's own label, kept in both languages
        english |= {p.strip(" :()") for p in re.split(r"\{\w+\}", value["en"]) if len(p.strip(" :()")) >= 4}
    english -= {"OpenStreetMap", "ODbL 1.0"}
    assert sorted(e for e in english if e in text) == []
    assert "<title>" + ("胸痛中心分布图" if "chest" in stem else "卒中急救地图") + " · 安道尔</title>" in text


def test_visible_chinese_page_text(published):
    """What a reader sees besides the names from the data (legend, notice, layer list, scale,
    attribution, popups): Chinese, apart from OpenStreetMap, ODbL and OSM (the demo tag: [演示指定])."""
    if not _chromium():
        pytest.skip("Debian chromium is not installed")
    from concurrent.futures import ThreadPoolExecutor

    out, _, _ = published
    with ThreadPoolExecutor(1) as pool:
        texts = pool.submit(_visible_ui_text, out / "andorra_stroke_emergency.html").result()
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(texts)))
    assert words <= {"OpenStreetMap", "ODbL", "OSM"}, words


def _chromium():
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _visible_ui_text(path: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = b.new_page(viewport={"width": 1600, "height": 1100})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(path.as_uri())
            page.wait_for_selector(".gs-legend", timeout=10000)
            texts = [page.title()]
            for sel in (".gs-legend", ".gs-notice", ".leaflet-control-layers", ".leaflet-control-scale"):
                texts.append(page.locator(sel).inner_text())
            texts.append(page.locator(".leaflet-control-attribution").inner_text())
            page.locator(".leaflet-marker-pane .gs-stroke_center-center").first.click()
            page.wait_for_selector(".leaflet-popup-content", timeout=10000)
            popup = page.locator(".leaflet-popup-content").inner_text().split("\n")
            # the popup's first line is the facility's name and its last the data's source: data, not UI
            texts += popup[1:-1]
            texts.append(page.locator(".leaflet-control-zoom-in").get_attribute("title") or "")
            return texts
        finally:
            b.close()


def _csv_rows(path: Path) -> list[dict]:
    import csv

    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _legend(html_text: str) -> str:
    return re.search(r'<div class="gs-legend">.*?</div></div>', html_text, re.S).group(0)


@pytest.mark.parametrize("region", ["andorra", "monaco"])
def test_legend_lists_only_the_tiers_present(regions_dir, demo_data, tmp_path, region):
    """Checked against the demo designations file itself: Monaco has one standard chest pain
    center and no basic one, an advanced (EVT) and a center (IVT) stroke center, no station."""
    from geoservice.faces.maps.i18n import TEXT
    from geoservice.faces.maps.publish import SPECS, publish

    rows = _csv_rows(demo_data / region / "demo_designations.csv")
    publish(GeoService([regions_dir / region]), region, tmp_path, png=False)
    for spec in SPECS:
        legend = _legend((tmp_path / f"{region}_{spec.slug}.html").read_text(encoding="utf-8"))
        mine = [r for r in rows if r["type"] == spec.type]
        for level, key in spec.levels:
            assert (TEXT[key]["zh"] in legend) == any(r["level"] == level for r in mine), (region, level)
        caps = {c for r in mine for c in r["capabilities"].split(",") if c}
        assert ("★" in legend) == ("evt" in caps) and ("☆" in legend) == ("ivt" in caps)
        assert ("急救站" in legend) == any(r["type"] == "ems_station" for r in rows)
        assert "[演示指定]" in legend and "[DEMO designation]" not in legend  # every role here is a demo designation
    if region == "monaco":
        assert "基层版胸痛中心" not in (tmp_path / "monaco_chest_pain_centers.html").read_text(encoding="utf-8")


def _marker_labels(html_text: str) -> list[dict]:
    import json

    m = re.search(r"BasemapLabels\.addPoints\(map_\w+, (\[.*?\])\);", html_text)
    return [p for p in json.loads(m.group(1)) if "obstacle" not in p]


def test_names_and_demo_tag_on_the_map_face(published, demo_data):
    """Every chest pain center is named beside its marker, its demo tag on a line of its own, and
    its marker has the dashed demo outline; in the browser the names are drawn at the first view."""
    out, _, _ = published
    text = (out / "andorra_chest_pain_centers.html").read_text(encoding="utf-8")
    centers = [
        r for r in _csv_rows(demo_data / "andorra" / "demo_designations.csv") if r["type"] == "chest_pain_center"
    ]
    labels = _marker_labels(text)
    assert sorted(lab["name"] for lab in labels) == sorted(
        r["name"].replace(" [DEMO designation]", "") for r in centers
    )
    assert all(lab["note"] == "[演示指定]" for lab in labels)
    assert text.count("gs-demo") >= len(centers)
    if not _chromium():
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        shown, demo_markers = pool.submit(_facility_labels, out / "andorra_chest_pain_centers.html").result()
    assert sorted(shown) == sorted(lab["name"] + "\n[演示指定]" for lab in labels)
    assert demo_markers == len(centers) + 3  # and the three EMS bases, demo designations too


def _facility_labels(path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = b.new_page(viewport={"width": 1600, "height": 1100})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(path.as_uri())
            page.wait_for_selector(".gs-bl-facility", state="attached", timeout=10000)
            shown = [e.inner_text() for e in page.locator(".gs-bl-facility").all()]
            return shown, page.locator(".leaflet-marker-pane .gs-demo").count()
        finally:
            b.close()


def test_shanghai_maps_name_the_region_and_keep_the_real_center_apart(regions_dir, tmp_path):
    """上海市胸科医院 is the one real certification (national batch 1, 2014): no demo tag, no
    dashed outline; every other chest pain center of the Shanghai demo is a demo designation."""
    from geoservice.faces.maps.publish import publish

    publish(GeoService([regions_dir / "shanghai"]), "shanghai", tmp_path, png=False)
    text = (tmp_path / "shanghai_chest_pain_centers.html").read_text(encoding="utf-8")
    assert "<title>胸痛中心分布图 · 上海 · 中心城区</title>" in text
    assert '<div class="gs-region">上海 · 中心城区</div>' in text and "shanghai" not in _legend(text)
    labels = {lab["name"]: lab for lab in _marker_labels(text)}
    assert "note" not in labels["上海市胸科医院"]
    assert len(labels) > 3 and all(lab.get("note") for n, lab in labels.items() if n != "上海市胸科医院")
    real = re.search(r'<span class="gs-ico gs-chest_pain_center gs-chest_pain_center-standard">', text)
    assert real is not None  # one standard marker without gs-demo
    assert "万人" in _legend(text)  # census population inside the extract, in 万


@pytest.fixture(scope="module")
def no_census(tmp_path_factory, demo_data):
    """Monaco built without any population input."""
    from geoservice.bundle.build import build_region

    return build_region(
        demo_data / "monaco" / "monaco.osm.pbf",
        tmp_path_factory.mktemp("nocensus") / "monaco",
        name="monaco",
        facilities=[(demo_data / "monaco" / "demo_designations.csv", {})],
        quiet=True,
        ch_profiles=(),
    )


def test_no_population_data_instead_of_a_share(no_census, tmp_path):
    from geoservice.faces.maps.publish import publish

    svc = GeoService([no_census])
    for lang, words in (("zh", "无人口数据"), ("en", "No population data")):
        publish(svc, "monaco", tmp_path / lang, png=False, lang=lang)
        pop = re.search(
            r'<div class="gs-pop">(.*?)</div>', (tmp_path / lang / "monaco_chest_pain_centers.html").read_text()
        )
        assert pop.group(1) == words


def test_analysis_map_title_names_the_region_and_its_missing_population(no_census, monaco_engine, tmp_path):
    """By display name (a bundle without one: its name), with "no population data" rather than
    a share when there is no census."""
    from geoservice.analyses.coverage import coverage_report
    from geoservice.bundle.store import load_region
    from geoservice.engine.engine import Engine
    from geoservice.faces.maps.analyses import coverage_map

    eng = Engine(load_region(no_census))
    rep = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=30))
    text = coverage_map(eng, rep, tmp_path / "coverage.html", lang="en").read_text(encoding="utf-8")
    assert "<title>monaco: chest pain center within 30 min (drive, free_flow): no population data</title>" in text
    text = coverage_map(eng, rep, tmp_path / "coverage-zh.html").read_text(encoding="utf-8")  # Chinese by default
    assert "<title>monaco：30 分钟车程可达胸痛中心（畅通）：无人口数据</title>" in text
    rep = coverage_report(monaco_engine, CoverageQuestion.of(type="chest_pain_center", minutes=30))
    text = coverage_map(monaco_engine, rep, tmp_path / "coverage-demo.html", lang="en").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    assert title.startswith("Monaco: chest pain center within 30 min") and "population share" in title


def test_cli_publish_language(capsys, regions_dir, tmp_path):
    from geoservice.faces.cli import main

    code = main(
        ["publish", "--region", str(regions_dir / "monaco"), "--out", str(tmp_path), "--no-png", "--lang", "en"]
    )
    assert code == 0, capsys.readouterr().err
    text = (tmp_path / "monaco_stroke_emergency.html").read_text(encoding="utf-8")
    assert "<title>Stroke emergency map · Monaco</title>" in text and "Advanced stroke center" in text
    capsys.readouterr()
    assert main(["publish", "--region", str(regions_dir / "monaco"), "--out", str(tmp_path), "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geoservice: error: argument --lang: invalid choice: 'fr'") and err.count("\n") == 1
