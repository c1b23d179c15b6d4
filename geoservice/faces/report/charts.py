"""The plan report's charts (matplotlib, PNG, sized for an A4 page): targets met per county, the
Lorenz curves, the AED week heat map, one county's figures against their targets and its map
drawn from our own bundle (roads, water, admin outlines, facilities, proposed sites).

Chinese text needs a CJK font: :func:`cjk_font` finds Noto Sans CJK (Debian ``fonts-noto-cjk``,
installed with Chromium by scripts/test.sh) and registers it with matplotlib; without one the
report fails with a message saying what to install (county names are Chinese in both languages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import GeoserviceError
from .text import figure_label, t

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from shapely.geometry.base import BaseGeometry

    BaseFeature = tuple[str, bool, BaseGeometry]

__all__ = ["cjk_font", "targets_chart", "lorenz_chart", "week_chart", "unit_chart", "unit_map", "basemap", "FONT_FILES"]

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
DPI = 130
MET, NOT_MET = "#2e7d32", "#c62828"
TYPE_STYLE = {  # facility type -> (colour, marker, size, legend key)
    "chest_pain_center": ("#c62828", "o", 70, "legend_cpc"),
    "stroke_center": ("#6a1b9a", "s", 60, "legend_stroke"),
    "ems_station": ("#1565c0", "^", 60, "legend_ems"),
    "aed": ("#2e7d32", "P", 50, "legend_aed"),
}
_FONT: list[str] = []


def cjk_font() -> str:
    """The family name of a registered CJK font (registered once); a clear error without one."""
    if _FONT:
        return _FONT[0]
    from matplotlib import font_manager

    for f in FONT_FILES:
        if Path(f).is_file():
            font_manager.fontManager.addfont(f)
            name = font_manager.FontProperties(fname=f).get_name()
            _FONT.append(name)
            return name
    raise GeoserviceError(
        None,
        "the report needs a CJK font for its charts and none was found (looked for "
        f"{', '.join(FONT_FILES[:2])}): install it (Debian: apt-get install fonts-noto-cjk)",
    )


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": [cjk_font(), "DejaVu Sans"],
            "font.size": 10,
            "axes.unicode_minus": False,
            "svg.fonttype": "none",
        }
    )
    return plt


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout(pad=0.4)  # laid out from text extents: one rendering, not two as bbox_inches="tight"
    fig.savefig(path, dpi=DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)


def targets_chart(path: Path, units: list[dict[str, Any]], targets: list[dict[str, Any]], lang: str) -> None:
    """Per target, the counties meeting it and those not (horizontal stacked bars)."""
    plt = _plt()
    keys = [tg["key"] for tg in targets]
    met = [sum(1 for u in units for f in u["figures"] if f["key"] == k and f["met"] is True) for k in keys]
    miss = [sum(1 for u in units for f in u["figures"] if f["key"] == k and f["met"] is False) for k in keys]
    labels = [figure_label(k, lang) for k in keys]
    fig, ax = plt.subplots(figsize=(10, 0.34 * len(keys) + 1.0))
    y = range(len(keys))
    ax.barh(y, met, color=MET, label=t("units_met_n", lang))
    ax.barh(y, miss, left=met, color=NOT_MET, label=t("units_not_met_n", lang))
    for i, (a, b) in enumerate(zip(met, miss)):
        if a:
            ax.text(a / 2, i, str(a), va="center", ha="center", color="white", fontsize=10, fontweight="bold")
        if b:
            ax.text(a + b / 2, i, str(b), va="center", ha="center", color="white", fontsize=10, fontweight="bold")
    ax.set_yticks(list(y), labels, fontsize=10)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1, max(a + b for a, b in zip(met, miss))))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(t("units_meeting", lang), fontsize=12, loc="left")
    ax.legend(loc="lower right", fontsize=9, frameon=False, bbox_to_anchor=(1, 1.0), ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)


def lorenz_chart(path: Path, equity: list[dict[str, Any]], lang: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 4.3))
    ax.plot([0, 1], [0, 1], color="#777", lw=1, ls="--", label=t("equality", lang))
    for e, c in zip(equity, ("#c62828", "#2e7d32", "#1565c0")):
        xs, ys = zip(*e["lorenz"])
        g = "—" if e["gini"] is None else f"{e['gini']:.3f}"
        ax.plot(xs, ys, marker="o", ms=3, color=c, label=f"{figure_label(e['measure'], lang)}\n{t('gini', lang)} {g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(t("lorenz_x", lang))
    ax.set_ylabel(t("lorenz_y", lang))
    ax.set_title(t("lorenz", lang), fontsize=12, loc="left")
    ax.legend(fontsize=7.5, loc="lower right", frameon=False)
    _save(fig, path)


def week_chart(path: Path, week: dict[str, Any], lang: str) -> None:
    import numpy as np

    plt = _plt()
    m = np.array(week["matrix"], float) * 100
    fig, ax = plt.subplots(figsize=(9, 2.7))
    im = ax.imshow(m, aspect="auto", cmap="viridis", vmin=0, vmax=max(float(m.max()), 1e-9))
    ax.set_yticks(range(7), t("day_names", lang).split(","))
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_xlabel(t("hour", lang))
    ax.set_title(t("aed_week", lang), fontsize=12, loc="left")
    fig.colorbar(im, ax=ax, label=t("pct_reached", lang), shrink=0.9)
    _save(fig, path)


def unit_chart(path: Path, unit: dict[str, Any], lang: str) -> None:
    """Each figure with a target as a share of its target (100% = met), capped at 150%."""
    plt = _plt()
    figs = [f for f in unit["figures"] if f["target"] is not None and f["value"] is not None]
    fig, ax = plt.subplots(figsize=(7.3, 0.17 * max(1, len(figs)) + 0.65))
    vals = [min(150.0, 100 * f["value"] / f["target"]) if f["target"] else 150.0 for f in figs]
    ax.barh(range(len(figs)), vals, color=[MET if f["met"] else NOT_MET for f in figs])
    ax.axvline(100, color="black", lw=1)
    for i, v in enumerate(vals):
        ax.text(min(v, 150) + 2, i, f"{v:.0f}%", va="center", fontsize=7)
    ax.set_yticks(range(len(figs)), [figure_label(f["key"], lang) for f in figs], fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 165)
    ax.set_xlabel(t("pct_of_target", lang), fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)


def basemap(region_path: Path) -> list[BaseFeature]:
    """(kind, major, shapely geometry) of the bundle's roads and water, read once per report."""
    import shapely.geometry

    bm = region_path / "basemap.geojson"
    feats = json.loads(bm.read_text(encoding="utf-8"))["features"] if bm.is_file() else []
    out = []
    for f in feats:
        kind = f["properties"].get("kind")
        if f.get("geometry") and kind in ("road", "water"):
            major = f["properties"].get("class") in ("motorway", "trunk", "primary")
            out.append((kind, major, shapely.geometry.shape(f["geometry"])))
    return out


