"""Offline folium maps of analysis results (coverage gaps, 531 links, triage, timeline, siting).

Fully offline (see faces.maps.base): Leaflet inlined, our own roads, water and boundaries.
Every map carries the OpenStreetMap (ODbL) attribution and the population method/source.
"""

from __future__ import annotations

import os
from pathlib import Path

ATTRIBUTION = "Roads and POIs © OpenStreetMap contributors, ODbL 1.0"
MAP_NOTICE = ("Boundaries are not an officially reviewed map (审图号); demo designations are not real "
              "certifications")

__all__ = ["base_map", "save_map", "coverage_map", "links_map", "points_map", "sites_map"]


def base_map(region, *, title: str, note: str = ""):
    """Offline map (inlined Leaflet, our own water/roads/outline/admin units) with a title box."""
    import folium

    from .maps.base import add_basemap, offline_map

    m = offline_map(region, attribution=ATTRIBUTION)
    add_basemap(m, region)
    html = (f"<div style='position:fixed;bottom:8px;left:8px;z-index:9999;background:white;padding:6px;"
            f"font:12px sans-serif;max-width:520px;border:1px solid #aaa'><b>{_esc(title)}</b><br>"
            f"{_esc(note)}<br>{ATTRIBUTION}. {MAP_NOTICE}.</div>")
    m.get_root().html.add_child(folium.Element(html))
    return m


def _esc(s: str) -> str:
    import html
    return html.escape(str(s))


def save_map(m, path: str | Path) -> Path:
    import folium

    folium.LayerControl().add_to(m)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    m.save(str(tmp))
    tmp.replace(path)
    return path


def _facilities(m, engine, type_, name, color="red"):
    import folium

    fac = engine.facilities[engine.facilities["type"] == type_] if type_ else engine.facilities
    g = folium.FeatureGroup(name=name)
    for _, r in fac.iterrows():
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=6, color=color, fill=True, fill_opacity=0.9,
                            tooltip=f"{r['name']} ({r.get('level') or ''})").add_to(g)
    g.add_to(m)


def coverage_map(engine, report: dict, path, *, add_sites=None):
    import folium

    m = base_map(engine.region, title=f"{report['type']} within {report['minutes']:g} min "
                 f"({report['profile']}, {report['scenario']}): population share "
                 f"{report['overall']['population_share']}", note=report["method"])
    folium.GeoJson(report["gaps"], name="coverage gaps",
                   style_function=lambda f: {"color": "#c00", "weight": 1, "fillColor": "#f33", "fillOpacity": 0.35},
                   tooltip=folium.GeoJsonTooltip(["area_km2", "population", "max_time_s"])).add_to(m)
    _facilities(m, engine, report["type"], report["type"])
    g = folium.FeatureGroup(name="farthest populated points")
    for p in report["farthest"]:
        folium.CircleMarker([p["lat"], p["lon"]], radius=4, color="black",
                            tooltip=f"time {p['time_s']} s, population {p['population']}").add_to(g)
    for lon, lat in add_sites or []:
        folium.Marker([lat, lon], tooltip="added site (what-if)").add_to(g)
    g.add_to(m)
    return save_map(m, path)


def links_map(engine, links: list[dict], unlinked: list[dict], path, *, title: str, note: str = ""):
    """Lines from each unit to its assigned center (531 grid)."""
    import folium

    m = base_map(engine.region, title=title, note=note)
    colors = {"grassroots->basic": "#1f77b4", "basic->standard": "#d62728"}
    g = folium.FeatureGroup(name="links")
    for ln in links:
        folium.PolyLine([[ln["from_lat"], ln["from_lon"]], [ln["to_lat"], ln["to_lon"]]],
                        color=colors.get(ln["tier"], "#333"), weight=3,
                        tooltip=f"{ln['from_name']} → {ln['to_name']}: {ln['time_s'] / 60:.1f} min").add_to(g)
        folium.CircleMarker([ln["from_lat"], ln["from_lon"]], radius=4, color=colors.get(ln["tier"], "#333"),
                            tooltip=ln["from_name"]).add_to(g)
        folium.CircleMarker([ln["to_lat"], ln["to_lon"]], radius=7, color="#000", fill=True,
                            tooltip=ln["to_name"]).add_to(g)
    g.add_to(m)
    u = folium.FeatureGroup(name="not linked")
    for r in unlinked:
        folium.Marker([r["lat"], r["lon"]], tooltip=f"{r['name']}: {r['reason']}",
                      icon=folium.Icon(color="red", icon="remove")).add_to(u)
    u.add_to(m)
    return save_map(m, path)


def points_map(engine, fc: dict, path, *, title: str, note: str, field: str, colors: dict[str, str]):
    """Point layer coloured by a categorical ``field`` (triage recommendation, timeline status)."""
    import folium

    m = base_map(engine.region, title=title, note=note)
    for value, color in colors.items():
        g = folium.FeatureGroup(name=f"{field} = {value}")
        for f in fc["features"]:
            if f["properties"].get(field) != value:
                continue
            lon, lat = f["geometry"]["coordinates"]
            tip = ", ".join(f"{k}: {v}" for k, v in f["properties"].items() if v is not None)
            folium.CircleMarker([lat, lon], radius=3, color=color, fill=True, fill_opacity=0.8, weight=0,
                                tooltip=tip[:300]).add_to(g)
        g.add_to(m)
    legend = "".join(f"<span style='color:{c}'>●</span> {_esc(v)} " for v, c in colors.items())
    m.get_root().html.add_child(folium.Element(
        f"<div style='position:fixed;top:8px;right:60px;z-index:9999;background:white;padding:4px;"
        f"font:12px sans-serif'>{legend}</div>"))
    _facilities(m, engine, "stroke_center", "stroke centers")
    return save_map(m, path)


def sites_map(engine, result: dict, path, *, title: str):
    import folium

    m = base_map(engine.region, title=title, note=result.get("method", ""))
    _facilities(m, engine, result["type"], f"existing {result['type']}", color="#555")
    g = folium.FeatureGroup(name="selected new sites")
    for i, s in enumerate(result["added"], 1):
        folium.Marker([s["lat"], s["lon"]], tooltip=f"#{i} {s.get('name', '')}: +{s.get('population_gained')} people",
                      icon=folium.Icon(color="green", icon="plus")).add_to(g)
    g.add_to(m)
    return save_map(m, path)
