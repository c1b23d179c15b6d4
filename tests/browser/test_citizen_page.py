"""The citizen page as used in an emergency, in real headless Chromium, in Chinese (browser language
zh-CN): find the patient's place by name offline, the nearest AED marked apart with where it is and
its hours, two alternatives, the walk drawn above the drives, a tap on or near a marker, an off-road
tap, and no untranslated English left on the page. On Shanghai (the first demo region) when it is
built, else Monaco.

Screenshots (phone 390×844 and desktop) go to test-artifacts/citizen-zh-*.png."""

from __future__ import annotations

import math
import threading
import time

import httpx
import pytest

from benchmarks.servers import free_port as _free_port

from .conftest import ARTIFACTS, settle

pytestmark = pytest.mark.browser

PHONE_ZH = dict(
    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
)
DESKTOP_ZH = dict(viewport={"width": 1400, "height": 900}, locale="zh-CN")

# Latin words allowed on the Chinese page: acronyms and names that are Chinese usage too, and the
# button that switches to English. Data (facility, road, place names, AED locations) is in .data
# elements and map labels, which are left out of the check.
ALLOWED_LATIN = {"AED", "EVT", "IVT", "OpenStreetMap", "ODbL", "EN"}
UI_TEXT = """() => {
  const hide = Array.from(document.querySelectorAll('.data, .gs-bl, .leaflet-control-scale'));
  const old = hide.map((e) => e.style.display);
  hide.forEach((e) => { e.style.display = 'none'; });
  const text = document.body.innerText;
  hide.forEach((e, i) => { e.style.display = old[i]; });
  return text;
}"""


# open the popup of the first marker at (lon, lat), or titled so: what a tap on it shows
OPEN_POPUP = """([lon, lat, title]) => { let done = false; map.eachLayer((l) => {
  if (done || !(l instanceof L.Marker) || !l.getPopup()) return;
  const p = l.getLatLng();
  if (title ? l.options.title === title : Math.abs(p.lat - lat) < 1e-7 && Math.abs(p.lng - lon) < 1e-7) {
    l.openPopup(); done = true; } }); }"""


def latin_words(page) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z]{2,}", page.evaluate(UI_TEXT))) - ALLOWED_LATIN


def click_latlng(page, lon: float, lat: float, dx: float = 0, dy: float = 0):
    box = page.locator("#map").bounding_box()
    pt = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + pt[0] + dx, box["y"] + pt[1] + dy)


def view(page):
    return page.evaluate("[map.getCenter().lat, map.getCenter().lng, map.getZoom()]")


def failed_loads_only(errors: list[str]) -> bool:
    """Console errors that are only the browser's note on an expected 4xx answer."""
    return all("Failed to load resource: the server responded with a status of 4" in e for e in errors)


@pytest.fixture(scope="module")
def citizen_service(regions_dir, tmp_path_factory):
    """The demo regions as served: Shanghai first when it is built, then Andorra and Monaco."""
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    names = [n for n in ("shanghai", "andorra", "monaco") if (regions_dir / n / "meta.json").is_file()]
    svc = GeoService(
        [regions_dir / n for n in names], registry=Registry(tmp_path_factory.mktemp("citizen") / "registry.sqlite")
    )
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def live_server(citizen_service):
    """Overrides the suite's server for this module (``open_page`` uses it)."""
    import uvicorn

    from geoservice.faces.api.app import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(citizen_service), host="127.0.0.1", port=port, log_level="warning")
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 60
    while not server.started:
        if time.time() > deadline or not t.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(timeout=10)


@pytest.fixture(scope="module")
def shanghai(citizen_service):
    if "shanghai" not in citizen_service.regions:
        pytest.skip("the Shanghai demo region is not built (geoservice/data/shanghai)")
    return "shanghai"


CHANGZHENG = "中国人民解放军海军军医大学第二附属医院（上海长征医院）"


