"""The citizen page as a phone app, in real headless Chromium: installable (manifest, icons, service
worker at /sw.js), working offline after one visit (the map, the AEDs and a "may be out of date"
note), the emergency number of the region as a tel: link (112 in Monaco, 120 in Shanghai), location
asked as a map app does, "Locate me" framing the patient and every route, the map filling a phone
with the answers in a bottom sheet, labels that do not collide, and an AED card that never
contradicts the map (the issue's case: "no open AED" while one 10.86 min away is drawn).
Real data: Monaco's 5 OpenStreetMap AEDs, central Shanghai.

Screenshots go to test-artifacts/citizen-app-*.png (phone and desktop, zh and en)."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from benchmarks.servers import uvicorn_in_thread

from .conftest import ARTIFACTS, settle

pytestmark = pytest.mark.browser

PHONE_ZH = dict(
    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
)
DESKTOP_ZH = dict(viewport={"width": 1400, "height": 900}, locale="zh-CN")
PHONE_EN = dict(PHONE_ZH, locale="en-US")
DESKTOP_EN = dict(DESKTOP_ZH, locale="en-US")
MONTE_CARLO = (7.4268, 43.7405)  # beside the casino: an AED within a few minutes' walk
LA_TURBIE = (7.404, 43.75)  # above Monaco: no AED within 10 min, the nearest 10.86 min away (the case)
DATA_CACHE = "gs-citizen-1-data"


@pytest.fixture(scope="module")
def citizen_service(regions_dir, tmp_path_factory):
    """The three demo regions: Shanghai (120), Andorra and Monaco (112)."""
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry

    svc = GeoService(
        [regions_dir / n for n in ("shanghai", "andorra", "monaco")],
        registry=Registry(tmp_path_factory.mktemp("citizen-app") / "registry.sqlite"),
    )
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def live_server(citizen_service):
    """Overrides the suite's server for this module (``open_page`` uses it)."""
    from geoservice.faces.api.app import create_app

    with uvicorn_in_thread(create_app(citizen_service), start_timeout_s=60) as base:
        yield base


def click_latlng(page, lon: float, lat: float) -> None:
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + x, box["y"] + y)


def pick_region(page, name: str) -> None:
    i = page.evaluate(f"GS.config.regions.findIndex((r) => r.name === {json.dumps(name)})")
    assert i >= 0, name
    page.select_option("#region", str(i))
    page.wait_for_function(f"() => document.body.dataset.region === {json.dumps(name)}")


def search_at(page, lon: float, lat: float) -> None:
    page.evaluate("document.getElementById('results').innerHTML = ''")
    page.evaluate(f"() => {{ map.setView([{lat}, {lon}], 16, {{animate: false}}); }}")
    click_latlng(page, lon, lat)
    page.wait_for_selector(".card.aed h2", timeout=20000)
    settle(page)


def api_nearest_aed(base: str, lon: float, lat: float, **params) -> dict:
    r = httpx.get(f"{base}/nearest", params={"lon": lon, "lat": lat, "type": "aed", "k": 1, **params}, timeout=30)
    r.raise_for_status()
    return r.json()


