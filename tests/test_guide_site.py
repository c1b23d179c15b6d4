"""The manual's site object (faces/guide): whether it is current, building it in the background,
a failed build said in one line, and the pages /guide/ answers meanwhile. MkDocs runs for real on a
tiny source folder (a broken one fails in a second; a one-page one builds in a few)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoservice.faces.guide import GuideSite, main
from geoservice.faces.guide import http as guide_http
from geoservice.faces.guide.generated import STEMS, generated_files
from geoservice.faces.guide.reference import PAGES


def one_page_source(root: Path, *, broken: bool = False) -> Path:
    src = root / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "index.md").write_text("# Manual\n")
    # broken: a theme that is not installed fails the build, strict or not
    (src / "mkdocs.yml").write_text("site_name: test manual\n" + ("theme:\n  name: no-such-theme\n" if broken else ""))
    return src


def test_the_build_key_names_exactly_the_generated_pages():
    assert tuple(PAGES) == STEMS
    assert len(generated_files()) == 2 * len(STEMS) and "reference/cli.zh.md" in generated_files()


def test_without_sources_a_built_site_is_current_and_nothing_is_built(tmp_path):
    site = GuideSite(source=tmp_path / "none", site=tmp_path / "site")
    assert not site.has_sources and not site.built() and not site.current()
    site.start_build()
    assert not site.building
    with pytest.raises(RuntimeError, match="no manual sources"):
        site.build()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>shipped</h1>")
    assert site.built() and site.current()  # a site shipped without sources is taken as it is


def test_a_site_is_current_until_its_sources_change(tmp_path):
    src = one_page_source(tmp_path)
    site = GuideSite(source=src, site=tmp_path / "site")
    out = site.build(strict=True)
    assert (out / "index.html").is_file() and site.current()
    assert GuideSite(source=src, site=tmp_path / "site").current()  # a new process agrees
    (src / "docs" / "index.md").write_text("# Manual, changed\n")
    assert not GuideSite(source=src, site=tmp_path / "site").current()


def test_a_failed_background_build_is_shown_on_guide_and_the_command_says_it_in_one_line(tmp_path, monkeypatch, capsys):
    src = one_page_source(tmp_path, broken=True)
    site = GuideSite(source=src, site=tmp_path / "site")
    site.start_build()
    site.wait(120)
    assert not site.building and site.last_error and "mkdocs build failed" in site.last_error
    assert not (tmp_path / "site").exists()  # nothing half-written where the site is served

    monkeypatch.setattr(guide_http, "guide", lambda: site)
    monkeypatch.setattr(site, "start_build", lambda: None)  # the failure stays what is shown
    res = guide_http.guide_response("index.html")
    assert res.status_code >= 500 and b"could not be built" in res.body

    monkeypatch.setattr("geoservice.faces.guide.guide", lambda: site)
    assert main(["build", "--strict"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("geoservice: error: mkdocs build failed")


def test_while_building_the_page_says_so_and_reloads(tmp_path, monkeypatch):
    src = one_page_source(tmp_path)
    site = GuideSite(source=src, site=tmp_path / "site")
    monkeypatch.setattr(guide_http, "guide", lambda: site)
    monkeypatch.setattr(site, "start_build", lambda: None)
    monkeypatch.setattr(type(site), "building", property(lambda self: True))
    res = guide_http.guide_response("index.html")
    assert res.status_code == 503 and res.headers["Retry-After"] == "3"
    assert b"being built" in res.body and b'http-equiv="refresh"' in res.body
