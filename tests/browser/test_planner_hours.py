"""The planner's traffic selector offers the 24 departure hours besides free flow / off-peak /
peak, labelled in the page's language from GET /depart-hours; an hour drives every request as
``depart`` (never with ``scenario``) and the figures are those of that hour's traffic."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from .test_planner_page import DESKTOP_EN, DESKTOP_ZH, ROAD_POINT, click_latlng, untranslated, wait_summary

pytestmark = pytest.mark.browser


def options(page) -> list[tuple[str, str]]:
    js = "() => Array.from(document.querySelectorAll('#scenario option')).map((o) => [o.value, o.text])"
    return page.evaluate(js)


def test_hours_in_both_languages(open_page):
    page, watch = open_page("/planner", **DESKTOP_ZH)
    page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=20000)
    opts = options(page)
    assert [v for v, _ in opts] == ["free_flow", "off_peak", "peak"] + [f"h{h:02d}" for h in range(24)]
    text = dict(opts)
    assert text["h08"] == "08:00 高峰" and text["h03"] == "03:00 畅通" and text["h12"] == "12:00 平峰"
    assert text["h09"].startswith("09:00 主干路 ×")
    assert page.evaluate("document.getElementById('scenario-hours').label") == "出发时段"
    assert untranslated(page) == set()
    page.click("#lang")
    text = dict(options(page))
    assert text["h08"] == "08:00 Peak hours" and text["h09"].endswith("on main roads")
    assert watch.errors == [] and watch.external == []


def test_an_hour_drives_coverage_areas_and_whatif(open_page, live_server):
    page, watch = open_page("/planner", **DESKTOP_EN)
    regions = page.evaluate("GS.config.regions")
    i = next(i for i, r in enumerate(regions) if r["name"] == "andorra")
    page.select_option("#region", str(i))
    page.wait_for_function("() => document.body.dataset.region === 'andorra'", timeout=20000)
    with page.expect_response(lambda r: "/coverage" in r.url and "depart=" in r.url, timeout=20000) as cov:
        page.select_option("#scenario", "h08")
    q = parse_qs(urlparse(cov.value.url).query)
    assert q["depart"] == ["08:00"] and "scenario" not in q
    ans = cov.value.json()
    assert ans["scenario"] == "hour_08" and ans["depart"] == "08:00"
    shown = wait_summary(page, scenario="h08")
    peak = httpx.get(
        f"{live_server}/coverage",
        params={"type": "chest_pain_center", "minutes": 30, "scenario": "peak", "region": "andorra", "gaps": "false"},
        timeout=30,
    ).json()
    assert float(shown["share"]) == peak["overall"]["population_share"]  # 08 is a peak hour in the default curve
    assert "08:00 Peak hours" in page.locator("#coverage-summary .sum-head").inner_text()
    page.wait_for_function("() => document.body.dataset.areasScenario === 'h08'", timeout=20000)
    assert "depart=08%3A00" in page.locator("a[data-dl='areas-geojson']").get_attribute("href")
    with page.expect_request(lambda r: r.url.endswith("/whatif"), timeout=20000) as req:
        click_latlng(page, *ROAD_POINT["andorra"])
    body = json.loads(req.value.post_data)
    assert body["depart"] == "08:00" and "scenario" not in body
    page.wait_for_selector("#whatif .after", timeout=20000)
    assert watch.errors == [] and watch.external == []
