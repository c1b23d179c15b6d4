"""The plan report's files (``geoservice report``, ``GET /plans/report``): report.json (every
figure), the chart PNGs, report.html (offline; its images beside it) and report.pdf (printed by
Chromium). ``write_report`` writes them into a folder; ``inline_html`` gives the one-file page
(images as data: URLs) the API returns."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import GeoserviceError
from . import charts
from .html import report_html
from .text import LANGS

if TYPE_CHECKING:
    from ...engine.engine import Engine

__all__ = ["write_report", "inline_html", "LANGS", "check_lang"]


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise GeoserviceError("lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_charts(folder: Path, doc: dict[str, Any], engine: Engine, lang: str) -> list[str]:
    """Every PNG of the report into ``folder``; their names."""
    from ...bundle.population import load_population

    charts.cjk_font()  # fails loudly before anything is drawn
    names = ["targets.png", "lorenz.png", "aed_week.png"]
    charts.targets_chart(folder / names[0], doc["units"], doc["targets"], lang)
    charts.lorenz_chart(folder / names[1], doc["equity"], lang)
    charts.week_chart(folder / names[2], doc["aed_week"], lang)
    units = load_population(engine.region, "drive").units
    fac = engine.facilities
    base = charts.basemap(Path(engine.region.path))
    for i, u in enumerate(doc["units"]):
        sites = [s for st in u.get("build", []) for s in st["sites"] if s.get("admin_code") == u["admin_code"]]
        m, c = f"unit_{i:02d}_map.png", f"unit_{i:02d}_targets.png"
        charts.unit_map(folder / m, base, units, fac, u["admin_code"], sites, lang)
        charts.unit_chart(folder / c, u, lang)
        names += [m, c]
    return names


def write_report(folder: Path, doc: dict[str, Any], engine: Engine, *, lang: str = "zh", pdf: bool = True) -> list[str]:
    """report.json, the PNGs, report.html and (with ``pdf``) report.pdf into ``folder``."""
    check_lang(lang)
    doc = dict(doc, lang=lang)
    names = write_charts(folder, doc, engine, lang)
    (folder / "report.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "report.html").write_text(report_html(doc, lang, lambda n: n, generated=_now()), encoding="utf-8")
    names += ["report.json", "report.html"]
    if pdf:
        from .pdf import render_pdf

        render_pdf(folder / "report.html", folder / "report.pdf")
        names.append("report.pdf")
    return names


def inline_html(doc: dict[str, Any], engine: Engine, *, lang: str = "zh") -> str:
    """The page with every image inlined (one self-contained file)."""
    import tempfile

    check_lang(lang)
    with tempfile.TemporaryDirectory(prefix="geoservice-report-") as tmp:
        folder = Path(tmp)
        write_charts(folder, doc, engine, lang)

        def src(name: str) -> str:
            return "data:image/png;base64," + base64.b64encode((folder / name).read_bytes()).decode()

        return report_html(dict(doc, lang=lang), lang, src, generated=_now())
