"""The settings reference page: every field of the settings, with its environment name and default."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .text import code, esc, generated_note

# ------------------------------------------------------------------------------------------ settings
SETTINGS_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "设置参考",
        "intro": "每个设置都从环境变量 `GEOSERVICE_<名称>`（不分大小写）或当前目录下的 `.env` 文件读取，"
        "命令行与 API 相同；命令行上显式给出的选项（`--region`、`--db`）优先。`geoservice settings` 打印当前生效的值。"
        "列表类型的值写成 JSON（如 `GEOSERVICE_REGIONS='[\"/data/regions/hubei\"]'`）。"
        "取值错误时只打印一行，指明变量名（退出状态 2）。设置分为四组：路径、服务运行、限制、规划假设；"
        "分组只决定它在代码中的位置（如 `settings.server.request_timeout_s`）和本页及 `geoservice settings` 的排列，"
        "环境变量名不含组名。",
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
        "(exit status 2). The settings come in four groups: paths, server, limits and planning assumptions; "
        "a group only decides where a setting lives in the code (e.g. `settings.server.request_timeout_s`) and "
        "where this page and `geoservice settings` list it; the environment names do not carry it.",
        "var": "environment variable",
        "type": "type",
        "default": "default",
        "limits": "limits",
        "computed": "(computed at run time)",
    },
}

GROUP_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "paths": "输入、构建好的区域包和设施登记库所在的位置（`settings.paths`）。",
        "server": "HTTP 服务如何运行（`settings.server`）：应答缓存、网页底图、CORS、超时、准入槽位与排队、"
        "API 密钥与限流、志愿者位置保留时长、本地时钟。",
        "limits": "接受的最大问题或应答（`settings.limits`）：吸附距离、步行分钟、应答与请求体大小、轮廓精度。",
        "planning": "规划假设与目标（`settings.planning`）：规划目标、卒中分层、急救站模型、分时段行程时间系数、"
        "志愿者与 AED 调度。",
    },
    "en": {
        "paths": "Where the inputs, the built bundles and the facility registry are (`settings.paths`).",
        "server": "How the HTTP server runs (`settings.server`): answer caches, the pages' basemap, CORS, timeouts, "
        "admission slots and queues, API-key and rate limits, responder retention, the local clock.",
        "limits": "The largest question or answer accepted (`settings.limits`): snap distances, walk minutes, "
        "answer and body sizes, outline precision.",
        "planning": "Planning assumptions and targets (`settings.planning`): plan targets, stroke tiers, EMS "
        "models, hourly travel-time factors, bystander and AED dispatch.",
    },
}
"""One paragraph per group of settings (the environment names do not carry the group)."""


def _type_name(annotation: Any) -> str:
    s = str(annotation)
    s = re.sub(r"<class '([^']+)'>", r"\1", s)
    s = s.replace("pathlib.", "").replace("typing.", "").replace("NoneType", "None")
    return s


def _default_repr(value: Any) -> str:
    from ....service.settings import PACKAGE_DIR

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
    from ....service.settings import GROUPS

    t = SETTINGS_TEXT[lang]
    lines = [f"# {t['title']}", "", generated_note(lang, "`geoservice.service.settings.Settings`"), t["intro"], ""]
    for group, cls in GROUPS.items():
        lines += [f"## `settings.{group}` {{ #group-{group} }}", "", GROUP_TEXT[lang][group], ""]
        lines += _group_fields(lang, cls.model_fields)
    return "\n".join(lines) + "\n"


def _group_fields(lang: str, fields: dict[str, Any]) -> list[str]:
    from pydantic_core import PydanticUndefined

    from ....service.settings import ENV_PREFIX

    t = SETTINGS_TEXT[lang]
    lines: list[str] = []
    for name, f in fields.items():
        env = ENV_PREFIX + name.upper()
        lines += [f"### `{name}` {{ #{name.replace('_', '-')} data-toc-label='{name}' }}", ""]
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
    return lines
