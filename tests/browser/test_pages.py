"""Both pages in real headless Chromium: click the map, see a route and a minutes figure, no console errors."""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="en-US")
DESKTOP = dict(viewport={"width": 1400, "height": 900}, locale="en-US")


def click_latlng(page, lon: float, lat: float):
    box = page.locator("#map").bounding_box()
    pt = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


def test_citizen_page_phone(open_page):
    page, watch = open_page("/", **PHONE)
    assert page.locator("a.call").get_attribute("href") == "tel:120"
    # the page starts on Monaco (the demo region with AEDs); click a street in Monte-Carlo
    page.wait_for_timeout(500)
    page.evaluate("void map.setView([43.738, 7.424], 16)")
    page.wait_for_timeout(400)
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
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-en.png"))
    # Chinese
    page.click("#lang")
    page.wait_for_selector(".card.aed .min", timeout=15000)
    assert "拨打 120" in page.locator("a.call").inner_text()
    assert "AED" in page.locator(".card.aed h2").inner_text() and "步行" in page.locator(".card.aed h2").inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "citizen-phone-zh.png"))
    assert watch.errors == []
    assert watch.external == []


def test_citizen_page_no_aed_in_reach(open_page):
    page, watch = open_page("/", **PHONE)
    page.select_option("#region", label="andorra")
    page.evaluate("void map.setView([42.51, 1.529], 15)")
    page.wait_for_timeout(400)
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
    page.wait_for_timeout(400)
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