# ---------------------------------------------------------------------------- install
def test_manifest_is_valid_and_its_icons_exist(live_server):
    from io import BytesIO

    from PIL import Image

    r = httpx.get(f"{live_server}/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    m = json.loads(r.text)
    assert "急救地图" in m["name"] and "Emergency map" in m["name"]
    assert m["display"] == "standalone" and m["start_url"].startswith("/") and m["scope"] == "/"
    assert m["theme_color"] == "#c62828"
    sizes = set()
    for icon in m["icons"]:
        got = httpx.get(live_server + icon["src"])
        assert got.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            w, h = Image.open(BytesIO(got.content)).size
            assert icon["sizes"] == f"{w}x{h}"
            sizes.add(w)
        else:
            assert got.text.lstrip().startswith("<svg")
    assert {192, 512} <= sizes  # what a phone needs to offer "add to home screen"
    assert any(i.get("purpose") == "maskable" for i in m["icons"])
    sw = httpx.get(f"{live_server}/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]


def test_works_offline_after_one_visit(open_page, live_server):
    page, watch = open_page("/", **PHONE_EN, service_workers="allow")
    pick_region(page, "monaco")
    assert page.locator("link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
    # the worker is registered, controls the page, and has kept Monaco's answers (its AEDs included)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20000)
    page.wait_for_function("() => document.body.dataset.offline === 'monaco'", timeout=20000)
    kept = f"""async () => (await (await caches.open("{DATA_CACHE}")).keys()).map((r) => new URL(r.url).pathname)"""
    for _ in range(100):
        paths = page.evaluate(kept)
        if "/layers/aed" in paths and "/config" in paths:
            break
        page.wait_for_timeout(200)  # polled, with a deadline
    assert "/layers/aed" in paths and "/config" in paths, paths
    online_aeds = page.evaluate("aedLayer.getLayers().length")
    assert online_aeds == 5
    assert page.locator("#stale").is_hidden()

    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    page.wait_for_function("() => aedLayer.getLayers().length > 0", timeout=20000)
    # the map (Monaco, its basemap), the same AEDs, and the note that they may be out of date
    assert page.locator("#map .leaflet-pane").count() > 0
    assert page.locator("#region option:checked").inner_text() == "Monaco"
    assert page.evaluate("aedLayer.getLayers().length") == online_aeds
    page.wait_for_selector("#stale:not([hidden])", timeout=10000)
    note = page.locator("#stale").inner_text()
    assert note.startswith("May be out of date (offline since ") and note[-7:-5].isdigit(), note
    assert page.evaluate("document.querySelector('#call').href") == "tel:112"
    # Monaco's basemap came from the kept copy: its vector tiles (tiles.json and every tile asked),
    # or the GeoJSON basemap of a page without them
    settle(page)
    assert [u for u in failed if "/regions/monaco/" in u] == []
    if page.evaluate("!!window.BasemapTiles"):
        assert page.evaluate("(map.gsTiles || []).map((t) => t.region)") == ["monaco"]
        tiles = f"""async () => (await (await caches.open("{DATA_CACHE.replace("data", "tiles")}")).keys()).length"""
        assert page.evaluate(tiles) > 0
    page.screenshot(path=str(ARTIFACTS / "citizen-app-offline-phone-en.png"))
    page.context.set_offline(False)
    assert watch.external == []


# ---------------------------------------------------------------------------- emergency number
def test_emergency_number_follows_the_region(open_page, live_server):
    config = httpx.get(f"{live_server}/config").json()
    numbers = {r["name"]: r["emergency"]["number"] for r in config["regions"]}
    assert numbers == {"shanghai": "120", "andorra": "112", "monaco": "112"}

    page, watch = open_page("/", **PHONE_ZH)
    for name, number in (("monaco", "112"), ("shanghai", "120"), ("andorra", "112")):
        pick_region(page, name)
        call = page.locator("#call")
        assert call.get_attribute("href") == f"tel:{number}"
        assert f"先拨打 {number}" in call.inner_text()
        other = "120" if number == "112" else "112"
        said = page.locator("#call").inner_text() + page.locator("#sheet").inner_text()
        assert other not in said  # never "call 120" in Monaco
    # the cards say the number too: a search in Monaco with the page in English
    page.click("#lang")
    pick_region(page, "monaco")
    search_at(page, *LA_TURBIE)
    text = page.locator("#results").inner_text()
    assert "112" in text and "120" not in text
    assert watch.errors == [] and watch.external == []


# ---------------------------------------------------------------------------- location
GRANTED = dict(geolocation={"longitude": MONTE_CARLO[0], "latitude": MONTE_CARLO[1]}, permissions=["geolocation"])


def inside_view(page) -> list[str]:
    """What of the answer lies off the map's visible part (above the sheet): [] when all is in view."""
    return page.evaluate(
        """() => {
        const b = map.getBounds(), size = map.getSize(), cover = GS.app.sheetCover(), off = [];
        const check = (what, ll) => { const p = map.latLngToContainerPoint(ll);
          if (!b.contains(ll) || p.y > size.y - cover || p.x < 0 || p.x > size.x || p.y < 0) off.push(what); };
        check("patient", [here[1], here[0]]);
        for (const [k, res] of Object.entries(answers)) for (const r of res.results || []) {
          check(k + " facility", [r.facility.lat, r.facility.lon]);
          r.route.coordinates.forEach((c, i) => check(`${k} route ${i}`, [c[1], c[0]]));
        }
        return off; }"""
    )


@pytest.mark.parametrize("ctx", [PHONE_EN, DESKTOP_ZH], ids=["phone-en", "desktop-zh"])
def test_locate_me_frames_the_patient_and_every_route(open_page, live_server, ctx):
    page, watch = open_page("/", **ctx, **GRANTED)
    pick_region(page, "monaco")
    page.evaluate("() => { map.setView([43.73, 7.42], 18, {animate: false}); }")  # zoomed in far from the patient
    page.click("#locate")
    page.wait_for_selector(".card.cp .min", timeout=20000)
    settle(page)
    assert page.locator("dialog.geo-why").count() == 0  # already allowed: nothing to explain
    here = page.evaluate("here")
    assert math.dist(here, MONTE_CARLO) < 1e-6
    n_routes = page.evaluate("Object.values(answers).reduce((n, r) => n + (r.results || []).length, 0)")
    assert n_routes >= 3  # the AED (and its alternatives), the chest pain and the stroke center
    assert inside_view(page) == []
    name = "phone-en" if ctx is PHONE_EN else "desktop-zh"
    page.screenshot(path=str(ARTIFACTS / f"citizen-app-locate-{name}.png"))
    assert watch.errors == [] and watch.external == []


def test_location_is_explained_first_and_a_refusal_says_what_to_do(open_page):
    page, watch = open_page("/", **PHONE_ZH)  # no permission given: the browser refuses
    page.click("#locate")
    dialog = page.locator("dialog.geo-why")
    dialog.wait_for(timeout=5000)
    assert "使用您的位置" in dialog.inner_text() and "不会保存" in dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "citizen-app-location-ask-phone-zh.png"))
    page.click("dialog.geo-why button[value=no]")
    msg = page.locator("#msg")
    page.wait_for_function("() => document.getElementById('msg').textContent.includes('搜索框')", timeout=5000)
    assert msg.is_visible()
    assert page.evaluate("document.activeElement.id") == "place-q"
    # allowed in the dialog, refused by the browser: the same way on
    page.click("#locate")
    page.click("dialog.geo-why button[value=yes]")
    page.wait_for_function("() => document.getElementById('msg').textContent.includes('定位权限已关闭')", timeout=10000)
    assert "搜索框" in msg.inner_text()


# ---------------------------------------------------------------------------- phone layout
@pytest.mark.parametrize("ctx", [PHONE_ZH, PHONE_EN], ids=["zh", "en"])
def test_phone_map_fills_the_screen_and_the_sheet_expands(open_page, ctx):
    page, watch = open_page("/", **ctx)
    pick_region(page, "monaco")
    search_at(page, *MONTE_CARLO)
    screen = page.viewport_size["height"]
    m = page.locator("#map").bounding_box()
    sheet = page.locator("#sheet").bounding_box()
    visible = sheet["y"] - m["y"]  # the map above the sheet's top
    assert m["height"] >= 0.7 * screen and visible >= 0.5 * screen, (m, sheet)
    assert sheet["y"] + sheet["height"] == pytest.approx(screen, abs=1)
    lang = "zh" if ctx is PHONE_ZH else "en"
    page.screenshot(path=str(ARTIFACTS / f"citizen-app-phone-{lang}.png"))
    # a tap on the handle opens the sheet over most of the screen; another closes it
    page.click("#sheet-handle")
    settle(page)
    assert page.locator("#sheet").bounding_box()["height"] >= 0.8 * screen
    assert page.locator("#sheet-handle").get_attribute("aria-expanded") == "true"
    page.screenshot(path=str(ARTIFACTS / f"citizen-app-phone-{lang}-sheet.png"))
    page.click("#sheet-handle")
    settle(page)
    assert page.locator("#sheet").bounding_box()["height"] == pytest.approx(sheet["height"], abs=2)
    # dragging the handle up opens it too
    h = page.locator("#sheet-handle").bounding_box()
    x, y = h["x"] + h["width"] / 2, h["y"] + h["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 250, steps=8)
    page.mouse.up()
    settle(page)
    assert page.locator("#sheet").bounding_box()["height"] >= 0.8 * screen
    assert watch.errors == [] and watch.external == []


@pytest.mark.parametrize("ctx", [DESKTOP_ZH, DESKTOP_EN], ids=["zh", "en"])
def test_desktop_keeps_the_side_panel(open_page, ctx):
    page, watch = open_page("/", **ctx)
    pick_region(page, "monaco")
    search_at(page, *MONTE_CARLO)
    m, res = page.locator("#map").bounding_box(), page.locator("#results").bounding_box()
    assert res["x"] >= m["x"] + m["width"] - 1 and res["height"] > 300  # beside the map, not under it
    assert page.locator("#sheet-handle").is_hidden()
    lang = "zh" if ctx is DESKTOP_ZH else "en"
    page.screenshot(path=str(ARTIFACTS / f"citizen-app-desktop-{lang}.png"))


# ---------------------------------------------------------------------------- clean at every zoom
OVERLAPS = """() => {
  const r = (el) => el.getBoundingClientRect();
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const labels = [...document.querySelectorAll('.leaflet-tooltip-pane .gs-label')]
    .filter((el) => getComputedStyle(el).visibility !== 'hidden');
  const view = map.getContainer().getBoundingClientRect();
  // the answers' own markers (a label may cover one of the public AEDs around when no place is free)
  const own = '.gs-here, .leaflet-marker-pane .gs-ico:not(.gs-aed), .gs-aed-alt, .gs-aed-nearest';
  const markers = [...document.querySelectorAll(own)].filter((m) => meets(r(m), view));
  const out = [];
  labels.forEach((a, i) => {
    markers.filter((m) => meets(r(a), r(m))).forEach((m) => out.push(m.className + ' / ' + a.className));
    labels.slice(i + 1).forEach((b) => { if (meets(r(a), r(b))) out.push(a.className + ' / ' + b.className); }); });
  return {out, shown: labels.length};
}"""
PATIENT_BLUE = (25, 118, 210)  # .gs-here's fill (#1976d2)


def pixel_at_patient(page) -> tuple[int, int, int]:
    """The colour the screen shows at the patient's spot (a screenshot, not the DOM's order)."""
    from io import BytesIO

    from PIL import Image

    x, y = page.evaluate(
        """() => { const p = map.latLngToContainerPoint([here[1], here[0]]);
        const b = map.getContainer().getBoundingClientRect(); return [b.left + p.x, b.top + p.y]; }"""
    )
    png = page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 3, "height": 3}, scale="css")
    return Image.open(BytesIO(png)).convert("RGB").getpixel((1, 1))


