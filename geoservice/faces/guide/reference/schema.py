# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""The facility-schema reference page: every column, type, level, capability and status, with its meaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .text import cell, code, generated_note

# ----------------------------------------------------------------------------------- facility schema
COLUMN_MEANINGS: dict[str, dict[str, str]] = {
    "id": {
        "zh": "设施编号，在登记库内唯一；只含字母、数字与 `_.:-`，最长 64 个字符。导入时缺省则自动生成。",
        "en": "The facility's id, unique in the registry; letters, digits and `_.:-`, at most 64 "
        "characters. Generated when a file leaves it empty.",
    },
    "type": {
        "zh": "设施类型（见下表）。决定出行方式：AED 步行，其余驾车。",
        "en": "The facility type (table below). It sets the travel mode: AEDs on foot, the rest by car.",
    },
    "name": {
        "zh": "名称（如医院全称）。地图与网页显示它。",
        "en": "The name (a hospital's full name); maps and pages show it.",
    },
    "level": {
        "zh": "等级，取值随类型而定（见下表）；不适用的类型留空。",
        "en": "The tier, whose valid values depend on the type (table below); empty where none applies.",
    },
    "capabilities": {
        "zh": "能力，逗号分隔（卒中中心：`evt` 取栓、`ivt` 溶栓）。",
        "en": "Capabilities, comma-separated (stroke centers: `evt` thrombectomy, `ivt` thrombolysis).",
    },
    "address": {"zh": "地址（自由文本）。", "en": "The address (free text)."},
    "admin_code": {
        "zh": "所在行政区划代码（如县级 adcode），用于按区县汇总。",
        "en": "The admin unit it belongs to (e.g. a county adcode), for figures by unit.",
    },
    "status": {
        "zh": "状态（见下表）；缺省视为 `unknown`。",
        "en": "The status (table below); empty is read as `unknown`.",
    },
    "opening_hours": {
        "zh": "开放时间，OSM `opening_hours` 语法（如 `Mo-Fr 08:00-17:00`、`24/7`）；导入时校验。"
        "空值表示未知，查询 `--at` / `at=` 时报告为 `open_at: null`。",
        "en": "Opening hours in OSM `opening_hours` syntax (`Mo-Fr 08:00-17:00`, `24/7`), checked on import. "
        "Empty means unknown, reported as `open_at: null` by `--at` / `at=`.",
    },
    "access": {
        "zh": "谁可以使用（OSM `access`：`yes`、`private`、`customers` …），主要用于 AED。",
        "en": "Who may use it (OSM `access`: `yes`, `private`, `customers` …), mostly for AEDs.",
    },
    "location": {
        "zh": "在现场如何找到它，如“一楼大厅服务台旁”（AED；OSM `defibrillator:location`，否则 `description`），最长 300 字符。",
        "en": 'Where to find it on site, e.g. "1F lobby, next to the information desk" (AEDs; OSM '
        "`defibrillator:location`, else `description`), at most 300 characters.",
    },
    "floor": {
        "zh": "所在楼层（OSM `level`；不是设施等级 `level`），如 `B1`、`3`，最长 40 字符。",
        "en": "The floor it is on (OSM `level`; not the facility's tier `level`), e.g. `B1`, `3`, at most 40 characters.",
    },
    "door_to_needle_min": {
        "zh": "入院至溶栓时间（DNT，分钟），卒中分诊与 3×1 小时时间线使用；缺省用设置中的默认值。",
        "en": "Door-to-needle time in minutes, used by stroke triage and the 3 × 1 hour timeline; the "
        "settings' default when empty.",
    },
    "capacity": {
        "zh": "服务能力（正数）：床位、导管室、卒中单元床位等，单位由规划者统一；容量感知可达性（E2SFCA，`geoservice access`）"
        "以它为供给。空值计为 1（答案会注明“未给容量：每个设施计为 1”）；0、负数或非数字是错误，指明 `capacity` 字段。",
        "en": "Capacity (a positive number): beds, cath labs, stroke unit beds …, in one unit the planner chooses; the "
        "supply of capacity-aware access (E2SFCA, `geoservice access`). Empty counts 1 (the answer then says "
        '"no capacities given: every facility counts 1"); 0, a negative number or text is an error naming `capacity`.',
    },
    "source": {
        "zh": "数据来源（文件名、OSM 对象、认证名单批次与日期等）。",
        "en": "Where the row comes from (a file, an OSM object, a certification list with batch and date).",
    },
    "demo": {
        "zh": "`true` 表示演示指定：为演示而赋予真实地点的角色，**并非真实认证**，页面与地图标注 `[DEMO designation]`。",
        "en": "`true` for a demo designation: a role given to a real place for the demo, **not a real "
        "certification**; pages and maps label it `[DEMO designation]`.",
    },
    "lon": {
        "zh": "经度，WGS-84（导入时按 `--crs` 从 GCJ-02 / BD-09 换算）。也接受列名 `lng`、`long`、`longitude`、`x`。",
        "en": "Longitude, WGS-84 (converted on import from GCJ-02 / BD-09 per `--crs`). Also read from "
        "columns named `lng`, `long`, `longitude`, `x`.",
    },
    "lat": {
        "zh": "纬度，WGS-84。也接受列名 `latitude`、`y`。",
        "en": "Latitude, WGS-84. Also read from columns named `latitude`, `y`.",
    },
}

