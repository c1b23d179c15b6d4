"""Offline folium maps: Leaflet inlined (no CDN, no tiles), our own water, roads, network outline,
admin units and labels (road, place and district names appearing with zoom) from the region
bundle, ODbL attribution. Shared by ``publish`` and the analysis maps so that every map we write
opens without a network."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template  # what branca.element.Template is

if TYPE_CHECKING:
    from ...bundle.store import Region
    from .labels import LabelLayer

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
# folium's popups call jQuery's $(html) and $(document).ready: this is all they need
JQUERY_SHIM = """window.$ = window.$ || function (x) {
  if (x === document) return {ready: function (f) { if (document.readyState !== "loading") f(); else document.addEventListener("DOMContentLoaded", f); }};
  var t = document.createElement("template"); t.innerHTML = String(x).trim(); return [t.content.firstChild];
};"""
MAJOR = ("motorway", "trunk", "primary")


def inline_leaflet(*, lang: str | None = None) -> str:
    """Leaflet, its CSS (images as data: URLs) and our label renderer, inlined; with ``lang="zh"``
    the scale bar and zoom buttons speak Chinese."""
    css = (STATIC / "leaflet.css").read_text(encoding="utf-8")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode((STATIC / img).read_bytes()).decode()
        css = css.replace(f"url({img})", f"url(data:image/png;base64,{data})")
    js = (STATIC / "leaflet.js").read_text(encoding="utf-8")
    labels = (STATIC / "basemap_labels.js").read_text(encoding="utf-8")
    local = f"<script>BasemapLabels.localizeControls({json.dumps(lang)});</script>" if lang else ""
    return (
        f"<style>{css}</style>\n<script>{js}</script>\n<script>{JQUERY_SHIM}</script>\n<script>{labels}</script>{local}"
    )


class Attribution(MacroElement):
    _template = Template("""{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
    {% endmacro %}""")

    def __init__(self, text: str):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self.text = text


def figure(m: folium.Map) -> Figure:
    """The HTML page a folium map renders into (its header, html and title)."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def offline_map(
    region: Region, *, zoom_start: int = 12, attribution: str = ATTRIBUTION, lang: str | None = None
) -> folium.Map:
    """A folium map fitted to the region, with Leaflet inlined and no tile layer; ``lang`` (zh /
    en) is the language of its controls and of the page."""
    x0, y0, x1, y1 = region.bbox
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=zoom_start,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,  # the region fills the page (and the print PNG) instead of a whole zoom step less
    )
    m.default_js = []
    m.default_css = []
    figure(m).header.add_child(Element(inline_leaflet(lang=lang)), name="gs_inline_leaflet")
    if lang:
        figure(m).header.add_child(
            Element(
                f"<script>document.documentElement.lang = {json.dumps('zh-CN' if lang == 'zh' else lang)};</script>"
            ),
            name="gs_lang",
        )
    m.fit_bounds([[y0, x0], [y1, x1]], padding=(20, 20))
    Attribution(attribution).add_to(m)
    return m


def add_basemap(
    m: folium.Map, region: Region, *, name: str = "Roads, water, admin units", lang: str = "local"
) -> LabelLayer:
    """Water, network outline, major roads and admin units from the bundle under one layer, and
    their labels (road, place and district names in ``lang``: zh / en, or "local" for OSM's
    ``name``) drawn by basemap_labels.js. Returns the map's LabelLayer, to which callers add
    names beside their markers."""
    from .labels import LabelLayer, admin_label_features, network_outline

    feats = basemap_features(region)

    def fc(kind: str) -> dict[str, object]:
        return {"type": "FeatureCollection", "features": [f for f in feats if f["properties"].get("kind") == kind]}

    group = folium.FeatureGroup(name=name, control=True)
    folium.GeoJson(
        fc("outline"),
        interactive=False,
        style_function=lambda f: {
            "color": "#7a8aa0",
            "weight": 1.5,
            "dashArray": "6 4",
            "fillColor": "#f4f1ea",
            "fillOpacity": 0.6,
        },
    ).add_to(group)
    folium.GeoJson(
        fc("water"),
        interactive=False,
        style_function=lambda f: {"color": "#6fa8dc", "weight": 1.2, "fillColor": "#a9cbe8", "fillOpacity": 0.8},
    ).add_to(group)
    folium.GeoJson(
        fc("road"),
        interactive=False,
        style_function=lambda f: (
            {"color": "#d9a066", "weight": 2.4}
            if f["properties"].get("class", "").startswith(MAJOR)
            else {"color": "#bdb6a8", "weight": 1.3}
        ),
    ).add_to(group)
    units_path = Path(region.path) / "extra" / "admin_units.geojson"
    if units_path.is_file():
        units = json.loads(units_path.read_text(encoding="utf-8"))
        folium.GeoJson(
            units,
            style_function=lambda f: {"color": "#8e6c8a", "weight": 1.3, "dashArray": "8 3 2 3", "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(group)
    group.add_to(m)
    labels = [f for f in feats if f["properties"].get("kind") == "label"]
    labels += admin_label_features(region, within=network_outline(feats))
    layer = LabelLayer(labels, [], lang=lang, group=group.get_name())
    layer.add_to(m)
    return layer


def basemap_features(region: Region) -> list[dict[str, Any]]:
    """The features of the bundle's basemap.geojson ([] for a bundle without one)."""
    bm = Path(region.path) / "basemap.geojson"
    if not bm.is_file():
        return []
    features: list[dict[str, Any]] = json.loads(bm.read_text(encoding="utf-8"))["features"]
    return features
