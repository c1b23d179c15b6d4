"""Both pages in real headless Chromium: click the map, see a route and a minutes figure, no console errors."""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, settle

pytestmark = pytest.mark.browser

PHONE = dict(
    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US"
)
DESKTOP = dict(viewport={"width": 1400, "height": 900}, locale="en-US")


def click_latlng(page, lon: float, lat: float):
    box = page.locator("#map").bounding_box()
    pt = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


def test_citizen_page_phone(open_page):
    page, watch = open_page("/", **PHONE)
    assert page.locator("a.call").get_attribute("href") == "tel:112"  # Monaco's emergency number, not China's 120
    # the page starts on Monaco (the demo region with AEDs); click a street in Monte-Carlo
    settle(page)
    page.evaluate("void map.setView([43.738, 7.424], 16)")
    settle(page)
    click_latlng(page, 7.424, 43.738)
    page.wait_for_selector(".card.aed .min", timeout=15000)
    page.wait_for_selector(".card.cp .min", timeout=15000)
    page.wait_for_selector(".card.st .min", timeout=15000)
    aed_min = float(page.locator(".card.aed .min").get_attribute("data-minutes"))
    assert 0 < aed_min < 15
    assert page.locator("path.gs-route-aed").count() == 1
    assert page.locator("path.gs-route-chest_pain_center").count() == 1
    assert page.locator("path.gs-route-stroke_center").count() == 1
    assert "there and back" in page.locator(".card.aed .warn").inner_text()
    nav = page.locator(".card.aed .nav a").first.get_attribute("href")
    assert nav.startswith("amapuri://")
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-en.png"))
    scale = page.locator(".leaflet-control-scale-line")
    assert scale.inner_text().endswith((" m", " km"))
    # Chinese
    page.click("#lang")
    page.wait_for_selector(".card.aed .min", timeout=15000)
    assert scale.inner_text().endswith((" 米", " 公里"))  # the scale bar follows the page's language
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"
    assert "拨打 112" in page.locator("a.call").inner_text()
    assert "AED" in page.locator(".card.aed h2").inner_text() and "步行" in page.locator(".card.aed h2").inner_text()
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-zh.png"))
    assert watch.errors == []
    assert watch.external == []


