# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""The manual's reference pages, generated from the code at every build so they cannot drift.

:func:`pages` returns ``{"reference/cli.zh.md": markdown, …}`` for both languages:

* ``cli``: every command, sub-command, argument and option of :func:`~geoservice.faces.cli.build_parser`;
* ``facility-schema``: every column, type, level, capability and status of :mod:`geoservice.sources.schema`
  (what each means, in both languages: a value without a meaning here stops the build);
* ``settings``: every field of :class:`~geoservice.service.settings.Settings`;
* ``http-api``: every path, parameter, answer and schema of the OpenAPI document of ``create_app``;
* ``outputs``: the files each command writes and their columns (the column lists are the code's own
  constants; ``tests/test_docs.py`` runs the commands and compares);
* ``errors``: the error classes, the JSON error fields and the CLI's exit statuses.

The docs hook (``docs/hooks/reference.py``) adds them to the MkDocs build; ``scripts/gen_reference.py``
writes them to a folder to read.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..api.version import API_PREFIX

LANGS = ("zh", "en")

__all__ = ["pages", "generated_files", "LANGS", "PAGES", "OUTPUTS", "COLUMN_MEANINGS", "VALUE_MEANINGS"]


# --------------------------------------------------------------------------------------------- text
def esc(text: str) -> str:
    """Plain text from the code as Markdown: HTML and emphasis characters escaped, backticks kept."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"(?<!\\)([*_\[\]])", r"\\\1", out) if "`" not in out else _esc_outside_code(out)


def _esc_outside_code(text: str) -> str:
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = re.sub(r"(?<!\\)([*_\[\]])", r"\\\1", parts[i])
    return "`".join(parts)


def cell(text: Any) -> str:
    """A table cell: one line, pipes escaped."""
    return esc(" ".join(str(text).split())).replace("|", "\\|") if text not in (None, "") else ""


def code(text: Any) -> str:
    s = str(text)
    tick = "``" if "`" in s else "`"
    pad = " " if "`" in s else ""
    return f"{tick}{pad}{s}{pad}{tick}"


def code_cell(text: Any) -> str:
    return code(text).replace("|", "\\|")


def generated_note(lang: str, source: str) -> str:
    if lang == "zh":
        return (
            f'!!! info "由代码生成"\n    本页在每次构建手册时由 {source} 生成，不要手工修改；'
            "代码一变，本页随之改变。选项与字段的英文说明直接取自代码（即 `--help` 与 OpenAPI 中的原文）。\n"
        )
    return f'!!! info "Generated from the code"\n    This page is generated from {source} at every build of the manual; do not edit it by hand.\n'


# ---------------------------------------------------------------------------------------------- CLI
CLI_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "命令行参考",
        "intro": "`geoservice` 的每个命令、子命令与选项。全局选项 `-v/--verbose` 放在命令名之前"
        "（`geoservice -v build …`）打印进度。出错时打印一行 `geoservice: error: --选项: …`，退出状态 2。",
        "usage": "用法",
        "default": "默认值",
        "choices": "可选值",
        "required": "必填",
        "repeat": "可重复给出",
        "flag": "开关（不带值）",
        "positional": "位置参数",
        "exclusive": "互斥：只能给出其中一个",
        "subcommands": "子命令",
        "commands": "命令一览",
        "command": "命令",
        "what": "作用",
    },
    "en": {
        "title": "Command line reference",
        "intro": "Every command, sub-command and option of `geoservice`. The global option `-v/--verbose` goes "
        "before the command (`geoservice -v build …`) and logs progress. A user error prints one line "
        "`geoservice: error: --flag: …` and exits with status 2.",
        "usage": "Usage",
        "default": "Default",
        "choices": "Choices",
        "required": "required",
        "repeat": "may be given more than once",
        "flag": "a switch (takes no value)",
        "positional": "positional argument",
        "exclusive": "mutually exclusive: give at most one of",
        "subcommands": "Sub-commands",
        "commands": "The commands",
        "command": "command",
        "what": "what it does",
    },
}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a
    return None


def _usage(parser: argparse.ArgumentParser) -> str:
    fmt = argparse.HelpFormatter(parser.prog, width=96, max_help_position=40)
    fmt.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return fmt.format_help().strip().removeprefix("usage: ")


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    fmt = argparse.HelpFormatter(parser.prog)
    return fmt._expand_help(action)


def _anchor(*parts: str) -> str:
    text = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower()


def option_anchor(command: str, option: str) -> str:
    """The id of an option's entry on the CLI page: ``build--admin-units``; nested commands are
    joined by ``-`` (``apikey-create--role``); a positional argument ``import-layer-file``."""
    cmd = command.replace(" ", "-").lower()
    if option.startswith("--"):
        return cmd + re.sub(r"[^A-Za-z0-9_-]+", "-", option.lower())
    return _anchor(cmd, option.lstrip("-"))


def _default_text(action: argparse.Action) -> str | None:
    d = action.default
    if (
        d is None
        or d is argparse.SUPPRESS
        or isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction)
    ):
        return None
    if isinstance(d, list | tuple) and not d:
        return None
    if isinstance(d, Path):
        d = str(d)
    return str(d)


def _cli_command(
    lines: list[str], parser: argparse.ArgumentParser, name: str, help_: str, lang: str, depth: int
) -> None:
    t = CLI_TEXT[lang]
    h = "#" * depth
    lines += [f"{h} `geoservice {name}` {{ #{_anchor(name.replace(' ', '-'))} }}", ""]
    if help_:
        lines += [esc(help_), ""]
    if parser.description and parser.description != help_:
        lines += [esc(parser.description), ""]
    lines += [f"**{t['usage']}**", "", "```text", _usage(parser), "```", ""]
    groups = {id(a): g for g in parser._mutually_exclusive_groups for a in g._group_actions}
    sub = _subparsers(parser)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action is sub:
            continue
        if action.option_strings:
            label = ", ".join(action.option_strings)
            key = max(action.option_strings, key=len)
        else:
            label = str(action.metavar or action.dest).upper() if action.metavar is None else str(action.metavar)
            key = str(action.dest)
        meta = action.metavar
        if action.option_strings and action.nargs != 0:
            if meta is None:
                meta = action.dest.upper()
            label_full = f"{label} {meta if isinstance(meta, str) else ' '.join(meta)}"
        else:
            label_full = label
        lines += [
            f"{h}# `{label_full}` {{ #{option_anchor(name, key)} data-toc-label='{label.split(', ')[-1]}' }}",
            "",
        ]
        body = _help(parser, action)
        if body:
            lines += [esc(body), ""]
        facts = []
        if not action.option_strings:
            facts.append(t["positional"])
        if action.required and action.option_strings:
            facts.append(f"**{t['required']}**")
        if action.nargs == 0:
            facts.append(t["flag"])
        if isinstance(action, argparse._AppendAction | argparse._ExtendAction) or action.nargs in ("+", "*"):
            facts.append(t["repeat"])
        if action.choices:
            facts.append(f"{t['choices']}: " + ", ".join(code(c) for c in action.choices))
        d = _default_text(action)
        if d is not None:
            facts.append(f"{t['default']}: {code(d)}")
        g = groups.get(id(action))
        if g is not None:
            others = [max(a.option_strings, key=len) for a in g._group_actions if a is not action and a.option_strings]
            if others:
                facts.append(f"{t['exclusive']} " + ", ".join(code(o) for o in others))
        for f in facts:
            lines.append(f"- {f}")
        if facts:
            lines.append("")
    if sub is not None:
        helps = {ca.dest: ca.help or "" for ca in sub._choices_actions}
        lines += [f"**{t['subcommands']}**: " + ", ".join(f"`{n}`" for n in sub.choices), ""]
        for sname, sp in sub.choices.items():
            _cli_command(lines, sp, f"{name} {sname}", helps.get(sname, ""), lang, depth)


def cli_page(lang: str) -> str:
    from ..cli import build_parser

    t = CLI_TEXT[lang]
    parser = build_parser()
    sub = _subparsers(parser)
    assert sub is not None
    helps = {ca.dest: ca.help or "" for ca in sub._choices_actions}
    # the options' own page comes first when an option is searched for (`--admin-units`)
    lines = ["---", "search:", "  boost: 3", "---", ""]
    lines += [f"# {t['title']}", "", generated_note(lang, "`geoservice.faces.cli.build_parser()`"), t["intro"], ""]
    lines += [f"## {t['commands']}", "", f"| {t['command']} | {t['what']} |", "|---|---|"]
    for name in sub.choices:
        lines.append(f"| [`{name}`](#{_anchor(name)}) | {cell(helps.get(name, ''))} |")
    lines.append("")
    for name, sp in sub.choices.items():
        _cli_command(lines, sp, name, helps.get(name, ""), lang, 2)
    return "\n".join(lines) + "\n"


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


def _json_type(prop: dict[str, Any]) -> str:
    """A short type of a JSON-schema property: ``string ≤ 64``, ``number -180…180``, ``string | null``."""
    if "anyOf" in prop:
        return " | ".join(_json_type(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return "enum"
    t = str(prop.get("type", "any"))
    if t == "array":
        return f"array of {_json_type(prop.get('items', {}))}"
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
    from ...sources import schema
    from ..api.schemas import FacilityIn

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
        jt = _json_type(props[c]) if c in props else ""
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


# ------------------------------------------------------------------------------------------ settings
SETTINGS_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "设置参考",
        "intro": "每个设置都从环境变量 `GEOSERVICE_<名称>`（不分大小写）或当前目录下的 `.env` 文件读取，"
        "命令行与 API 相同；命令行上显式给出的选项（`--region`、`--db`）优先。`geoservice settings` 打印当前生效的值。"
        "列表类型的值写成 JSON（如 `GEOSERVICE_REGIONS='[\"/data/regions/hubei\"]'`）。"
        "取值错误时只打印一行，指明变量名（退出状态 2）。",
        "var": "环境变量",
        "type": "类型",
        "default": "默认值",
        "limits": "取值范围",
        "computed": "（运行时计算）",
    },
    "en": {
        "title": "Settings reference",
        "intro": "Every setting is read from the environment variable `GEOSERVICE_<NAME>` (case-insensitive) or a "
        "`.env` file in the working directory, the same for the CLI and the API; a CLI flag given explicitly "
        "(`--region`, `--db`) wins. `geoservice settings` prints the values in force. Lists are JSON "
        "(`GEOSERVICE_REGIONS='[\"/data/regions/hubei\"]'`). A wrong value is one line naming the variable "
        "(exit status 2).",
        "var": "environment variable",
        "type": "type",
        "default": "default",
        "limits": "limits",
        "computed": "(computed at run time)",
    },
}


def _type_name(annotation: Any) -> str:
    s = str(annotation)
    s = re.sub(r"<class '([^']+)'>", r"\1", s)
    s = s.replace("pathlib.", "").replace("typing.", "").replace("NoneType", "None")
    return s


def _default_repr(value: Any) -> str:
    from ...service.settings import PACKAGE_DIR

    if isinstance(value, Path):
        try:
            return "<geoservice>/" + value.relative_to(PACKAGE_DIR).as_posix()
        except ValueError:
            return value.as_posix()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def settings_page(lang: str) -> str:
    from pydantic_core import PydanticUndefined

    from ...service.settings import Settings

    t = SETTINGS_TEXT[lang]
    lines = [f"# {t['title']}", "", generated_note(lang, "`geoservice.service.settings.Settings`"), t["intro"], ""]
    prefix = str(Settings.model_config.get("env_prefix", "GEOSERVICE_"))
    for name, f in Settings.model_fields.items():
        env = prefix + name.upper()
        lines += [f"## `{name}` {{ #{name.replace('_', '-')} data-toc-label='{name}' }}", ""]
        if f.description:
            lines += [esc(f.description), ""]
        if f.default_factory is not None:
            default = t["computed"]
        elif f.default is PydanticUndefined:
            default = ""
        else:
            default = code(_default_repr(f.default))
        limits = []
        for m in f.metadata:
            for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
                v = getattr(m, attr, None)
                if v is not None:
                    limits.append(f"{sym} {v}")
        lines += [f"- {t['var']}: `{env}`", f"- {t['type']}: {code(_type_name(f.annotation))}"]
        if default:
            lines.append(f"- {t['default']}: {default}")
        if limits:
            lines.append(f"- {t['limits']}: " + ", ".join(limits))
        lines.append("")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ HTTP API
API_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "HTTP API 参考",
        "intro": "由 `geoservice serve` 提供的每个接口，取自应用本身的 OpenAPI 文档（服务运行时也在 `/openapi.json`，"
        "交互式文档在 `/docs`）。坐标默认 WGS-84；读取公开，编辑需要 `X-API-Key`。接口第 1 版都在 `/v1` 之下"
        "（`/v1/nearest`）；不带前缀的旧路径在本版本中仍照常应答，但已弃用，见[弃用的旧路径](#deprecated-aliases)。",
        "aliases": "弃用的旧路径",
        "aliases_intro": "以下不带 `/v1` 前缀的路径是上一版的地址，本版本中与 `/v1` 下的同名接口应答完全相同，"
        "在 OpenAPI 文档中标为 `deprecated`，应答带 `Deprecation: true` 头和指向新地址的 `Link` 头；下一版将删除。"
        "请改用 `/v1` 路径（网页目前仍用旧路径）。",
        "alias": "旧路径（弃用）",
        "successor": "改用",
        "params": "参数",
        "name": "名称",
        "in": "位置",
        "type": "类型",
        "req": "必填",
        "desc": "说明",
        "body": "请求体",
        "responses": "响应",
        "status": "状态码",
        "schemas": "数据结构",
        "field": "字段",
        "yes": "是",
        "tag": {
            "routing": "路径与可达范围",
            "layers": "图层",
            "coverage": "覆盖",
            "facilities": "设施登记",
            "planning": "规划",
            "dispatch": "调度",
            "service": "服务",
        },
    },
    "en": {
        "title": "HTTP API reference",
        "intro": "Every endpoint of `geoservice serve`, from the app's own OpenAPI document (also served at "
        "`/openapi.json`, interactive at `/docs`). Coordinates are WGS-84 by default; reads are public, edits "
        "need `X-API-Key`. Version 1 of the API lives under `/v1` (`/v1/nearest`); the unprefixed paths still "
        "answer alike in this release but are deprecated, see [deprecated aliases](#deprecated-aliases).",
        "aliases": "Deprecated aliases",
        "aliases_intro": "These paths without the `/v1` prefix are the previous release's addresses. In this "
        "release they answer exactly as their `/v1` twins, are marked `deprecated` in the OpenAPI document and "
        "answer with a `Deprecation: true` header and a `Link` to the new address; the next release drops them. "
        "Call the `/v1` paths (the web pages still use the old ones for now).",
        "alias": "old path (deprecated)",
        "successor": "use instead",
        "params": "Parameters",
        "name": "name",
        "in": "in",
        "type": "type",
        "req": "required",
        "desc": "description",
        "body": "Request body",
        "responses": "Responses",
        "status": "status",
        "schemas": "Schemas",
        "field": "field",
        "yes": "yes",
        "tag": {},
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of ``create_app`` over the default settings, without loading any region."""
    doc: dict[str, Any] = json.loads(_openapi_json())
    return doc


