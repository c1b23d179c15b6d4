"""The planner asks for the AEDs of the map view only (a province has tens of thousands): a bbox of the
padded view, again when the map leaves it, each answer replacing what was drawn; the legend keeps
its AED entry from the region's count even with none in view; past a cap it says to zoom in.
Real data: Monaco's 5 OpenStreetMap AEDs (three in Monte-Carlo, one by the palace, one in Beausoleil)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from .conftest import ARTIFACTS, settle
from .test_planner_page import DESKTOP_EN, DESKTOP_ZH, untranslated

pytestmark = pytest.mark.browser

MONTE_CARLO = (7.4280, 43.7405)  # the three Monte-Carlo AEDs are within 250 m of it
BEAUSOLEIL = (7.4005, 43.7455)  # the "Défibrillateur" node, 2 km west of them
NO_AED = (7.3600, 43.7200)  # inside Monaco's road extract, more than 3 km from any AED

DRAWN = "() => layers.l_aed.getLayers().map((m) => [m.getLatLng().lng, m.getLatLng().lat])"
VIEW = "(() => { const b = map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"


def aed_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/layers/aed" in r.url else None)
    return urls


def drawn_after(page, urls: list[str], action) -> tuple[dict[str, list[str]], list[float]]:
    """Do ``action`` (JS, or a callable) and wait until the last AED request it caused is answered and
    drawn: (query, bbox)."""
    n = len(urls)
    page.evaluate(action) if isinstance(action, str) else action()
    return last_drawn(page, urls, n)


def last_drawn(page, urls: list[str], n: int = 0) -> tuple[dict[str, list[str]], list[float]]:
    """Wait until the last AED request (one after the first ``n``) is answered and drawn (the page
    sets data-aed-box to the bbox it drew, or found too dense): (query, bbox)."""
    for _ in range(200):
        if len(urls) > n:
            q = parse_qs(urlparse(urls[-1]).query)
            if page.evaluate("document.body.dataset.aedBox") == q["bbox"][0]:
                return q, [float(v) for v in q["bbox"][0].split(",")]
        page.wait_for_timeout(100)  # polled, with a deadline
    raise AssertionError(f"no AED answer drawn: requests {urls[n:]}")


def all_aeds(base: str) -> list[tuple[float, float]]:
    """Every AED of Monaco, asked from the API in full (the independent side of the comparison)."""
    fc = httpx.get(f"{base}/layers/aed", params={"region": "monaco"}, timeout=30).json()
    return [tuple(f["geometry"]["coordinates"]) for f in fc["features"]]


def inside(pts, box) -> set[tuple[float, float]]:
    x0, y0, x1, y1 = box
    return {(round(x, 6), round(y, 6)) for x, y in pts if x0 <= x <= x1 and y0 <= y <= y1}


def drawn(page) -> set[tuple[float, float]]:
    pts = {(round(x, 6), round(y, 6)) for x, y in page.evaluate(DRAWN)}
    assert page.locator(".leaflet-marker-pane .gs-aed").count() == len(pts)
    return pts


def set_view(lonlat, zoom: int) -> str:
    return f"void map.setView([{lonlat[1]}, {lonlat[0]}], {zoom}, {{animate: false}})"


def test_planner_loads_the_aeds_of_the_view(open_page, live_server):
    page, watch = open_page("/planner", **DESKTOP_EN)
    urls = aed_requests(page)
    aeds = all_aeds(live_server)
    assert len(aeds) >= 5
    regions = page.evaluate("GS.config.regions")
    i = next(i for i, r in enumerate(regions) if r["name"] == "monaco")
    # the first region (Andorra) has no AED: no AED request, no AED in the legend
    assert not regions[0]["facility_counts"].get("aed")
    assert page.locator("#legend [data-key='aed']").count() == 0

    page.select_option("#region", str(i))
    page.wait_for_function("() => document.body.dataset.region === 'monaco'", timeout=20000)
    settle(page)  # the fit to Monaco may still have been moving: its last request is the one drawn
    q, box = last_drawn(page, urls)
    assert q["region"] == ["monaco"]
    assert drawn(page) == inside(aeds, box) and len(drawn(page)) == len(aeds)  # the whole region in view
    assert page.locator("#legend [data-key='aed']").count() == 1

    # zooming in within the box loaded asks nothing (what is drawn is already there)
    n = len(urls)
    page.evaluate(set_view(MONTE_CARLO, 18))
    settle(page)
    assert len(urls) == n and len(drawn(page)) == len(aeds)

    # a region with more AEDs than the cap (as a province has): AED_VIEW.max set below Monaco's 5, the
    # region fitted anew: its whole box is not asked for, the legend says to zoom in
    page.evaluate("AED_VIEW.max = 4")
    page.select_option("#region", label="Andorra")
    page.wait_for_function("() => document.body.dataset.region === 'andorra'", timeout=20000)
    page.select_option("#region", label="Monaco")
    page.wait_for_function("() => document.body.dataset.region === 'monaco'", timeout=20000)
    settle(page)
    assert len(urls) == n and drawn(page) == set()
    assert "zoom in" in page.locator("#legend [data-key='aed'] .aed-note").inner_text()

    # no AED in view: a new box, none drawn, but the legend still lists AEDs (the region has them)
    q, box = drawn_after(page, urls, set_view(NO_AED, 18))
    assert inside(aeds, box) == set() and drawn(page) == set()
    assert page.locator("#legend [data-key='aed']").count() == 1

    # Monte-Carlo close up: the box is the view padded by half its size each way; only its AEDs are drawn
    q, box = drawn_after(page, urls, set_view(MONTE_CARLO, 18))
    view = page.evaluate(VIEW)
    w, h = view[2] - view[0], view[3] - view[1]
    assert box == pytest.approx([view[0] - w / 2, view[1] - h / 2, view[2] + w / 2, view[3] + h / 2], abs=2e-5)
    here = drawn(page)
    assert here == inside(aeds, box) and 1 <= len(here) < len(aeds)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "planner-aeds-in-view.png"))

    # a small move inside the box asks nothing; panning to Beausoleil loads its AED and drops the others
    n = len(urls)
    page.evaluate("void map.panBy([40, 30], {animate: false})")
    settle(page)
    assert len(urls) == n
    q, box = drawn_after(page, urls, set_view(BEAUSOLEIL, 18))
    there = drawn(page)
    assert there == inside(aeds, box) and there and not there & here
    assert page.locator("#legend [data-key='aed']").count() == 1

    # every AED request of the page carried a bbox and the region
    assert urls and all("bbox=" in u and "region=monaco" in u for u in urls)

    # the layer switched off in the layer control: no request while it is off; on again, the view's AEDs
    page.hover(".leaflet-control-layers")
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="AEDs").locator("input")
    toggle.uncheck()
    assert page.locator(".leaflet-marker-pane .gs-aed").count() == 0
    n = len(urls)
    page.evaluate(set_view(MONTE_CARLO, 18))
    settle(page)
    assert len(urls) == n
    drawn_after(page, urls, toggle.check)
    assert drawn(page) == here
    assert watch.errors == [] and watch.external == []


def test_planner_caps_the_aeds_drawn(open_page, live_server):
    """Past AED_VIEW.max (set to 2 here for Monaco's 5 real AEDs, as 2,000 is for a province's
    tens of thousands): a view expected to hold more is not asked for, an answer with more is not
    drawn, and the legend says to zoom in, in the page's language."""
    page, watch = open_page("/planner", **DESKTOP_ZH)
    urls = aed_requests(page)
    aeds = all_aeds(live_server)
    page.evaluate("AED_VIEW.max = 2")
    page.select_option("#region", label="摩纳哥")
    page.wait_for_function("() => document.body.dataset.region === 'monaco'", timeout=20000)
    page.wait_for_selector("#legend [data-key='aed'] .aed-note", timeout=20000)
    # the whole region in view: 5 expected > 2, so nothing asked, nothing drawn
    assert urls == [] and drawn(page) == set()
    note = page.locator("#legend [data-key='aed'] .aed-note").inner_text()
    assert note == f"（请放大地图查看：本区域共 {len(aeds)} 个）"

    # Monte-Carlo: few expected from the region's average, so asked; the answer holds 3 > 2: not drawn
    q, box = drawn_after(page, urls, set_view(MONTE_CARLO, 17))
    assert len(inside(aeds, box)) == 3 and drawn(page) == set()
    assert page.locator("#legend [data-key='aed'] .aed-note").inner_text() == "（此范围内有 3 个：请放大地图查看）"
    assert untranslated(page) == set()
    # the same dense place again is not asked for again (its density is remembered)
    n = len(urls)
    page.evaluate("void map.panBy([300, 0], {animate: false})")
    settle(page)
    assert len(urls) == n and drawn(page) == set()

    # Beausoleil, away from the dense box: its one AED is drawn and the note goes
    q, box = drawn_after(page, urls, set_view(BEAUSOLEIL, 18))
    assert drawn(page) == inside(aeds, box) and len(drawn(page)) == 1
    assert page.locator("#legend [data-key='aed'] .aed-note").count() == 0
    assert page.locator("#legend [data-key='aed']").count() == 1
    assert watch.errors == [] and watch.external == []
