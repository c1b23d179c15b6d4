"""The names of the manual's pages generated from the code (``reference/``), known without generating
them or importing the code they describe: the site's build key needs them, and the generator
(``reference/``) imports the CLI and the API, which serve the site."""

from __future__ import annotations

LANGS = ("zh", "en")
STEMS = ("cli", "facility-schema", "settings", "http-api", "outputs", "errors")


def generated_files() -> list[str]:
    """The docs-relative paths of the generated pages."""
    return [f"reference/{stem}.{lang}.md" for stem in STEMS for lang in LANGS]
