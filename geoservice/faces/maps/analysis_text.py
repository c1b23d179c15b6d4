"""Every string the analysis maps show (coverage, siting, 531 grid, triage, timeline, targets, triage
change, AED week), in Chinese and English (``--lang`` of the analysis commands): titles, layer
names, legends, tooltips, and the values and field names the tooltips show. One table, so a test
can check that a Chinese map carries none of the English strings (tests/test_map_languages.py)."""

from __future__ import annotations

import re
from typing import Final

from .i18n import DEFAULT_LANG, LANGS

__all__ = ["LANGS", "DEFAULT_LANG", "DAYS", "mt", "value", "field", "fac_name", "demo_tag", "objective", "reason"]

TEXT: Final[dict[str, dict[str, str]]] = {
    "attribution": {
        "zh": "道路与兴趣点 © OpenStreetMap 贡献者，ODbL 1.0",
        "en": "Roads and POIs © OpenStreetMap contributors, ODbL 1.0",
    },
    "notice": {
        "zh": "边界未经审图（无审图号）；演示指定并非真实认证",
        "en": "Boundaries are not an officially reviewed map (审图号); demo designations are not real certifications",
    },
    "method": {"zh": "方法与数据来源（英文）", "en": "Method and sources"},
    "basemap": {"zh": "道路、水系与行政区", "en": "Roads, water, admin units"},
    # coverage
    "cov_title": {
        "zh": "{m} 分钟{profile}可达{type}（{scen}）：{pop}",
        "en": "{type} within {m} min ({profile}, {scen}): {pop}",
    },
    "pop_share": {"zh": "人口覆盖 {share}{counts}", "en": "population share {share}{counts}"},
    "pop_counts": {"zh": "（{total} 人中 {covered} 人）", "en": " ({covered} of {total})"},
    "no_pop": {"zh": "无人口数据", "en": "no population data"},
    "gaps": {"zh": "覆盖空白区（{n}）", "en": "coverage gaps ({n})"},
    "farthest": {"zh": "最远的有人口地点（{n}）", "en": "farthest populated points ({n})"},
    "farthest_tip": {"zh": "用时 {t} 秒，人口 {p}", "en": "time {t} s, population {p}"},
    "added": {"zh": "新增站点（假设）（{n}）", "en": "added sites, what-if ({n})"},
    "added_one": {"zh": "新增站点（假设）", "en": "added site (what-if)"},
    "not_reached": {"zh": "{m} 分钟内无法到达", "en": "not reached within {m} min"},
    "none_suffix": {"zh": "：无", "en": ": none"},
    "existing": {"zh": "现有{type}", "en": "existing {type}"},
    "farthest_lg": {"zh": "最远的有人口地点", "en": "farthest populated points"},
    # siting
    "site_title": {
        "zh": "{model}：新增 {n} 个{type}，{m} 分钟覆盖 {before} → {after}",
        "en": "{model}: {n} new {type} sites, {m} min share {before} -> {after}",
    },
    "site_title_nopop": {
        "zh": "{model}：新增 {n} 个{type}，无人口数据",
        "en": "{model}: {n} new {type} sites, no population data",
    },
    "aed_site_title": {
        "zh": "新增 {n} 台 AED（{objective}）：覆盖 {before} → {after}",
        "en": "{n} new AEDs ({objective}): {unit} {before} -> {after}",
    },
    "ems_site_title": {
        "zh": "{model}：{m} 分钟内新增 {n} 个急救站",
        "en": "{model}: {n} new EMS stations within {m} min",
    },
    "new_sites": {"zh": "选定的新站点（{n}）", "en": "selected new sites ({n})"},
    "new_tip": {"zh": "第 {i} 名 {name}：新增覆盖 {gained} 人", "en": "#{i} {name}: +{gained} people"},
    "new_lg": {"zh": "新站点（按新增覆盖人口排名）", "en": "new site (rank by population gained)"},
    # 531 grid
    "grid_title": {"zh": "531 网络：按车程连接", "en": "531 grid: links by drive time"},
    "links": {"zh": "连接（{n}）", "en": "links ({n})"},
    "not_linked": {"zh": "未连接（{n}）", "en": "not linked ({n})"},
    "not_linked_lg": {"zh": "未连接", "en": "not linked"},
    "link_tip": {"zh": "{a} → {b}：{m} 分钟", "en": "{a} → {b}: {m} min"},
    # triage / timeline
    "triage_title": {"zh": "卒中分诊：先溶栓后转运与直接取栓对比", "en": "Stroke triage: drip-and-ship vs direct EVT"},
    "timeline_title": {"zh": "卒中救治 3 个 1 小时时间线", "en": "3 x 1 hour stroke timeline"},
    "points_layer": {"zh": "{field}：{value}（{n}）", "en": "{field} = {value} ({n})"},
    "stroke_centers": {"zh": "卒中中心", "en": "stroke centers"},
    "cp_centers": {"zh": "胸痛中心", "en": "chest pain centers"},
    # targets
    "targets_title": {"zh": "各行政区规划目标达成情况", "en": "the plan's targets by admin unit"},
    "targets_layer": {"zh": "目标达成（{n} 个行政区）", "en": "targets met ({n} units)"},
    "tiers_layer": {"zh": "卒中质量分级（溶栓率）", "en": "stroke quality tiers (thrombolysis rate)"},
    "demo_rates": {"zh": " [演示数据，虚构比例]", "en": " [DEMO rates, invented]"},
    "demo_short": {"zh": " [演示]", "en": " [DEMO]"},
    "tier_row": {"zh": "溶栓率 {label}：{action}{tag}", "en": "thrombolysis {label}: {action}{tag}"},
    "all_met": {"zh": "全部目标达成", "en": "every target met"},
    "one_missed": {"zh": "未达成 1 项", "en": "one target missed"},
    "two_missed": {"zh": "未达成 2 项", "en": "two missed"},
    "three_missed": {"zh": "未达成 3 项", "en": "three missed"},
    # triage change
    "change_title": {
        "zh": "卒中分诊 {a} 与 {b} 对比：{n} 个地点改变（{km2} 平方公里）",
        "en": "stroke triage {a} vs {b}: {n} locations change ({km2} km²)",
    },
    "change_area": {"zh": "分诊建议改变的区域", "en": "area where the recommendation changes"},
    "unchanged": {"zh": "未改变（颜色：分诊建议）", "en": "unchanged (colour: recommendation)"},
    "changed": {"zh": "已改变", "en": "changed"},
    "change_lg": {"zh": "分诊建议由{a}变为{b}", "en": "recommendation changes from {a} to {b}"},
    # AED week
    "week_demand": {"zh": "可达需求占比（%）", "en": "% of demand within reach"},
    "week_open": {"zh": "当时开放的 AED", "en": "AEDs open then"},
    "week_open_unknown": {"zh": "当时开放或开放时间未知的 AED", "en": "AEDs open or of unknown hours then"},
    "week_title": {
        "zh": "{region}：步行 {m} 分钟内可达 AED 的需求，{week} 所在周",
        "en": "{region}: demand within {m} min on foot of an AED, week of {week}",
    },
    "week_cells": {"zh": "每格为可达需求占比（%）", "en": "each cell: % of the demand within reach"},
    "week_all": {"zh": "全周", "en": "week"},
}