def search_place(page, q: str, expect: str) -> None:
    page.fill("#place-q", q)
    page.wait_for_selector("#place-list .place", timeout=15000)
    items = page.locator("#place-list .place")
    texts = items.all_inner_texts()
    i = next(k for k, t in enumerate(texts) if t.split("\n")[0] == expect)
    items.nth(i).click()
    # the answer from this place, not the one before still on the page: the cards say where they are from
    page.wait_for_function(
        "(name) => { const f = document.querySelector('.results .from'); return !!f && f.textContent.includes(name); }",
        arg=expect,
        timeout=20000,
    )
    page.wait_for_selector(".card.cp .min, .card.cp .err", timeout=20000)


def test_shanghai_zh_place_search_nearest_aed_and_no_english(open_page, shanghai):
    page, watch = open_page("/", **PHONE_ZH)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#region option:checked").inner_text() == "上海 · 中心城区"  # display name, not 'shanghai'
    assert page.get_attribute("#place-q", "placeholder") == "地名、车站、道路或医院（可输入拼音）"
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-phone-start.png"))

    # a district by name: the list says what it is; picking it searches from a road inside it
    page.fill("#place-q", "徐汇区")
    page.wait_for_selector("#place-list .place", timeout=15000)
    first = page.locator("#place-list .place").first.inner_text()
    assert first.startswith("徐汇区") and "行政区" in first
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-phone-search.png"))
    page.locator("#place-list .place").first.click()
    page.wait_for_selector(".card.cp .min", timeout=20000)
    assert "患者位置：徐汇区" in page.locator(".results .from").inner_text()

    # a hospital by part of its name: the patient at 长征医院, where a (demo) AED hangs in the outpatient hall
    search_place(page, "长征医院", CHANGZHENG)
    page.wait_for_selector(".card.aed .min", timeout=20000)
    aed = page.locator(".card.aed")
    assert aed.locator("h2").inner_text() == "最近的AED（步行）"
    assert (
        "AED · " + CHANGZHENG in aed.locator(".name").inner_text() and "[演示指定]" in aed.locator(".name").inner_text()
    )
    details = aed.locator(".details").inner_text()
    assert "位置：门诊大厅" in details and "楼层：1" in details and "使用：公众可用" in details
    assert "开放时间：全天 24 小时" in details and "现在开放" in details
    # marked apart on the map: one big ringed marker with its own label; the walk above the drives
    assert page.locator(".leaflet-marker-pane .gs-aed-nearest").count() == 1
    label = page.locator(".gs-label-aed")
    assert label.count() == 1 and label.inner_text().startswith("最近的AED")
    assert page.locator("path.gs-route-aed").count() == 1
    walk_pane, drive_pane = (
        int(page.evaluate(f"getComputedStyle(map.getPane('{p}')).zIndex")) for p in ("gsWalk", "gsDrive")
    )
    assert walk_pane > drive_pane
    assert page.evaluate("map.getPane('gsWalk').contains(document.querySelector('path.gs-route-aed'))")
    assert page.evaluate("map.getPane('gsDrive').contains(document.querySelector('path.gs-route-chest_pain_center'))")
    assert latin_words(page) == set(), "untranslated UI text on the Chinese page"
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-phone-result.png"), full_page=True)
    assert watch.errors == [] and watch.external == []


def test_shanghai_zh_road_search_desktop(open_page, shanghai):
    page, watch = open_page("/", **DESKTOP_ZH)
    search_place(page, "淮海中路", "淮海中路")
    page.wait_for_selector(".card.st .min", timeout=20000)
    assert page.locator(".card.cp h2").inner_text() == "最近的胸痛中心（驾车）"
    assert page.locator(".card.st h2").inner_text() == "最近的卒中中心（驾车）"
    assert latin_words(page) == set()
    # labels of the offline basemap are drawn (in Chinese) when basemap_labels.js is there
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-desktop-road.png"))
    assert watch.errors == [] and watch.external == []