@lru_cache(maxsize=1)
def _openapi_json() -> str:
    from types import SimpleNamespace
    from typing import cast

    from ...service.core import GeoService
    from ...service.settings import Settings
    from ..api.app import create_app

    # the app reads only .settings when it is made; the defaults, not this machine's environment
    stand_in = cast(GeoService, SimpleNamespace(settings=Settings.model_construct()))
    return json.dumps(create_app(stand_in).openapi(), ensure_ascii=False)


def _ref_link(name: str) -> str:
    return f"[{name}](#schema-{name.lower()})"


def _schema_type(s: dict[str, Any]) -> str:
    if "$ref" in s:
        return _ref_link(s["$ref"].rsplit("/", 1)[-1])
    if "anyOf" in s:
        return " \\| ".join(_schema_type(x) for x in s["anyOf"])
    if "enum" in s:
        return " \\| ".join(code_cell(v) for v in s["enum"])
    if s.get("type") == "array":
        return f"array of {_schema_type(s.get('items', {}))}"
    return cell(_json_type(s)) or "any"


def api_page(lang: str) -> str:
    t = API_TEXT[lang]
    doc = openapi_document()
    lines = [f"# {t['title']}", "", generated_note(lang, "`create_app().openapi()`"), t["intro"], ""]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    aliases: list[tuple[str, str]] = []  # the unprefixed paths, deprecated: listed once, at the end
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if op.get("deprecated"):
                aliases.append((path, method))
                continue
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
    tags = [tg["name"] for tg in doc.get("tags", [])] + [
        tg for tg in by_tag if tg not in {x["name"] for x in doc.get("tags", [])}
    ]
    for tag in tags:
        ops = by_tag.get(tag)
        if not ops:
            continue
        title = t["tag"].get(tag, tag.capitalize())
        lines += [f"## {title} {{ #tag-{tag} }}", ""]
        for path, method, op in ops:
            anchor = _anchor(method, path.replace("{", "").replace("}", ""))
            lines += [f"### `{method.upper()} {path}` {{ #{anchor} }}", ""]
            if op.get("summary"):
                lines += [f"**{esc(op['summary'])}**", ""]
            if op.get("description"):
                lines += [op["description"].strip(), ""]
            params = op.get("parameters") or []
            if params:
                lines += [
                    f"**{t['params']}**",
                    "",
                    f"| {t['name']} | {t['in']} | {t['type']} | {t['req']} | {t['desc']} |",
                    "|---|---|---|---|---|",
                ]
                for p in params:
                    sch = p.get("schema", {})
                    desc = p.get("description") or sch.get("description") or ""
                    if "default" in sch:
                        desc = f"{desc} (default `{sch['default']}`)" if desc else f"default `{sch['default']}`"
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {_schema_type(sch)} | {t['yes'] if p.get('required') else ''} | "
                        f"{cell(desc)} |"
                    )
                lines.append("")
            body = (op.get("requestBody") or {}).get("content", {})
            if body:
                ctype, spec = next(iter(body.items()))
                lines += [f"**{t['body']}** ({code(ctype)}): {_schema_type(spec.get('schema', {}))}", ""]
            resp = op.get("responses") or {}
            if resp:
                lines += [f"**{t['responses']}**", "", f"| {t['status']} | {t['desc']} |", "|---|---|"]
                for status, r in resp.items():
                    content = r.get("content") or {}
                    types = []
                    for ctype, spec in content.items():
                        sch = spec.get("schema")
                        types.append(f"{code_cell(ctype)}{': ' + _schema_type(sch) if sch else ''}")
                    desc = cell(r.get("description", ""))
                    lines.append(f"| {status} | {desc}{' — ' + '; '.join(types) if types else ''} |")
                lines.append("")
    if aliases:
        lines += [f"## {t['aliases']} {{ #deprecated-aliases }}", "", t["aliases_intro"], ""]
        lines += [f"| {t['alias']} | {t['successor']} |", "|---|---|"]
        for path, method in aliases:
            lines.append(f"| `{method.upper()} {path}` | `{method.upper()} {API_PREFIX}{path}` |")
        lines.append("")
    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        lines += [f"## {t['schemas']} {{ #schemas }}", ""]
        for name, s in schemas.items():
            lines += [f"### `{name}` {{ #schema-{name.lower()} }}", ""]
            if s.get("description"):
                lines += [esc(" ".join(s["description"].split())), ""]
            props = s.get("properties") or {}
            if props:
                required = set(s.get("required") or [])
                lines += [f"| {t['field']} | {t['type']} | {t['req']} | {t['desc']} |", "|---|---|---|---|"]
                for pname, p in props.items():
                    desc = p.get("description", "")
                    if "default" in p and p["default"] is not None:
                        desc = f"{desc} (default `{json.dumps(p['default'], ensure_ascii=False)}`)".strip()
                    lines.append(
                        f"| `{pname}` | {_schema_type(p)} | {t['yes'] if pname in required else ''} | {cell(desc)} |"
                    )
                lines.append("")
            elif "enum" in s:
                lines += [", ".join(code(v) for v in s["enum"]), ""]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- outputs
