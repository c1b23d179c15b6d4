"""Offline analysis maps (faces.maps_analyses): every map function with empty and with real results on the
demo regions, and the siting and coverage maps opened in headless Chromium (no page errors, no request
leaving the file, new-site markers and the layer control drawn)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from geoservice.analyses.coverage import CoverageFigures, CoverageReport
from geoservice.faces.maps.analyses import coverage_map, links_map, points_map, sites_map
from geoservice.questions import CoverageQuestion

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
EMPTY_FC = {"type": "FeatureCollection", "features": []}
TRIAGE_COLORS = {"direct_evt": "#2ca02c", "drip_and_ship": "#ff7f0e", "ivt_only": "#1f77b4", "unreachable": "#000"}


@pytest.fixture(scope="module")
def andorra_reports(andorra_engine):
    from geoservice.analyses.coverage import coverage_report
    from geoservice.analyses.grid531 import grid531
    from geoservice.analyses.siting import site_report

    cov = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=10))  # leaves gaps
    site = site_report(andorra_engine, type="chest_pain_center", minutes=10, model="mclp", add=2)
    grid = grid531(andorra_engine, scope="region", threshold_min=60)
    return cov, site, grid


def F(report, key):
    """A field of an analysis result: a dict today, a dataclass in the analyses being reworked."""
    return report[key] if isinstance(report, dict) else getattr(report, key)


def _html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert "L.map(" in text and "L.control.layers" in text
    assert "awesome" not in text.lower() and "AwesomeMarkers" not in text  # folium.Icon needs a CDN library
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", text)  # nothing from a CDN
    return text


def _empty_coverage(type_="chest_pain_center", minutes=30.0) -> CoverageReport:
    nothing = CoverageFigures(None, None, None, 0.0, 0.0, None, 0.0, 0.0, None)
    return CoverageReport(type_, minutes, "drive", "free_flow", "test", nothing, gaps=dict(EMPTY_FC))


def test_every_map_with_empty_layers(monaco_engine, tmp_path):
    eng = monaco_engine
    _html(coverage_map(eng, _empty_coverage(), tmp_path / "coverage.html"))
    _html(coverage_map(eng, _empty_coverage(), tmp_path / "coverage_add.html", add_sites=[]))
    _html(links_map(eng, [], [], tmp_path / "links.html", title="531 grid", note="none"))
    _html(
        points_map(
            eng,
            EMPTY_FC,
            tmp_path / "points.html",
            title="triage",
            note="none",
            field="recommendation",
            colors=TRIAGE_COLORS,
        )
    )
    _html(
        sites_map(
            eng, {"type": "chest_pain_center", "added": [], "method": "none"}, tmp_path / "sites.html", title="no sites"
        )
    )


def test_coverage_map_real_reports_without_gaps(andorra_engine, monaco_engine, tmp_path):
    """Real coverage reports whose gap layer is empty (folium's GeoJsonTooltip asserted on it)."""
    from geoservice.analyses.coverage import coverage_report

    # all of Andorra within 30 min
    full = coverage_report(andorra_engine, CoverageQuestion.of(type="chest_pain_center", minutes=30))
    off = coverage_report(monaco_engine, CoverageQuestion.of(type="chest_pain_center", minutes=30, gaps=False))
    for eng, rep in ((andorra_engine, full), (monaco_engine, off)):
        assert F(rep, "gaps")["features"] == []
        text = _html(coverage_map(eng, rep, tmp_path / f"{eng.region.name}.html", lang="en"))
        assert "coverage gaps" not in text


def test_maps_with_real_results(andorra_engine, andorra_reports, tmp_path):
    from geoservice.analyses.triage import triage_report

    cov, site, grid = andorra_reports
    assert F(cov, "gaps")["features"] and F(site, "added")
    text = _html(coverage_map(andorra_engine, cov, tmp_path / "coverage.html", add_sites=[(1.70, 42.54)], lang="en"))
    assert "coverage gaps" in text and "gs-am-added" in text
    text = _html(sites_map(andorra_engine, site, tmp_path / "sites.html", title="MCLP"))
    assert text.count("gs-am gs-am-new") == len(F(site, "added")) + 1  # the markers and the legend swatch
    _html(
        links_map(
            andorra_engine,
            F(grid, "links"),
            F(grid, "unlinked"),
            tmp_path / "links.html",
            title="531",
            note=F(grid, "method"),
        )
    )
    # unlinked units drawn as our own markers (county scope leaves some units without a center)
    unl = [
        {
            "tier": "grassroots->basic",
            "county": "x",
            "id": "u1",
            "name": "unit",
            "lon": 1.55,
            "lat": 42.55,
            "reason": "no basic center in the county",
        }
    ]
    assert "gs-am-unlinked" in _html(links_map(andorra_engine, [], unl, tmp_path / "unlinked.html", title="531"))
    tri = triage_report(andorra_engine)
    _html(
        points_map(
            andorra_engine,
            F(tri, "layer"),
            tmp_path / "triage.html",
            title="triage",
            note=F(tri, "method"),
            field="recommendation",
            colors=TRIAGE_COLORS,
        )
    )


def _render(chromium: str, files: list[Path], shots: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for f in files:
            page = b.new_page(viewport={"width": 1280, "height": 900})
            errors, external = [], []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))

            def route(r, ext=external):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    ext.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(f.as_uri())
            page.wait_for_selector(".leaflet-control-layers", timeout=10000)
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / f"analysis-{f.stem}.png"))
            out.append(
                dict(
                    errors=errors,
                    external=external,
                    new=page.locator(".leaflet-marker-pane .gs-am-new").count(),
                    added=page.locator(".leaflet-marker-pane .gs-am-added").count(),
                    unlinked=page.locator(".leaflet-marker-pane .gs-am-unlinked").count(),
                    layers=page.locator(".leaflet-control-layers-overlays label").all_inner_texts(),
                    gaps=page.locator(".leaflet-overlay-pane path").count(),
                )
            )
            page.close()
        b.close()
    return out