DAYS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}

# the values a map shows (types, profiles, scenarios, triage recommendations, timeline statuses, tiers)
VALUES: Final[dict[str, dict[str, str]]] = {
    "chest_pain_center": {"zh": "胸痛中心", "en": "chest pain center"},
    "stroke_center": {"zh": "卒中中心", "en": "stroke center"},
    "aed": {"zh": "AED", "en": "AED"},
    "ems_station": {"zh": "急救站", "en": "EMS station"},
    "grassroots_unit": {"zh": "基层胸痛救治单元", "en": "grassroots chest pain unit"},
    "hospital": {"zh": "医院", "en": "hospital"},
    "drive": {"zh": "车程", "en": "drive"},
    "walk": {"zh": "步行", "en": "walk"},
    "free_flow": {"zh": "畅通", "en": "free_flow"},
    "off_peak": {"zh": "平峰", "en": "off_peak"},
    "peak": {"zh": "高峰", "en": "peak"},
    "custom": {"zh": "自定义路况", "en": "custom"},
    "direct_evt": {"zh": "直接送取栓中心", "en": "direct_evt"},
    "drip_and_ship": {"zh": "先溶栓后转运", "en": "drip_and_ship"},
    "ivt_only": {"zh": "仅可溶栓", "en": "ivt_only"},
    "unreachable": {"zh": "无法到达", "en": "unreachable"},
    "chain_met": {"zh": "全链条达标", "en": "chain_met"},
    "transport_met": {"zh": "转运达标", "en": "transport_met"},
    "not_met": {"zh": "未达标", "en": "not_met"},
    "grassroots->basic": {"zh": "基层 → 基层版胸痛中心", "en": "grassroots->basic"},
    "basic->standard": {"zh": "基层版 → 标准版胸痛中心", "en": "basic->standard"},
    "unchanged": {"zh": "未改变", "en": "unchanged"},
    "mclp": {"zh": "最大覆盖模型（MCLP）", "en": "MCLP"},
    "lscp": {"zh": "集合覆盖模型（LSCP）", "en": "LSCP"},
    "pmedian": {"zh": "P 中位模型", "en": "PMEDIAN"},
    "mexclp": {"zh": "最大期望覆盖模型（MEXCLP）", "en": "mexclp"},
    "backup": {"zh": "双重覆盖模型", "en": "backup"},
    "standard": {"zh": "标准版", "en": "standard"},
    "advanced": {"zh": "高级卒中中心", "en": "advanced"},
    "center": {"zh": "卒中防治中心", "en": "center"},
    "station": {"zh": "基层卒中防治站", "en": "station"},
    "basic": {"zh": "基层版", "en": "basic"},
    "True": {"zh": "是", "en": "True"},
    "true": {"zh": "是", "en": "true"},
    "false": {"zh": "否", "en": "false"},
    "False": {"zh": "否", "en": "False"},
}

