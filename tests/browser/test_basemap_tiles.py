"""The pages draw the region's vector tiles (issue 21 item 1) in real headless Chromium: on central
Shanghai the citizen page asks for tiles.json and tiles (/regions/shanghai/tiles/z/x/y.mvt), never
the whole-region GeoJSON basemap, nothing leaves the server, and the tile canvases hold the road
colours of basemap_tiles.js; the labels follow the page's language (the English page asks for
nothing more: the same tiles carry name and name_en). The planner and the dispatcher pages draw
tiles too. Screenshots: test-artifacts/tiles-citizen-{zh,en}-{phone,desktop}.png,
tiles-planner.png, tiles-dispatcher.png, tiles-citizen-monaco.png (buildings, parks, water)."""

from __future__ import annotations

import re

import pytest

from . import test_citizen_page as citizen_page
from .conftest import ARTIFACTS, settle
from .test_citizen_page import DESKTOP_ZH, PHONE_ZH

citizen_service = citizen_page.citizen_service
live_server = citizen_page.live_server
shanghai = citizen_page.shanghai

pytestmark = pytest.mark.browser

TILE = re.compile(r"/regions/([^/]+)/tiles/(\d+)/(\d+)/(\d+)\.mvt$")
# colours basemap_tiles.js paints roads with (fill of primary, secondary; casing of tertiary and minor)
ROAD_RGB = [(247, 199, 126), (251, 227, 164), (189, 182, 168), (200, 194, 182)]
PIXELS = """(rgbs) => {
  const hits = {};
  for (const c of document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')) {
    if (!c.width) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4)
      for (const [r, g, b] of rgbs)
        if (Math.abs(d[i] - r) < 4 && Math.abs(d[i + 1] - g) < 4 && Math.abs(d[i + 2] - b) < 4)
          hits[`${r},${g},${b}`] = (hits[`${r},${g},${b}`] || 0) + 1;
  }
  return hits;
}"""


def _open_watching(open_page, path: str, **ctx):
    """The page with every request and its answer's status recorded."""
    seen: list[tuple[str, int]] = []
    page, watch = open_page(path, **ctx)
    page.on("response", lambda r: seen.append((r.url, r.status)))
    return page, watch, seen


def _settle(page, seen, region: str) -> list[tuple[str, int]]:
    """Wait until tiles of ``region`` have come and the canvases are painted; the tile answers."""
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile').length > 0")
    settle(page, quiet_ms=500)  # tiles come one by one
    # protomaps paints a tile's canvas a little after its answer: until some road is painted
    page.wait_for_function(f"(rgbs) => Object.values(({PIXELS})(rgbs)).reduce((a, b) => a + b, 0) > 200", arg=ROAD_RGB)
    tiles = [(u, s) for u, s in seen if (m := TILE.search(u.split("?")[0])) and m.group(1) == region]
    return tiles


def _check(page, watch, seen, region: str) -> None:
    tiles = _settle(page, seen, region)
    # the requests made before the listener (the page's first ones) are in the performance log
    urls = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    all_urls = set(urls) | {u for u, _ in seen}
    assert any(TILE.search(u) for u in all_urls), sorted(all_urls)
    assert not [u for u in all_urls if re.search(r"/regions/[^/]+/basemap", u)], "GeoJSON basemap fetched"
    assert any(u.endswith(f"/regions/{region}/tiles.json") for u in all_urls)
    assert all(s in (200, 204, 304) for _, s in tiles), tiles
    assert watch.external == [] and watch.errors == []
    hits = page.evaluate(PIXELS, ROAD_RGB)
    assert sum(hits.values()) > 200, hits  # roads painted in their class colours


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_citizen_page_draws_shanghai_tiles(open_page, shanghai, lang, device):
    ctx = dict(DESKTOP_ZH if device == "desktop" else PHONE_ZH, locale="zh-CN" if lang == "zh" else "en-US")
    page, watch, seen = _open_watching(open_page, "/", **ctx)
    page.evaluate("() => map.setView([31.2335, 121.4755], 16)")  # 人民广场, where the names are dense
    _check(page, watch, seen, shanghai)
    page.screenshot(path=str(ARTIFACTS / f"tiles-citizen-{lang}-{device}.png"))


def test_english_labels_come_from_the_same_tiles(open_page, shanghai):
    """Switching language redraws the labels from the tiles already held: no other basemap data."""
    page, watch, seen = _open_watching(open_page, "/", **DESKTOP_ZH)
    page.evaluate("() => map.setView([31.2335, 121.4755], 16)")
    _settle(page, seen, shanghai)
    before = len(seen)
    page.evaluate("() => GS.toggleLang()")
    settle(page, quiet_ms=500)  # any request the switch makes has been made
    later = [u for u, _ in seen[before:]]
    assert not [u for u in later if "/basemap" in u or "tiles.json" in u], later
    assert page.evaluate("() => map.gsTiles[0].lang") == "en"
    assert watch.errors == []


@pytest.mark.parametrize("path", ["/planner", "/dispatcher"])
def test_planner_and_dispatcher_draw_tiles(open_page, shanghai, path):
    page, watch, seen = _open_watching(open_page, path, **DESKTOP_ZH)
    _check(page, watch, seen, shanghai)
    page.screenshot(path=str(ARTIFACTS / f"tiles-{path.strip('/')}.png"))


def test_monaco_draws_buildings_green_and_water(open_page):
    """Where OSM has them (Monaco), buildings, parks and water (a garden pond) are drawn in their colours."""
    page, watch, seen = _open_watching(open_page, "/", **DESKTOP_ZH)
    page.evaluate("() => map.setView([43.74235, 7.4310], 18)")  # the Japanese Garden's pond, Monte-Carlo
    _settle(page, seen, "monaco")
    page.screenshot(path=str(ARTIFACTS / "tiles-citizen-monaco.png"))
    # fill colours of basemap_tiles.js: buildings, parks (or grass), water
    hits = page.evaluate(PIXELS, [(222, 218, 210), (197, 227, 176), (211, 235, 194), (169, 203, 232)])
    assert hits.get("222,218,210", 0) > 1000, hits
    assert hits.get("197,227,176", 0) + hits.get("211,235,194", 0) > 200, hits
    assert hits.get("169,203,232", 0) > 200, hits
    assert watch.external == [] and watch.errors == []
