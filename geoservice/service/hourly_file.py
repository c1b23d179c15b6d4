"""A user's file of hourly travel-time factors (setting ``hourly_profiles``, CLI ``--hourly-profiles``),
read once per file version.

Its own module so that both the settings (which check the file when they are made) and the traffic
resolution (which uses it) import it, neither importing the other.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..errors import GeoserviceError
from ..sources.speeds import read_hourly_profiles

__all__ = ["Table", "hourly_profiles"]

Table = dict[str, tuple[float, ...]]


def hourly_profiles(path: Path | str | None) -> Table | None:
    """The hourly factors of a user's CSV file (``sources.speeds.read_hourly_profiles``), read
    once per file version; None for the default curve. Errors name ``hourly_profiles``."""
    if path is None or str(path) == "":
        return None
    p = Path(path)
    if not p.is_file():
        raise GeoserviceError("hourly_profiles", f"file not found: {p}")
    return _read(str(p.resolve()), os.stat(p).st_mtime_ns)


@lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int) -> Table:
    try:
        return read_hourly_profiles(path)
    except GeoserviceError as exc:
        raise exc.with_field("hourly_profiles") from None
    except UnicodeDecodeError:
        raise GeoserviceError("hourly_profiles", f"{path} is not UTF-8 text") from None
