"""The stroke quality tiers layer of the published stroke map (``publish --thrombolysis-rates``):
each admin unit matched by the rates file filled with its tier's colour, a tooltip with the rate
and the plan's action, and a legend box; a demo file's rates are named invented on the map face."""

from __future__ import annotations

import html
import logging

import folium
import shapely.geometry
from branca.element import Element

from ...analyses.stroke_tiers import RateRow
from ...service.core import GeoService
from ...service.usecases.plans import thrombolysis_tiers
from .base import figure

__all__ = ["add_tiers_layer", "TIER_TEXT"]

log = logging.getLogger(__name__)

TIER_TEXT = {
    "zh": ("卒中质量分级（静脉溶栓率）", "演示数据：溶栓率为虚构", "溶栓率"),
    "en": ("stroke quality tiers (thrombolysis rate)", "DEMO rates (invented)", "thrombolysis rate"),
}


def add_tiers_layer(m: folium.Map, svc: GeoService, region_name: str, rates: list[RateRow], lang: str) -> None:
    """Stroke quality tiers by admin unit from a thrombolysis rates file (user input; a demo file's
    rates are named invented on the map face): a layer and a legend box, in ``lang``."""
    _, tiers, _, geoms = thrombolysis_tiers(svc, rates, region=region_name, require=False)
    if not tiers:
        log.warning("no row of the thrombolysis rates matches an admin unit of %s: no tiers layer", region_name)
        return
    name, demo_text, rate_text = TIER_TEXT.get(lang, TIER_TEXT["en"])
    demo = any(tr.demo for tr in tiers)
    grp = folium.FeatureGroup(name=name + (f" · {demo_text}" if demo else ""), show=True)
    for tr, g in zip(tiers, geoms):
        action = tr.action_zh if lang == "zh" else tr.action
        tip = f"{tr.name}: {rate_text} {tr.thrombolysis_rate_pct:g}% ({tr.tier_label}) → {action}"
        folium.GeoJson(
            shapely.geometry.mapping(g),
            style_function=lambda f, c=tr.color: {"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.18},
            tooltip=html.escape(tip + (f" [{demo_text}]" if tr.demo else "")),
        ).add_to(grp)
    grp.add_to(m)
    rows = {tr.tier_label: (tr.color, tr.action_zh if lang == "zh" else tr.action) for tr in tiers}
    items = "".join(
        f"<div><span style='display:inline-block;width:14px;height:10px;background:{c};opacity:.6'></span> "
        f"{html.escape(label)}: {html.escape(a)}</div>"
        for label, (c, a) in rows.items()
    )
    box = (
        "<div class='gs-tiers' style='position:fixed;bottom:34px;left:10px;z-index:9999;background:rgba(255,255,255,.95);"
        f"padding:6px 8px;border:1px solid #aaa;border-radius:4px;font:12px/1.4 sans-serif'><b>{html.escape(name)}</b>"
        f"{items}"
        + (f"<div style='color:#b71c1c;font-weight:700'>{html.escape(demo_text)}</div>" if demo else "")
        + "</div>"
    )
    figure(m).html.add_child(Element(box))
