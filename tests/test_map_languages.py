"""The analysis maps (coverage, siting, 531 grid, triage, timeline, targets, triage change) and the
published maps speak one language: rendered in headless Chromium, every string a reader sees on a
Chinese map (title box, legend, layer control, attribution, zoom titles, every marker's and area's
tooltip and popup) has no Latin word but OSM's name, AED and the names the data gives places and
facilities; on an English map no Chinese UI text is left (as tests/browser's pages are checked).

The method statement in the title box is the analysis's own text (English, labelled 方法与数据来源
（英文） on a Chinese map) and is left out of the scan."""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from geoservice.faces.maps.analyses import coverage_map, links_map, points_map, sites_map
from geoservice.faces.maps.analysis_text import mt
from geoservice.faces.maps.plans import change_map
from geoservice.questions import CoverageQuestion

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LATIN_OK = {"OpenStreetMap", "ODbL", "OSM", "AED", "AEDs", "MCLP", "LSCP", "MEXCLP"}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
CJK_OK = {"审图号"}  # the English notice names China's map approval number

# every visible string: the fixed boxes and controls, then every layer's tooltip and popup (a
# GeoJSON tooltip is a function of each feature's layer: called for each one)
VISIBLE = """() => {
  const out = [document.title];
  const box = (sel) => document.querySelectorAll(sel).forEach((e) => {
    const c = e.cloneNode(true);
    c.querySelectorAll('.gs-method > div').forEach((d) => d.remove());
    out.push(c.innerText);
  });
  ['.gs-title', '.gs-am-legend', '.gs-legend', '.gs-notice', '.gs-tiers', '.leaflet-control-layers-list',
   '.leaflet-control-attribution', '.leaflet-control-scale'].forEach(box);
  document.querySelectorAll('.leaflet-control-zoom a').forEach((a) => out.push(a.title));
  const maps = Object.values(window).filter((v) => v instanceof L.Map);
  const text = (c, layer) => {
    if (typeof c === 'function') c = c(layer);
    if (c && c.nodeType) return c.innerText || c.textContent;
    const d = document.createElement('div'); d.innerHTML = String(c || ''); return d.innerText || d.textContent;
  };
  const seen = new Set();
  const visit = (l, inherited) => {
    if (seen.has(l)) return; seen.add(l);
    const tip = l.getTooltip && l.getTooltip();
    const content = tip ? tip._content : inherited;
    if (typeof content === 'function') { if (l.feature) out.push(text(content, l)); }
    else if (tip && content != null) out.push(text(content, l));
    const pop = l.getPopup && l.getPopup();
    if (pop && pop._content != null) out.push(text(pop._content, l));
    if (l.eachLayer) l.eachLayer((c) => visit(c, typeof content === 'function' ? content : undefined));
  };
  for (const m of maps) m.eachLayer((l) => visit(l));
  return out.filter(Boolean);
}"""


def _render(files: list[Path]) -> dict[str, list[str]]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        for f in files:
            page = b.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(f.as_uri())
            page.wait_for_selector(".leaflet-control-layers", timeout=10000)
            page.wait_for_timeout(200)
            out[f"{f.parent.name}/{f.name}"] = page.evaluate(VISIBLE)
            if f.name in ("coverage-zh.html", "triage-zh.html"):
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"analysis-{f.stem}.png"))
            page.close()
        b.close()
    return out


def _data_words(*engines) -> set[str]:
    """Latin words the data gives places: facility, admin unit and region names (place names)."""
    words: set[str] = set()
    for e in engines:
        names = [str(n) for n in e.facilities["name"]] + [
            str(v) for v in e.region.meta.get("display_name", {}).values()
        ]
        basemap = e.region.path / "basemap.geojson"  # admin units, places, roads: their names
        if basemap.is_file():
            for f in json.loads(basemap.read_text(encoding="utf-8"))["features"]:
                names += [str(v) for k, v in (f.get("properties") or {}).items() if k.startswith("name")]
        for n in names:
            words |= set(re.findall(r"[A-Za-zÀ-ÿ]{2,}", n.replace("[DEMO designation]", "")))
    return words