def test_citizen_phone_emergency_layout(open_page):
    """What a bystander needs at a glance on a phone: the emergency number always on screen, the walk to the AED
    drawn on top and labelled with its minutes, readable text, nothing wider than the screen."""
    page, watch = open_page("/", **PHONE)
    settle(page)
    page.evaluate("void map.setView([43.738, 7.424], 16)")
    settle(page)
    click_latlng(page, 7.424, 43.738)
    page.wait_for_selector(".card.st .min", timeout=15000)
    call = page.locator("a.call").bounding_box()
    assert call["y"] < 150 and call["height"] >= 44 and call["width"] >= 300
    assert float(page.eval_on_selector("a.call", "(e) => getComputedStyle(e).fontSize").rstrip("px")) >= 20
    label = page.locator(".gs-label-aed")
    assert label.count() == 1 and "AED" in label.inner_text() and "min" in label.inner_text()
    assert page.locator(".gs-label-chest_pain_center").count() == 1
    # the walking route is painted after (over) both car routes
    assert page.evaluate("""() => { const a = document.querySelector('path.gs-route-aed');
      return ['chest_pain_center', 'stroke_center'].every((t) => document.querySelector('path.gs-route-' + t)
        .compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING); }""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    smallest = page.evaluate("""() => Math.min(...Array.from(document.querySelectorAll(
      '.call, .call *, .results *, .actions *')).filter((e) => e.textContent.trim() && e.offsetParent)
      .map((e) => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 13
    settle(page)  # let fitBounds finish its zoom animation
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-results.png"))
    # reading the last card in the opened bottom sheet: the call bar is still on screen
    page.click("#sheet-handle")
    settle(page)
    page.evaluate("() => { const r = document.getElementById('results'); r.scrollTop = r.scrollHeight; }")
    settle(page)
    assert page.evaluate("document.getElementById('results').scrollTop") > 0
    call = page.locator("a.call").bounding_box()
    assert 0 <= call["y"] <= 150 and call["y"] + call["height"] <= page.locator("#sheet").bounding_box()["y"]
    st = page.locator(".card.st").bounding_box()
    assert st["y"] + st["height"] <= 844
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-scrolled.png"))
    assert watch.errors == [] and watch.external == []


def test_citizen_page_no_aed_in_reach(open_page):
    page, watch = open_page("/", **PHONE)
    page.select_option("#region", label="Andorra")
    page.evaluate("void map.setView([42.51, 1.529], 15)")
    settle(page)
    click_latlng(page, 1.529, 42.51)
    page.wait_for_selector(".card.cp .min", timeout=15000)
    assert "No open AED" in page.locator(".card.aed .none").inner_text()
    assert page.locator("path.gs-route-chest_pain_center").count() == 1
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-no-aed.png"))
    assert watch.errors == [] and watch.external == []


def test_planner_page_desktop(open_page):
    page, watch = open_page("/planner", **DESKTOP)
    page.wait_for_selector("#coverage-table tbody tr", timeout=20000)
    assert page.locator(".legend-row").count() >= 5
    legend = page.locator("#legend").inner_text()
    assert "★" in legend and "☆" in legend
    page.wait_for_selector("path.gs-service", timeout=20000)
    click_latlng(page, 1.70, 42.54)
    page.wait_for_selector("#whatif .after", timeout=20000)
    page.wait_for_selector("#whatif [data-minutes]", timeout=20000)
    assert page.locator("path.gs-route").count() >= 1
    txt = page.locator("#whatif").inner_text()
    assert "min" in txt
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "planner-desktop.png"))
    assert watch.errors == [] and watch.external == []


def test_api_docs_offline(browser, live_server):
    from .conftest import PageWatch

    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    watch = PageWatch(page, live_server)
    page.goto(live_server + "/docs")
    page.wait_for_selector("text=/nearest", timeout=20000)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    ctx.close()
    assert watch.errors == [] and watch.external == []


SERVICE_AREA_D = (
    "() => Array.from(document.querySelectorAll('path.gs-service')).map((p) => p.getAttribute('d')).join('|')"
)
SERVICE_AREA_BOXES = """() => Array.from(document.querySelectorAll('path.gs-service')).map((p) => {
  const b = p.getBBox(); return b.width * b.height; })"""


def test_planner_minutes_redraw_service_areas(open_page):
    page, watch = open_page("/planner", **DESKTOP)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/service-areas" in r.url else None)
    page.wait_for_selector("#coverage-table tbody tr", timeout=20000)
    page.wait_for_selector("path.gs-service-chest_pain_center", timeout=20000)
    assert page.input_value("#minutes") == "30"
    assert "30-min" in page.locator("#legend").inner_text()
    before_d = page.evaluate(SERVICE_AREA_D)
    before_area = sum(page.evaluate(SERVICE_AREA_BOXES))
    with page.expect_response(lambda r: "/service-areas" in r.url and "minutes=8" in r.url, timeout=20000) as resp:
        page.fill("#minutes", "8")
        page.locator("#minutes").dispatch_event("change")
    assert resp.value.ok and "type=chest_pain_center" in resp.value.url and "region=andorra" in resp.value.url
    page.wait_for_function(
        "(before) => Array.from(document.querySelectorAll('path.gs-service-chest_pain_center'))"
        ".map((p) => p.getAttribute('d')).join('|') !== before",
        arg=before_d,
        timeout=20000,
    )
    page.wait_for_selector("path.gs-service-chest_pain_center", timeout=20000)
    after_d = page.evaluate(SERVICE_AREA_D)
    after_area = sum(page.evaluate(SERVICE_AREA_BOXES))
    assert after_d != before_d
    assert 0 < after_area < before_area  # 8-min areas are smaller than 30-min ones
    legend = page.locator("#legend").inner_text()
    assert "8-min" in legend and "30-min" not in legend
    page.wait_for_function(
        "() => document.getElementById('coverage-summary').textContent.includes('within 8 min')", timeout=20000
    )
    # the tooltip/layer names follow the minutes too
    page.hover(".leaflet-control-layers")
    assert "8-min" in page.locator(".leaflet-control-layers-overlays").inner_text()
    page.mouse.move(10, 450)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "planner-minutes-8.png"))
    # the analysis switch resets to the stroke default (60 min) and draws stroke areas only
    with page.expect_response(lambda r: "/service-areas" in r.url and "minutes=60" in r.url, timeout=20000):
        page.select_option("#analysis", "stroke_center")
    page.wait_for_selector("path.gs-service-stroke_center", timeout=20000)
    assert page.input_value("#minutes") == "60"
    assert page.locator("path.gs-service-chest_pain_center").count() == 0
    assert page.locator("path.gs-service-stroke_center").count() >= 1
    assert "60-min" in page.locator("#legend").inner_text()
    assert any("minutes=60" in u and "type=stroke_center" in u for u in requests), requests
    # Chinese: legend, layer names and the what-if hint follow
    page.click("#lang")
    page.wait_for_function(
        "() => document.getElementById('coverage-summary').textContent.includes('60 分钟')", timeout=20000
    )
    assert "60 分钟" in page.locator("#legend").inner_text()
    assert "点击地图" in page.locator("#whatif").inner_text()
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "planner-stroke-zh.png"))
    assert watch.errors == [] and watch.external == []


