"""Offline folium maps of analysis results (coverage gaps, 531 links, triage, timeline, siting).

Fully offline (see faces.maps.base): Leaflet inlined, our own roads, water and boundaries.
Every map carries the OpenStreetMap (ODbL) attribution and the population method/source.

Markers are ``folium.DivIcon`` with our own inline HTML/CSS (``MARKER_CSS``): ``folium.Icon`` needs
Leaflet.awesome-markers and the default marker needs its PNGs, neither of which the offline maps
carry. Every function accepts empty layers (no gaps, links, sites or points) and still writes a map.
"""

from __future__ import annotations

from pathlib import Path

from ..fileio import atomic_path

ATTRIBUTION = "Roads and POIs © OpenStreetMap contributors, ODbL 1.0"
MAP_NOTICE = "Boundaries are not an officially reviewed map (审图号); demo designations are not real certifications"

__all__ = [
    "base_map",
    "save_map",
    "coverage_map",
    "links_map",
    "points_map",
    "sites_map",
    "targets_map",
    "change_map",
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


def _get(obj, key: str, default=None):
    """One field of an analysis result or of one of its items, a dict today, maybe a dataclass tomorrow."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _features(fc) -> list:
    """Features of a GeoJSON FeatureCollection (dict or object), [] when there is none."""
    if fc is None:
        return []
    return list(_get(fc, "features", None) or [])


def base_map(region, *, title: str, note: str = ""):
    """Offline map (inlined Leaflet, our own water/roads/outline/admin units and their names) with
    a title box naming the region by its display name."""
    import folium
    from branca.element import Element

    from .maps.base import add_basemap, figure, offline_map
    from .maps.i18n import display_name

    m = offline_map(region, attribution=ATTRIBUTION, lang="en")
    figure(m).header.add_child(Element(f"<style>{MARKER_CSS}</style>"), name="gs_analysis_markers")
    add_basemap(m, region)  # names as mapped in OSM (Chinese in China)
    title = f"{display_name(region.meta, 'en')}: {title}"
    figure(m).title = title
    # top left beside the zoom buttons, the method folded: the map itself stays visible
    html = (
        f"<div class='gs-title' style='position:fixed;top:10px;left:54px;z-index:9999;background:rgba(255,255,255,.95);"
        f"padding:6px 8px;font:13px sans-serif;max-width:460px;border:1px solid #aaa;border-radius:4px'>"
        f"<b>{_esc(title)}</b><details><summary style='cursor:pointer'>Method and sources</summary>"
        f"<div style='font-size:11px'>{_esc(note)}</div></details>"
        f"<div style='font-size:11px;color:#444'>{ATTRIBUTION}. {MAP_NOTICE}.</div></div>"
    )
    figure(m).html.add_child(folium.Element(html))
    return m


def _esc(s) -> str:
    import html

    return html.escape(str(s))


def _marker(lat: float, lon: float, kind: str, glyph: str, tooltip: str, size: int = 24):
    """A folium Marker drawn with our own inline HTML (no awesome-markers, no marker PNG)."""
    import folium

    icon = folium.DivIcon(
        html=f'<span class="gs-am gs-am-{kind}">{_esc(glyph)}</span>',
        icon_size=(size, size),
        icon_anchor=(size // 2, size // 2),
        class_name="gs-am-wrap",
    )
    return folium.Marker([lat, lon], icon=icon, tooltip=tooltip)


def _legend(m, rows: list[tuple[str, str]]) -> None:
    """Small fixed legend box; rows are (HTML swatch, text)."""
    import folium

    body = "<br>".join(f"{sw} {_esc(text)}" for sw, text in rows)
    m.get_root().html.add_child(folium.Element(f"<div class='gs-am-legend'>{body}</div>"))


def save_map(m, path: str | Path) -> Path:
    import folium

    folium.LayerControl().add_to(m)
    path = Path(path)
    with atomic_path(path) as tmp:
        m.save(str(tmp))
    return path


def _facilities(m, engine, type_, name, color="red"):
    """The facilities of ``type_`` as dots, each named beside it where the name does not collide
    (a demo designation with its tag on a second line)."""
    import folium

    from .maps.labels import MapLabel, label_layer
    from .maps.legend import is_demo, label_name

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
            tooltip=f"{r['name']} ({r.get('level') or ''})",
        ).add_to(g)
        points.append(MapLabel(lat, lon, obstacle=(16, 16), group=g.get_name()))
        demo = "[DEMO designation]" if is_demo(r) else None
        points.append(
            MapLabel(lat, lon, name=label_name(r), note=demo, side="right", dx=10, minzoom=12, group=g.get_name())
        )
    g.add_to(m)
    layer = label_layer(m)
    if layer is not None:
        layer.add_points(points)


def _population_text(overall) -> str:
    """The title's "population share 52.3% (1,234 of 2,360)", or "no population data" when the bundle has no
    census (population None): never a share of nobody."""
    share, total, covered = (_get(overall, k) for k in ("population_share", "population", "population_covered"))
    if share is None or total is None:
        return "no population data"
    counts = f" ({float(covered):,.0f} of {float(total):,.0f})" if covered is not None else ""
    return f"population share {100 * float(share):.1f}%{counts}"


def coverage_map(engine, report, path, *, add_sites=None):
    import folium

    type_, minutes, profile, scenario, method = (
        _get(report, k) for k in ("type", "minutes", "profile", "scenario", "method")
    )
    overall = _get(report, "overall") or {}
    gaps = _features(_get(report, "gaps"))
    farthest = list(_get(report, "farthest") or [])
    scen = scenario if isinstance(scenario, str) else "custom"

    m = base_map(
        engine.region,
        title=f"{type_} within {float(minutes):g} min ({profile}, {scen}): {_population_text(overall)}",
        note=method or "",
    )
    if gaps:
        props = gaps[0].get("properties") or {}
        fields = [k for k in ("area_km2", "population", "max_time_s") if k in props]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": gaps},
            name=f"coverage gaps ({len(gaps)})",
            style_function=lambda f: {"color": "#c00", "weight": 1, "fillColor": "#f33", "fillOpacity": 0.35},
            tooltip=folium.GeoJsonTooltip(fields) if fields else None,
        ).add_to(m)
    _facilities(m, engine, type_, type_)
    g = folium.FeatureGroup(name=f"farthest populated points ({len(farthest)})")
    for p in farthest:
        folium.CircleMarker(
            [_get(p, "lat"), _get(p, "lon")],
            radius=4,
            color="black",
            tooltip=f"time {_get(p, 'time_s')} s, population {_get(p, 'population')}",
        ).add_to(g)
    g.add_to(m)
    sites = list(add_sites or [])
    if sites:
        a = folium.FeatureGroup(name=f"added sites, what-if ({len(sites)})")
        for lon, lat in sites:
            _marker(lat, lon, "added", "+", "added site (what-if)").add_to(a)
        a.add_to(m)
    _legend(
        m,
        [
            (
                "<span style='display:inline-block;width:18px;height:12px;background:rgba(255,51,51,.35);"
                "border:1px solid #c00;vertical-align:middle'></span>",
                f"not reached within {float(minutes):g} min" + ("" if gaps else ": none"),
            ),
            ("<span style='color:red'>●</span>", f"existing {type_}"),
            ("<span style='color:black'>○</span>", "farthest populated points"),
        ]
        + ([("<span class='gs-am gs-am-added'>+</span>", "added site (what-if)")] if sites else []),
    )
    return save_map(m, path)


def links_map(engine, links, unlinked, path, *, title: str, note: str = ""):
    """Lines from each unit to its assigned center (531 grid)."""
    import folium

    links, unlinked = list(links or []), list(unlinked or [])
    m = base_map(engine.region, title=title, note=note)
    colors = {"grassroots->basic": "#1f77b4", "basic->standard": "#d62728"}
    g = folium.FeatureGroup(name=f"links ({len(links)})")
    for ln in links:
        tier, fla, flo, tla, tlo, fname, tname, t = (
            _get(ln, k) for k in ("tier", "from_lat", "from_lon", "to_lat", "to_lon", "from_name", "to_name", "time_s")
        )
        color = colors.get(tier, "#333")
        folium.PolyLine(
            [[fla, flo], [tla, tlo]], color=color, weight=3, tooltip=f"{fname} → {tname}: {float(t) / 60:.1f} min"
        ).add_to(g)
        folium.CircleMarker([fla, flo], radius=4, color=color, tooltip=fname).add_to(g)
        folium.CircleMarker([tla, tlo], radius=7, color="#000", fill=True, tooltip=tname).add_to(g)
    g.add_to(m)
    u = folium.FeatureGroup(name=f"not linked ({len(unlinked)})")
    for r in unlinked:
        _marker(_get(r, "lat"), _get(r, "lon"), "unlinked", "×", f"{_get(r, 'name')}: {_get(r, 'reason')}").add_to(u)
    u.add_to(m)
    _legend(
        m,
        [(f"<span style='color:{c}'>━</span>", tier) for tier, c in colors.items()]
        + [("<span class='gs-am gs-am-unlinked'>×</span>", "not linked")],
    )
    return save_map(m, path)


def points_map(engine, fc, path, *, title: str, note: str, field: str, colors: dict[str, str]):
    """Point layer coloured by a categorical ``field`` (triage recommendation, timeline status)."""
    import folium

    feats = _features(fc)
    m = base_map(engine.region, title=title, note=note)
    for value, color in colors.items():
        sel = [f for f in feats if (f.get("properties") or {}).get(field) == value and f.get("geometry")]
        g = folium.FeatureGroup(name=f"{field} = {value} ({len(sel)})")
        for f in sel:
            lon, lat = f["geometry"]["coordinates"][:2]
            tip = ", ".join(f"{k}: {v}" for k, v in f["properties"].items() if v is not None)
            folium.CircleMarker(
                [lat, lon], radius=3, color=color, fill=True, fill_opacity=0.8, weight=0, tooltip=tip[:300]
            ).add_to(g)
        g.add_to(m)
    _legend(m, [(f"<span style='color:{c}'>●</span>", v) for v, c in colors.items()])
    _facilities(m, engine, "stroke_center", "stroke centers")
    return save_map(m, path)


def sites_map(engine, result, path, *, title: str):
    import folium

    type_, added, method = _get(result, "type"), list(_get(result, "added") or []), _get(result, "method") or ""
    m = base_map(engine.region, title=title, note=method)
    _facilities(m, engine, type_, f"existing {type_}", color="#555")
    g = folium.FeatureGroup(name=f"selected new sites ({len(added)})")
    for i, s in enumerate(added, 1):
        name, gained = _get(s, "name") or "", _get(s, "population_gained")
        _marker(_get(s, "lat"), _get(s, "lon"), "new", str(i), f"#{i} {name}: +{gained} people", size=28).add_to(g)
    g.add_to(m)
    _legend(
        m,
        [
            ("<span class='gs-am gs-am-new'>1</span>", "new site (rank by population gained)"),
            ("<span style='color:#555'>●</span>", f"existing {type_}"),
        ],
    )
    return save_map(m, path)


TARGET_COLORS = {0: "#c62828", 1: "#ef6c00", 2: "#f9a825", 3: "#2e7d32"}


def targets_map(engine, report, path, *, tiers=None):
    """Choropleth of the plan's targets per admin unit (targets met, of those that apply), with the
    figures in each unit's tooltip; ``tiers`` (GeoJSON) adds the stroke quality tiers."""
    import folium

    feats = [f for f in _features(_get(report, "layer")) if f.get("geometry")]
    m = base_map(engine.region, title="the plan's targets by admin unit", note=_get(report, "method") or "")

    def style(f):
        p = f["properties"]
        missed = p["targets_applicable"] - p["targets_met"]
        return {"color": "#333", "weight": 1, "fillOpacity": 0.45, "fillColor": TARGET_COLORS[max(0, 3 - missed)]}

    fields = ["name", "targets_met", "targets_applicable", "stroke_centers", "cpc_share", "grassroots_share"]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=f"targets met ({len(feats)} units)",
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields) if feats else None,
    ).add_to(m)
    tier_rows = []
    if tiers and _features(tiers):
        demo = any(f["properties"].get("demo") for f in _features(tiers))
        folium.GeoJson(
            tiers,
            name="stroke quality tiers (thrombolysis rate)" + (" [DEMO rates, invented]" if demo else ""),
            style_function=lambda f: {
                "color": f["properties"]["color"],
                "weight": 4,
                "dashArray": "8 6",
                "fill": False,
            },
            tooltip=folium.GeoJsonTooltip(["name", "thrombolysis_rate_pct", "tier_label", "action", "demo"]),
        ).add_to(m)
        seen = {f["properties"]["tier_label"]: f["properties"] for f in _features(tiers)}
        tag = " [DEMO]" if demo else ""
        tier_rows = [
            (f"<span style='color:{p['color']}'>┅</span>", f"thrombolysis {label}: {p['action']}{tag}")
            for label, p in seen.items()
        ]
    _facilities(m, engine, "stroke_center", "stroke centers", color="#6a1b9a")
    _facilities(m, engine, "chest_pain_center", "chest pain centers")
    _legend(
        m,
        [
            (f"<span style='display:inline-block;width:18px;height:12px;background:{c}'></span>", text)
            for c, text in (
                (TARGET_COLORS[3], "every target met"),
                (TARGET_COLORS[2], "one target missed"),
                (TARGET_COLORS[1], "two missed"),
                (TARGET_COLORS[0], "three missed"),
            )
        ]
        + tier_rows,
    )
    return save_map(m, path)


