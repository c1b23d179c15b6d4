"""Every string the published maps show, in Chinese and English (``geoservice publish --lang``),
and the region's display name. One table, so a test can check that a Chinese map carries none of
the English strings."""

from __future__ import annotations

from typing import Any, Final

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"

TEXT: Final[dict[str, dict[str, str]]] = {
    "attribution": {
        "zh": "地图数据 © OpenStreetMap 贡献者，ODbL 1.0 许可",
        "en": "Map data © OpenStreetMap contributors, ODbL 1.0",
    },
    "notice": {
        "zh": "本图未经审图（无审图号），边界与道路来自 OpenStreetMap，仅供规划参考。",
        "en": "Not an officially reviewed map (no 审图号 approval number): boundaries and roads from "
        "OpenStreetMap, for planning only.",
    },
    "basemap_layer": {"zh": "道路、水系与行政区", "en": "Roads, water, admin units"},
    "osm_date": {"zh": "OSM 数据日期 {date}", "en": "OSM data of {date}"},
    "title_chest_pain": {"zh": "胸痛中心分布图", "en": "Chest pain center map"},
    "title_stroke": {"zh": "卒中急救地图", "en": "Stroke emergency map"},
    "cpc_standard": {"zh": "标准版胸痛中心", "en": "Chest pain center (standard)"},
    "cpc_basic": {"zh": "基层版胸痛中心", "en": "Chest pain center (basic)"},
    "stroke_advanced": {"zh": "高级卒中中心", "en": "Advanced stroke center"},
    "stroke_center": {"zh": "卒中防治中心", "en": "Stroke prevention and treatment center"},
    "stroke_station": {"zh": "基层卒中防治站", "en": "Grassroots stroke prevention station"},
    "evt": {"zh": "可取栓（血管内治疗）", "en": "EVT: thrombectomy"},
    "ivt": {"zh": "仅可溶栓", "en": "IVT: thrombolysis only"},
    "ems": {"zh": "急救站", "en": "EMS station"},
    "area": {"zh": "{m} 分钟车程范围", "en": "Reached within {m} min by car"},
    "areas_layer": {"zh": "{m} 分钟车程范围", "en": "{m}-min drive areas"},
    "gap": {"zh": "空白区：{m} 分钟车程内无法到达", "en": "Gap: not reached within {m} min"},
    "gaps_layer": {"zh": "空白区", "en": "Gaps"},
    "demo": {
        "zh": "演示指定：为演示而赋予真实地点的角色，并非真实认证",
        "en": "role given to a real place for the demo, not a real certification",
    },
    "demo_note": {"zh": "[演示指定]", "en": "[DEMO designation]"},
    "population": {
        "zh": "{m} 分钟车程内人口：{covered}，占总人口 {total} 的 {share}",
        "en": "Population within {m} min: {covered} of {total} ({share})",
    },
    "outside": {
        "zh": "人口只计道路数据范围内部分；范围外另有 {n}",
        "en": "People inside the road extract only; {n} more live outside it",
    },
    "no_population": {"zh": "无人口数据", "en": "No population data"},
    "people": {"zh": "{n} 万人", "en": "{n}"},
    "capabilities": {"zh": "能力：{v}", "en": "Capabilities: {v}"},
    "cap_evt": {"zh": "取栓", "en": "EVT (thrombectomy)"},
    "cap_ivt": {"zh": "溶栓", "en": "IVT (thrombolysis)"},
    "address": {"zh": "地址：{v}", "en": "Address: {v}"},
    "status": {"zh": "状态：{v}", "en": "Status: {v}"},
    "source": {"zh": "来源：{v}", "en": "Source: {v}"},
    "certified": {"zh": "已认证", "en": "certified"},
    "in_construction": {"zh": "建设中", "en": "in construction"},
    "planned": {"zh": "规划中", "en": "planned"},
    "unknown": {"zh": "未知", "en": "unknown"},
}


def t(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``{name}`` fields filled in."""
    text = TEXT[key][lang]
    return text.format(**values) if values else text


def display_name(meta: dict[str, Any], lang: str) -> str:
    """The region's display name in ``lang`` (``meta["display_name"]``: {"zh": …, "en": …}), the
    other language's when that one is missing, else the bundle name."""
    names = meta.get("display_name") or {}
    if isinstance(names, str):
        return names
    other = "en" if lang == "zh" else "zh"
    return str(names.get(lang) or names.get(other) or meta.get("name") or "")


def people(n: float, lang: str) -> str:
    """A head count as a reader of ``lang`` writes it: 2487.1 万人 in Chinese, 24,870,895 in English."""
    if lang == "zh":
        return t(lang, "people", n=f"{n / 1e4:.1f}")
    return f"{n:,.0f}"