def test_tap_on_or_near_a_marker_searches_from_there(open_page, live_server):
    page, watch = open_page("/", **PHONE_ZH)
    page.select_option("#region", label="摩纳哥")
    feats = httpx.get(f"{live_server}/layers/aed", params={"region": "monaco"}).json()["features"]
    aeds = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in feats}
    lon, lat = aeds["osm-node-3760303373"]  # one of three real AEDs of Monte-Carlo within 10 min of each other
    page.evaluate(f"void map.setView([{lat}, {lon}], 17, {{animate: false}})")
    settle(page)
    # on the marker: its details open AND the search runs from it
    click_latlng(page, lon, lat)
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert "开放时间未知" in page.locator(".leaflet-popup-content").last.inner_text()
    page.wait_for_selector(".card.aed .min", timeout=15000)
    here = page.evaluate("here")
    assert abs(here[0] - lon) < 1e-6 and abs(here[1] - lat) < 1e-6
    assert float(page.locator(".card.aed .min").get_attribute("data-minutes")) < 1.0  # the patient is beside it
    # two alternatives, listed and drawn
    assert page.locator(".card.aed .alts li").count() == 2
    assert page.locator("path.gs-route-aed-alt").count() == 2
    assert page.locator(".leaflet-marker-pane .gs-aed-alt").count() == 2
    settle(page)  # let fitBounds finish its zoom animation (a setView during it is undone)
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-phone-marker-tap.png"))
    # just beside a marker (off its icon): the search runs from the tap itself
    page.evaluate("void map.closePopup()")
    o_lon, o_lat = aeds["osm-node-2475270782"]
    page.evaluate(f"void map.setView([{o_lat}, {o_lon}], 17, {{animate: false}})")
    settle(page)
    before = page.evaluate("here")
    page.evaluate("void map.once('click', (e) => { window.lastTap = [e.latlng.lng, e.latlng.lat]; })")
    click_latlng(page, o_lon, o_lat, dx=22)
    page.wait_for_function("(b) => here && (here[0] !== b[0] || here[1] !== b[1])", arg=before, timeout=15000)
    here, tap = page.evaluate("[here, window.lastTap]")
    assert here == tap  # the map got the tap (the marker did not swallow it) and searched from it
    m = math.cos(math.radians(o_lat)) * 111_195.0
    assert 15 < math.hypot((tap[0] - o_lon) * m, (tap[1] - o_lat) * 111_195.0) < 25  # 22 px at zoom 17: ~19 m
    assert watch.errors == [] and watch.external == []


def test_off_road_tap_says_so_and_keeps_the_view(open_page):
    page, watch = open_page("/", **PHONE_ZH)
    page.select_option("#region", label="摩纳哥")
    page.evaluate("void map.setView([43.738, 7.424], 16, {animate: false})")
    settle(page)
    click_latlng(page, 7.424, 43.738)  # a street in Monte-Carlo first: results on the page
    page.wait_for_selector(".card.aed .min", timeout=15000)
    settle(page)
    cards = page.locator(".results").inner_text()
    # then the sea, 1.4 km from any road (in the middle of the map: on a phone the answers' sheet covers its bottom)
    page.evaluate("void map.setView([43.728, 7.445], 15, {animate: false})")
    settle(page)
    seen = view(page)
    click_latlng(page, 7.445, 43.728)
    page.wait_for_selector(".msg.warn", timeout=15000)
    msg = page.locator("#msg").inner_text()
    assert "此处附近没有道路" in msg and "米" in msg and "上一个位置" in msg
    settle(page)
    assert view(page) == seen  # no zoom into the empty sea
    assert page.locator(".results").inner_text() == cards  # the last answers stay
    assert latin_words(page) == set()
    page.screenshot(path=str(ARTIFACTS / "citizen-zh-phone-off-road.png"))
    # outside every served region (the Alps above Monaco): another plain message
    page.evaluate("void map.setView([44.2, 7.2], 13, {animate: false})")
    settle(page)
    seen = view(page)
    click_latlng(page, 7.2, 44.2)
    page.wait_for_function("() => document.getElementById('msg').innerText.includes('不在服务范围')", timeout=15000)
    assert view(page) == seen
    assert failed_loads_only(watch.errors) and watch.external == []