def change_map(engine, comparison, path):
    """Triage under two scenarios: the locations whose recommendation changes and the changed area."""
    import folium

    a, b = _get(comparison, "scenarios")
    feats = _features(_get(comparison, "layer"))
    area = _features(_get(comparison, "changed_area"))
    m = base_map(
        engine.region,
        title=f"stroke triage {a} vs {b}: {_get(comparison, 'changed_locations')} locations change "
        f"({_get(comparison, 'changed_area_km2')} km²)",
        note=_get(comparison, "method") or "",
    )
    if area:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": area},
            name="area where the recommendation changes",
            style_function=lambda f: {"color": "#b71c1c", "weight": 2, "fillColor": "#ff5252", "fillOpacity": 0.3},
        ).add_to(m)
    colors = {"direct_evt": "#2ca02c", "drip_and_ship": "#ff7f0e", "ivt_only": "#1f77b4", "unreachable": "#000"}
    same = folium.FeatureGroup(name="unchanged (colour: recommendation)", show=True)
    moved = folium.FeatureGroup(name="changed", show=True)
    for f in feats:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"][:2]
        if p["changed"]:
            folium.CircleMarker(
                [lat, lon], radius=4, color="#b71c1c", weight=2, fill=True, fill_color="#fff", tooltip=p["change"]
            ).add_to(moved)
        else:
            rec = p[f"recommendation_{a}"]
            folium.CircleMarker(
                [lat, lon], radius=2, color=colors.get(rec, "#999"), weight=0, fill=True, fill_opacity=0.6, tooltip=rec
            ).add_to(same)
    same.add_to(m)
    moved.add_to(m)
    _legend(
        m,
        [("<span style='color:#b71c1c'>◯</span>", f"recommendation changes from {a} to {b}")]
        + [(f"<span style='color:{c}'>●</span>", v) for v, c in colors.items()],
    )
    _facilities(m, engine, "stroke_center", "stroke centers")
    return save_map(m, path)
