"""Symbols of the published maps: tier icons (a demo designation with a dashed outline), facility
popups, names shown beside markers, and the legend, which lists only what the map shows."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from .i18n import people, t


class FacilityRow(Protocol):
    """One facility as the maps read it: a row of the facilities table (a pandas Series) or a dict."""

    def get(self, key: str, default: Any = None, /) -> Any: ...

    def __getitem__(self, key: str, /) -> Any: ...


DEMO_TAG = "[DEMO designation]"
DEMO_NOTE_COLOR = "#a04000"
GLYPH = {"chest_pain_center": "♥", "stroke_center": "S", "ems_station": "+", "grassroots_unit": "•", "aed": "⚡"}
ICON_CSS = """
.gs-ico{display:inline-flex;align-items:center;justify-content:center;box-sizing:border-box;width:22px;height:22px;border-radius:50%;color:#fff;font:700 13px/1 system-ui,sans-serif;border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.45);position:relative}
.gs-chest_pain_center-standard{background:#b71c1c;width:26px;height:26px;font-size:15px}
.gs-chest_pain_center-basic{background:#ef6c00;width:20px;height:20px;font-size:12px}
.gs-stroke_center{border-radius:5px}
.gs-stroke_center-advanced{background:#4a148c;width:26px;height:26px}
.gs-stroke_center-center{background:#7b1fa2}
.gs-stroke_center-station{background:#ab47bc;width:18px;height:18px;font-size:10px;border-radius:50%}
.gs-star{position:absolute;top:-11px;right:-12px;color:#f9a825;font-size:17px;text-shadow:0 0 2px #000,0 0 1px #000}
.gs-ems_station{background:#1565c0;width:18px;height:18px;border-radius:3px}
.gs-grassroots_unit{background:#00897b;width:14px;height:14px;font-size:10px}
.gs-demo{outline:2px dashed #222;outline-offset:1px}
.gs-legend,.gs-notice{position:absolute;z-index:1000;background:rgba(255,255,255,.95);border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 system-ui,"Noto Sans CJK SC",sans-serif;padding:8px 10px}
.gs-legend{right:10px;bottom:30px;max-width:340px}
.gs-legend h3{margin:0 0 2px;font-size:17px}
.gs-legend .gs-region{font-size:14px;font-weight:600;margin-bottom:4px}
.gs-legend .row{display:flex;align-items:center;gap:8px;margin:4px 0}
.gs-legend .row>:first-child{flex:0 0 30px;display:inline-flex;justify-content:center}
.gs-legend .sw{display:inline-block;width:22px;height:14px;border:1px solid #555}
.gs-legend .gs-pop{margin-top:6px;padding-top:4px;border-top:1px solid #ddd;font-weight:600}
.gs-legend .gs-src{margin-top:4px;font-size:11px;color:#555}
.gs-notice{left:10px;top:10px;max-width:420px;font-size:11px;color:#444;margin-left:44px}
.leaflet-container{background:#e8eef3}
"""


def icon_html(ftype: str, level: str | None, caps: str | None, *, demo: bool = False) -> str:
    c = set(filter(None, (caps or "").split(",")))
    star = ("★" if "evt" in c else "☆" if "ivt" in c else "") if ftype == "stroke_center" else ""
    cls = f"gs-ico gs-{ftype}" + (f" gs-{ftype}-{level}" if level else "") + (" gs-demo" if demo else "")
    return (
        f'<span class="{cls}">{GLYPH.get(ftype, "•")}' + (f'<b class="gs-star">{star}</b>' if star else "") + "</span>"
    )


def is_demo(row: FacilityRow) -> bool:
    """A demo designation: flagged ``demo`` in the data, or named so."""
    v = row.get("demo")
    flagged = v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).lower() in ("true", "1")
    return flagged or DEMO_TAG in str(row.get("name") or "")


def label_name(row: FacilityRow) -> str:
    """The name shown beside a marker: the facility's name, its demo tag moved to a line of its own."""
    return " ".join(str(row.get("name") or "").replace(DEMO_TAG, " ").split())


def shown_name(row: FacilityRow, lang: str) -> str:
    """The facility's name as a tooltip or popup shows it: its demo tag in ``lang``."""
    return str(row.get("name") or "").replace(DEMO_TAG, t(lang, "demo_note"))


def source_text(source: str, lang: str) -> str:
    """A facility's source as the map's reader reads it: "demo designation of OpenStreetMap node 123
    (ODbL)" is said in Chinese on a Chinese map; any other source is the data's own words."""
    m = re.match(r"^demo designation of OpenStreetMap (node|way|relation) (\d+) \(ODbL\)$", source)
    if lang != "zh" or not m:
        return source
    kind = {"node": "节点", "way": "路径", "relation": "关系"}[m.group(1)]
    return f"OpenStreetMap {kind} {m.group(2)} 的演示指定（ODbL）"


def _text(row: FacilityRow, key: str) -> str | None:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)) or not str(v).strip():
        return None
    return str(v)


def popup_html(row: FacilityRow, role: str, lang: str) -> str:
    """Name, role, capabilities, address, status and source of a facility, in ``lang``."""
    lines = [f"<b>{html.escape(shown_name(row, lang))}</b>", html.escape(role)]
    if is_demo(row) and DEMO_TAG not in str(row["name"]):
        lines.append(f'<b style="color:{DEMO_NOTE_COLOR}">{html.escape(t(lang, "demo_note"))}</b>')
    caps = [c for c in (_text(row, "capabilities") or "").split(",") if c in ("evt", "ivt")]
    if caps:
        sep = "、" if lang == "zh" else ", "
        lines.append(html.escape(t(lang, "capabilities", v=sep.join(t(lang, f"cap_{c}") for c in caps))))
    for key in ("address",):
        v = _text(row, key)
        if v:
            lines.append(html.escape(t(lang, key, v=v)))
    status = _text(row, "status")
    if status:
        shown = t(lang, status) if status in ("certified", "in_construction", "planned", "unknown") else status
        lines.append(html.escape(t(lang, "status", v=shown)))
    source = _text(row, "source")
    if source:
        lines.append(f"<small>{html.escape(t(lang, 'source', v=source_text(source, lang)))}</small>")
    return "<br>".join(lines)


@dataclass
class Legend:
    """What the map shows, gathered while drawing it; rendered listing only those items."""

    lang: str
    levels: list[tuple[str, str, str]] = field(default_factory=list)  # (type, level, i18n key)
    caps: set[str] = field(default_factory=set)
    ems: bool = False
    demo: bool = False
    areas: bool = False
    gaps: bool = False

    def saw(
        self,
        *,
        level: tuple[str, str, str] | None = None,
        caps: str = "",
        ems: bool = False,
        demo: bool = False,
        areas: bool = False,
        gaps: bool = False,
    ) -> None:
        if level and level not in self.levels:
            self.levels.append(level)
        self.caps |= set(filter(None, caps.split(",")))
        self.ems |= ems
        self.demo |= demo
        self.areas |= areas
        self.gaps |= gaps

    def render(
        self, *, title: str, region: str, osm_date: str, spec_type: str, color: str, minutes: float, overall: object
    ) -> str:
        lang = self.lang
        m = f"{minutes:g}"
        rows = []

        def row(symbol: str, text: str) -> None:
            rows.append(f'<div class="row"><span>{symbol}</span><span>{html.escape(text)}</span></div>')

        for ftype, level, key in self.levels:
            row(icon_html(ftype, level, None), t(lang, key))
        if spec_type == "stroke_center":
            if "evt" in self.caps:
                row('<b style="color:#f9a825;font-size:18px;text-shadow:0 0 2px #000">★</b>', t(lang, "evt"))
            if "ivt" in self.caps:
                row('<b style="color:#f9a825;font-size:18px;text-shadow:0 0 2px #000">☆</b>', t(lang, "ivt"))
        if self.ems:
            row(icon_html("ems_station", None, None), t(lang, "ems"))
        if self.demo:
            demo_level = self.levels[0][1] if self.levels else None
            sample = icon_html(spec_type if demo_level else "ems_station", demo_level, None, demo=True)
            rows.append(
                f'<div class="row"><span>{sample}</span><span><b style="color:{DEMO_NOTE_COLOR}">{t(lang, "demo_note")}</b> '
                f"= {html.escape(t(lang, 'demo'))}</span></div>"
            )
        if self.areas:
            row(f'<span class="sw" style="background:{color}22;border-color:{color}"></span>', t(lang, "area", m=m))
        if self.gaps:
            row('<span class="sw" style="background:#5559"></span>', t(lang, "gap", m=m))
        rows.append(f'<div class="gs-pop">{html.escape(population_line(overall, minutes, lang))}</div>')
        outside = getattr(overall, "population_outside_extract", None)
        if outside and getattr(overall, "population", None) is not None:
            rows.append(f'<div class="gs-src">{html.escape(t(lang, "outside", n=people(outside, lang)))}</div>')
        date = f" · {html.escape(t(lang, 'osm_date', date=osm_date))}" if osm_date else ""
        return (
            f'<div class="gs-legend"><h3>{html.escape(title)}</h3>'
            f'<div class="gs-region">{html.escape(region)}</div>'
            f"{''.join(rows)}"
            f'<div class="gs-src">{html.escape(t(lang, "attribution"))}{date}</div></div>'
        )


def population_line(overall: object, minutes: float, lang: str) -> str:
    """People within ``minutes`` with the total and share, or "no population data" when the
    bundle has no census (population None) — never a share of nobody."""
    total = getattr(overall, "population", None)
    covered = getattr(overall, "population_covered", None)
    share = getattr(overall, "population_share", None)
    if total is None or covered is None or share is None:
        return t(lang, "no_population")
    return t(
        lang,
        "population",
        m=f"{minutes:g}",
        covered=people(covered, lang),
        total=people(total, lang),
        share=f"{100 * share:.1f}%",
    )
