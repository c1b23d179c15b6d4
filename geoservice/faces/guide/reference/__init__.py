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

from collections.abc import Callable
from functools import lru_cache

from ..generated import LANGS, STEMS, generated_files
from .api import api_page, openapi_document
from .cli import cli_page, option_anchor
from .errors import errors_page
from .outputs import OUTPUTS, outputs_page
from .schema import COLUMN_MEANINGS, VALUE_MEANINGS, schema_page
from .settings import settings_page

__all__ = [
    "COLUMN_MEANINGS",
    "LANGS",
    "OUTPUTS",
    "PAGES",
    "VALUE_MEANINGS",
    "generated_files",
    "openapi_document",
    "option_anchor",
    "pages",
]

# --------------------------------------------------------------------------------------------- pages
PAGES: dict[str, Callable[[str], str]] = {
    "cli": cli_page,
    "facility-schema": schema_page,
    "settings": settings_page,
    "http-api": api_page,
    "outputs": outputs_page,
    "errors": errors_page,
}
if tuple(PAGES) != STEMS:  # the build key (guide/generated.py) must name exactly these pages
    raise RuntimeError(f"faces/guide/generated.py STEMS {STEMS} differ from the reference pages {tuple(PAGES)}")


@lru_cache(maxsize=1)
def _pages() -> tuple[tuple[str, str], ...]:
    return tuple((f"reference/{stem}.{lang}.md", make(lang)) for stem, make in PAGES.items() for lang in LANGS)


def pages() -> dict[str, str]:
    """``{"reference/<page>.<lang>.md": markdown}`` for every generated page and language."""
    return dict(_pages())