# tooltip field names
FIELDS: Final[dict[str, str]] = {
    "recommendation": "分诊建议",
    "status": "状态",
    "population": "人口",
    "ivt_center": "溶栓中心",
    "evt_center": "取栓中心",
    "t_ivt_min": "至溶栓中心（分钟）",
    "t_evt_min": "至取栓中心（分钟）",
    "extra_min": "多用时间（分钟）",
    "needle_ds_min": "溶栓时间·转运方案（分钟）",
    "needle_direct_min": "溶栓时间·直送方案（分钟）",
    "evt_arrival_ds_min": "到达取栓·转运方案（分钟）",
    "evt_arrival_direct_min": "到达取栓·直送方案（分钟）",
    "evt_gain_min": "取栓提前（分钟）",
    "response_min": "急救响应（分钟）",
    "transport_min": "转运（分钟）",
    "to_center_min": "到达中心（分钟）",
    "dtn_min": "入院至溶栓（分钟）",
    "chain_min": "全链条（分钟）",
    "center": "救治中心",
    "area_km2": "面积（平方公里）",
    "max_time_s": "最长用时（秒）",
    "name": "名称",
    "targets_met": "达成目标数",
    "targets_applicable": "适用目标数",
    "stroke_centers": "卒中中心数",
    "cpc_share": "胸痛中心覆盖比例",
    "grassroots_share": "基层单元覆盖比例",
    "thrombolysis_rate_pct": "溶栓率（%）",
    "tier_label": "分级",
    "action": "措施",
    "action_zh": "措施",
    "demo": "演示数据",
    "lon": "经度",
    "lat": "纬度",
}

DEMO_EN = "[DEMO designation]"
DEMO_ZH = "[演示指定]"


def mt(lang: str, key: str, **values: object) -> str:
    """The analysis maps' string ``key`` in ``lang`` with ``{name}`` fields filled in."""
    text = TEXT[key][lang if lang in LANGS else DEFAULT_LANG]
    return text.format(**values) if values else text


def value(lang: str, v: object) -> str:
    """A value as the map shows it in ``lang`` (unknown values as they are: names, numbers)."""
    s = str(v)
    hit = VALUES.get(s)
    if hit is not None:
        return hit[lang]
    if " -> " in s:  # a triage change "drip_and_ship -> direct_evt"
        a, b = s.split(" -> ", 1)
        return f"{value(lang, a)} → {value(lang, b)}"
    return fac_name(lang, s)


# the 531 grid's reasons for a unit left unlinked (analyses.grid531)
REASONS: Final = (
    (re.compile(r"^no (\w+) (\w+) in the (\w+)$"), "{scope}内无{level}{type}"),
    (re.compile(r"^no (\w+) center within ([\d.]+) min$"), "{m} 分钟内无{level}中心"),
    (re.compile(r"^all centers within the threshold are at capacity$"), "阈值内的中心均已满额"),
)
SCOPES: Final = {"county": "本县（区）", "region": "本区域"}


def reason(lang: str, text: str) -> str:
    """Why a unit is not linked, in ``lang``."""
    if lang != "zh":
        return text
    m = REASONS[0][0].match(text)
    if m:
        level, type_, scope = m.groups()
        return REASONS[0][1].format(scope=SCOPES.get(scope, scope), level=value(lang, level), type=value(lang, type_))
    m = REASONS[1][0].match(text)
    if m:
        return REASONS[1][1].format(level=value(lang, m.group(1)), m=m.group(2))
    return REASONS[2][1] if REASONS[2][0].match(text) else text


def field(lang: str, key: str) -> str:
    """A tooltip's field name in ``lang``."""
    return FIELDS.get(key, key) if lang == "zh" else key


def objective(lang: str, obj: str) -> str:
    """An AED siting objective: the whole week, or one hour ("Su03" → 周日 03 时)."""
    if obj == "week":
        return mt(lang, "week_all")
    if lang == "zh" and len(obj) == 4 and obj[:2] in DAYS["en"]:
        return f"{DAYS['zh'][DAYS['en'].index(obj[:2])]} {obj[2:]} 时"
    return obj


def demo_tag(lang: str) -> str:
    return DEMO_ZH if lang == "zh" else DEMO_EN


def fac_name(lang: str, name: object) -> str:
    """A facility's name with its demo tag in ``lang`` (the data carry the English tag)."""
    s = str(name or "")
    return s.replace(DEMO_EN, DEMO_ZH) if lang == "zh" else s
