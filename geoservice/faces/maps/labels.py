"""Labels on the offline folium maps: the bundle's road and place labels, admin unit names at a
point inside the part of each unit that has roads, and names beside markers, all drawn by
``faces/web/static/basemap_labels.js`` (text appearing with zoom, collisions skipped)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import shapely
from branca.element import MacroElement
from jinja2 import Template  # what branca.element.Template is
from shapely.ops import polylabel

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from ...bundle.store import Region

__all__ = ["MapLabel", "LabelLayer", "admin_label_features", "network_outline", "label_layer"]

ADMIN_MINZOOM, ADMIN_MAXZOOM = 9, 16
ADMIN_RANK = 12  # after city and town names, before smaller places and roads (bundle.labels)


@dataclass(frozen=True)
class MapLabel:
    """A name beside a marker (``side="right"``, ``dx`` px right of it), or with ``obstacle``
    = (w, h) a marker's box that other labels keep clear of (centre ``dx``, ``dy`` px off)."""

    lat: float
    lon: float
    name: str | None = None
    note: str | None = None
    rank: int | None = None  # default: 0 for names, before them for obstacles
    minzoom: int | None = None
    side: str | None = None
    dx: float | None = None
    dy: float | None = None
    obstacle: tuple[float, float] | None = None
    group: str | None = None  # JS name of the layer it belongs to: hidden while that layer is off

    def to_js(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def admin_label_features(region: Region, *, within: BaseGeometry | None = None) -> list[dict[str, Any]]:
    """Label features (class "admin") of the bundle's admin units (extra/admin_units.geojson):
    each at the pole of inaccessibility of the largest piece of the unit inside ``within`` (the
    road network's outline), so a district named on the map is named where its roads are."""
    path = Path(region.path) / "extra" / "admin_units.geojson"
    if not path.is_file():
        return []
    out = []
    for f in json.loads(path.read_text(encoding="utf-8")).get("features", []):
        props = f.get("properties") or {}
        name = props.get("name")
        if not name or not f.get("geometry"):
            continue
        geom = shapely.make_valid(shapely.geometry.shape(f["geometry"]))
        if within is not None:
            geom = geom.intersection(within)
        polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
        if not polys:
            continue
        big = max(polys, key=lambda g: g.area)
        p = polylabel(big, tolerance=max(big.length / 400, 1e-5))
        label = {
            "kind": "label",
            "class": "admin",
            "sub": "",
            "name": str(name),
            "minzoom": ADMIN_MINZOOM,
            "maxzoom": ADMIN_MAXZOOM,
            "rank": ADMIN_RANK,
        }
        for key in ("name_zh", "name_en"):
            v = props.get(key) or props.get(key.replace("_", ":"))
            if v:
                label[key] = str(v)
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(p.x, 6), round(p.y, 6)]},
                "properties": label,
            }
        )
    return out


def network_outline(features: list[dict[str, Any]]) -> BaseGeometry | None:
    """The road network's outline polygon of a basemap (None when it has none)."""
    for f in features:
        if (f.get("properties") or {}).get("kind") == "outline" and f.get("geometry"):
            return shapely.make_valid(shapely.geometry.shape(f["geometry"]))
    return None


class LabelLayer(MacroElement):
    """Draws basemap label features and marker labels on the map (after it is created)."""

    _template = Template("""{% macro script(this, kwargs) %}
    BasemapLabels.add({{ this._parent.get_name() }}, {"type": "FeatureCollection", "features": {{ this.features|tojson }}}, {lang: {{ this.lang|tojson }}, group: {{ this.group|tojson }}});
    BasemapLabels.addPoints({{ this._parent.get_name() }}, {{ this.points|tojson }});
    {% endmacro %}""")

    def __init__(self, features: list[dict[str, Any]], points: list[MapLabel], *, lang: str, group: str | None = None):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "LabelLayer"
        self.features = features
        self.group = group
        self.points = [p.to_js() for p in points]
        self.lang = lang

    def add_points(self, points: list[MapLabel]) -> None:
        self.points.extend(p.to_js() for p in points)


def label_layer(m: folium.Map) -> LabelLayer | None:
    """The map's LabelLayer (added by ``base.add_basemap``), None when it has none."""
    for child in m._children.values():
        if isinstance(child, LabelLayer):
            return child
    return None
