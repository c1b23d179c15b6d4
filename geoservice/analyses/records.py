"""The plain JSON form every typed analysis result shares."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

__all__ = ["JsonRecord"]


class JsonRecord:
    """Mixin for dataclass results whose JSON is their fields as they are (``asdict``)."""

    def to_json(self) -> dict[str, Any]:
        # a mixin: mypy cannot see that ``self`` is a dataclass instance
        return cast(dict[str, Any], asdict(self))  # type: ignore[call-overload]
