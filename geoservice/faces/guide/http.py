"""``/guide/``: the built manual's files, each HTML page with a Content-Security-Policy that allows
its own inline scripts by hash (Material's theme has two small ones) and nothing from elsewhere."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ..api.middleware import content_security_policy, inline_script_hashes
from . import guide

__all__ = ["guide_response"]


@lru_cache(maxsize=512)
def _csp(path: str, mtime_ns: int) -> str:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return content_security_policy(None, inline_script_hashes(text))


def _not_found(root: Path) -> Response:
    """The site's 404 page, whose links MkDocs writes from the site's root: put under /guide/."""
    page = root / "404.html"
    if not page.is_file():
        return HTMLResponse("<h1>404</h1>", status_code=404)
    text = page.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r'((?:href|src)=")/(?!/)', r"\1/guide/", text).replace('"base": "/"', '"base": "/guide/"')
    csp = content_security_policy(None, inline_script_hashes(text))
    return HTMLResponse(text, status_code=404, headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"})


def _file(path: Path, status: int = 200) -> Response:
    if path.suffix == ".html":
        csp = _csp(str(path), path.stat().st_mtime_ns)
        return FileResponse(
            path,
            status_code=status,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"},
        )
    return FileResponse(path, status_code=status)


_WAIT = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="3"><title>geoservice 使用手册 / manual</title>
</head><body>
<main style="max-width:40em;margin:3em auto;font-family:sans-serif;line-height:1.6">
<h1>geoservice 使用手册 · manual</h1>{body}</main></body></html>"""


def _page(body: str, status: int, retry: bool = False) -> HTMLResponse:
    headers = {"Cache-Control": "no-store"}
    if retry:
        headers["Retry-After"] = "3"
    text = _WAIT.format(body=body)
    if not retry:
        text = text.replace('<meta http-equiv="refresh" content="3">', "")
    return HTMLResponse(text, status_code=status, headers=headers)


def guide_response(path: str) -> Response:
    """The answer to ``GET /guide/<path>``."""
    site = guide()
    if site.has_sources and not site.current():
        site.start_build()
    if not site.built():
        if site.building:
            return _page(
                "<p>正在生成手册（第一次约需半分钟），本页会自动刷新。</p>"
                "<p>The manual is being built (about half a minute the first time); this page reloads itself.</p>",
                503,
                retry=True,
            )
        if site.last_error:
            return _page(
                "<p>手册生成失败 / the manual could not be built:</p><pre>"
                + html.escape(site.last_error[-4000:])
                + "</pre>",
                500,
            )
        return _page(
            "<p>这个安装不含手册源文件。在源代码目录中运行 "
            "<code>python -m geoservice.faces.guide build</code> 生成手册。</p>"
            "<p>This installation has no manual sources. In a source checkout, run "
            "<code>python -m geoservice.faces.guide build</code> to build the manual.</p>",
            404,
        )
    root = site.site.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        return _not_found(root)
    if target.is_dir():
        if path and not path.endswith("/"):  # relative links in the pages need the trailing slash
            return RedirectResponse(path.rsplit("/", 1)[-1] + "/", status_code=308)
        target = target / "index.html"
    if not target.is_file() or target.name.startswith("."):
        return _not_found(root)
    return _file(target)