def test_monaco_aed_location_fields(open_page, citizen_service, live_server):
    """An AED entered with where it is, its floor, access and hours shows all of them; a real Monaco
    AED (OSM has none of these tags for them) says its spot and hours are unknown; a closed one says so."""
    _, token = citizen_service.registry.create_key("citizen-page", "editor")
    head = {"X-API-Key": token}
    made = [
        {
            "id": "casino-aed",
            "type": "aed",
            "name": "Casino lobby AED",
            "lon": 7.4276,
            "lat": 43.7394,
            "location": "lobby, left of the cloakroom",
            "floor": "0",
            "access": "customers",
            "opening_hours": "24/7",
            "source": "test",
        },
        {
            "id": "office-aed",
            "type": "aed",
            "name": "Office AED",
            "lon": 7.4165,
            "lat": 43.7290,
            "opening_hours": "off",
            "source": "test",
        },
    ]
    for rec in made:
        r = httpx.post(f"{live_server}/facilities", json=rec, headers=head)
        assert r.status_code == 201, r.text
    try:
        for locale, words in (
            (
                "en-US",
                (
                    "Where: lobby, left of the cloakroom",
                    "Floor: 0",
                    "Access: customers only",
                    "Hours: 24/7",
                    "Open now",
                ),
            ),
            (
                "zh-CN",
                (
                    "位置：lobby, left of the cloakroom",
                    "楼层：0",
                    "使用：仅限顾客",
                    "开放时间：全天 24 小时",
                    "现在开放",
                ),
            ),
        ):
            page, watch = open_page("/", **dict(PHONE_ZH, locale=locale))
            page.select_option(
                "#region",
                index=[o for o in page.locator("#region option").all_inner_texts()].index(
                    "Monaco" if locale == "en-US" else "摩纳哥"
                ),
            )
            page.evaluate("void map.setView([43.7392, 7.4272], 17, {animate: false})")
            settle(page)
            click_latlng(page, 7.4272, 43.7392)
            page.wait_for_selector(".card.aed .min", timeout=15000)
            assert "Casino lobby AED" in page.locator(".card.aed .name").inner_text()
            details = page.locator(".card.aed .details").inner_text()
            for w in words:
                assert w in details, (w, details)
            settle(page)  # the zoom animation and the basemap redraw
            page.screenshot(path=str(ARTIFACTS / f"citizen-aed-location-{locale}.png"), full_page=True)
            # a real OSM AED among the alternatives / on the map: spot and hours unknown
            real = httpx.get(f"{live_server}/layers/aed", params={"region": "monaco"}).json()["features"]
            osm = next(f for f in real if f["properties"]["id"] == "osm-node-3760302961")
            lon, lat = osm["geometry"]["coordinates"]
            page.evaluate("void map.closePopup()")
            page.evaluate(OPEN_POPUP, [lon, lat, None])
            pop = page.locator(".leaflet-popup-content").last.inner_text()
            assert ("Exact spot not recorded" if locale == "en-US" else "具体位置未登记") in pop
            assert ("Opening hours unknown" if locale == "en-US" else "开放时间未知") in pop
            page.evaluate("void map.closePopup()")
            page.evaluate(OPEN_POPUP, [None, None, "Office AED"])
            closed = page.locator(".leaflet-popup-content").last.inner_text()
            assert ("Closed now" if locale == "en-US" else "现在关闭") in closed
            if locale == "zh-CN":
                assert latin_words(page) == set()
            assert watch.errors == [] and watch.external == []
    finally:
        for rec in made:
            httpx.delete(f"{live_server}/facilities/{rec['id']}", headers=head)
