"""The planner's capacity-aware access layer (planner-access.js): off until switched on in the
layer control, then the admin units shaded from GET /access, the figures under the coverage table
equal to the API's, following the plan (minutes) and the language; no console error, nothing external."""

from __future__ import annotations

import httpx
import pytest

from .conftest import ARTIFACTS
from .test_planner_page import DESKTOP_EN, DESKTOP_ZH, untranslated, wait_summary

pytestmark = pytest.mark.browser


def switch_on(page, label: str) -> None:
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").check()
    page.wait_for_function("() => document.querySelector('#access-summary').dataset.state === 'ready'", timeout=30000)


def test_access_layer_in_english(open_page, live_server):
    page, watch = open_page("/planner", **DESKTOP_EN)
    wait_summary(page, type="chest_pain_center", minutes=30)
    assert page.locator("#access-summary").inner_text() == ""  # off until asked for: no heavy request
    switch_on(page, "Access with capacity (E2SFCA)")
    region = page.evaluate("region.name")
    api = httpx.get(
        f"{live_server}/access",
        params={"type": "chest_pain_center", "minutes": 30, "scenario": "free_flow", "region": region},
        timeout=60,
    ).json()
    box = page.locator("#access-summary")
    assert float(box.get_attribute("data-score")) == pytest.approx(api["score_per_100k"])
    assert float(box.get_attribute("data-gini")) == pytest.approx(api["equity"]["access"]["gini"])
    text = box.inner_text()
    assert f"{api['score_per_100k']:.3g}" in text and "no capacities given: every facility counts 1" in text
    assert page.locator("path.gs-access-unit").count() == len([u for u in api["units"] if u["population"] > 0])
    page.mouse.move(10, 450)
    page.screenshot(path=str(ARTIFACTS / "planner-access-en.png"))
    # a new catchment is asked for at once while the layer is shown
    with page.expect_response(lambda r: "/access" in r.url and "minutes=15" in r.url, timeout=30000):
        page.fill("#minutes", "15")
        page.dispatch_event("#minutes", "change")
    page.wait_for_function("() => document.querySelector('#access-summary').dataset.state === 'ready'", timeout=30000)
    assert "15 min catchment" in box.inner_text()
    assert watch.errors == [] and watch.external == []


def test_access_layer_in_chinese(open_page):
    page, watch = open_page("/planner", **DESKTOP_ZH)
    wait_summary(page, type="chest_pain_center", minutes=30)
    switch_on(page, "按行政区的容量可达性")
    text = page.locator("#access-summary").inner_text()
    assert "每 10 万人" in text and "未给容量：每个机构计为 1" in text
    page.hover(".leaflet-control-layers")
    assert untranslated(page) == set()
    page.mouse.move(10, 450)
    page.screenshot(path=str(ARTIFACTS / "planner-access-zh.png"))
    assert watch.errors == [] and watch.external == []
