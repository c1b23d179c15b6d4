"""The manual at /guide/ in headless Chromium: served by the app with nothing from elsewhere, its
offline search finds `--admin-units` and lands on the command line reference entry, in Chinese and
in English; screenshots of the Chinese quickstart and the facility schema reference go to
test-artifacts/."""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, PageWatch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def guide_site():
    """The site /guide/ serves, built (or rebuilt) now if missing or out of date."""
    from geoservice.faces.guide import guide

    g = guide()
    if not g.current():
        g.build()
    assert g.current()
    return g


@pytest.fixture
def guide_page(browser, live_server, guide_site):
    ARTIFACTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    watch = PageWatch(page, live_server)
    page.on("response", lambda r: watch.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page, watch, live_server
    ctx.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("article.md-content__inner", timeout=20000)


def _search(page, query: str) -> None:
    """Type as a person does: Material's search listens to the keyboard."""
    # until the search worker has loaded its index: the result list then invites typing
    page.wait_for_function(
        """() => {
          const t = JSON.parse(document.getElementById("__config").textContent).translations;
          const meta = document.querySelector(".md-search-result__meta");
          return meta !== null && meta.textContent.trim() === t["search.result.placeholder"];
        }""",
        timeout=20000,
    )
    page.click("input.md-search__input")
    page.keyboard.type(query, delay=40)
    page.wait_for_selector(".md-search-result__item a[href*='#']", timeout=20000)


@pytest.mark.parametrize("prefix", ["", "en/"])
def test_search_finds_admin_units_in_the_reference(guide_page, prefix):
    page, watch, base = guide_page
    _open(page, f"{base}/guide/{prefix}")
    _search(page, "--admin-units")
    # the first entry of the first page found (a page's own link comes before its entries); on a
    # slow machine the list first shows the answer to a part of the query ("--adm"): wait for the
    # answer to the whole one
    want = f"/guide/{prefix}reference/cli/"
    page.wait_for_function(
        """([want]) => {
          const a = document.querySelector(".md-search-result__item a[href*='#']");
          const h = a ? a.getAttribute("href") || "" : "";
          return h.includes(want) && h.endsWith("#build--admin-units");
        }""",
        arg=[want],
        timeout=10000,
    )
    first = page.locator(".md-search-result__item a[href*='#']").first
    href = first.get_attribute("href") or ""
    assert f"/guide/{prefix}reference/cli/" in href and href.endswith("#build--admin-units"), href
    first.click()
    page.wait_for_url(
        lambda url: f"/guide/{prefix}reference/cli/" in url and url.endswith("#build--admin-units"), timeout=10000
    )
    entry = page.locator("[id='build--admin-units']")
    assert entry.is_visible()
    assert "--admin-units" in entry.inner_text()
    assert watch.external == [], watch.external
    assert watch.errors == [], watch.errors


def test_pages_render_offline_and_screenshots(guide_page):
    page, watch, base = guide_page
    _open(page, f"{base}/guide/quickstart/")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert "快速上手" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "guide-quickstart-zh.png"), full_page=False)
    _open(page, f"{base}/guide/reference/facility-schema/")
    assert page.locator("[id='column-opening_hours']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "guide-facility-schema-zh.png"), full_page=False)
    _open(page, f"{base}/guide/en/quickstart/")
    assert page.locator("html").get_attribute("lang") == "en"
    # the language switcher leads back to the Chinese page
    hrefs = page.eval_on_selector_all("a[hreflang]", "els => els.map(e => e.getAttribute('href'))")
    assert any(h and "quickstart" in h and "/en/" not in h for h in hrefs), hrefs
    # Material's stylesheet is loaded (from /guide/assets, not a CDN), with no web font asked for
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") in ("sticky", "fixed")
    assert watch.external == [], watch.external
    assert watch.errors == [], watch.errors