def test_labels_do_not_collide_and_the_patient_is_on_top(open_page):
    page, watch = open_page("/", **PHONE_ZH)
    pick_region(page, "shanghai")
    search_at(page, 121.4737, 31.2304)  # 人民广场
    assert page.evaluate("getComputedStyle(map.getPane('gsPatient')).zIndex") == "690"
    shown_max = 0
    for z in (12, 13, 14, 15, 16, 17):
        page.evaluate(f"() => {{ map.setView([here[1], here[0]], {z}, {{animate: false}}); }}")
        settle(page)
        got = page.evaluate(OVERLAPS)
        assert got["out"] == [], (z, got)
        shown_max = max(shown_max, got["shown"])
        # nothing is drawn over the patient's marker, whatever lies under it
        assert math.dist(pixel_at_patient(page), PATIENT_BLUE) < 40, z
    assert shown_max == 3  # zoomed in, every label (AED, chest pain, stroke) shows


# ---------------------------------------------------------------------------- the AED card and the map
def nearest_drawn(page) -> dict:
    return page.evaluate(
        """() => { let out = null; drawn.eachLayer((l) => {
          const el = l.getElement && l.getElement();
          if (el && el.querySelector('.gs-aed-nearest')) out = {lon: l.getLatLng().lng, lat: l.getLatLng().lat,
            label: l.getTooltip() ? l.getTooltip().getContent() : ''}; }); return out; }"""
    )


