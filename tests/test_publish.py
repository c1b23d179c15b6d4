"""Published maps: self-contained HTML (no CDN), legends, popups, attribution, notice; print PNG."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from geoservice.service.core import GeoService


@pytest.fixture(scope="module")
def published(regions_dir, tmp_path_factory):
    from geoservice.faces.maps.publish import publish
    from geoservice.service.core import GeoService

    out = tmp_path_factory.mktemp("maps")
    png = shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists()
    svc = GeoService([regions_dir / "andorra"])  # no registry: the bundle's facilities
    files = publish(svc, "andorra", out, png=png)
    return out, files, png


def test_writes_both_maps(published):
    out, files, png = published
    names = {f.name for f in files}
    assert {"andorra_chest_pain_centers.html", "andorra_stroke_emergency.html"} <= names
    if png:
        for stem in ("andorra_chest_pain_centers", "andorra_stroke_emergency"):
            p = out / f"{stem}.png"
            assert p.stat().st_size > 20_000
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("stem", ["andorra_chest_pain_centers", "andorra_stroke_emergency"])
def test_html_is_self_contained_and_complete(published, stem):
    out, _, _ = published
    text = (out / f"{stem}.html").read_text(encoding="utf-8")
    remote = re.findall(r"""<(?:script|link|img)[^>]+(?:src|href)\s*=\s*["'](?:https?:)?//[^"']*""", text, re.I)
    assert remote == []
    assert "cdn.jsdelivr" not in text and "code.jquery.com" not in text
    assert "L.map(" in text or "L.map (" in text  # Leaflet inlined, map built
    assert "© OpenStreetMap contributors, ODbL 1.0" in text
    assert "审图号" in text
    assert re.search(r"L\.control\.scale\(", text)
    assert "gs-legend" in text and "L.control.layers" in text
    assert "[DEMO designation]" in text  # popups with names
    if stem == "andorra_stroke_emergency":
        for label in (
            "Advanced stroke center",
            "Stroke center",
            "Stroke prevention station",
            "★",
            "☆",
            "EVT",
            "60-min",
        ):
            assert label in text, label
        assert "Capabilities" in text
    else:
        for label in ("Standard 标准版", "Basic 基层版", "30-min"):
            assert label in text, label


def test_html_renders_offline_without_errors(published):
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not chromium:
        pytest.skip("Debian chromium is not installed")
    from concurrent.futures import ThreadPoolExecutor

    out, _, _ = published
    # own thread: another test module may hold a sync Playwright session on this one
    with ThreadPoolExecutor(1) as pool:
        errors, external, n_markers, popup, attribution, scale = pool.submit(_render, chromium, out).result()
    assert errors == [] and external == []
    assert n_markers == 3 + 3  # three stroke centers and three EMS stations
    assert "EVT" in popup and "Advanced" in popup
    assert "ODbL" in attribution
    assert scale == 1


def _render(chromium, out):
    from playwright.sync_api import sync_playwright

    errors, external = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = b.new_page(viewport={"width": 1600, "height": 1100})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                external.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto((out / "andorra_stroke_emergency.html").as_uri())
        page.wait_for_selector(".leaflet-marker-pane .gs-stroke_center-advanced", timeout=10000)
        page.wait_for_timeout(300)
        n_markers = page.locator(".leaflet-marker-pane .gs-ico").count()
        page.locator(".leaflet-marker-pane .gs-stroke_center-advanced").first.click()
        page.wait_for_selector(".leaflet-popup-content", timeout=10000)
        popup = page.locator(".leaflet-popup-content").inner_text()
        attribution = page.locator(".leaflet-control-attribution").inner_text()
        scale = page.locator(".leaflet-control-scale").count()
        b.close()
    return errors, external, n_markers, popup, attribution, scale


def test_no_browser_keeps_the_rendered_png(andorra, tmp_path, monkeypatch, caplog):
    """Without Chromium, publish says in one line how to get the PNG and never writes a placeholder
    over a rendered one."""
    from geoservice.faces.maps import publish as pub

    monkeypatch.setattr(pub, "find_chromium", lambda: None)
    old = tmp_path / "andorra_chest_pain_centers.png"
    old.write_bytes(b"\x89PNG\r\n\x1a\nrendered-before")
    with caplog.at_level("WARNING"):
        files = pub.publish(GeoService([andorra]), "andorra", tmp_path, png=True)
    assert old.read_bytes() == b"\x89PNG\r\n\x1a\nrendered-before"
    assert not (tmp_path / "andorra_stroke_emergency.png").exists()
    assert all(f.suffix == ".html" for f in files)
    msgs = [r.getMessage() for r in caplog.records if "print PNG skipped" in r.getMessage()]
    assert len(msgs) == 2 and "apt-get install chromium" in msgs[0] and "\n" not in msgs[0]
