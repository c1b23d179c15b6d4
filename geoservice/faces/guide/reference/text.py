# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""Text helpers shared by the generated reference pages: Markdown escaping, cells, the generated-page note."""

from __future__ import annotations

import re
from typing import Any


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
