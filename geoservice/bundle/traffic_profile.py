"""A region's calibrated hourly profile, kept in its bundle: what ``geoservice calibrate``
learned stays with the region, and every face uses it for ``depart`` unless told otherwise.

Two optional files beside meta.json (a bundle without them loads as before; the built-in curve,
an assumption, is then in force):

    traffic_profile.csv    the profile (``road_class,h00..h23``), a copy for people and tools
    traffic.json           what answers use: the factors, the label answers carry
                           (``calibrated 2026-03 (1,499 trips)``), the provenance (profile and trip
                           file sha256, the trips' date range, trips read / used, held-out errors
                           before and after) and the spread of observed / predicted times for
                           answers at a percentile (``analyses.travel_spread``)

traffic.json is written last and atomically (a reader sees the old profile or the new one, never
half of one); it holds the factors itself, so the CSV is never read back.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..analyses.travel_spread import Spread, spread_from_json, spread_from_report
from ..errors import GeoserviceError
from ..fileio import atomic_write_text
from ..sources.speeds import read_hourly_profiles

__all__ = ["PROFILE_CSV", "TRAFFIC_JSON", "StoredProfile", "attach_profile", "stored_profile"]

TRAFFIC_JSON = "traffic.json"
PROFILE_CSV = "traffic_profile.csv"
Table = dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class StoredProfile:
    table: Table
    label: str
    provenance: dict[str, Any]
    spread: Spread


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _label(report: dict[str, Any] | None, attached: str) -> str:
    if not report:
        return f"calibrated profile attached {attached[:10]} (no calibration report)"
    used = (report.get("trips") or {}).get("used")
    dr = report.get("date_range") or []
    month = (dr[-1] if dr else attached)[:7]
    return f"calibrated {month} ({used:,} trips)" if used else f"calibrated {month}"


def attach_profile(
    bundle: str | os.PathLike[str], profile: str | os.PathLike[str], report: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Store ``profile`` (and what ``report``, calibrate's report.json, says of it) in the bundle
    ``bundle``; returns what traffic.json now holds. Errors name ``region``, ``profile`` or
    ``report``; on error the bundle is left as it was."""
    b = Path(bundle)
    if not (b / "meta.json").is_file():
        raise GeoserviceError("region", f"{b} is not a region bundle (no meta.json)")
    p = Path(profile)
    if not p.is_file():
        raise GeoserviceError("profile", f"file not found: {p}")
    try:
        table = read_hourly_profiles(p)
        text = p.read_text(encoding="utf-8")
    except GeoserviceError as exc:
        raise exc.with_field("profile") from None
    except UnicodeDecodeError:
        raise GeoserviceError("profile", f"{p} is not UTF-8 text") from None
    rep: dict[str, Any] | None = None
    if report is not None:
        r = Path(report)
        try:
            rep = json.loads(r.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise GeoserviceError("report", f"cannot read {r} as calibrate's report.json: {exc}") from None
        if not isinstance(rep, dict) or "evaluation" not in rep:
            raise GeoserviceError("report", f"{r} is not a report.json of geoservice calibrate (no evaluation)")
    meta = json.loads((b / "meta.json").read_text(encoding="utf-8"))
    attached = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    spread = spread_from_report(rep) if rep else spread_from_json(None)
    models = ((rep or {}).get("evaluation") or {}).get("models") or {}
    provenance: dict[str, Any] = {
        "attached": attached,
        "profile_file": str(p),
        "profile_sha256": _sha256(p),
        "report_file": str(report) if report is not None else None,
    }
    if rep:
        trips = rep.get("trips") or {}
        provenance.update(
            calibrated_region=rep.get("region"),
            region_matches=rep.get("region") in (None, meta.get("name")),
            travel_profile=rep.get("profile"),
            days=rep.get("days"),
            trips_file=rep.get("trips_file"),
            trips_file_sha256=rep.get("trips_file_sha256"),
            date_range=rep.get("date_range"),
            trips_read=trips.get("read"),
            trips_used=trips.get("used"),
            trips_rejected=trips.get("rejected"),
            errors={
                k: {f: m.get(f) for f in ("median_abs_error_s", "median_abs_error_pct", "within_2min", "bias_pct")}
                for k, m in models.items()
                if isinstance(m, dict)
            },
            overhead_s=rep.get("overhead_s"),
        )
    data = {
        "label": _label(rep, attached),
        "factors": {c: list(f) for c, f in table.items()},
        "provenance": provenance,
        "spread": spread.to_json(),
    }
    atomic_write_text(b / PROFILE_CSV, text)
    atomic_write_text(b / TRAFFIC_JSON, json.dumps(data, ensure_ascii=False, indent=2))
    return data


def stored_profile(bundle: str | os.PathLike[str] | None) -> StoredProfile | None:
    """The profile stored in ``bundle`` (read once per version of traffic.json), None without one."""
    if bundle is None:
        return None
    f = Path(bundle) / TRAFFIC_JSON
    try:
        st = os.stat(f)
    except OSError:
        return None
    return _read(str(f), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int, size: int) -> StoredProfile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        table = {c: tuple(float(x) for x in f) for c, f in data["factors"].items()}
        if any(len(f) != 24 for f in table.values()):
            raise ValueError("a road class without 24 factors")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GeoserviceError("region", f"{path} is damaged ({exc}); attach the profile again") from None
    return StoredProfile(table, str(data["label"]), data.get("provenance") or {}, spread_from_json(data.get("spread")))
