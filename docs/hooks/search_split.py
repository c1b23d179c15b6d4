"""MkDocs hook, after the build: one search index per language, language links that stay under
/guide/, and a search box that takes a command-line option as typed.

Material's search plugin writes one index for the whole site, so with mkdocs-static-i18n an English
page would find Chinese pages and the other way round. After the last build this hook moves the
English entries (``en/…``) into ``en/search/search_index.json`` and points the English pages'
``base`` (which Material's search uses to fetch the index and to resolve result links) at ``en/``.
mkdocs-static-i18n writes the home pages' language links as ``/`` and ``/en/`` (the server's root,
not /guide/): they are made relative; its ``<link rel="alternate">`` tags are dropped (Material
fetches a sitemap.xml beside each, which is not there). Material's search reads a leading ``-`` as "must not contain",
so ``--admin-units`` found nothing: its search worker is given one more step that drops the ``--`` in
front of a word (a lone ``-`` keeps its meaning); a Material release whose worker no longer has the
expected code is reported as a warning (which fails ``--strict``).
Idempotent: it runs after each language's build and changes nothing the second time.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.search_split")

OTHER = "en"  # the non-default language, built into site/en/
# Material's query transform in its search worker: quotes and lone operators removed, then split into terms
_TRANSFORM = '.replace(/"|(?:^|\\s+)[*+\\-:^~]+(?=\\s+|$)/g,"")'
_DASHES = '.replace(/(^|\\s)--+(?=[^\\s-])/g,"$1")'
_LANG_LINK = re.compile(r'(<(?:a|link)[^>]* href=")(/|/en/)(" hreflang=")')
# <link rel="alternate"> per page makes Material fetch "<that page>/sitemap.xml" (404s); the header's
# language links (<a hreflang>) switch languages without them
_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')
_BASE = re.compile(r'(<script id="__config" type="application/json">\{"annotate": [^,]*, "base": ")([^"]*)(")')


def _site_root(config: MkDocsConfig) -> Path:
    site = Path(config.site_dir)
    return site.parent if site.name == OTHER and (site.parent / "search").is_dir() else site


def _patch_worker(root: Path) -> None:
    workers = list((root / "assets" / "javascripts" / "workers").glob("search.*.js"))
    for worker in workers:
        text = worker.read_text(encoding="utf-8")
        if _TRANSFORM + _DASHES in text:
            continue
        if _TRANSFORM not in text:
            log.warning("search_split: Material's search worker %s changed: '--option' queries not fixed", worker.name)
            continue
        worker.write_text(text.replace(_TRANSFORM, _TRANSFORM + _DASHES, 1), encoding="utf-8")


def _relative_language_links(root: Path) -> None:
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rel = os.path.relpath(root, page.parent).replace(os.sep, "/")
        new = _LANG_LINK.sub(lambda m, rel=rel: f"{m.group(1)}{rel}{m.group(2)}{m.group(3)}", text)
        new = _ALTERNATE.sub("", new)
        if new != text:
            page.write_text(new, encoding="utf-8")


@event_priority(-200)  # after mkdocs-static-i18n (-100) has built the other language
def on_post_build(config: MkDocsConfig) -> None:
    root = _site_root(config)
    if (root / "assets").is_dir():
        _patch_worker(root)
    if (root / OTHER).is_dir():
        _relative_language_links(root)
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