def test_siting_and_coverage_maps_render_offline(andorra_engine, monaco_engine, andorra_reports, tmp_path):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed")
    from concurrent.futures import ThreadPoolExecutor

    cov, site, grid = andorra_reports
    files = [
        sites_map(andorra_engine, site, tmp_path / "sites.html", title="MCLP: new chest pain centers", lang="en"),
        coverage_map(andorra_engine, cov, tmp_path / "coverage.html", add_sites=[(1.70, 42.54)], lang="en"),
        coverage_map(monaco_engine, _empty_coverage(), tmp_path / "coverage_empty.html", lang="en"),
        links_map(
            andorra_engine,
            F(grid, "links"),
            F(grid, "unlinked") or [{"name": "unit", "reason": "test", "lon": 1.55, "lat": 42.55}],
            tmp_path / "links.html",
            title="531 grid",
            note=F(grid, "method"),
            lang="en",
        ),
    ]
    shots = Path(__file__).resolve().parents[1] / "test-artifacts"
    shots.mkdir(exist_ok=True)
    # own thread: another test module may hold a sync Playwright session on this one
    with ThreadPoolExecutor(1) as pool:
        sites, covr, empty, links = pool.submit(_render, CHROMIUM, files, shots).result()
    for r in (sites, covr, empty, links):
        assert r["errors"] == [] and r["external"] == [], r
    assert sites["new"] == len(F(site, "added")) >= 1
    assert any("selected new sites" in t for t in sites["layers"])
    assert covr["added"] == 1 and any("coverage gaps" in t for t in covr["layers"])
    assert not any("coverage gaps" in t for t in empty["layers"])
    assert links["unlinked"] >= 1 and any("links" in t for t in links["layers"])
