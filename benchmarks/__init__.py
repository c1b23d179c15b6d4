"""geoservice's benchmarks: ``python -m benchmarks <name> [options]`` (``python -m benchmarks``
lists them), each printing its figures and writing them as JSON with ``--json FILE``. Run from
the repository's root; nothing here is installed with the package. ``tests/test_benchmarks.py``
runs each one at Monaco size with tiny parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: str | Path | None, doc: dict[str, Any]) -> None:
    """Write a benchmark's figures as JSON (``--json FILE``); nothing when no path is given."""
    if path:
        Path(path).write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
