"""Every word of the plan report, in Chinese (default) and English."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["LANGS", "T", "t", "figure_label", "value_text", "local_name", "note_text", "target_source"]

LANGS = ("zh", "en")

T: dict[str, dict[str, str]] = {
    "title": {"zh": "急救医疗规划报告", "en": "Emergency care plan report"},
    "summary": {"zh": "全域概要", "en": "Summary of the region"},
    "county": {"zh": "区县", "en": "County"},
    "figure": {"zh": "指标", "en": "Figure"},
    "value": {"zh": "现状", "en": "Now"},
    "target": {"zh": "目标", "en": "Target"},
    "verdict": {"zh": "达标", "en": "Met"},
    "source": {"zh": "来源", "en": "Source"},
    "confidence": {"zh": "可信度", "en": "Confidence"},
    "met": {"zh": "达标", "en": "met"},
    "not_met": {"zh": "未达标", "en": "not met"},
    "no_target": {"zh": "—", "en": "—"},
    "population": {"zh": "人口（路网范围内）", "en": "People (inside the road extract)"},
    "targets_met": {"zh": "达标目标", "en": "Targets met"},
    "units_meeting": {"zh": "各目标达标区县数", "en": "Counties meeting each target"},
    "units_met_n": {"zh": "达标区县", "en": "counties met"},
    "units_not_met_n": {"zh": "未达标区县", "en": "counties not met"},
    "lorenz": {"zh": "洛伦兹曲线", "en": "Lorenz curve"},
    "lorenz_x": {"zh": "累计人口占比", "en": "cumulative share of people"},
    "lorenz_y": {"zh": "累计占比", "en": "cumulative share"},
    "equality": {"zh": "完全均等", "en": "equality"},
    "equity": {"zh": "公平性（各区县间，按人口加权）", "en": "Equity across counties (population-weighted)"},
    "gini": {"zh": "基尼系数", "en": "Gini"},
    "theil": {"zh": "泰尔指数", "en": "Theil"},
    "worst": {"zh": "其中最多者所在区县", "en": "Most of them live in"},
    "worst_decile": {"zh": "最差 10% 人口", "en": "Worst-off 10% (people)"},
    "aed_week": {"zh": "AED 一周覆盖热力图", "en": "AED coverage through the week"},
    "aed_week_caption": {
        "zh": "步行 {minutes:g} 分钟内有开放 AED 的人口占比（%），{week_of} 所在周；开放时间限制损失 {lost} 的人·小时",
        "en": "share of people within {minutes:g} min on foot of an AED open then (%), week of {week_of}; "
        "opening hours cost {lost} of the person-hours",
    },
    "day_names": {"zh": "一,二,三,四,五,六,日", "en": "Mo,Tu,We,Th,Fr,Sa,Su"},
    "hour": {"zh": "时", "en": "hour"},
    "pct_reached": {"zh": "覆盖人口 %", "en": "% of people reached"},
    "map": {"zh": "地图", "en": "Map"},
    "figures_vs_targets": {"zh": "各项指标与目标（现状 / 目标，%）", "en": "Figures against targets (now / target, %)"},
    "pct_of_target": {"zh": "达到目标的 %", "en": "% of target"},
    "changes": {"zh": "与上次报告相比的变化", "en": "Changes since the previous report"},
    "no_changes": {"zh": "与上次报告相比无变化。", "en": "Nothing changed since the previous report."},
    "no_previous": {"zh": "未提供上次报告。", "en": "No previous report given."},
    "before": {"zh": "上次", "en": "Before"},
    "after": {"zh": "本次", "en": "Now"},
    "build": {
        "zh": "下一步建设：满足未达标目标的最少新增点位",
        "en": "What to build next: the fewest new sites that meet the unmet targets",
    },
    "build_none": {"zh": "所有目标均已达标。", "en": "Every target is met."},
    "needed": {"zh": "需新增", "en": "needed"},
    "site": {"zh": "点位", "en": "Site"},
    "people_within": {"zh": "新增目标时间内人口", "en": "People brought within the target time"},
    "people_closer": {"zh": "距离缩短人口", "en": "People brought closer"},
    "met_after": {"zh": "建成后达标", "en": "Meets the target after"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "new": {"zh": "新建", "en": "new"},
    "designate": {"zh": "认定", "en": "designate"},
    "more": {"zh": "另需 {n} 处（本报告未逐一列出）", "en": "{n} more not listed"},
    "notes": {"zh": "说明", "en": "Notes"},
    "sources": {"zh": "数据来源与方法", "en": "Sources and methods"},
    "attribution": {
        "zh": "道路与设施数据 © OpenStreetMap 贡献者，ODbL 1.0；人口：2020 年第七次人口普查。"
        "本图未经审图，不作为国界、行政区划依据。",
        "en": "Roads and facilities © OpenStreetMap contributors, ODbL 1.0; population: 2020 census. "
        "Not an officially reviewed map.",
    },
    "osm_short": {"zh": "© OpenStreetMap 贡献者，ODbL 1.0", "en": "© OpenStreetMap contributors, ODbL 1.0"},
    "units_word": {"zh": "区县达标", "en": "counties meet it"},
    "demo": {"zh": "[演示指定]", "en": "[DEMO designation]"},
    "legend_cpc": {"zh": "胸痛中心", "en": "chest pain center"},
    "legend_stroke": {"zh": "卒中中心", "en": "stroke center"},
    "legend_aed": {"zh": "AED", "en": "AED"},
    "legend_ems": {"zh": "急救站", "en": "EMS station"},
    "legend_new": {"zh": "建议点位", "en": "proposed site"},
    "generated": {"zh": "生成于", "en": "generated"},
    "previous": {"zh": "上次报告", "en": "previous report"},
    "page": {"zh": "页", "en": "page"},
    "outside": {"zh": "行政区外", "en": "outside the admin units"},
}

LABELS: dict[str, dict[str, str]] = {
    "cpc_30min_share": {"zh": "30 分钟胸痛中心覆盖人口比例", "en": "People within 30 min of a chest pain center"},
    "stroke_60min_share": {"zh": "60 分钟卒中中心覆盖人口比例", "en": "People within 60 min of a stroke center"},
    "aed_per_100k": {"zh": "每 10 万人 AED 数", "en": "AEDs per 100,000 people"},
    "aed_4min_share": {"zh": "步行 4 分钟 AED 覆盖人口比例", "en": "People within 4 min on foot of an AED"},
    "aed_fetch_return": {
        "zh": "步行 4 分钟内可取回 AED 的人口比例",
        "en": "People who can fetch an AED and return in 4 min",
    },
    "ems_radius": {"zh": "急救站服务半径内人口比例", "en": "People within an EMS station's radius"},
    "ems_time": {"zh": "救护车 12 分钟可达人口比例", "en": "People an ambulance reaches in 12 min"},
    "cpc_mean_minutes": {
        "zh": "到最近胸痛中心平均车程（分钟）",
        "en": "Mean drive to the nearest chest pain center (min)",
    },
    "cpc_access_per_100k": {
        "zh": "胸痛中心可达性（E2SFCA，每 10 万人）",
        "en": "Chest pain center access (E2SFCA, per 100,000)",
    },
    "aed_walk_minutes": {"zh": "到最近 AED 步行时间（分钟）", "en": "Walk to the nearest AED (min)"},
    "stroke_centers": {"zh": "卒中中心数", "en": "Stroke centers"},
    "thrombolysis_rate": {"zh": "静脉溶栓率", "en": "Thrombolysis rate"},
    "cpc_hospital_share": {"zh": "医院中胸痛中心比例", "en": "Hospitals that are chest pain centers"},
    "grassroots_share": {
        "zh": "社区/乡镇卫生机构中基层胸痛救治单元比例",
        "en": "Community / township health centers with a grassroots unit",
    },
    "grid531_linked_share": {
        "zh": "531 网络：基层单元接入基层版胸痛中心比例",
        "en": "531 grid: grassroots units linked to a basic center",
    },
}

CONFIDENCE: dict[str, dict[str, str]] = {
    "free-flow drive times": {"zh": "自由流车程（未计拥堵）", "en": "free-flow drive times"},
    "walking 5 km/h": {"zh": "步行 5 公里/小时", "en": "walking 5 km/h"},
    "proxy: no hospital grades in the data": {
        "zh": "近似：数据无医院等级",
        "en": "proxy: no hospital grades in the data",
    },
    "institutions found by name": {"zh": "按名称识别机构", "en": "institutions found by name"},
    "no capacities: every center counts 1": {
        "zh": "未提供容量：每个中心计 1",
        "en": "no capacities: every center counts 1",
    },
    "demo value, not a real figure": {"zh": "演示数据，非真实数值", "en": "demo value, not a real figure"},
    "capacities given": {"zh": "按设施容量", "en": "capacities given"},
}

SOURCE_ZH: dict[str, str] = {
    "cpc_30min_share": "按行政区统计的覆盖分析",
    "stroke_60min_share": "按行政区统计的覆盖分析",
    "aed_4min_share": "按行政区统计的覆盖分析（步行）",
    "aed_fetch_return": "标准分析（取回 AED 往返步行时间）",
    "ems_radius": "标准分析（急救站直线距离：城区 5 公里、农村 20 公里）",
    "ems_time": "标准分析（救护车车程）",
    "aed_per_100k": "标准分析：区内 AED ÷ 路网范围内人口 × 10 万",
    "stroke_centers": "规划目标分析",
    "cpc_hospital_share": "规划目标分析",
    "grassroots_share": "规划目标分析",
    "grid531_linked_share": "531 网络分析（基层单元→基层版）",
    "thrombolysis_rate": "规划目标分析（所给溶栓率；卒中质量分级）",
    "cpc_mean_minutes": "可达性分析（到最近胸痛中心时间，按人口加权）",
    "cpc_access_per_100k": "可达性分析（E2SFCA，高斯衰减，30 分钟）",
}

SOURCE_EN: dict[str, str] = {  # the command each figure comes from (the full text: report.json, last page)
    "cpc_30min_share": "coverage --by admin",
    "stroke_60min_share": "coverage --by admin",
    "aed_4min_share": "coverage --by admin (walk)",
    "aed_per_100k": "access --standards",
    "aed_fetch_return": "access --standards",
    "ems_radius": "access --standards",
    "ems_time": "access --standards",
    "cpc_access_per_100k": "access (E2SFCA)",
    "cpc_mean_minutes": "access",
    "stroke_centers": "plan-targets",
    "cpc_hospital_share": "plan-targets",
    "grassroots_share": "plan-targets",
    "thrombolysis_rate": "plan-targets --thrombolysis-rates",
    "grid531_linked_share": "grid531",
}

NOTES_ZH: list[tuple[str, str]] = [
    ("siting: no", "部分设施类型无候选点，未能给出建议点位（详见英文版说明）。"),
    ("no hospital grades", "数据中没有医院等级：胸痛中心目标以所有“医院”类设施为分母，近似二级及以上综合医院。"),
    ("some units' targets are not met", "部分区县按所列点位建设后仍不能达标（候选点或点位不足），见“建成后达标”。"),
    ("some chest pain centers match no hospital", "部分胸痛中心未能与医院图层中的医院对应。"),
    ("no township or community", "设施图层中没有按名称识别的乡镇卫生院或社区卫生服务中心。"),
    ("this region has no admin units", "本区域没有行政区划：全区域为一行。"),
    ("no chest_pain_center", "设施图层中没有胸痛中心：相关覆盖指标为空。"),
    ("no stroke_center", "设施图层中没有卒中中心：相关覆盖指标为空。"),
    ("no aed", "设施图层中没有 AED：相关覆盖指标为空。"),
    ("no ems_station", "设施图层中没有急救站：相关覆盖指标为空。"),
]

TARGET_SOURCE_ZH: dict[str, str] = {
    "cpc_30min_share": "报告默认值，规划假设（无全国比例标准）；可用 --target 修改",
    "stroke_60min_share": "报告默认值，规划假设；可用 --target 修改",
    "aed_per_100k": "所在省市的公共场所 AED 配置目标（上海：2025 年底每 10 万人超过 50 台；浙江 45；深圳远期 300）",
    "aed_fetch_return": "广州公共场所 AED 规则：3–5 分钟内步行取回 AED",
    "ems_radius": "国卫医发〔2020〕19号《关于进一步完善院前医疗急救服务的指导意见》："
    "城市急救站服务半径不超过 5 公里，农村 10–20 公里",
    "ems_time": "本地目标：救护车自急救站出发在设定分钟内到达（无全国标准，请自行设定）",
    "stroke_centers": "省级规划（湖北）：每个县至少一家卒中中心",
    "cpc_hospital_share": "省级规划（湖北）：70% 的二级及以上综合医院建成胸痛中心",
    "grassroots_share": "省级规划（湖北）：70% 的乡镇卫生院和社区卫生服务中心建成基层胸痛救治单元",
    "grid531_linked_share": "531 胸痛救治网络：每个基层单元 60 分钟车程内接入基层版胸痛中心（5:1）",
}

_DEMO = re.compile(r"\s*\[DEMO designation\]", re.I)


def t(key: str, lang: str, **kw: object) -> str:
    s = T[key][lang]
    return s.format(**kw) if kw else s


def figure_label(key: str, lang: str) -> str:
    return LABELS.get(key, {}).get(lang, key)


def value_text(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "count":
        return f"{value:g}"
    if kind == "per_100k":
        return f"{value:.1f}"
    if kind == "minutes":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def local_name(name: str, lang: str) -> str:
    """A facility name with the demo tag in ``lang``."""
    return _DEMO.sub(" " + T["demo"][lang], name) if lang != "en" else name


def target_source(target: dict[str, Any], lang: str) -> str:
    if lang == "en":
        return str(target["source"])
    base = TARGET_SOURCE_ZH.get(target["key"], "")
    return base if str(target["source"]).startswith(("given:",)) is False else f"本次指定；默认：{base}"


def note_text(note: str, lang: str) -> str | None:
    """A note in ``lang`` (None: a note without a translation, shown in English only)."""
    if lang == "en":
        return note
    return next((zh for prefix, zh in NOTES_ZH if note.startswith(prefix)), None)