def _road_extent(bounds: tuple[float, float, float, float], base: list[BaseFeature]) -> tuple[float, ...]:
    """The county's bounds cut to the road extract's (浦东新区: 1.2% of it is inside), when they overlap."""
    x0, y0, x1, y1 = bounds
    roads = [shp.bounds for kind, _, shp in base if kind == "road"]
    if roads:
        rx0, ry0 = min(b[0] for b in roads), min(b[1] for b in roads)
        rx1, ry1 = max(b[2] for b in roads), max(b[3] for b in roads)
        if rx0 < x1 and ry0 < y1 and rx1 > x0 and ry1 > y0:
            return max(x0, rx0), max(y0, ry0), min(x1, rx1), min(y1, ry1)
    return x0, y0, x1, y1


def _draw_base(ax: Axes, base: list[BaseFeature], box: BaseGeometry) -> None:
    """Water filled, minor and major roads as two line collections, of what meets ``box``."""
    import shapely
    from matplotlib.collections import LineCollection

    lines: dict[bool, list[Any]] = {True: [], False: []}
    for kind, major, shp in base:
        if not shp.intersects(box):
            continue
        if kind == "water":
            for p in getattr(shp, "geoms", [shp]):
                if p.geom_type == "Polygon":
                    ax.fill(*p.exterior.xy, color="#b3d4f0", lw=0, zorder=1)
        else:
            lines[major] += [shapely.get_coordinates(ln) for ln in getattr(shp, "geoms", [shp])]
    ax.add_collection(LineCollection(lines[False], colors="#d0d0d0", linewidths=0.5, zorder=2))
    ax.add_collection(LineCollection(lines[True], colors="#9e9e9e", linewidths=1.1, zorder=2))


def unit_map(
    path: Path,
    base: list[BaseFeature],
    units_gdf: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    code: str,
    sites: list[dict[str, Any]],
    lang: str,
) -> None:
    """The county drawn from the bundle: roads and water of basemap.geojson, every admin outline
    (this one bold), facilities by type, proposed sites as stars; ODbL attribution on the image."""
    import math

    import shapely.geometry

    plt = _plt()
    row = units_gdf[units_gdf["admin_code"].astype(str) == str(code)]
    geom = row.geometry.iloc[0] if len(row) else None
    if geom is None:
        geom = shapely.geometry.box(*units_gdf.total_bounds)
    x0, y0, x1, y1 = _road_extent(geom.bounds, base)
    pad = 0.08 * max(x1 - x0, y1 - y0)
    box = shapely.geometry.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    aspect = (x1 - x0 + 2 * pad) * math.cos(math.radians((y0 + y1) / 2)) / (y1 - y0 + 2 * pad)
    fig, ax = plt.subplots(figsize=(min(9.0, max(4.0, 5.6 * aspect)), 5.6))  # the county's shape
    _draw_base(ax, base, box)
    for g in units_gdf.geometry:
        if g is not None:
            for p in getattr(g, "geoms", [g]):
                ax.plot(*p.exterior.xy, color="#757575", lw=0.8, ls="--", zorder=3)
    for p in getattr(geom, "geoms", [geom]):
        ax.plot(*p.exterior.xy, color="#212121", lw=2.2, zorder=4)
    for ftype, (color, marker, size, key) in TYPE_STYLE.items():
        sel = facilities[facilities["type"] == ftype]
        if len(sel):
            ax.scatter(
                sel.geometry.x,
                sel.geometry.y,
                c=color,
                marker=marker,
                s=size,
                zorder=5,
                edgecolors="white",
                linewidths=0.6,
                label=t(key, lang),
            )
    if sites:
        ax.scatter(
            [s["lon"] for s in sites],
            [s["lat"] for s in sites],
            marker="*",
            s=120,
            c="#ff8f00",
            edgecolors="black",
            linewidths=0.5,
            zorder=6,
            label=t("legend_new", lang),
        )
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", fontsize=9, framealpha=0.85)
    ax.text(
        0.995,
        0.005,
        t("osm_short", lang),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
    )
    _save(fig, path)
