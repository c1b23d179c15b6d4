"""The capacity-aware access (E2SFCA) result as GeoJSON layers and an offline folium map:
admin units shaded by their population-weighted access, demand points by theirs, the facilities
with their capacity and supply ratio. OSM (ODbL) attribution and the method on the map."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ...analyses.access import AccessResult
from ...bundle.population import load_population
from ...engine.engine import Engine

__all__ = ["ACCESS_COLORS", "access_map", "color_of", "facilities_layer", "points_layer", "units_layer"]

# light (low access) to dark (high access): ColorBrewer YlGnBu, 5 classes
ACCESS_COLORS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
NO_ACCESS = "#d7301f"


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def color_of(value: float | None, lo: float, hi: float) -> str:
    """The class colour of an access score (per 100,000): equal intervals from ``lo`` to ``hi``; red for none."""
    if value is None or value <= 0:
        return NO_ACCESS
    if hi <= lo:
        return ACCESS_COLORS[-1]
    k = int((value - lo) / (hi - lo) * len(ACCESS_COLORS))
    return ACCESS_COLORS[max(0, min(len(ACCESS_COLORS) - 1, k))]


def _breaks(lo: float, hi: float) -> list[str]:
    n = len(ACCESS_COLORS)
    step = (hi - lo) / n
    return [f"{lo + i * step:.3g} - {lo + (i + 1) * step:.3g} per 100,000" for i in range(n)]


def units_layer(engine: Engine, res: AccessResult) -> dict[str, Any]:
    """The admin units (polygons, WGS-84) with their access figures and type (urban / rural)."""
    import shapely.geometry

    units = load_population(engine.region, engine.router_for(res.profile).net.name).units
    by_code = {u.admin_code: u for u in res.units}
    feats = []
    for code, g in zip(units["admin_code"].astype(str), units.geometry):
        u = by_code.get(code)
        if u is None or g is None:
            continue
        props = {"admin_code": code, "name": u.name, "unit_type": res.unit_types.get(code), **u.to_json()}
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props})
    return {"type": "FeatureCollection", "method": res.method, "features": feats}


def points_layer(res: AccessResult) -> dict[str, Any]:
    """The demand points (populated network nodes; people off the network at their unit's point)."""
    df = res.points_frame()
    feats = []
    for r in df.to_dict("records"):
        if not (math.isfinite(r["lon"]) and math.isfinite(r["lat"])):
            continue
        props = {k: _clean(v) for k, v in r.items() if k not in ("lon", "lat")}
        feats.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}, "properties": props}
        )
    return {"type": "FeatureCollection", "method": res.method, "features": feats}


def facilities_layer(res: AccessResult) -> dict[str, Any]:
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
            "properties": {k: v for k, v in f.to_json().items() if k not in ("lon", "lat")},
        }
        for f in res.facilities
    ]
    return {"type": "FeatureCollection", "method": res.method, "features": feats}


def access_map(engine: Engine, res: AccessResult, path: str | Path) -> Path:
    """Offline map: units and demand points shaded by access, facilities with their ratio."""
    import folium

    from .analyses import _esc, _legend, base_map, save_map

    overall = f"{res.score_per_100k:.3g} per 100,000" if res.score_per_100k is not None else "no population data"
    m = base_map(
        engine.region,
        title=f"E2SFCA access to {res.type.replace('_', ' ')}s ({res.minutes:g} min, {res.decay}): {overall}",
        note=res.method,
        lang="en",  # its legend and layers are English (not yet in maps.analysis_text)
    )
    layer = units_layer(engine, res)
    scores = [f["properties"]["score_per_100k"] for f in layer["features"] if f["properties"]["score_per_100k"]]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    if layer["features"]:
        folium.GeoJson(
            layer,
            name=f"access by admin unit ({len(layer['features'])})",
            style_function=lambda f: {
                "color": "#333",
                "weight": 1,
                "fillOpacity": 0.5,
                "fillColor": color_of(f["properties"]["score_per_100k"], lo, hi),
            },
            tooltip=folium.GeoJsonTooltip(["name", "score_per_100k", "population", "mean_nearest_min", "unit_type"]),
        ).add_to(m)
    per = res.point_score * 1e5
    g = folium.FeatureGroup(name=f"demand points ({len(per)})", show=False)
    for lon, lat, people, score in zip(res.point_lon, res.point_lat, res.point_population, per):
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        folium.CircleMarker(
            [float(lat), float(lon)],
            radius=3,
            weight=0,
            fill=True,
            fill_opacity=0.8,
            fill_color=color_of(float(score), lo, hi),
            tooltip=f"{people:,.0f} people, {score:.3g} per 100,000",
        ).add_to(g)
    g.add_to(m)
    fg = folium.FeatureGroup(name=f"{res.type.replace('_', ' ')}s ({len(res.facilities)})")
    for f in res.facilities:
        ratio = f"{f.ratio_per_100k:.3g} per 100,000" if f.ratio_per_100k is not None else "no one within reach"
        cap = f"capacity {f.capacity:g}" + ("" if f.capacity_given else " (none given: 1)")
        folium.CircleMarker(
            [f.lat, f.lon],
            radius=7,
            color="#b71c1c",
            fill=True,
            fill_opacity=0.9,
            tooltip=_esc(f"{f.name}: {cap}; {ratio}"),
        ).add_to(fg)
    fg.add_to(m)
    swatch = "<span style='display:inline-block;width:18px;height:12px;background:{}'></span>"
    rows = [(swatch.format(c), text) for c, text in zip(ACCESS_COLORS, _breaks(lo, hi))]
    _legend(m, [(swatch.format(NO_ACCESS), "no facility within the catchment"), *rows, ("", res.capacity_note)])
    return save_map(m, path)