def _coverage_fields() -> list[str]:
    from ...service.usecases.downloads import COVERAGE_FIELDS

    return list(COVERAGE_FIELDS)


def _schema_keys(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ..cli import analysis_files

        return list(getattr(analysis_files, name))

    return get


def _plan_fields(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ..cli import plans

        return list(getattr(plans, name))

    return get


def _fixed(*cols: str) -> Callable[[], list[str]]:
    return lambda: list(cols)


def _no_xy(cols: Callable[[], list[str]]) -> Callable[[], list[str]]:
    """A point layer's properties: the CSV's columns without lon/lat (they are the geometry)."""
    return lambda: [c for c in cols() if c not in ("lon", "lat")]


Columns = Callable[[], list[str]] | None

_SITES = _fixed("rank", "id", "name", "lon", "lat", "population_gained", "source")
_AED_SITES = _fixed("rank", "id", "name", "lon", "lat", "source", "opening_hours", "gain")
_LINKS = _fixed(
    "tier", "county", "county_code", "from_id", "from_name", "to_id", "to_name", "time_s",
    "from_lon", "from_lat", "to_lon", "to_lat",
)  # fmt: skip
_UNLINKED = _fixed("tier", "county", "county_code", "id", "name", "reason", "nearest_time_s", "lon", "lat")
_WEEK = _fixed("day", *(f"{h:02d}" for h in range(24)))
_COMPARE = _fixed(
    "lon", "lat", "recommendation_<A>", "recommendation_<B>", "changed", "population",
    "t_ivt_min_<A>", "t_evt_min_<A>", "t_ivt_min_<B>", "t_evt_min_<B>",
)  # fmt: skip
_COMPARE_LAYER = _fixed(
    "recommendation_<A>", "recommendation_<B>", "changed", "change", "population",
    "t_ivt_min_<A>", "t_evt_min_<A>", "t_ivt_min_<B>", "t_evt_min_<B>",
)  # fmt: skip


def _access_fields(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ..cli import access

        return list(getattr(access, name))

    return get


# command -> [(file, columns or None, zh, en)]; the column lists are the writers' own constants where
# the code has one (coverage, gaps, triage, timeline, hours, targets, tiers), else what the writer
# spells out. tests/test_docs.py runs every command on the demo and compares files and columns.
# <A> and <B> are the two --scenarios of triage-compare.
OUTPUTS: dict[str, list[tuple[str, Columns, str, str]]] = {
    "coverage": [
        (
            "coverage.csv",
            _coverage_fields,
            "总体一行（`admin_code` 为 `ALL`）与每个行政单元一行：普查人口、在路网范围内的份额与人口、被覆盖人口及份额（0–1）、道路份额",
            "one overall row (`admin_code` `ALL`) and one per admin unit: census count, share and people inside the road extract, people covered and their share (0–1), road share",
        ),
        (
            "gaps.geojson",
            _schema_keys("GAP_SCHEMA"),
            "空白区多边形（T 分钟内到不了）",
            "gap polygons (not reached within T minutes)",
        ),
        (
            "gaps.gpkg",
            _schema_keys("GAP_SCHEMA"),
            "同上，GeoPackage 图层 `gaps`，另加 `method` 列",
            "the same as GeoPackage layer `gaps`, plus a `method` column",
        ),
        (
            "farthest.csv",
            _fixed("lon", "lat", "time_s", "population"),
            "离设施最远的地点（“谁最远”）",
            'the places farthest from any facility ("who is farthest")',
        ),
        (
            "report.json",
            None,
            "与 `GET /coverage` 相同的回答（方法、人口来源、交通情景）",
            "the answer of `GET /coverage` (method, population source, traffic)",
        ),
        ("map.html", None, "离线地图（不需要瓦片）", "an offline map (no tiles)"),
    ],
    "site": [
        (
            "sites.csv",
            _SITES,
            "新增站点，按顺序，含每个站点新增覆盖人口",
            "the chosen sites in order, with the people each adds",
        ),
        ("sites.geojson", _schema_keys("SITE_SCHEMA"), "新增站点（点）", "the chosen sites (points)"),
        ("sites.gpkg", _schema_keys("SITE_SCHEMA"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "模型、目标、前后覆盖", "model, objective, coverage before and after"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "grid531": [
        ("links.csv", _LINKS, "每条 5→1、3→1 连接及其行车时间", "every 5→1 and 3→1 link with its drive time"),
        ("unlinked.csv", _UNLINKED, "无法连接的单位及原因", "the units that could not be linked, and why"),
        ("links.geojson", _schema_keys("LINK_SCHEMA"), "连接线", "the links as lines"),
        ("links.gpkg", _schema_keys("LINK_SCHEMA"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "方法与汇总", "method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "triage": [
        (
            "triage.csv",
            _schema_keys("TRIAGE_FIELDS"),
            "每个地点：就近溶栓再转运（drip-and-ship）还是直达取栓，及各段时间",
            "per location: drip-and-ship or direct to EVT, with every time",
        ),
        ("triage.geojson", _no_xy(_schema_keys("TRIAGE_FIELDS")), "同上，点图层", "the same as points"),
        ("triage.gpkg", _no_xy(_schema_keys("TRIAGE_FIELDS")), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "阈值、方法与汇总", "thresholds, method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "timeline": [
        (
            "timeline.geojson",
            _schema_keys("TIMELINE_FIELDS"),
            "3×1 小时时间线：每个地点的呼叫响应、转运、到院、溶栓各段",
            "the 3 × 1 hour timeline per location: response, transport, arrival, needle",
        ),
        ("timeline.gpkg", _schema_keys("TIMELINE_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "阈值、方法与汇总", "thresholds, method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "aed-week": [
        (
            "week.csv",
            _WEEK,
            "7 行（星期）× 24 小时：开放的 AED 覆盖的人口份额",
            "7 rows (days) × 24 hours: share of the population covered by open AEDs",
        ),
        (
            "week_open_or_unknown.csv",
            _WEEK,
            "同上，开放或开放时间未知的 AED",
            "the same for AEDs open or of unknown hours",
        ),
        ("hours.csv", _plan_fields("HOUR_FIELDS"), "每小时的全部数字", "every figure per hour"),
        ("week.png", None, "热力图（图片）", "heat map (image)"),
        ("week.html", None, "热力图（网页）", "heat map (page)"),
        ("report.json", None, "与 `GET /plans/aed-week` 相同的回答", "the answer of `GET /plans/aed-week`"),
    ],
    "aed-site": [
        (
            "sites.csv",
            _AED_SITES,
            "新增 AED 位置，含开放时间与新增覆盖",
            "the new AED places, with hours and coverage gained",
        ),
        ("sites.geojson", _no_xy(_AED_SITES), "同上，点图层", "the same as points"),
        ("sites.gpkg", _no_xy(_AED_SITES), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "与 `POST /plans/aed-siting` 相同的回答", "the answer of `POST /plans/aed-siting`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "ems-site": [
        ("stations.csv", _fixed("rank", "id", "name", "lon", "lat", "source"), "新增急救站", "the new EMS stations"),
        (
            "report.json",
            None,
            "与 `GET /plans/ems-siting` 相同的回答：前后期望覆盖、一次/两次覆盖人口",
            "the answer of `GET /plans/ems-siting`: expected coverage, people covered once / twice",
        ),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "plan-targets": [
        (
            "targets.csv",
            _plan_fields("TARGET_FIELDS"),
            "每个行政单元的三项目标及是否达标",
            "per admin unit: the three targets and whether each is met",
        ),
        ("targets.geojson", _plan_fields("TARGET_FIELDS"), "同上，行政区多边形", "the same as admin unit polygons"),
        ("targets.gpkg", _plan_fields("TARGET_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "tiers.csv",
            _plan_fields("TIER_FIELDS"),
            "（给出 `--thrombolysis-rates` 时）各市溶栓率分档",
            "(with `--thrombolysis-rates`) each city's thrombolysis tier",
        ),
        ("report.json", None, "与 `GET /plans/targets` 相同的回答", "the answer of `GET /plans/targets`"),
        ("map.html", None, "分级设色地图", "a choropleth map"),
    ],
    "triage-compare": [
        (
            "compare.csv",
            _COMPARE,
            "两种情景（`<A>`、`<B>`）下每个地点的建议，及是否改变",
            "each location's recommendation under both scenarios (`<A>`, `<B>`), and whether it changes",
        ),
        ("compare.geojson", _COMPARE_LAYER, "同上，点图层", "the same as points"),
        ("compare.gpkg", _COMPARE_LAYER, "同上，GeoPackage", "the same as GeoPackage"),
        (
            "changed_area.geojson",
            _fixed("cells", "cell_m", "area_km2"),
            "建议改变的区域（300 m 格网合并的多边形）",
            "the changed area (300 m cells as polygons)",
        ),
        ("changed_area.gpkg", _fixed("cells", "cell_m", "area_km2"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "与 `GET /plans/triage-compare` 相同的回答", "the answer of `GET /plans/triage-compare`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "access": [
        (
            "units.csv",
            _access_fields("UNIT_FIELDS"),
            "每个行政单元：人口加权平均的容量可达性（每 10 万人）、服务范围内无机构的人口、到最近机构的平均分钟数",
            "per admin unit: population-weighted E2SFCA access per 100,000 people, people with no facility within the catchment, mean minutes to the nearest",
        ),
        ("units.geojson", _access_fields("UNIT_FIELDS"), "同上，行政区多边形", "the same as admin unit polygons"),
        ("units.gpkg", _access_fields("UNIT_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "points.csv",
            _access_fields("POINT_FIELDS"),
            "每个需求点（有人口的路网节点）的可达性与到最近机构的分钟数",
            "per demand point (populated network node): access and minutes to the nearest facility",
        ),
        ("points.geojson", _no_xy(_access_fields("POINT_FIELDS")), "同上，点图层", "the same as points"),
        ("points.gpkg", _no_xy(_access_fields("POINT_FIELDS")), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "facilities.csv",
            _access_fields("FACILITY_FIELDS"),
            "每个机构的容量（未给为 1）、服务范围内按距离衰减加权的人口与供需比",
            "per facility: capacity (1 when none given), decay-weighted people within its catchment, supply ratio",
        ),
        (
            "equity.csv",
            _access_fields("EQUITY_FIELDS"),
            "（`--equity`）可达性与行车时间的基尼系数、泰尔指数、最差 10% 人口",
            "(`--equity`) Gini and Theil of access and travel time, the worst-off decile",
        ),
        (
            "lorenz.csv",
            _fixed("measure", "population_share", "value_share"),
            "（`--equity`）洛伦兹曲线",
            "(`--equity`) the Lorenz curves",
        ),
        (
            "worst_decile.csv",
            _fixed("measure", "admin_code", "name", "people", "share_of_unit"),
            "（`--equity`）最差 10% 人口住在哪些行政单元",
            "(`--equity`) where the worst-off 10% of people live",
        ),
        (
            "standards.csv",
            _access_fields("STANDARD_FIELDS"),
            "（`--standards`）每个行政单元与全区域的各项标准：数值、目标、是否达标、来源",
            "(`--standards`) every standard per admin unit and for the region: value, target, met, source",
        ),
        ("report.json", None, "与 `GET /access` 相同的回答", "the answer of `GET /access`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "matrix": [
        (
            "-o FILE.csv / FILE.parquet",
            _fixed("origin_id", "destination_id", "time_s", "distance_m"),
            "每对起终点一行；不可达时 time_s、distance_m 为空；秒与米保留一位小数",
            "one row per origin-destination pair; empty time and distance when unreachable; seconds and metres to 0.1",
        ),
    ],
}

OUTPUTS_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "输出文件参考",
        "intro": "分析命令把结果写进 `-o` 指定的文件夹：CSV（只有表头和数据行，方法写在 report.json 里）、"
        "GeoJSON 与 GeoPackage（EPSG:4326）、report.json（与 API 的回答相同）和一个离线 HTML 地图。"
        "写入是原子的：运行失败时文件夹保持原样。列名取自写出它们的代码常量。",
        "file": "文件",
        "cols": "列 / 属性",
        "what": "内容",
        "see": "（见文件本身）",
        "other": "其他命令的输出：`nearest`、`dispatch`、`places` 在标准输出打印与 API 相同的 JSON；"
        "`isochrone` 写 GeoJSON（每个时间一个要素，属性 `minutes`）；`publish` 写省级/市级 HTML 地图与 PNG；"
        "`batch coverage` 写 `national.csv`、`national.gpkg`（图层 `coverage`）、`overview.html` 与 `regions/<id>.json`；"
        "`certify` 写设施数据结构的认证图层与 `--unresolved` 列表。",
    },
    "en": {
        "title": "Output files reference",
        "intro": "The analysis commands write into the folder given by `-o`: CSV (a header and rows, nothing else: "
        "the method is in report.json), GeoJSON and GeoPackage (EPSG:4326), report.json (the API's answer) and an "
        "offline HTML map. Writes are atomic: a failed run leaves the folder as it was. Column lists are the "
        "constants of the code that writes them.",
        "file": "file",
        "cols": "columns / properties",
        "what": "what",
        "see": "(see the file)",
        "other": "Other commands: `nearest`, `dispatch` and `places` print the API's JSON to stdout; `isochrone` "
        "writes GeoJSON (one feature per range, property `minutes`); `publish` writes the provincial / city HTML maps "
        "and PNGs; `batch coverage` writes `national.csv`, `national.gpkg` (layer `coverage`), `overview.html` and "
        "`regions/<id>.json`; `certify` writes the certified layer in the facility schema and the `--unresolved` list.",
    },
}


def outputs_page(lang: str) -> str:
    t = OUTPUTS_TEXT[lang]
    i = 0 if lang == "zh" else 1
    lines = [f"# {t['title']}", "", generated_note(lang, "`geoservice.faces.guide.reference.OUTPUTS`"), t["intro"], ""]
    for cmd, files in OUTPUTS.items():
        lines += [
            f"## `geoservice {cmd}` {{ #{cmd} }}",
            "",
            f"| {t['file']} | {t['what']} | {t['cols']} |",
            "|---|---|---|",
        ]
        for name, cols, zh, en in files:
            colstext = ", ".join(code(c) for c in cols()) if cols else t["see"]
            lines.append(f"| `{name}` | {(zh, en)[i]} | {colstext} |")
        lines.append("")
    lines += [t["other"], ""]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- errors
ERRORS_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "错误信息参考",
        "intro": "用户输入错误只有一种类型 `GeoserviceError`，带有出错的字段 `field`。命令行把字段显示为选项名"
        "（`--admin-units`），API 显示为 JSON 字段。其他任何异常都是程序缺陷：命令行打印回溯，API 返回 500。",
        "classes": "错误类型",
        "cls": "类型",
        "status": "HTTP 状态",
        "meaning": "含义",
        "json": "API 错误 JSON 的字段",
        "cli": "命令行",
        "cli_text": "命令行错误是一行 `geoservice: error: --选项: 问题`（行号从 1 开始），退出状态：",
        "exit": [
            ("0", "成功（认证名单处理完毕也为 0，未匹配的名字另行列出）"),
            ("1", "`batch`：至少一个区域失败（其他区域继续）"),
            ("2", "用户错误：选项、文件、取值有误；消息指明选项"),
            ("75", "服务暂时不可用（登记库数据库连不上），稍后重试"),
            ("130", "被中断（Ctrl-C）"),
        ],
        "responses": "各接口可能返回的错误",
        "example": "示例",
    },
    "en": {
        "title": "Error messages reference",
        "intro": "There is one type of user error, `GeoserviceError`, carrying the field at fault. The CLI shows the "
        "field as its flag (`--admin-units`), the API as the JSON field. Anything else is a program bug: a "
        "traceback in the CLI, a 500 in the API.",
        "classes": "Error types",
        "cls": "type",
        "status": "HTTP status",
        "meaning": "meaning",
        "json": "Fields of the API's error JSON",
        "cli": "Command line",
        "cli_text": "A CLI error is one line `geoservice: error: --flag: problem` (rows counted from 1), with exit status:",
        "exit": [
            ("0", "success (also a certification list processed with names left unmatched, which are listed)"),
            ("1", "`batch`: at least one region failed (the others went on)"),
            ("2", "user error: a flag, file or value is wrong; the message names the flag"),
            ("75", "the service cannot answer now (the registry database is unreachable); try again"),
            ("130", "interrupted (Ctrl-C)"),
        ],
        "responses": "Errors every route may answer",
        "example": "Example",
    },
}


def _doc_first(obj: Any) -> str:
    return " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())


def errors_page(lang: str) -> str:
    from ... import errors as errmod
    from ..api import errors as api_errors
    from ..api.schemas import ErrorResponse, FieldError

    t = ERRORS_TEXT[lang]
    lines = [
        f"# {t['title']}",
        "",
        generated_note(lang, "`geoservice/errors.py`, `faces/api/errors.py`"),
        t["intro"],
        "",
    ]
    lines += [
        f"## {t['classes']} {{ #classes }}",
        "",
        f"| {t['cls']} | {t['status']} | {t['meaning']} |",
        "|---|---|---|",
    ]
    classes = [getattr(errmod, n) for n in errmod.__all__] + [api_errors.LimitError]
    for c in classes:
        lines.append(f"| `{c.__name__}` | {c.status} | {cell(_doc_first(c))} |")
    lines += ["", f"## {t['json']} {{ #json }}", "", f"| field | type | {t['meaning']} |", "|---|---|---|"]
    for model in (ErrorResponse, FieldError):
        props = model.model_json_schema()["properties"]
        for name, f in model.model_fields.items():
            prefix = "errors[]." if model is FieldError else ""
            lines.append(f"| `{prefix}{name}` | {cell(_json_type(props[name]))} | {cell(f.description or '')} |")
    lines += [
        "",
        f"{t['example']}:",
        "",
        "```json",
        '{"detail": "level: unknown level of chest_pain_center \'gold\'; valid: standard, basic", "field": "level"}',
        "```",
        "",
        f"## {t['responses']} {{ #responses }}",
        "",
        f"| {t['status']} | {t['meaning']} |",
        "|---|---|",
    ]
    for name in ("R401", "R403", "R404", "R409", "R413", "R415", "R422", "R429", "R503"):
        for status, r in getattr(api_errors, name).items():
            lines.append(f"| {status} | {cell(r['description'])} |")
    lines += ["", f"## {t['cli']} {{ #cli }}", "", t["cli_text"], ""]
    for codev, meaning in t["exit"]:
        lines.append(f"- `{codev}`: {meaning}")
    lines.append("")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- pages
PAGES: dict[str, Callable[[str], str]] = {
    "cli": cli_page,
    "facility-schema": schema_page,
    "settings": settings_page,
    "http-api": api_page,
    "outputs": outputs_page,
    "errors": errors_page,
}


@lru_cache(maxsize=1)
def _pages() -> tuple[tuple[str, str], ...]:
    return tuple((f"reference/{stem}.{lang}.md", make(lang)) for stem, make in PAGES.items() for lang in LANGS)


def generated_files() -> list[str]:
    """The docs-relative paths of the generated pages (known without generating them)."""
    return [f"reference/{stem}.{lang}.md" for stem in PAGES for lang in LANGS]


def pages() -> dict[str, str]:
    """``{"reference/<page>.<lang>.md": markdown}`` for every generated page and language."""
    return dict(_pages())
