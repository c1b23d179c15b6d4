"""Offline folium maps of analysis results (coverage gaps, 531 links, triage, timeline, siting).

Fully offline (see faces.maps.base): Leaflet inlined, our own roads, water and boundaries.
Every map carries the OpenStreetMap (ODbL) attribution and the population method/source.

Every string is in ``lang`` (zh / en, ``maps.analysis_text``): titles, layer names, legends,
tooltips, the values and field names they show, the basemap's labels and the page's controls.

Markers are ``folium.DivIcon`` with our own inline HTML/CSS (``MARKER_CSS``): ``folium.Icon`` needs
Leaflet.awesome-markers and the default marker needs its PNGs, neither of which the offline maps
carry. Every function accepts empty layers (no gaps, links, sites or points) and still writes a map.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...fileio import atomic_path
from .analysis_text import DEFAULT_LANG, fac_name, field, mt, reason, value

if TYPE_CHECKING:
    import folium

    from ...analyses.coverage import CoverageReport
    from ...bundle.store import Region
    from ...engine.engine import Engine

ATTRIBUTION = mt("en", "attribution")
MAP_NOTICE = mt("en", "notice")

__all__ = [
    "base_map",
    "save_map",
    "coverage_map",
    "links_map",
    "points_map",
    "sites_map",
    "MARKER_CSS",
]

MARKER_CSS = """
.gs-am{display:inline-flex;align-items:center;justify-content:center;box-sizing:border-box;width:24px;height:24px;
border-radius:50%;border:2px solid #fff;box-shadow:0 1px 4px rgba(0,0,0,.5);color:#fff;
font:700 13px/1 system-ui,"Noto Sans CJK SC",sans-serif}
.gs-am-new{background:#2e7d32;width:28px;height:28px;font-size:14px}
.gs-am-added{background:#fff;color:#1b5e20;border:3px dashed #1b5e20;font-size:16px}
.gs-am-unlinked{background:#c62828;border-radius:4px;font-size:15px}
.gs-am-legend{position:fixed;top:10px;right:60px;z-index:9999;background:rgba(255,255,255,.95);padding:6px 8px;
border:1px solid #aaa;border-radius:4px;font:12px/1.4 system-ui,sans-serif}
.gs-am-legend .gs-am{width:18px;height:18px;font-size:11px;vertical-align:middle;margin-right:4px}
"""


def _get(obj: object, key: str, default: object = None) -> Any:
    """One field of an analysis result or of one of its items, a dict today, maybe a dataclass tomorrow."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _features(fc: object) -> list[Any]:
    """Features of a GeoJSON FeatureCollection (dict or object), [] when there is none."""
    if fc is None:
        return []
    return list(_get(fc, "features", None) or [])


def base_map(region: Region, *, title: str, note: str = "", lang: str = DEFAULT_LANG) -> folium.Map:
    """Offline map (inlined Leaflet, our own water/roads/outline/admin units and their names) with
    a title box naming the region by its display name, in ``lang``. The method ``note`` is the
    analysis's own statement (English), folded and labelled so on a Chinese map."""
    import folium
    from branca.element import Element

    from .base import add_basemap, figure, offline_map
    from .i18n import display_name

    m = offline_map(region, attribution=mt(lang, "attribution"), lang=lang)
    figure(m).header.add_child(Element(f"<style>{MARKER_CSS}</style>"), name="gs_analysis_markers")
    add_basemap(m, region, name=mt(lang, "basemap"), lang=lang)
    colon = "：" if lang == "zh" else ": "
    title = f"{display_name(region.meta, lang)}{colon}{title}"
    figure(m).title = title
    # top left beside the zoom buttons, the method folded: the map itself stays visible
    html = (
        f"<div class='gs-title' style='position:fixed;top:10px;left:54px;z-index:9999;background:rgba(255,255,255,.95);"
        f"padding:6px 8px;font:13px sans-serif;max-width:460px;border:1px solid #aaa;border-radius:4px'>"
        f"<b>{_esc(title)}</b><details class='gs-method'><summary style='cursor:pointer'>{mt(lang, 'method')}</summary>"
        f"<div style='font-size:11px' lang='en'>{_esc(note)}</div></details>"
        f"<div style='font-size:11px;color:#444'>{_esc(mt(lang, 'attribution'))}{'。' if lang == 'zh' else '. '}"
        f"{_esc(mt(lang, 'notice'))}{'。' if lang == 'zh' else '.'}</div></div>"
    )
    figure(m).html.add_child(folium.Element(html))
    return m


def _esc(s: object) -> str:
    import html

    return html.escape(str(s))


def _marker(lat: float, lon: float, kind: str, glyph: str, tooltip: str, size: int = 24) -> folium.Marker:
    """A folium Marker drawn with our own inline HTML (no awesome-markers, no marker PNG)."""
    import folium

    icon = folium.DivIcon(
        html=f'<span class="gs-am gs-am-{kind}">{_esc(glyph)}</span>',
        icon_size=(size, size),
        icon_anchor=(size // 2, size // 2),
        class_name="gs-am-wrap",
    )
    return folium.Marker([lat, lon], icon=icon, tooltip=tooltip)


def _legend(m: folium.Map, rows: list[tuple[str, str]]) -> None:
    """Small fixed legend box; rows are (HTML swatch, text)."""
    import folium

    from .base import figure

    body = "<br>".join(f"{sw} {_esc(text)}" for sw, text in rows)
    figure(m).html.add_child(folium.Element(f"<div class='gs-am-legend'>{body}</div>"))


def _tooltip(fields: list[str], lang: str) -> folium.GeoJsonTooltip:
    """A GeoJSON tooltip naming its fields in ``lang``."""
    import folium

    return folium.GeoJsonTooltip(fields, aliases=[field(lang, f) for f in fields])


def save_map(m: folium.Map, path: str | Path) -> Path:
    import folium

    folium.LayerControl().add_to(m)
    path = Path(path)
    with atomic_path(path) as tmp:
        m.save(str(tmp))
    return path


def _facilities(
    m: folium.Map, engine: Engine, type_: str | None, name: str, color: str = "red", lang: str = DEFAULT_LANG
) -> None:
    """The facilities of ``type_`` as dots, each named beside it where the name does not collide
    (a demo designation with its tag on a second line)."""
    import folium

    from .analysis_text import demo_tag
    from .labels import MapLabel, label_layer
    from .legend import is_demo, label_name

    fac = engine.facilities
    if type_:  # (a table without a type column has no facility: a region built without any)
        fac = fac[fac["type"] == type_] if "type" in fac else fac.iloc[0:0]
    g = folium.FeatureGroup(name=f"{name} ({len(fac)})")
    points = []
    for _, r in fac.iterrows():
        lat, lon = float(r.geometry.y), float(r.geometry.x)
        folium.CircleMarker(
            [lat, lon],
            radius=6,
            color=color,
            fill=True,
            fill_opacity=0.9,
            tooltip=fac_name(lang, r["name"]) + (f" ({value(lang, r.get('level'))})" if r.get("level") else ""),
        ).add_to(g)
        points.append(MapLabel(lat, lon, obstacle=(16, 16), group=g.get_name()))
        demo = demo_tag(lang) if is_demo(r) else None
        points.append(
            MapLabel(lat, lon, name=label_name(r), note=demo, side="right", dx=10, minzoom=12, group=g.get_name())
        )
    g.add_to(m)
    layer = label_layer(m)
    if layer is not None:
        layer.add_points(points)


def _population_text(overall: object, lang: str = DEFAULT_LANG) -> str:
    """The title's "population share 52.3% (1,234 of 2,360)", or "no population data" when the bundle has no
    census (population None): never a share of nobody."""
    share, total, covered = (_get(overall, k) for k in ("population_share", "population", "population_covered"))
    if share is None or total is None:
        return mt(lang, "no_pop")
    counts = (
        mt(lang, "pop_counts", covered=f"{float(covered):,.0f}", total=f"{float(total):,.0f}")
        if covered is not None
        else ""
    )
    return mt(lang, "pop_share", share=f"{100 * float(share):.1f}%", counts=counts)


def coverage_map(
    engine: Engine,
    report: CoverageReport,
    path: str | Path,
    *,
    add_sites: Iterable[tuple[float, float]] | None = None,
    lang: str = DEFAULT_LANG,
) -> Path:
    """The coverage report on a map: gap polygons, facilities, farthest points, added sites (read as
    the typed report's attributes)."""
    import folium

    type_, minutes, profile, method = report.type, report.minutes, report.profile, report.method
    overall = report.overall
    gaps = _features(report.gaps)
    farthest = report.farthest
    scen = report.shown_scenario

    m = base_map(
        engine.region,
        title=mt(
            lang,
            "cov_title",
            type=value(lang, type_),
            m=f"{float(minutes):g}",
            profile=value(lang, profile),
            scen=value(lang, scen),
            pop=_population_text(overall, lang),
        ),
        note=method or "",
        lang=lang,
    )
    if gaps:
        props = gaps[0].get("properties") or {}
        fields = [k for k in ("area_km2", "population", "max_time_s") if k in props]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": gaps},
            name=mt(lang, "gaps", n=len(gaps)),
            style_function=lambda f: {"color": "#c00", "weight": 1, "fillColor": "#f33", "fillOpacity": 0.35},
            tooltip=_tooltip(fields, lang) if fields else None,
        ).add_to(m)
    _facilities(m, engine, type_, value(lang, type_), lang=lang)
    g = folium.FeatureGroup(name=mt(lang, "farthest", n=len(farthest)))
    for p in farthest:
        folium.CircleMarker(
            [p.lat, p.lon],
            radius=4,
            color="black",
            tooltip=mt(lang, "farthest_tip", t=p.time_s, p=p.population),
        ).add_to(g)
    g.add_to(m)
    sites = list(add_sites or [])
    if sites:
        a = folium.FeatureGroup(name=mt(lang, "added", n=len(sites)))
        for lon, lat in sites:
            _marker(lat, lon, "added", "+", mt(lang, "added_one")).add_to(a)
        a.add_to(m)
    _legend(
        m,
        [
            (
                "<span style='display:inline-block;width:18px;height:12px;background:rgba(255,51,51,.35);"
                "border:1px solid #c00;vertical-align:middle'></span>",
                mt(lang, "not_reached", m=f"{float(minutes):g}") + ("" if gaps else mt(lang, "none_suffix")),
            ),
            ("<span style='color:red'>●</span>", mt(lang, "existing", type=value(lang, type_))),
            ("<span style='color:black'>○</span>", mt(lang, "farthest_lg")),
        ]
        + ([("<span class='gs-am gs-am-added'>+</span>", mt(lang, "added_one"))] if sites else []),
    )
    return save_map(m, path)


def links_map(
    engine: Engine,
    links: Iterable[object] | None,
    unlinked: Iterable[object] | None,
    path: str | Path,
    *,
    title: str,
    note: str = "",
    lang: str = DEFAULT_LANG,
) -> Path:
    """Lines from each unit to its assigned center (531 grid)."""
    import folium

    links, unlinked = list(links or []), list(unlinked or [])
    m = base_map(engine.region, title=title, note=note, lang=lang)
    colors = {"grassroots->basic": "#1f77b4", "basic->standard": "#d62728"}
    g = folium.FeatureGroup(name=mt(lang, "links", n=len(links)))
    for ln in links:
        tier, fla, flo, tla, tlo, fname, tname, t = (
            _get(ln, k) for k in ("tier", "from_lat", "from_lon", "to_lat", "to_lon", "from_name", "to_name", "time_s")
        )
        color = colors.get(tier, "#333")
        fname, tname = fac_name(lang, fname), fac_name(lang, tname)
        tip = mt(lang, "link_tip", a=fname, b=tname, m=f"{float(t) / 60:.1f}")
        line = folium.PolyLine([[fla, flo], [tla, tlo]], color=color, weight=3, tooltip=tip)  # type: ignore[no-untyped-call]  # folium's PolyLine.__init__ has no annotations
        line.add_to(g)
        folium.CircleMarker([fla, flo], radius=4, color=color, tooltip=fname).add_to(g)
        folium.CircleMarker([tla, tlo], radius=7, color="#000", fill=True, tooltip=tname).add_to(g)
    g.add_to(m)
    u = folium.FeatureGroup(name=mt(lang, "not_linked", n=len(unlinked)))
    for r in unlinked:
        tip = f"{fac_name(lang, _get(r, 'name'))}{'：' if lang == 'zh' else ': '}{reason(lang, _get(r, 'reason'))}"
        _marker(_get(r, "lat"), _get(r, "lon"), "unlinked", "×", tip).add_to(u)
    u.add_to(m)
    _legend(
        m,
        [(f"<span style='color:{c}'>━</span>", value(lang, tier)) for tier, c in colors.items()]
        + [("<span class='gs-am gs-am-unlinked'>×</span>", mt(lang, "not_linked_lg"))],
    )
    return save_map(m, path)


def points_map(
    engine: Engine,
    fc: object,
    path: str | Path,
    *,
    title: str,
    note: str,
    field: str,
    colors: dict[str, str],
    lang: str = DEFAULT_LANG,
) -> Path:
    """Point layer coloured by a categorical ``field`` (triage recommendation, timeline status)."""
    import folium

    from .analysis_text import field as field_name

    feats = _features(fc)
    m = base_map(engine.region, title=title, note=note, lang=lang)
    sep = "：" if lang == "zh" else ": "
    fac = engine.facilities
    names = dict(zip(fac["id"], fac["name"])) if "id" in fac else {}  # centers by name, not by id
    for val, color in colors.items():
        sel = [f for f in feats if (f.get("properties") or {}).get(field) == val and f.get("geometry")]
        name = mt(lang, "points_layer", field=field_name(lang, field), value=value(lang, val), n=len(sel))
        g = folium.FeatureGroup(name=name)
        for f in sel:
            lon, lat = f["geometry"]["coordinates"][:2]
            props = f["properties"].items()
            tip = ("，" if lang == "zh" else ", ").join(
                f"{field_name(lang, k)}{sep}{value(lang, names.get(v, v) if isinstance(v, str) else v)}"
                for k, v in props
                if v is not None
            )
            folium.CircleMarker(
                [lat, lon], radius=3, color=color, fill=True, fill_opacity=0.8, weight=0, tooltip=tip[:300]
            ).add_to(g)
        g.add_to(m)
    _legend(m, [(f"<span style='color:{c}'>●</span>", value(lang, v)) for v, c in colors.items()])
    _facilities(m, engine, "stroke_center", mt(lang, "stroke_centers"), lang=lang)
    return save_map(m, path)


def sites_map(engine: Engine, result: object, path: str | Path, *, title: str, lang: str = DEFAULT_LANG) -> Path:
    import folium

    type_, added, method = _get(result, "type"), list(_get(result, "added") or []), _get(result, "method") or ""
    m = base_map(engine.region, title=title, note=method, lang=lang)
    existing = mt(lang, "existing", type=value(lang, type_))
    _facilities(m, engine, type_, existing, color="#555", lang=lang)
    g = folium.FeatureGroup(name=mt(lang, "new_sites", n=len(added)))
    for i, s in enumerate(added, 1):
        name, gained = fac_name(lang, _get(s, "name") or ""), _get(s, "population_gained")
        tip = mt(lang, "new_tip", i=i, name=name, gained=gained)
        _marker(_get(s, "lat"), _get(s, "lon"), "new", str(i), tip, size=28).add_to(g)
    g.add_to(m)
    _legend(
        m,
        [
            ("<span class='gs-am gs-am-new'>1</span>", mt(lang, "new_lg")),
            ("<span style='color:#555'>●</span>", existing),
        ],
    )
    return save_map(m, path)