VALUE_MEANINGS: dict[str, dict[str, str]] = {
    # types
    "type:chest_pain_center": {"zh": "胸痛中心（标准版 / 基层版）", "en": "Chest pain center (standard / basic)"},
    "type:stroke_center": {
        "zh": "卒中中心（高级卒中中心 / 卒中防治中心 / 基层卒中防治站）",
        "en": "Stroke center (advanced / prevention and treatment center / grassroots station)",
    },
    "type:grassroots_unit": {
        "zh": "基层胸痛救治单元（乡镇卫生院、社区卫生服务中心）",
        "en": "Grassroots chest-pain unit (township health center, community health service center)",
    },
    "type:aed": {"zh": "公众除颤仪（AED），步行前往", "en": "Public AED, fetched on foot"},
    "type:ems_station": {
        "zh": "120 急救站（救护车从这里出发）",
        "en": "EMS (120) station, where ambulances leave from",
    },
    "type:hospital": {
        "zh": "医院或诊所（OSM `amenity=hospital/clinic`），分析中的候选与分母",
        "en": "Hospital or clinic (OSM `amenity=hospital/clinic`), candidates and denominators of the analyses",
    },
    # levels
    "level:chest_pain_center:standard": {"zh": "标准版胸痛中心", "en": "Standard chest pain center"},
    "level:chest_pain_center:basic": {"zh": "基层版胸痛中心", "en": "Basic chest pain center"},
    "level:stroke_center:advanced": {"zh": "高级卒中中心", "en": "Advanced stroke center"},
    "level:stroke_center:center": {"zh": "卒中防治中心", "en": "Stroke prevention and treatment center"},
    "level:stroke_center:station": {"zh": "基层卒中防治站", "en": "Grassroots stroke prevention station"},
    "level:hospital:hospital": {"zh": "医院（OSM `amenity=hospital`）", "en": "Hospital (OSM `amenity=hospital`)"},
    "level:hospital:clinic": {"zh": "诊所（OSM `amenity=clinic`）", "en": "Clinic (OSM `amenity=clinic`)"},
    # capabilities
    "capability:evt": {"zh": "可取栓（血管内治疗，★）", "en": "EVT: endovascular thrombectomy (★)"},
    "capability:ivt": {"zh": "可溶栓（静脉溶栓，☆）", "en": "IVT: intravenous thrombolysis (☆)"},
    # statuses
    "status:certified": {
        "zh": "已认证（如国家胸痛中心认证名单）",
        "en": "Certified (e.g. on a national certification list)",
    },
    "status:in_construction": {"zh": "建设中", "en": "In construction"},
    "status:planned": {"zh": "规划中", "en": "Planned"},
    "status:unknown": {"zh": "未知（空值也按此处理）", "en": "Unknown (also what an empty cell means)"},
}

SCHEMA_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "设施数据结构",
        "intro": "设施文件（CSV / GeoJSON / GeoPackage）、登记库与 API 共用同一套列与取值。"
        "不在下表中的列会被保留为附加列，但不参与分析。无效取值是一条指明字段与全部有效值的错误。",
        "columns": "列",
        "column": "列名",
        "json_type": "类型（API）",
        "meaning": "含义",
        "types": "设施类型",
        "type": "类型",
        "travel": "出行方式",
        "minutes": "默认时间目标",
        "levels": "等级",
        "caps": "能力",
        "statuses": "状态",
        "value": "取值",
        "walk": "步行",
        "drive": "驾车",
        "none": "（无）",
        "min": "分钟",
        "for": "适用类型",
    },
    "en": {
        "title": "Facility schema",
        "intro": "Facility files (CSV / GeoJSON / GeoPackage), the registry and the API share these columns and "
        "values. Other columns are kept as extras but take no part in the analyses. An invalid value is an "
        "error naming the field and every valid value.",
        "columns": "Columns",
        "column": "column",
        "json_type": "type (API)",
        "meaning": "meaning",
        "types": "Facility types",
        "type": "type",
        "travel": "travel mode",
        "minutes": "default time target",
        "levels": "Levels",
        "caps": "Capabilities",
        "statuses": "Statuses",
        "value": "value",
        "walk": "on foot",
        "drive": "by car",
        "none": "(none)",
        "min": "min",
        "for": "for type",
    },
}


