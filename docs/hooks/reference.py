"""MkDocs hook: the reference pages generated from the code (geoservice.faces.guide.reference).

Before every build they are written into docs/reference/ (only when their text changed; those
files are git-ignored and never edited by hand), so the manual cannot drift from the code.
mkdocs-static-i18n only takes pages that are files under docs_dir, hence files, not pages in memory.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig

from geoservice.faces.guide.reference import pages


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    docs = Path(config.docs_dir)
    for src_uri, text in pages().items():
        path = docs / src_uri
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return config