MARKERS_IN_REGION = """(name) => {
  const reg = GS.config.regions.find((r) => r.name === name);
  const [x0, y0, x1, y1] = reg.bbox;
  let inside = 0, outside = 0;
  map.eachLayer((l) => { if (l instanceof L.Marker) { const p = l.getLatLng();
    (p.lng >= x0 && p.lng <= x1 && p.lat >= y0 && p.lat <= y1) ? inside++ : outside++; } });
  return [inside, outside];
}"""


def test_planner_region_switch_clears_whatif(open_page):
    page, watch = open_page("/planner", **DESKTOP)
    page.wait_for_selector("#coverage-table tbody tr", timeout=20000)
    assert page.locator("#region option").count() == 2
    assert page.locator("#region option:checked").inner_text() == "Andorra"
    page.wait_for_selector("path.gs-service", timeout=20000)
    click_latlng(page, 1.70, 42.54)
    page.wait_for_selector("#whatif .after", timeout=20000)
    assert page.locator(".leaflet-marker-pane .gs-hypo").count() == 1
    assert page.locator("path.gs-route").count() >= 1
    andorra_rows = page.locator("#coverage-table tbody tr").all_inner_texts()
    page.screenshot(path=str(ARTIFACTS / "planner-whatif-andorra.png"))

    with page.expect_response(lambda r: "/coverage" in r.url and "region=monaco" in r.url, timeout=20000):
        page.select_option("#region", label="Monaco")
    page.wait_for_function(
        "(rows) => { const t = Array.from(document.querySelectorAll('#coverage-table tbody tr'));"
        " return t.length && t.map((r) => r.innerText).join() !== rows.join(); }",
        arg=andorra_rows,
        timeout=20000,
    )
    page.wait_for_selector("path.gs-service", timeout=20000)
    settle(page)
    assert page.locator("#whatif .after").count() == 0
    assert page.locator("#reset").count() == 0
    assert "click adds" in page.locator("#whatif").inner_text().lower()
    assert page.locator(".leaflet-marker-pane .gs-hypo").count() == 0 and page.locator("path.gs-route").count() == 0
    inside, outside = page.evaluate(MARKERS_IN_REGION, "monaco")
    assert inside >= 3 and outside == 0  # Monaco's facilities (and AEDs), none of Andorra's
    assert page.locator(".leaflet-marker-pane .gs-chest_pain_center").count() == 1
    assert page.locator("#coverage-table tbody tr").all_inner_texts() != andorra_rows
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "planner-region-monaco.png"))

    # a what-if still in flight when the region changes must not land on the new region
    page.select_option("#region", label="Andorra")
    page.wait_for_function("() => document.body.dataset.region === 'andorra'", timeout=20000)
    page.wait_for_selector("path.gs-service", timeout=20000)
    click_latlng(page, 1.70, 42.54)
    page.select_option("#region", label="Monaco")
    page.wait_for_function("() => document.body.dataset.region === 'monaco'", timeout=20000)
    settle(page)
    assert page.locator("#whatif .after").count() == 0
    assert page.locator(".leaflet-marker-pane .gs-hypo").count() == 0 and page.locator("path.gs-route").count() == 0
    assert page.evaluate(MARKERS_IN_REGION, "monaco")[1] == 0
    assert watch.errors == [] and watch.external == []


def test_citizen_map_greys_closed_aeds(open_page, live_service, live_server):
    """An AED closed now is drawn grey and says so; it is never offered as the nearest open one."""
    import httpx

    _, token = live_service.registry.create_key("browser-closed-aed", "editor")
    aed = {
        "id": "closed-aed",
        "type": "aed",
        "name": "Locked office AED",
        "lon": 7.4165,
        "lat": 43.7290,
        "opening_hours": "off",
        "source": "test",
    }
    r = httpx.post(f"{live_server}/facilities", json=aed, headers={"X-API-Key": token})
    assert r.status_code == 201, r.text
    try:
        page, watch = open_page("/", **PHONE)
        page.wait_for_selector(".leaflet-marker-pane .gs-closed", timeout=15000)
        assert page.locator(".leaflet-marker-pane .gs-closed").count() == 1
        assert page.locator(".leaflet-marker-pane .gs-ico.gs-aed").count() >= 6
        page.evaluate("void map.setView([43.7384, 7.4246], 16, {animate: false})")
        settle(page)
        page.evaluate(
            "document.querySelector('.leaflet-marker-pane .gs-closed')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        assert "Closed now" in page.locator(".leaflet-popup-content").inner_text()
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "citizen-closed-aed.png"))
        page.evaluate("void (map.closePopup(), map.setView([43.738, 7.424], 16, {animate: false}))")  # popup panned
        settle(page)
        click_latlng(page, 7.424, 43.738)  # 60 m away, where the nearest open AED is farther
        page.wait_for_selector(".card.aed", timeout=15000)
        settle(page)
        assert "Locked office AED" not in page.locator(".card.aed").inner_text()
        assert watch.errors == [] and watch.external == []
    finally:
        httpx.delete(f"{live_server}/facilities/closed-aed", headers={"X-API-Key": token})
