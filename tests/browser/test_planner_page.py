"""The planner page in headless Chromium, as an EMS planner uses it: in Chinese on the first served
region, the traffic scenario driving every figure, AED planning on foot, a what-if site with its own
service area, and downloads of what is shown that say the same as the page."""

from __future__ import annotations

import csv
import json
import re

import httpx
import pyogrio
import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

DESKTOP_ZH = dict(viewport={"width": 1400, "height": 900}, locale="zh-CN")
DESKTOP_EN = dict(viewport={"width": 1400, "height": 900}, locale="en-US")
# Latin words a Chinese page may show: abbreviations, file formats, the licence line, the language switch
LATIN_OK = {"AED", "EVT", "IVT", "CSV", "GeoJSON", "GeoPackage", "WGS", "OpenStreetMap", "ODbL", "EN"}
# a point on a road of each demo region, away from the facility markers
ROAD_POINT = {"andorra": (1.70, 42.54), "monaco": (7.4200, 43.7370), "shanghai": (121.4737, 31.2304)}

PAGE_TEXT = """() => {
  const parts = [document.querySelector('.side'), document.querySelector('.leaflet-control-layers'),
                 document.querySelector('.leaflet-popup-content')].filter(Boolean).map((e) => e.cloneNode(true));
  const words = [];
  for (const e of parts) {
    e.querySelectorAll('.data').forEach((d) => d.remove());
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) words.push(walk.currentNode.nodeValue);
  }
  return words.join(' ');
}"""


def map_still(page) -> None:
    """Wait until the map neither zooms nor pans (Leaflet's animation classes and its pan
    animation gone) and every image of it has loaded: what a screenshot should show."""
    page.wait_for_function(
        """() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')
            && !(map._panAnim && map._panAnim._inProgress)
            && [...document.querySelectorAll('#map img')].every((i) => i.complete)""",
        timeout=10000,
    )


def click_latlng(page, lon: float, lat: float):
    box = page.locator("#map").bounding_box()
    pt = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


def untranslated(page) -> set[str]:
    """Latin words on the page that are neither data (facility, unit names) nor allowed."""
    return {w for w in re.findall(r"[A-Za-z]{2,}", page.evaluate(PAGE_TEXT)) if w not in LATIN_OK}


def summary(page) -> dict[str, str]:
    return page.evaluate("() => Object.assign({}, document.getElementById('coverage-summary').dataset)")


def wait_summary(page, **want):
    cond = " && ".join(f"d.{k} === {json.dumps(str(v))}" for k, v in want.items())
    page.wait_for_function(
        "() => { const d = document.getElementById('coverage-summary').dataset; "
        f"return d.share !== undefined && {cond}; }}",
        timeout=20000,
    )
    return summary(page)


def download(page, selector: str, tmp_path):
    with page.expect_download(timeout=20000) as dl:
        page.click(selector)
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    return path


def num(text: str) -> float:
    return float(text.replace(",", ""))


