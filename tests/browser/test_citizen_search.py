"""The citizen page's place search in real headless Chromium: a landmark by its Chinese name and by
its pinyin initials on the Chinese page (人民广场, "rmgc"), a metro station by its English name on the
English page (shown by that name), the nearest cards after picking one; and no raw OSM id anywhere a
citizen reads (the list, the cards, the popups) after a search for Monaco's hospital OSM maps
without a name.

Central Shanghai's extract names 人民广场 only as bus stops without an English name (see
tests/test_place_landmarks.py): on the English page it is found by its Chinese name or pinyin.
Screenshots go to test-artifacts/citizen-search-*.png."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from . import test_citizen_page as citizen_page
from .conftest import ARTIFACTS, settle
from .test_citizen_page import DESKTOP_ZH, OPEN_POPUP, PHONE_ZH

# the fixtures of the citizen page's tests: the demo regions served, Shanghai first
citizen_service = citizen_page.citizen_service
live_server = citizen_page.live_server
shanghai = citizen_page.shanghai

pytestmark = pytest.mark.browser

PHONE_EN = dict(PHONE_ZH, locale="en-US")
DESKTOP_EN = dict(DESKTOP_ZH, locale="en-US")
RAW_ID = re.compile(r"osm-(node|way|relation)-\d+|unnamed (hospital|clinic)", re.I)


def place_list(page, q: str) -> list[str]:
    """Type ``q`` and return the list's items once the answer to it is drawn."""

    def is_answer(r) -> bool:
        url = urlparse(r.url)
        return url.path == "/places" and parse_qs(url.query).get("q") == [q]

    with page.expect_response(is_answer, timeout=15000) as resp:
        page.fill("#place-q", q)
    assert resp.value.status == 200
    assert "near" in parse_qs(urlparse(resp.value.url).query)  # ranked from the map's centre
    page.wait_for_selector("#place-list .place", timeout=5000)
    settle(page)
    return page.locator("#place-list .place").all_inner_texts()


def pick_first(page) -> None:
    page.locator("#place-list .place").first.click()
    page.wait_for_selector(".card.cp .min", timeout=20000)


@pytest.mark.parametrize("q", ["人民广场", "rmgc"])
def test_zh_renmin_guangchang_by_name_and_initials(open_page, shanghai, q):
    page, watch = open_page("/", **PHONE_ZH)
    items = place_list(page, q)
    first = items[0].split("\n")
    assert first[0] == "人民广场" and "公交站" in first[1] and "黄浦区" in first[1], items
    page.screenshot(path=str(ARTIFACTS / f"citizen-search-zh-phone-{'name' if q == '人民广场' else 'pinyin'}.png"))
    pick_first(page)
    assert "患者位置：人民广场" in page.locator(".results .from").inner_text()
    assert page.locator(".card.aed h2").inner_text() == "最近的AED（步行）"
    assert page.locator(".card.cp .min").count() == 1 and page.locator(".card.st .min").count() == 1
    settle(page)
    if q == "rmgc":
        page.screenshot(path=str(ARTIFACTS / "citizen-search-zh-phone-result.png"), full_page=True)
    assert watch.errors == [] and watch.external == []


def test_en_station_by_english_name_shown_in_english(open_page, shanghai):
    page, watch = open_page("/", **DESKTOP_EN)
    assert page.get_attribute("#place-q", "placeholder") == "Place, station, road or hospital"
    items = place_list(page, "Jiangsu Road")
    first = items[0].split("\n")
    assert first[0] == "Jiangsu Road" and first[1].startswith("station"), items
    assert any(t.split("\n")[0] == "Jiangsu Road" and "road" in t for t in items)  # the road 江苏路 too
    page.screenshot(path=str(ARTIFACTS / "citizen-search-en-desktop-list.png"))
    pick_first(page)
    assert "Patient at: Jiangsu Road" in page.locator(".results .from").inner_text()
    # 人民广场 has no English name in the extract: found by its Chinese name, shown as it is
    items = place_list(page, "人民广场")
    assert items[0].split("\n")[0] == "人民广场" and "bus stop" in items[0]
    pick_first(page)
    assert page.locator(".card.st .min").count() == 1
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-search-en-desktop-result.png"))
    assert watch.errors == [] and watch.external == []


def test_no_raw_osm_id_where_a_citizen_reads(open_page, citizen_service):
    """Monaco's OSM hospital node 25237989 has no name: the list, the cards and the popups call it
    "Hospital on Avenue Pasteur"."""
    if "monaco" not in citizen_service.regions:
        pytest.skip("Monaco is not served")
    page, watch = open_page("/", **PHONE_EN)
    items = place_list(page, "Avenue Pasteur")
    assert any(t.startswith("Hospital on Avenue Pasteur") for t in items), items
    i = next(k for k, t in enumerate(items) if t.startswith("Hospital on Avenue Pasteur"))
    page.locator("#place-list .place").nth(i).click()
    page.wait_for_selector(".card.st .min", timeout=20000)
    texts = [page.evaluate("document.body.innerText")]
    markers = page.evaluate(
        "(() => { const out = []; map.eachLayer((l) => { if (l instanceof L.Marker && l.getPopup())"
        " { const p = l.getLatLng(); out.push([p.lng, p.lat]); } }); return out; })()"
    )
    for lon, lat in markers[:40]:
        page.evaluate(OPEN_POPUP, [lon, lat, None])
        texts.append(page.evaluate("(document.querySelector('.leaflet-popup-content') || {}).innerText || ''"))
    text = "\n".join(texts)
    assert "Hospital on Avenue Pasteur" in text
    assert not RAW_ID.search(text), RAW_ID.search(text)
    page.screenshot(path=str(ARTIFACTS / "citizen-search-en-phone-monaco.png"), full_page=True)
    assert watch.errors == [] and watch.external == []
