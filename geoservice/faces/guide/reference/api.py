# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""The HTTP API reference page: every path, parameter, answer and schema of the OpenAPI document."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ...api.version import API_PREFIX
from .cli import anchor
from .schema import json_type
from .text import cell, code, code_cell, esc, generated_note

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

    from ....service.core import GeoService
    from ....service.settings import Settings
    from ...api.app import create_app

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
    return cell(json_type(s)) or "any"


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
            op_anchor = anchor(method, path.replace("{", "").replace("}", ""))
            lines += [f"### `{method.upper()} {path}` {{ #{op_anchor} }}", ""]
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
