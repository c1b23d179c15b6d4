"""``geoservice publish``: chest pain center map (胸痛中心分布图) and stroke emergency map (卒中急救地图)
of a region, in Chinese or English (``lang``; every string of the page from ``maps.i18n``).

Each map is one self-contained HTML file (Leaflet, its CSS and our label renderer inlined, no
tiles, no CDN) with our own roads, water, district outlines and their names from the bundle,
tier icons with the facility names beside them (a demo designation keeps its
``[DEMO designation]`` on the map face and gets a dashed outline), popups, service areas (30-min
chest pain / 60-min stroke), coverage gaps, a legend listing only what the map shows, the
population reached (or "no population data"), scale bar, ODbL attribution and a notice that the
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
import shapely
import shapely.geometry
from branca.element import Element

from ...analyses.stroke_tiers import RateRow
from ...errors import GeoserviceError
from ...fileio import atomic_path, atomic_write_text
from ...questions import CoverageQuestion, ServiceAreaQuestion
from ...service.answers.queries import FeatureCollection
from ...service.core import GeoService
from ...service.facility_filter import no_facility_error
from ...service.usecases import queries
from ...sources.schema import FacilityFilter
from .base import add_basemap, figure, offline_map
from .i18n import DEFAULT_LANG, LANGS, display_name, t
from .labels import MapLabel
from .legend import ICON_CSS, Legend, icon_html, is_demo, label_name, popup_html, shown_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MapSpec:
    slug: str
    type: str
    minutes: float
    title: str  # key in i18n.TEXT
    levels: tuple[tuple[str, str], ...]  # (level, i18n key), most important first
    color: str


SPECS = (
    MapSpec(
        "chest_pain_centers",
        "chest_pain_center",
        30,
        "title_chest_pain",
        (("standard", "cpc_standard"), ("basic", "cpc_basic")),
        "#c62828",
    ),
    MapSpec(
        "stroke_emergency",
        "stroke_center",
        60,
        "title_stroke",
        (("advanced", "stroke_advanced"), ("center", "stroke_center"), ("station", "stroke_station")),
        "#6a1b9a",
    ),
)
ICON_PX = {"standard": 26, "advanced": 26, "basic": 20, "center": 22, "station": 18}
EMS_OFFSET = (-17, -17)  # EMS bases often share a hospital's point: their icon sits up-left of it


def build_map(
    svc: GeoService,
    region_name: str,
    spec: MapSpec,
    *,
    lang: str = DEFAULT_LANG,
    thrombolysis_rates: list[RateRow] | None = None,
) -> folium.Map:
    """The map of one region: its facilities (registry edits included), service areas and gaps,
    from the same service answers the API gives, every string in ``lang``; the stroke map with
    ``thrombolysis_rates`` (rows of ``analyses.stroke_tiers.read_rates``) adds the quality tiers."""
    engine = svc.engine(region_name)
    region = engine.region
    region_title = display_name(region.meta, lang)
    m = offline_map(region, attribution=t(lang, "attribution"), lang=lang)
    figure(m).header.add_child(Element(f"<style>{ICON_CSS}</style>"), name="gs_icons")
    title = t(lang, spec.title)
    figure(m).title = f"{title} · {region_title}"
    labels = add_basemap(m, region, name=t(lang, "basemap_layer"), lang=lang)
    legend = Legend(lang)

    fac = engine.facilities
    sel = fac[fac["type"] == spec.type]
    # service areas: where a patient reaches each facility within the target time
    areas = folium.FeatureGroup(name=t(lang, "areas_layer", m=f"{spec.minutes:g}"))
    # a region without any facility of the map's type has no service area (asking for them is an
    # error: service.facility_filter)
    none_here = no_facility_error(engine, FacilityFilter(spec.type), "drive", region_name) is not None
    service_areas = (
        FeatureCollection(features=[])
        if none_here
        else queries.service_areas(
            svc, ServiceAreaQuestion(FacilityFilter(spec.type), spec.minutes, "drive", region=region_name)
        )
    )
    # one light fill for the area covered (overlapping fills of a dense city would bury the streets),
    # each facility's own area as an outline with its name
    shapes = [shapely.geometry.shape(f.model_dump()["geometry"]) for f in service_areas.features]
    if shapes:
        covered = shapely.union_all([shapely.make_valid(g) for g in shapes])
        folium.GeoJson(
            shapely.geometry.mapping(covered),
            interactive=False,
            style_function=lambda f, c=spec.color: {"stroke": False, "fillColor": c, "fillOpacity": 0.16},
        ).add_to(areas)
    for feat in service_areas.features:
        folium.GeoJson(
            feat.model_dump(),
            style_function=lambda f, c=spec.color: {"color": c, "weight": 1.3, "opacity": 0.8, "fill": False},
            tooltip=html.escape(shown_name(feat.properties, lang)),
        ).add_to(areas)
    areas.add_to(m)

    ask = CoverageQuestion.of(type=spec.type, minutes=spec.minutes, profile="drive", by="none", region=region_name)
    # none here: the map shows no marker and 0 covered, which is true of it
    _, rep = queries.coverage(svc, ask, require_facilities=False)
    gaps_fc = rep.gaps
    if gaps_fc["features"]:
        g = folium.FeatureGroup(name=t(lang, "gaps_layer"))
        folium.GeoJson(
            json.loads(json.dumps(gaps_fc, default=list)),
            style_function=lambda f: {"color": "#444", "weight": 0.6, "fillColor": "#555", "fillOpacity": 0.35},
            interactive=False,
        ).add_to(g)
        g.add_to(m)

    points: list[MapLabel] = []
    for rank, (level, key) in enumerate(spec.levels):
        rows = sel[sel["level"] == level]
        if not len(rows):
            continue  # the legend and the layer control list only the tiers present
        grp = folium.FeatureGroup(name=t(lang, key))
        for _, row in rows.iterrows():
            caps = str(row.get("capabilities") or "")
            demo = is_demo(row)
            lat, lon = float(row.geometry.y), float(row.geometry.x)
            folium.Marker(
                [lat, lon],
                icon=folium.DivIcon(
                    html=icon_html(spec.type, level, caps, demo=demo), icon_size=(26, 26), icon_anchor=(13, 13)
                ),
                popup=folium.Popup(popup_html(row, t(lang, key), lang), max_width=320),
                tooltip=html.escape(shown_name(row, lang)),
            ).add_to(grp)
            px = ICON_PX.get(level, 22)
            points.append(MapLabel(lat, lon, obstacle=(px + 4, px + 4), group=grp.get_name()))
            points.append(
                MapLabel(
                    lat,
                    lon,
                    name=label_name(row),
                    note=t(lang, "demo_note") if demo else None,
                    rank=rank,
                    side="right",
                    dx=px / 2 + 7,
                    group=grp.get_name(),
                )
            )
            legend.saw(level=(spec.type, level, key), caps=caps, demo=demo)
        grp.add_to(m)

    ems = fac[fac["type"] == "ems_station"]
    if len(ems):
        grp = folium.FeatureGroup(name=t(lang, "ems"), show=True)
        for _, row in ems.iterrows():
            demo = is_demo(row)
            lat, lon = float(row.geometry.y), float(row.geometry.x)
            folium.Marker(
                [lat, lon],
                icon=folium.DivIcon(
                    html=icon_html("ems_station", None, None, demo=demo), icon_size=(18, 18), icon_anchor=(26, 26)
                ),
                popup=folium.Popup(popup_html(row, t(lang, "ems"), lang), max_width=300),
                tooltip=html.escape(shown_name(row, lang)),
            ).add_to(grp)
            points.append(
                MapLabel(lat, lon, obstacle=(22, 22), dx=EMS_OFFSET[0], dy=EMS_OFFSET[1], group=grp.get_name())
            )
            legend.saw(ems=True, demo=demo)
        grp.add_to(m)
    labels.add_points(points)
    if thrombolysis_rates and spec.type == "stroke_center":
        from .tiers_layer import add_tiers_layer

        add_tiers_layer(m, svc, region_name, thrombolysis_rates, lang)

    legend.saw(areas=bool(service_areas.features), gaps=bool(gaps_fc["features"]))
    legend_html = legend.render(
        title=title,
        region=region_title,
        osm_date=str(region.meta.get("osm_timestamp") or "")[:10],
        spec_type=spec.type,
        color=spec.color,
        minutes=spec.minutes,
        overall=rep.overall,
    )
    notice = f'<div class="gs-notice">{html.escape(t(lang, "notice"))}</div>'
    figure(m).html.add_child(Element(legend_html + notice))
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
    """The system's Chromium (Debian: ``apt-get install chromium``), else the one Playwright
    installed (``python -m playwright install chromium``, where that can download), else None."""
    found = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )
    return found or _playwright_chromium()


def _playwright_chromium() -> str | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from concurrent.futures import ThreadPoolExecutor

    def look() -> str | None:
        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if path and Path(path).exists() else None

    try:
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API refuses to run inside an event loop
            return pool.submit(look).result()
    except Exception:  # a Playwright without its driver: no browser from it
        return None


CHROMIUM_ARGS = [  # headless, offline: no sandbox (containers), no GPU, no background requests
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def render_png(html_path: Path, png_path: Path, size: tuple[int, int] = (1600, 1100)) -> None:
    """Screenshot the HTML in headless Chromium into ``png_path`` (atomically: an earlier PNG is
    replaced only by a new rendering, never by a placeholder)."""
    chromium = find_chromium()
    if chromium is None:
        raise PngUnavailable(
            "print PNG skipped: no Chromium found; install it (Debian: apt-get install chromium "
            "fonts-noto-cjk; or python -m playwright install chromium) or pass --no-png"
        )
    # in a thread of its own: Playwright's sync API refuses to run where an event loop runs
    from concurrent.futures import ThreadPoolExecutor

    with atomic_path(png_path) as tmp, ThreadPoolExecutor(1) as pool:
        pool.submit(_screenshot, chromium, html_path, tmp, size).result()


def _screenshot(chromium: str, html_path: Path, png_path: Path, size: tuple[int, int]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": size[0], "height": size[1]})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(html_path.resolve().as_uri())
            page.wait_for_timeout(800)
            page.screenshot(path=str(png_path))
        finally:
            b.close()


def publish(
    svc: GeoService,
    region_name: str,
    out: Path,
    *,
    png: bool = True,
    lang: str = DEFAULT_LANG,
    thrombolysis_rates: list[RateRow] | None = None,
) -> list[Path]:
    """The chest pain and stroke maps of one region of the service (its facilities, registry
    edits included) into ``out``, in ``lang`` (zh / en); with ``png``, their print PNGs when
    Chromium is available; with ``thrombolysis_rates``, the stroke quality tiers on the stroke map."""
    if lang not in LANGS:
        raise GeoserviceError("lang", f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    region = svc.engine(region_name).region
    out = Path(out)
    written = []
    for spec in SPECS:
        m = build_map(svc, region_name, spec, lang=lang, thrombolysis_rates=thrombolysis_rates)
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
