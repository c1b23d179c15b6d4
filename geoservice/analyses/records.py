"""The plain JSON form every typed analysis result shares."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

__all__ = ["JsonRecord"]


class JsonRecord:
    """Mixin for dataclass results whose JSON is their fields as they are (``asdict``)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]
