# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""The errors reference page: the error classes, the JSON error fields and the CLI's exit statuses."""

from __future__ import annotations

from typing import Any

from .schema import json_type
from .text import cell, generated_note

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
    from .... import errors as errmod
    from ...api import errors as api_errors
    from ...api.schemas import ErrorResponse, FieldError

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
            lines.append(f"| `{prefix}{name}` | {cell(json_type(props[name]))} | {cell(f.description or '')} |")
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
