"""Offline maps of the plans' analyses: the targets per admin unit (with the stroke quality tiers)
and the triage change between two traffic scenarios. Built on ``maps_analyses`` (same base map,
markers, legend), every string in ``lang`` (``maps.analysis_text``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analyses import _facilities, _features, _get, _legend, _tooltip, base_map, save_map
from .analysis_text import DEFAULT_LANG, mt, value

if TYPE_CHECKING:
    from ...engine.engine import Engine

__all__ = ["targets_map", "change_map", "TARGET_COLORS"]

TARGET_COLORS = {0: "#c62828", 1: "#ef6c00", 2: "#f9a825", 3: "#2e7d32"}


def _action(tiers: object, lang: str) -> str:
    """The tiers' action field in ``lang`` (``action_zh`` when the layer has it)."""
    first = _features(tiers)[0]["properties"]
    return "action_zh" if lang == "zh" and "action_zh" in first else "action"


def targets_map(
    engine: Engine, report: object, path: str | Path, *, tiers: dict[str, Any] | None = None, lang: str = DEFAULT_LANG
) -> Path:
    """Choropleth of the plan's targets per admin unit (targets met, of those that apply), with the
    figures in each unit's tooltip; ``tiers`` (GeoJSON) adds the stroke quality tiers."""
    import folium

    feats = [f for f in _features(_get(report, "layer")) if f.get("geometry")]
    m = base_map(engine.region, title=mt(lang, "targets_title"), note=_get(report, "method") or "", lang=lang)

    def style(f: dict[str, Any]) -> dict[str, object]:
        p = f["properties"]
        missed = p["targets_applicable"] - p["targets_met"]
        return {"color": "#333", "weight": 1, "fillOpacity": 0.45, "fillColor": TARGET_COLORS[max(0, 3 - missed)]}

    fields = ["name", "targets_met", "targets_applicable", "stroke_centers", "cpc_share", "grassroots_share"]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=mt(lang, "targets_layer", n=len(feats)),
        style_function=style,
        tooltip=_tooltip(fields, lang) if feats else None,
    ).add_to(m)
    tier_rows = []
    if tiers and _features(tiers):
        demo = any(f["properties"].get("demo") for f in _features(tiers))
        folium.GeoJson(
            tiers,
            name=mt(lang, "tiers_layer") + (mt(lang, "demo_rates") if demo else ""),
            style_function=lambda f: {
                "color": f["properties"]["color"],
                "weight": 4,
                "dashArray": "8 6",
                "fill": False,
            },
            tooltip=_tooltip(["name", "thrombolysis_rate_pct", "tier_label", _action(tiers, lang), "demo"], lang),
        ).add_to(m)
        seen = {f["properties"]["tier_label"]: f["properties"] for f in _features(tiers)}
        tag = mt(lang, "demo_short") if demo else ""
        tier_rows = [
            (
                f"<span style='color:{p['color']}'>┅</span>",
                mt(
                    lang,
                    "tier_row",
                    label=label,
                    action=p.get("action_zh") or p["action"] if lang == "zh" else p["action"],
                    tag=tag,
                ),
            )
            for label, p in seen.items()
        ]
    _facilities(m, engine, "stroke_center", mt(lang, "stroke_centers"), color="#6a1b9a", lang=lang)
    _facilities(m, engine, "chest_pain_center", mt(lang, "cp_centers"), lang=lang)
    _legend(
        m,
        [
            (f"<span style='display:inline-block;width:18px;height:12px;background:{c}'></span>", text)
            for c, text in (
                (TARGET_COLORS[3], mt(lang, "all_met")),
                (TARGET_COLORS[2], mt(lang, "one_missed")),
                (TARGET_COLORS[1], mt(lang, "two_missed")),
                (TARGET_COLORS[0], mt(lang, "three_missed")),
            )
        ]
        + tier_rows,
    )
    return save_map(m, path)


def change_map(engine: Engine, comparison: object, path: str | Path, lang: str = DEFAULT_LANG) -> Path:
    """Triage under two scenarios: the locations whose recommendation changes and the changed area."""
    import folium

    a, b = _get(comparison, "scenarios")
    feats = _features(_get(comparison, "layer"))
    area = _features(_get(comparison, "changed_area"))
    m = base_map(
        engine.region,
        title=mt(
            lang,
            "change_title",
            a=value(lang, a),
            b=value(lang, b),
            n=_get(comparison, "changed_locations"),
            km2=_get(comparison, "changed_area_km2"),
        ),
        note=_get(comparison, "method") or "",
        lang=lang,
    )
    if area:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": area},
            name=mt(lang, "change_area"),
            style_function=lambda f: {"color": "#b71c1c", "weight": 2, "fillColor": "#ff5252", "fillOpacity": 0.3},
        ).add_to(m)
    colors = {"direct_evt": "#2ca02c", "drip_and_ship": "#ff7f0e", "ivt_only": "#1f77b4", "unreachable": "#000"}
    same = folium.FeatureGroup(name=mt(lang, "unchanged"), show=True)
    moved = folium.FeatureGroup(name=mt(lang, "changed"), show=True)
    for f in feats:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"][:2]
        if p["changed"]:
            folium.CircleMarker(
                [lat, lon],
                radius=4,
                color="#b71c1c",
                weight=2,
                fill=True,
                fill_color="#fff",
                tooltip=value(lang, p["change"]),
            ).add_to(moved)
        else:
            rec = p[f"recommendation_{a}"]
            folium.CircleMarker(
                [lat, lon],
                radius=2,
                color=colors.get(rec, "#999"),
                weight=0,
                fill=True,
                fill_opacity=0.6,
                tooltip=value(lang, rec),
            ).add_to(same)
    same.add_to(m)
    moved.add_to(m)
    _legend(
        m,
        [("<span style='color:#b71c1c'>◯</span>", mt(lang, "change_lg", a=value(lang, a), b=value(lang, b)))]
        + [(f"<span style='color:{c}'>●</span>", value(lang, v)) for v, c in colors.items()],
    )
    _facilities(m, engine, "stroke_center", mt(lang, "stroke_centers"), lang=lang)
    return save_map(m, path)