def json_type(prop: dict[str, Any]) -> str:
    """A short type of a JSON-schema property: ``string ≤ 64``, ``number -180…180``, ``string | null``."""
    if "anyOf" in prop:
        return " | ".join(json_type(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "enum" in prop:
        return "enum"
    t = str(prop.get("type", "any"))
    if t == "array":
        return f"array of {json_type(prop.get('items', {}))}"
    extra = []
    if "minimum" in prop and "maximum" in prop:
        extra.append(f"{prop['minimum']}…{prop['maximum']}")
    elif "exclusiveMinimum" in prop:
        extra.append(f"> {prop['exclusiveMinimum']}")
    elif "minimum" in prop:
        extra.append(f"≥ {prop['minimum']}")
    if "maxLength" in prop:
        extra.append(f"≤ {prop['maxLength']} chars")
    return t + (f" ({', '.join(extra)})" if extra else "")


def _missing(kind: str, keys: Iterable[str], table: dict[str, Any]) -> None:
    missing = [k for k in keys if k not in table]
    if missing:
        raise KeyError(f"the manual has no meaning for {kind} {', '.join(missing)}: add it to {__name__}")


def schema_page(lang: str) -> str:
    from ....sources import schema
    from ...api.schemas import FacilityIn

    t = SCHEMA_TEXT[lang]
    _missing("column", schema.COLUMNS, COLUMN_MEANINGS)
    value_keys = (
        [f"type:{x}" for x in schema.FACILITY_TYPES]
        + [f"level:{ty}:{lv}" for ty, lvs in schema.LEVELS.items() for lv in lvs]
        + [f"capability:{c}" for c in schema.ALL_CAPABILITIES]
        + [f"status:{s}" for s in schema.STATUSES]
    )
    _missing("value", value_keys, VALUE_MEANINGS)
    props = FacilityIn.model_json_schema()["properties"]
    lines = [f"# {t['title']}", "", generated_note(lang, "`geoservice/sources/schema.py`"), t["intro"], ""]
    lines += [
        f"## {t['columns']} {{ #columns }}",
        "",
        f"| {t['column']} | {t['json_type']} | {t['meaning']} |",
        "|---|---|---|",
    ]
    for c in schema.COLUMNS:
        jt = json_type(props[c]) if c in props else ""
        meaning = COLUMN_MEANINGS[c][lang].replace("|", "\\|")
        lines.append(f"| `{c}` {{ #column-{c} }} | {cell(jt)} | {meaning} |")
    lines.append("")
    lines += [
        f"## {t['types']} {{ #types }}",
        "",
        f"| {t['type']} | {t['meaning']} | {t['travel']} | {t['minutes']} | {t['levels']} | {t['caps']} |",
        "|---|---|---|---|---|---|",
    ]
    for ft in schema.FACILITY_TYPES:
        mode = t["walk"] if schema.travel_profile(ft) == "walk" else t["drive"]
        mins = schema.DEFAULT_MINUTES.get(ft)
        target = f"{mins:g} {t['min']}" if mins is not None else ""
        lines.append(
            f"| `{ft}` | {VALUE_MEANINGS['type:' + ft][lang]} | {mode} | {target} | "
            f"{', '.join(code(lv) for lv in schema.LEVELS[ft]) or t['none']} | "
            f"{', '.join(code(c) for c in schema.CAPABILITIES[ft]) or t['none']} |"
        )
    lines += [
        "",
        f"## {t['levels']} {{ #levels }}",
        "",
        f"| {t['type']} | {t['value']} | {t['meaning']} |",
        "|---|---|---|",
    ]
    for ft, lvs in schema.LEVELS.items():
        for lv in lvs:
            lines.append(f"| `{ft}` | `{lv}` | {VALUE_MEANINGS[f'level:{ft}:{lv}'][lang]} |")
    lines += [
        "",
        f"## {t['caps']} {{ #capabilities }}",
        "",
        f"| {t['value']} | {t['for']} | {t['meaning']} |",
        "|---|---|---|",
    ]
    for c in schema.ALL_CAPABILITIES:
        owners = [ft for ft, caps in schema.CAPABILITIES.items() if c in caps]
        lines.append(f"| `{c}` | {', '.join(code(o) for o in owners)} | {VALUE_MEANINGS['capability:' + c][lang]} |")
    lines += ["", f"## {t['statuses']} {{ #statuses }}", "", f"| {t['value']} | {t['meaning']} |", "|---|---|"]
    for s in schema.STATUSES:
        lines.append(f"| `{s}` | {VALUE_MEANINGS['status:' + s][lang]} |")
    lines.append("")
    return "\n".join(lines) + "\n"
