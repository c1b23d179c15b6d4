"""``geoservice publish``: chest pain center map and stroke emergency map of a region.

Each map is one self-contained HTML file (Leaflet and its CSS inlined, no tiles, no CDN) with our
own roads and network outline from the bundle, tier icons, popups, service areas (30-min chest
pain / 60-min stroke), coverage gaps, legend, scale bar, ODbL attribution and a notice that the
map is not officially reviewed; plus a print PNG of each (headless Chromium screenshot of the same
HTML; skipped with a one-line warning saying how to install Chromium when it is absent).
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import folium
from branca.element import Element

from ...fileio import atomic_path, atomic_write_text
from ...service import queries
from ...service.core import GeoService
from .base import ATTRIBUTION, add_basemap, figure, offline_map

log = logging.getLogger(__name__)

NOTICE_EN = "Not an officially reviewed map (no 审图号 approval number): boundaries and roads from OpenStreetMap, for planning only."
NOTICE_ZH = "本图未经审图（无审图号），边界与道路来自 OpenStreetMap，仅供规划参考。"


@dataclass(frozen=True)
class MapSpec:
    slug: str
    type: str
    minutes: float
    title_en: str
    title_zh: str
    levels: tuple[tuple[str, str], ...]  # (level, label)
    color: str


SPECS = (
    MapSpec(
        "chest_pain_centers",
        "chest_pain_center",
        30,
        "Chest pain centers",
        "胸痛中心分布图",
        (("standard", "Standard 标准版"), ("basic", "Basic 基层版")),
        "#c62828",
    ),
    MapSpec(
        "stroke_emergency",
        "stroke_center",
        60,
        "Stroke emergency map",
        "卒中急救地图",
        (
            ("advanced", "Advanced stroke center 高级卒中中心"),
            ("center", "Stroke center 卒中中心"),
            ("station", "Stroke prevention station 卒中防治站"),
        ),
        "#6a1b9a",
    ),
)

GLYPH = {"chest_pain_center": "♥", "stroke_center": "S", "ems_station": "+", "grassroots_unit": "•", "aed": "⚡"}
ICON_CSS = """
.gs-ico{display:inline-flex;align-items:center;justify-content:center;width:22px;height:22px;border-radius:50%;color:#fff;font:700 13px/1 system-ui,sans-serif;border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.45);position:relative}
.gs-chest_pain_center-standard{background:#b71c1c;width:26px;height:26px;font-size:15px}
.gs-chest_pain_center-basic{background:#ef6c00;width:20px;height:20px;font-size:12px}
.gs-stroke_center{border-radius:5px}
.gs-stroke_center-advanced{background:#4a148c;width:26px;height:26px}
.gs-stroke_center-center{background:#7b1fa2}
.gs-stroke_center-station{background:#ab47bc;width:18px;height:18px;font-size:10px;border-radius:50%}
.gs-star{position:absolute;top:-9px;right:-10px;color:#f9a825;font-size:14px;text-shadow:0 0 2px #000}
.gs-ems_station{background:#1565c0;width:18px;height:18px;border-radius:3px}
.gs-grassroots_unit{background:#00897b;width:14px;height:14px;font-size:10px}
.gs-legend,.gs-notice{position:absolute;z-index:1000;background:rgba(255,255,255,.94);border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 system-ui,"Noto Sans CJK SC",sans-serif;padding:8px 10px}
.gs-legend{right:10px;bottom:30px;max-width:330px}
.gs-legend h3{margin:0 0 4px;font-size:15px}
.gs-legend .row{display:flex;align-items:center;gap:8px;margin:3px 0}
.gs-legend .sw{display:inline-block;width:22px;height:14px;border:1px solid #555}
.gs-notice{left:10px;top:10px;max-width:420px;font-size:11px;color:#444;margin-left:44px}
.leaflet-container{background:#e8eef3}
"""


# folium's popup and layer templates call jQuery's $(html)[0] and $(document).ready(f); this is all of it
def _icon_html(ftype: str, level: str | None, caps: str | None) -> str:
    c = set(filter(None, (caps or "").split(",")))
    star = ("★" if "evt" in c else "☆" if "ivt" in c else "") if ftype == "stroke_center" else ""
    cls = f"gs-ico gs-{ftype}" + (f" gs-{ftype}-{level}" if level else "")
    return (
        f'<span class="{cls}">{GLYPH.get(ftype, "•")}' + (f'<b class="gs-star">{star}</b>' if star else "") + "</span>"
    )


def build_map(svc: GeoService, region_name: str, spec: MapSpec) -> folium.Map:
    """The map of one region: its facilities (registry edits included), service areas and gaps,
    from the same service answers the API gives."""
    engine = svc.engine(region_name)
    region = engine.region
    m = offline_map(region)
    figure(m).header.add_child(Element(f"<style>{ICON_CSS}</style>"), name="gs_icons")
    figure(m).title = f"{spec.title_en} · {spec.title_zh} — {region.name}"
    add_basemap(m, region)

    fac = engine.facilities
    sel = fac[fac["type"] == spec.type]
    # service areas: where a patient reaches each facility within the target time
    areas = folium.FeatureGroup(name=f"{spec.minutes:g}-min drive areas {spec.minutes:g} 分钟车程范围")
    service_areas = queries.service_areas(
        svc, type=spec.type, minutes=spec.minutes, profile="drive", region=region_name
    )  # facilities on the road network
    for feat in service_areas.features:
        folium.GeoJson(
            feat.model_dump(),
            style_function=lambda f, c=spec.color: {"color": c, "weight": 1.2, "fillColor": c, "fillOpacity": 0.10},
            tooltip=html.escape(str(feat.properties["name"])),
        ).add_to(areas)
    areas.add_to(m)

    _, rep = queries.coverage(
        svc, type=spec.type, minutes=spec.minutes, profile="drive", by="none", gaps=True, region=region_name
    )
    gaps_fc = rep.gaps
    share = rep.overall.population_share
    if gaps_fc["features"]:
        g = folium.FeatureGroup(name=f"Gaps (> {spec.minutes:g} min) 空白区")
        folium.GeoJson(
            json.loads(json.dumps(gaps_fc, default=list)),
            style_function=lambda f: {"color": "#444", "weight": 0.6, "fillColor": "#555", "fillOpacity": 0.35},
            interactive=False,
        ).add_to(g)
        g.add_to(m)

    for level, label in spec.levels:
        grp = folium.FeatureGroup(name=label)
        for _, row in sel[sel["level"] == level].iterrows():
            caps = str(row.get("capabilities") or "")
            lines = [f"<b>{html.escape(str(row['name']))}</b>", html.escape(label)]
            if caps:
                lines.append("Capabilities 能力: " + html.escape(caps.upper().replace(",", ", ")))
            if row.get("address"):
                lines.append("Address 地址: " + html.escape(str(row["address"])))
            if row.get("status"):
                lines.append("Status: " + html.escape(str(row["status"])) + (" · DEMO" if row.get("demo") else ""))
            folium.Marker(
                [float(row.geometry.y), float(row.geometry.x)],
                icon=folium.DivIcon(html=_icon_html(spec.type, level, caps), icon_size=(26, 26), icon_anchor=(13, 13)),
                popup=folium.Popup("<br>".join(lines), max_width=320),
                tooltip=html.escape(str(row["name"])),
            ).add_to(grp)
        grp.add_to(m)

    ems = fac[fac["type"] == "ems_station"]
    if len(ems):
        grp = folium.FeatureGroup(name="EMS stations 急救站", show=True)
        for _, row in ems.iterrows():
            folium.Marker(
                [float(row.geometry.y), float(row.geometry.x)],
                icon=folium.DivIcon(
                    html=_icon_html("ems_station", None, None), icon_size=(18, 18), icon_anchor=(26, 26)
                ),  # up-left: EMS bases share hospitals
                popup=folium.Popup(f"<b>{html.escape(str(row['name']))}</b><br>EMS station 急救站", max_width=300),
            ).add_to(grp)
        grp.add_to(m)

    rows = "".join(
        f'<div class="row">{_icon_html(spec.type, lv, "evt,ivt" if lv == "advanced" else "ivt" if lv == "center" else "")}'
        f"<span>{html.escape(lb)}</span></div>"
        for lv, lb in spec.levels
    )
    if spec.type == "stroke_center":
        rows += (
            '<div class="row"><b style="color:#f9a825">★</b><span>EVT thrombectomy 取栓</span></div>'
            '<div class="row"><b style="color:#f9a825">☆</b><span>IVT thrombolysis only 仅溶栓</span></div>'
        )
    rows += (
        f'<div class="row"><span class="sw" style="background:{spec.color}22;border-color:{spec.color}"></span>'
        f"<span>{spec.minutes:g}-min drive area {spec.minutes:g} 分钟车程</span></div>"
        '<div class="row"><span class="sw" style="background:#5559"></span>'
        f"<span>Gap: not reached in {spec.minutes:g} min 空白区</span></div>"
        f'<div class="row">{_icon_html("ems_station", None, None)}<span>EMS station 急救站</span></div>'
    )
    if share is not None:
        rows += f"<div class='row'><small>Population within {spec.minutes:g} min: {100 * share:.1f}%</small></div>"
    legend = (
        f'<div class="gs-legend"><h3>{html.escape(spec.title_en)} · {html.escape(spec.title_zh)}</h3>'
        f"<div><small>{html.escape(region.name)} · OSM {html.escape(str(region.meta.get('osm_timestamp', ''))[:10])}</small></div>"
        f"{rows}<div><small>{ATTRIBUTION}</small></div></div>"
    )
    notice = f'<div class="gs-notice">{html.escape(NOTICE_ZH)}<br>{html.escape(NOTICE_EN)}</div>'
    figure(m).html.add_child(Element(legend + notice))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


_REMOTE = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def check_self_contained(text: str) -> None:
    bad = _REMOTE.findall(text)
    if bad:
        raise RuntimeError(f"published map would load remote resources: {bad[:3]}")


class PngUnavailable(RuntimeError):
    """No browser to render the print PNG with; the message says how to get one."""


def find_chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )


def render_png(html_path: Path, png_path: Path, size: tuple[int, int] = (1600, 1100)) -> None:
    """Screenshot the HTML in headless Chromium into ``png_path`` (atomically: an earlier PNG is
    replaced only by a new rendering, never by a placeholder)."""
    chromium = find_chromium()
    if chromium is None:
        raise PngUnavailable(
            "print PNG skipped: no Chromium found; install it (Debian: apt-get install chromium) or pass --no-png"
        )
    # in a thread of its own: Playwright's sync API refuses to run where an event loop runs
    from concurrent.futures import ThreadPoolExecutor

    with atomic_path(png_path) as tmp, ThreadPoolExecutor(1) as pool:
        pool.submit(_screenshot, chromium, html_path, tmp, size).result()


def _screenshot(chromium: str, html_path: Path, png_path: Path, size) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = b.new_page(viewport={"width": size[0], "height": size[1]})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(html_path.resolve().as_uri())
            page.wait_for_timeout(800)
            page.screenshot(path=str(png_path))
        finally:
            b.close()


def publish(svc: GeoService, region_name: str, out: Path, *, png: bool = True) -> list[Path]:
    """The chest pain and stroke maps of one region of the service (its facilities, registry
    edits included) into ``out``; with ``png``, their print PNGs when Chromium is available."""
    region = svc.engine(region_name).region
    out = Path(out)
    written = []
    for spec in SPECS:
        m = build_map(svc, region_name, spec)
        text = m.get_root().render()
        check_self_contained(text)
        path = out / f"{region.name}_{spec.slug}.html"
        atomic_write_text(path, text)
        written.append(path)
        if png:
            p = path.with_suffix(".png")
            try:
                render_png(path, p)
            except PngUnavailable as exc:
                log.warning("%s", exc)
                continue
            written.append(p)
    return written
