"""The report's PDF: the HTML printed by the same headless Chromium as ``geoservice publish``
(``faces.maps.publish.find_chromium``, Playwright), A4, backgrounds on, nothing but local files
loaded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...errors import GeoserviceError
from ..maps.publish import CHROMIUM_ARGS, find_chromium

__all__ = ["render_pdf"]


def render_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print ``html_path`` to ``pdf_path``; no Chromium is an error saying how to get one."""
    chromium = find_chromium()
    if chromium is None:
        raise GeoserviceError(
            "pdf",
            "no Chromium found to print the PDF: install it (Debian: apt-get install chromium fonts-noto-cjk) "
            "or pass --no-pdf",
        )
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API refuses to run inside an event loop
        pool.submit(_print, chromium, html_path, pdf_path).result()


def _print(chromium: str, html_path: Path, pdf_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = b.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            b.close()
