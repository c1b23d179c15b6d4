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
    from geoservice.service.registry import Registry
    from geoservice.service.settings import get_settings

    # one browser session is many planners at once from one address: not a client to throttle
    settings = get_settings().model_copy(update={"public_rate_per_s": 1e9, "public_burst": 1e9})
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
        contexts.append(c)
        page = c.new_page()
        watch = PageWatch(page, live_server)
        page.goto(live_server + path)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        return page, watch

    yield _open
    for c in contexts:
        c.close()
