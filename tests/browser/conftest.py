"""A live server (uvicorn in a thread, 127.0.0.1, free port) and headless Debian Chromium via Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.servers import uvicorn_in_thread

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_service(andorra, monaco, tmp_path_factory):
    """The service behind the live server (tests may edit its registry)."""
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry
    from geoservice.service.settings import get_settings

    # one browser session is many planners at once from one address: not a client to throttle
    settings = get_settings().replace(public_rate_per_s=1e9, public_burst=1e9)
    registry = Registry(tmp_path_factory.mktemp("web") / "registry.sqlite")
    return GeoService([andorra, monaco], registry=registry, settings=settings)


@pytest.fixture(scope="session")
def live_server(live_service):
    from geoservice.faces.api.app import create_app

    with uvicorn_in_thread(create_app(live_service)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: a sync Playwright left running would block other in-process Playwright
    users (the map publisher renders its print PNG with one)."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium; scripts/test.sh does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# Counts the page's requests in flight (fetch and XMLHttpRequest) and when anything last started or
# ended, for settle(): added to every page open_page makes, before the page's own scripts run.
ACTIVITY_JS = """(() => {
  window.__gsPending = 0;
  window.__gsLast = performance.now();
  const mark = (d) => { window.__gsPending += d; window.__gsLast = performance.now(); };
  const fetch0 = window.fetch;
  window.fetch = function (...args) {
    mark(1);
    return fetch0.apply(this, args).finally(() => mark(-1));
  };
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    mark(1);
    this.addEventListener("loadend", () => mark(-1), { once: true });
    return send0.apply(this, args);
  };
})();"""

# Settled: no request in flight, every image loaded, the Leaflet map (a page's global `map`) not
# zooming, panning or flying, no CSS transition running, and nothing started or ended for `quiet` ms (a page's debounced
# request after a move has been sent by then, and its answer drawn).
SETTLED_JS = """(quiet) => {
  const m = typeof map === "object" && map !== null ? map : null;
  const moving = m !== null && !!(m._animatingZoom || (m._panAnim && m._panAnim._inProgress) || m._flyToFrame);
  // CSS transitions and finite animations running (Leaflet's zoom, a sheet sliding open); endless ones are decoration
  const animating = document.getAnimations().some(
    (a) => a.playState === "running" && a.effect && a.effect.getTiming().iterations !== Infinity
  );
  if (moving || animating || (window.__gsPending || 0) > 0 || ![...document.images].every((i) => i.complete)) {
    window.__gsLast = performance.now();
    return false;
  }
  return performance.now() - (window.__gsLast || 0) >= quiet;
}"""


def settle(page, quiet_ms: int = 300, timeout_ms: int = 20000) -> None:
    """Wait until the page has settled (SETTLED_JS): its requests answered, its map still, and
    ``quiet_ms`` without anything new; fails after ``timeout_ms``. For what a fixed wait stood for
    ("until the map has moved, asked and drawn"); a test waiting for one thing waits for that."""
    page.wait_for_function(SETTLED_JS, arg=quiet_ms, timeout=timeout_ms, polling=50)
    # and two frames, so that what the last answer changed has been painted (screenshots)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")


class PageWatch:
    """Console errors, page errors and any request leaving the server (which is blocked)."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        # which request failed (the console only says that one did)
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status}: {r.url} {r.headers}") if r.status >= 500 else None,
        )

        def route(r):
            if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.external.append(r.request.url)
                r.abort()

        page.route("**/*", route)


@pytest.fixture
def open_page(browser, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    contexts = []

    def _open(path: str, **ctx):
        # the citizen page's service worker would answer the page's requests, which Playwright then
        # neither routes nor reports on the page: blocked unless a test asks for it (service_workers="allow")
        c = browser.new_context(**{"service_workers": "block", **ctx})
        c.add_init_script(ACTIVITY_JS)  # for settle()
        contexts.append(c)
        page = c.new_page()
        watch = PageWatch(page, live_server)
        page.goto(live_server + path)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        return page, watch

    yield _open
    for c in contexts:
        c.close()