@pytest.mark.parametrize("where", [MONTE_CARLO, LA_TURBIE], ids=["within-10-min", "beyond-10-min"])
def test_the_aed_card_and_the_map_agree(open_page, live_server, where):
    page, watch = open_page("/", **PHONE_EN)
    pick_region(page, "monaco")
    search_at(page, *where)
    # the independent answer: the nearest AED on foot with no limit
    best = api_nearest_aed(live_server, *where)["results"][0]
    minutes = f"{best['time_s'] / 60:.{1 if best['time_s'] < 600 else 0}f}"  # as the page shows them (GS.fmtMin)
    marker = nearest_drawn(page)
    assert marker is not None, "the nearest AED is drawn"
    assert math.dist((marker["lon"], marker["lat"]), (best["facility"]["lon"], best["facility"]["lat"])) < 1e-6
    assert minutes in marker["label"]
    assert page.locator(".gs-label-aed").evaluate("(el) => getComputedStyle(el).visibility") == "visible"
    assert page.evaluate(OVERLAPS)["out"] == []
    card = page.locator(".card.aed")
    assert card.locator(".min").inner_text().startswith(minutes)
    assert best["facility"]["name"] in card.locator(".name").inner_text()
    if where == LA_TURBIE:
        # the case: nothing within 10 min, and the card names the one drawn 10.9 min away
        assert best["time_s"] / 60 > 10
        assert api_nearest_aed(live_server, *where, max_minutes=10)["results"] == []
        assert card.locator(".beyond").inner_text() == (
            f"No open AED within 10 min walk. The nearest beyond it is {minutes} min away on foot "
            "(below, and on the map)."
        )
        page.screenshot(path=str(ARTIFACTS / "citizen-app-aed-beyond-phone-en.png"))
    else:
        assert card.locator(".beyond").count() == 0 and best["time_s"] / 60 < 10
    assert watch.errors == [] and watch.external == []