def test_planner_in_chinese_scenario_and_downloads(open_page, live_server, tmp_path):
    page, watch = open_page("/planner", **DESKTOP_ZH)
    first = page.evaluate("GS.config.regions[0]")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.title() == "急救网络规划（胸痛 / 卒中 / AED）"
    shown = (first.get("display_name") or {}).get("zh") or first["name"]
    assert page.locator("#region option:checked").inner_text() == shown
    free = wait_summary(page, type="chest_pain_center", scenario="free_flow", minutes=30)
    page.wait_for_selector("path.gs-service-chest_pain_center", timeout=20000)
    kpi = page.locator("#coverage-summary .kpi").inner_text()
    if free["population"]:  # counts beside the share: "83,888 人中 79,265 人（94.5%）"
        m = re.fullmatch(r"([\d,]+) 人中 ([\d,]+) 人（(\d+\.\d)%）", kpi)
        assert m and num(m[2]) == round(float(free["covered"])) and num(m[1]) == round(float(free["population"]))
        assert float(m[3]) == round(100 * float(free["share"]), 1)
    else:
        assert kpi == "无人口数据"
    assert "30 分钟车程内可达胸痛中心 · 畅通" in page.locator("#coverage-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "planner-zh-free-flow.png"))

    # peak hours: every planner request follows, and no more people are covered than in free flow
    with page.expect_response(lambda r: "/service-areas" in r.url and "scenario=peak" in r.url, timeout=20000):
        page.select_option("#scenario", "peak")
    peak = wait_summary(page, scenario="peak")
    page.wait_for_function("() => document.body.dataset.areasScenario === 'peak'", timeout=20000)
    key = "covered" if free["population"] else "share"
    assert float(peak[key] or 0) <= float(free[key] or 0)
    assert "高峰" in page.locator("#coverage-summary .sum-head").inner_text()
    assert "高峰" in page.locator("#downloads").inner_text()

    # the coverage CSV says what the table says, for the peak scenario
    rows = list(csv.DictReader(download(page, "a[data-dl='coverage-csv']", tmp_path).open(encoding="utf-8-sig")))
    assert {r["scenario"] for r in rows} == {"peak"} and rows[0]["admin_code"] == "ALL"
    if free["population"]:
        assert float(rows[0]["population_covered"]) == float(peak["covered"])
    by_code = {r["admin_code"]: r for r in rows[1:]}
    table = page.evaluate(
        "() => Array.from(document.querySelectorAll('#coverage-table tbody tr')).map((tr) => "
        "[tr.dataset.code, ...Array.from(tr.cells).slice(1).map((c) => c.innerText)])"
    )
    assert table and len(table) == len(by_code)
    for code, pop, covered, roads in table:
        r = by_code[code]
        assert roads == (f"{100 * float(r['road_share']):.1f}%" if r["road_share"] else "–")
        if r["population"] and float(r["population"]) > 0:
            assert num(pop) == round(float(r["population"]))
            assert covered == f"{round(float(r['population_covered'])):,} ({100 * float(r['population_share']):.1f}%)"
    # the gaps as GeoPackage (gaps + table) and the service areas as GeoJSON: what the map shows
    gpkg = download(page, "a[data-dl='gaps-gpkg']", tmp_path)
    assert {str(n) for n, _ in pyogrio.list_layers(gpkg)} == {"gaps", "coverage"}
    params = {"type": "chest_pain_center", "minutes": 30, "scenario": "peak", "region": first["name"]}
    gaps = httpx.get(f"{live_server}/coverage", params=params, timeout=30).json()["gaps"]["features"]
    assert pyogrio.read_info(gpkg, layer="gaps")["features"] == len(gaps)
    areas = json.loads(download(page, "a[data-dl='areas-geojson']", tmp_path).read_text(encoding="utf-8"))
    assert {f["properties"]["scenario"] for f in areas["features"]} <= {"peak"}
    assert len(areas["features"]) == page.locator("path.gs-service-chest_pain_center").count()
    assert "OpenStreetMap" in areas["attribution"]

    # nothing left in English: panel, legend, layer names, a facility popup (names are data)
    page.hover(".leaflet-control-layers")
    page.evaluate("(() => { const m = layers.l_cp && layers.l_cp.getLayers()[0]; if (m) m.openPopup(); })()")
    assert untranslated(page) == set()
    page.mouse.move(10, 450)
    page.wait_for_selector(".leaflet-control-layers-expanded", state="detached")  # the layer list folded away
    map_still(page)
    page.screenshot(path=str(ARTIFACTS / "planner-zh-peak.png"))
    assert watch.errors == [] and watch.external == []


def test_planner_aed_on_foot(open_page):
    page, watch = open_page("/planner", **DESKTOP_ZH)
    regions = page.evaluate("GS.config.regions")
    i = next(i for i, r in enumerate(regions) if r["facility_counts"].get("aed"))
    name = regions[i]["name"]
    page.select_option("#region", str(i))
    page.wait_for_function(f"() => document.body.dataset.region === {json.dumps(name)}", timeout=20000)
    with page.expect_response(lambda r: "/coverage" in r.url and "type=aed" in r.url, timeout=20000) as resp:
        page.select_option("#analysis", "aed")
    ans = resp.value.json()
    assert ans["profile"] == "walk" and ans["minutes"] == 4 and ans["scenario"] == "free_flow"
    assert page.input_value("#minutes") == "4"
    assert page.locator("#mode").inner_text() == "分钟步行"
    assert page.locator("#scenario").is_hidden() and "步行" in page.locator("#scenario-note").inner_text()
    wait_summary(page, type="aed", minutes=4)
    assert "4 分钟步行内可达AED" in page.locator("#coverage-summary .sum-head").inner_text()
    page.wait_for_selector("path.gs-service-aed", timeout=20000)
    assert "aed" in page.locator("a[data-dl='areas-csv']").get_attribute("href")
    assert "minutes=4" in page.locator("a[data-dl='areas-csv']").get_attribute("href")
    legend = page.locator("#legend").inner_text()
    assert "AED 4 分钟步行范围" in legend
    # a hypothetical AED: its own 4-minute walking area, drawn from the API's walking isochrone
    lon, lat = ROAD_POINT[name]
    with page.expect_response(lambda r: "/isochrones" in r.url, timeout=20000) as iso:
        click_latlng(page, lon, lat)
    assert "profile=walk" in iso.value.url and "minutes=4" in iso.value.url
    page.wait_for_selector("path.gs-site-area", timeout=20000)
    assert "步行" in page.locator("#whatif .sites-head").inner_text()
    assert untranslated(page) == set()
    map_still(page)
    page.screenshot(path=str(ARTIFACTS / "planner-zh-aed.png"))
    assert watch.errors == [] and watch.external == []


def test_planner_whatif_draws_the_site_area(open_page, live_server):
    page, watch = open_page("/planner", **DESKTOP_EN)
    regions = page.evaluate("GS.config.regions")
    i = next(
        i for i, r in enumerate(regions) if r["name"] in ROAD_POINT and r["facility_counts"].get("chest_pain_center")
    )
    name = regions[i]["name"]
    page.select_option("#region", str(i))
    page.wait_for_function(f"() => document.body.dataset.region === {json.dumps(name)}", timeout=20000)
    page.wait_for_selector("path.gs-service", timeout=20000)
    lon, lat = ROAD_POINT[name]
    click_latlng(page, lon, lat)
    page.wait_for_selector("#whatif .after", timeout=20000)
    page.wait_for_selector("path.gs-site-area", timeout=20000)
    assert page.locator("path.gs-site-area").count() == 1
    site = page.evaluate("[sites[0].lon, sites[0].lat]")
    # the figures shown are the service's before/after for this site (independent request)
    body = {
        "type": "chest_pain_center",
        "minutes": 30,
        "scenario": "free_flow",
        "region": name,
        "add": [{"lon": site[0], "lat": site[1]}],
    }
    res = httpx.post(f"{live_server}/whatif", json=body, timeout=30).json()
    row = page.locator("#whatif tr[data-row='pop'] td")
    b, a = res["before"]["overall"], res["after"]["overall"]
    if b["population_covered"] is not None:
        for cell, o in ((row.nth(1), b), (row.nth(2), a)):  # "83,888" over "(100.0%)"
            shown = " ".join(cell.inner_text().split())
            assert shown == f"{round(o['population_covered']):,} ({100 * o['population_share']:.1f}%)"
    else:
        assert row.nth(1).inner_text() == "no population data"
    # the drawn area is the API's isochrone from the site: same bounds
    iso = httpx.get(
        f"{live_server}/isochrones",
        params={"lon": f"{site[0]:.6f}", "lat": f"{site[1]:.6f}", "minutes": 30, "profile": "drive", "region": name},
    ).json()
    drawn = page.evaluate(
        "(() => { const b = siteAreas.getLayers()[0].getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    coords = [c for poly in iso["features"][0]["geometry"]["coordinates"] for ring in poly for c in ring]
    want = [min(c[0] for c in coords), min(c[1] for c in coords), max(c[0] for c in coords), max(c[1] for c in coords)]
    assert drawn == pytest.approx(want, abs=1e-6)
    map_still(page)
    page.screenshot(path=str(ARTIFACTS / "planner-whatif-site-area.png"))
    # peak hours: the site's own area is redrawn smaller, the before/after figures follow
    before_d = page.evaluate("document.querySelector('path.gs-site-area').getAttribute('d')")
    with page.expect_response(lambda r: "/isochrones" in r.url and "scenario=peak" in r.url, timeout=20000):
        page.select_option("#scenario", "peak")
    page.wait_for_function(
        "(d) => { const p = document.querySelector('path.gs-site-area'); return p && p.getAttribute('d') !== d; }",
        arg=before_d,
        timeout=20000,
    )
    assert "Peak hours" in page.locator("#whatif .sites-head").inner_text()
    page.click("#reset")
    assert page.locator("path.gs-site-area").count() == 0
    assert page.locator(".leaflet-marker-pane .gs-hypo").count() == 0
    assert watch.errors == [] and watch.external == []


def test_planner_type_the_region_has_none_of(open_page):
    """Andorra has no AED: the coverage of one is not 0% but "none here yet" (the API's 422 on
    `type`), no service area is drawn, and a what-if AED clicked on the map is answered."""
    page, watch = open_page("/planner", **DESKTOP_EN)
    regions = page.evaluate("GS.config.regions")
    i = next(i for i, r in enumerate(regions) if r["name"] == "andorra")
    assert not regions[i]["facility_counts"].get("aed")
    page.select_option("#region", str(i))
    page.wait_for_function("() => document.body.dataset.region === 'andorra'", timeout=20000)
    with page.expect_response(lambda r: "/coverage" in r.url and "type=aed" in r.url, timeout=20000) as resp:
        page.select_option("#analysis", "aed")
    assert resp.value.status == 422 and resp.value.json()["field"] == "type"
    page.wait_for_selector("#coverage-summary .none-here", timeout=20000)
    assert "No AEDs in this region yet" in page.locator("#coverage-summary").inner_text()
    assert "%" not in page.locator("#coverage-summary").inner_text()  # no share of nothing
    assert page.locator("path.gs-service-aed").count() == 0 and page.locator("#area-status").inner_text() == ""
    page.evaluate("addSite(1.5212, 42.5069)")  # Andorra la Vella, on its streets (as a click on the map)
    page.wait_for_selector("#whatif .after", timeout=20000)
    row = page.locator("#whatif tr[data-row='pop'] td")
    assert " ".join(row.nth(1).inner_text().split()).startswith("0 (0.0%)")
    assert num(row.nth(2).inner_text().split()[0]) > 0
    # the only console lines: the browser's own note of the two 422 answers (coverage, service areas)
    assert all("status of 422" in e for e in watch.errors) and watch.external == []
