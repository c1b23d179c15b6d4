"""MkDocs hook: one search index per language.

Material's search plugin writes one index for the whole site, so with mkdocs-static-i18n an English
page would find Chinese pages and the other way round. After the last build this hook moves the
English entries (``en/…``) into ``en/search/search_index.json`` and points the English pages'
``base`` (which Material's search uses to fetch the index and to resolve result links) at ``en/``.
Idempotent: it runs after each language's build and changes nothing once split.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority

OTHER = "en"  # the non-default language, built into site/en/
_BASE = re.compile(r'(<script id="__config" type="application/json">\{"annotate": [^,]*, "base": ")([^"]*)(")')


def _site_root(config: MkDocsConfig) -> Path:
    site = Path(config.site_dir)
    return site.parent if site.name == OTHER and (site.parent / "search").is_dir() else site


@event_priority(-200)  # after mkdocs-static-i18n (-100) has built the other language
def on_post_build(config: MkDocsConfig) -> None:
    root = _site_root(config)
    index = root / "search" / "search_index.json"
    if not index.is_file() or not (root / OTHER).is_dir():
        return
    doc = json.loads(index.read_text(encoding="utf-8"))
    mine = [d for d in doc["docs"] if not d["location"].startswith(f"{OTHER}/")]
    other = [
        dict(d, location=d["location"][len(OTHER) + 1 :]) for d in doc["docs"] if d["location"].startswith(f"{OTHER}/")
    ]
    if not other:
        return
    (root / OTHER / "search").mkdir(exist_ok=True)
    (root / OTHER / "search" / "search_index.json").write_text(
        json.dumps(dict(doc, docs=other), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    index.write_text(json.dumps(dict(doc, docs=mine), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    en_root = root / OTHER
    for page in en_root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rel = os.path.relpath(en_root, page.parent).replace(os.sep, "/")
        new = _BASE.sub(lambda m, rel=rel: m.group(1) + rel + m.group(3), text, count=1)
        if new != text:
            page.write_text(new, encoding="utf-8")
