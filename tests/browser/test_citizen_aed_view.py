"""The citizen page asks for the public AEDs of the map view only, through the loader it shares with the
planner (aed_view.js): a bbox of the padded view with the local time (open now or not), again only when
the map leaves it; past a cap (a province has 50,000) nothing is drawn and the map says to zoom in, while
a tap still gets the nearest AED and its alternatives from /nearest.
Real data: Monaco's 5 OpenStreetMap AEDs (three in Monte-Carlo, one by the palace, one in Beausoleil).

Screenshots (phone 390×844) go to test-artifacts/citizen-aed-view-*.png."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import ARTIFACTS, settle
from .test_citizen_page import PHONE_ZH, click_latlng, latin_words
from .test_planner_aed_view import (
    BEAUSOLEIL,
    MONTE_CARLO,
    VIEW,
    aed_requests,
    all_aeds,
    drawn_after,
    inside,
    set_view,
)

pytestmark = pytest.mark.browser

PHONE_EN = dict(PHONE_ZH, locale="en-US")
BESIDE = "osm-node-3760303373"  # a real Monte-Carlo AED: a patient on its spot has it as the nearest, < 1 min away
NOTE = ".leaflet-control-container .gs-aed-note"
DRAWN = "() => aedLayer.getLayers().map((m) => [m.getLatLng().lng, m.getLatLng().lat])"


def drawn(page) -> set[tuple[float, float]]:
    """The AEDs the view layer holds, each on the map as one AED marker (no search shown yet)."""
    pts = {(round(x, 6), round(y, 6)) for x, y in page.evaluate(DRAWN)}
    assert page.locator(".leaflet-marker-pane .gs-aed").count() == len(pts)
    return pts


def drawn_box(page) -> list[float]:
    """The bbox of the last AED answer (body[data-aed-box]), once there is one."""
    page.wait_for_function("() => document.body.dataset.aedBox", timeout=15000)
    return [float(v) for v in page.evaluate("document.body.dataset.aedBox").split(",")]


def note(page) -> str | None:
    el = page.locator(NOTE)
    assert el.count() == 1
    return None if el.is_hidden() else el.inner_text()


def test_citizen_loads_the_aeds_of_the_view(open_page, live_server):
    page, watch = open_page("/", **PHONE_EN)
    aeds = all_aeds(live_server)
    assert len(aeds) >= 5
    # the page starts on Monaco (the region with AEDs): its whole box in view, every AED drawn, no note
    box = drawn_box(page)
    assert drawn(page) == inside(aeds, box) and len(drawn(page)) == len(aeds)
    assert note(page) is None
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-aed-view-monaco.png"))

    # zooming in within the box loaded asks nothing
    urls = aed_requests(page)
    page.evaluate(set_view(MONTE_CARLO, 17))
    settle(page)
    assert urls == [] and len(drawn(page)) == len(aeds)

    # Beausoleil close up and Andorra (no AED) then Monaco again: inside the box loaded or without
    # AEDs, nothing is asked; the 5 stay drawn
    page.evaluate(set_view(BEAUSOLEIL, 18))
    settle(page)
    page.select_option("#region", label="Andorra")
    settle(page)
    page.select_option("#region", label="Monaco")
    settle(page)
    assert urls == [] and len(drawn(page)) == len(aeds)
    assert watch.errors == [] and watch.external == []


def test_citizen_caps_the_aeds_but_still_finds_the_nearest(open_page, live_server):
    """Past AED_VIEW.max (set to 2 here for Monaco's 5 real AEDs, as 2,000 is for a province's tens of
    thousands): a view expected to hold more is not asked for, an answer with more is not drawn, and
    the map says to zoom in, in the page's language. A tap where the patient is still gets the nearest
    AED and two alternatives, highlighted, from /nearest."""
    page, watch = open_page("/", **PHONE_ZH)
    aeds = all_aeds(live_server)
    drawn_box(page)  # the first view (all of Monaco) is drawn
    urls = aed_requests(page)
    page.evaluate("AED_VIEW.max = 2")
    # zoomed out past the box loaded: all of Monaco's 5 expected in the new box, > 2: nothing asked,
    # nothing drawn (as a province's first view is with 2,000)
    page.evaluate("void map.setZoom(map.getZoom() - 2, {animate: false})")
    page.wait_for_selector(f"{NOTE}:not([hidden])", timeout=10000)
    settle(page)
    assert note(page) == "放大地图以显示 AED"
    assert urls == [] and drawn(page) == set()
    assert latin_words(page) == set()
    page.screenshot(path=str(ARTIFACTS / "citizen-aed-view-capped-zh.png"))

    # Monte-Carlo: few expected from Monaco's average, so asked; the answer holds 3 > 2: not drawn
    q, box = drawn_after(page, urls, set_view(MONTE_CARLO, 17))
    assert len(inside(aeds, box)) == 3 and drawn(page) == set()
    assert note(page) == "此处有 3 个 AED：放大地图以显示"
    page.click("#lang")
    assert note(page) == "3 AEDs here: zoom in to see them"
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-aed-view-capped-en.png"))

    # the patient on the spot of a Monte-Carlo AED not drawn: a tap there still finds it as the
    # nearest, < 1 min away, marked apart, with two alternatives
    lon, lat = next(f["geometry"]["coordinates"] for f in _features(live_server) if f["properties"]["id"] == BESIDE)
    page.evaluate(set_view((lon, lat), 17))
    settle(page)
    assert drawn(page) == set()
    click_latlng(page, lon, lat)
    page.wait_for_selector(".card.aed .min", timeout=15000)
    assert float(page.locator(".card.aed .min").get_attribute("data-minutes")) < 1.0
    nearest = page.locator(".leaflet-marker-pane .gs-aed-nearest")
    assert nearest.count() == 1
    at = page.evaluate(
        "(() => { let p = null; drawn.eachLayer((l) => { if (l.options.zIndexOffset === 1000) p = l.getLatLng(); });"
        " return [p.lng, p.lat]; })()"
    )
    assert at == pytest.approx([lon, lat], abs=1e-6)
    assert (
        page.locator(".card.aed .alts li").count() == 2
        and page.locator(".leaflet-marker-pane .gs-aed-alt").count() == 2
    )
    assert page.locator("path.gs-route-aed").count() == 1
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "citizen-aed-view-capped-nearest.png"))

    # Beausoleil, away from the crowded box: its one AED is drawn and the note goes
    # asked for the view padded by half its size each way, with the device's local time (open now or
    # not) and no region (the page serves them all)
    page.evaluate("void map.closePopup()")
    q, box = drawn_after(page, urls, set_view(BEAUSOLEIL, 18))
    view = page.evaluate(VIEW)
    w, h = view[2] - view[0], view[3] - view[1]
    assert box == pytest.approx([view[0] - w / 2, view[1] - h / 2, view[2] + w / 2, view[3] + h / 2], abs=2e-5)
    assert set(q) == {"at", "bbox"} and len(q["at"][0]) == 16  # YYYY-MM-DDTHH:MM
    assert drawn_in_layer(page) == inside(aeds, box) and len(inside(aeds, box)) == 1
    assert note(page) is None
    assert all(set(parse_qs(urlparse(u).query)) == {"at", "bbox"} for u in urls)
    assert watch.errors == [] and watch.external == []


def drawn_in_layer(page) -> set[tuple[float, float]]:
    """The view layer's AEDs (the search's highlighted ones are in another layer)."""
    return {(round(x, 6), round(y, 6)) for x, y in page.evaluate(DRAWN)}


def _features(base: str) -> list[dict]:
    import httpx

    return httpx.get(f"{base}/layers/aed", params={"region": "monaco"}, timeout=30).json()["features"]