@pytest.fixture(scope="module")
def maps(andorra_engine, monaco_engine, regions_dir, tmp_path_factory):
    """Every analysis map of Andorra, and the published maps of Monaco, in zh and en."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed")
    from geoservice.analyses.coverage import coverage_report
    from geoservice.analyses.grid531 import grid531
    from geoservice.analyses.siting import site_report
    from geoservice.analyses.timeline import timeline_report
    from geoservice.analyses.triage import triage_report
    from geoservice.faces.maps.publish import publish
    from geoservice.service.core import GeoService

    eng = andorra_engine
    cov = coverage_report(eng, CoverageQuestion.of(type="chest_pain_center", minutes=10))
    site = site_report(eng, type="chest_pain_center", minutes=10, model="mclp", add=2)
    grid = grid531(eng, scope="county", threshold_min=30)
    tri, tl = triage_report(eng), timeline_report(eng)
    tri_layer = tri["layer"] if isinstance(tri, dict) else tri.layer
    tl_layer = tl["layer"] if isinstance(tl, dict) else tl.layer
    feats = [f for f in tri_layer["features"] if f.get("geometry")][:40]
    changes = {
        "scenarios": ["free_flow", "peak"],
        "changed_locations": 1,
        "changed_area_km2": 0.5,
        "method": "test",
        "changed_area": {"type": "FeatureCollection", "features": []},
        "layer": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": f["geometry"],
                    "properties": {
                        "changed": i == 0,
                        "change": "drip_and_ship -> direct_evt" if i == 0 else "unchanged",
                        "recommendation_free_flow": f["properties"]["recommendation"],
                    },
                }
                for i, f in enumerate(feats)
            ],
        },
    }
    out = tmp_path_factory.mktemp("map-languages")
    files = []
    for lang in ("zh", "en"):
        g = grid.to_json() if hasattr(grid, "to_json") else grid
        files += [
            coverage_map(eng, cov, out / f"coverage-{lang}.html", add_sites=[(1.70, 42.54)], lang=lang),
            sites_map(eng, site.to_json(), out / f"siting-{lang}.html", title=mt(lang, "new_lg"), lang=lang),
            links_map(
                eng, g["links"], g["unlinked"], out / f"grid531-{lang}.html", title=mt(lang, "grid_title"), lang=lang
            ),
            points_map(
                eng,
                tri_layer,
                out / f"triage-{lang}.html",
                title=mt(lang, "triage_title"),
                note="",
                field="recommendation",
                colors={
                    "direct_evt": "#2ca02c",
                    "drip_and_ship": "#ff7f0e",
                    "ivt_only": "#1f77b4",
                    "unreachable": "#000",
                },
                lang=lang,
            ),
            points_map(
                eng,
                tl_layer,
                out / f"timeline-{lang}.html",
                title=mt(lang, "timeline_title"),
                note="",
                field="status",
                colors={"chain_met": "#2ca02c", "transport_met": "#ff7f0e", "not_met": "#d62728"},
                lang=lang,
            ),
            change_map(eng, changes, out / f"change-{lang}.html", lang=lang),
        ]
        pub = out / f"publish-{lang}"
        files += publish(GeoService([regions_dir / "monaco"]), "monaco", pub, png=False, lang=lang)
    with ThreadPoolExecutor(1) as pool:  # own thread: another module may hold a sync Playwright session
        texts = pool.submit(_render, files).result()
    return texts, _data_words(andorra_engine, monaco_engine)


def test_chinese_maps_have_no_english_left(maps):
    texts, places = maps
    zh = {name: t for name, t in texts.items() if "-zh" in name}
    assert len(zh) == 8  # six analysis maps, the two published ones
    leftovers = {}
    for name, strings in zh.items():
        words = set(re.findall(r"[A-Za-zÀ-ÿ]{2,}", " ".join(strings)))
        left = sorted(words - LATIN_OK - places)
        if left:
            leftovers[name] = left
    assert not leftovers, json.dumps(leftovers, ensure_ascii=False)
    joined = " ".join(" ".join(t) for t in zh.values())
    assert "[演示指定]" in joined and "[DEMO designation]" not in joined
    for english in ("walk", "free_flow", "direct_evt", "drip_and_ship"):
        assert english not in joined


def test_english_maps_have_no_chinese_left(maps):
    texts, _ = maps
    en = {name: t for name, t in texts.items() if "-en" in name}
    assert len(en) == 8
    for name, strings in en.items():
        left = set(CJK.findall(" ".join(strings))) - CJK_OK
        assert not left, (name, sorted(left)[:20])
    assert "direct_evt" in " ".join(
        next(t for n, t in en.items() if n.endswith("/triage-en.html"))
    )  # the English map keeps the analysis's own values
