"""Calibration of travel-time factors from observed trips, as every face asks it: the region's
engine, the trip file read in its coordinate system, and the hourly profile in force before
(the user's ``--hourly-profiles`` file, else the built-in curve) scored beside the fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...analyses.calibration import Calibration, CalibrationOptions, calibrate
from ...errors import GeoserviceError
from ...sources.coords import CRS_CHOICES
from ...sources.speeds import HOURLY_SOURCE, default_hourly_profiles
from ...sources.trips import read_trips
from ..core import GeoService
from ..traffic import hourly_profiles

__all__ = ["MAX_FOLDS", "CalibrationOptions", "calibrate_trips"]

MAX_FOLDS = 20


def calibrate_trips(
    svc: GeoService,
    trips: str | Path,
    *,
    crs: str = "wgs84",
    options: CalibrationOptions = CalibrationOptions(),
    before_profiles: str | Path | None = None,
    region: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, Calibration]:
    """(region name, calibration) of ``trips`` on the region named (else the first served), with
    ``options`` (``analyses.calibration.CalibrationOptions``, carried unchanged). Bad options are
    errors naming them; so is a trip file that cannot be fitted."""
    profile, folds, days, max_iterations = options.profile, options.folds, options.days, options.max_iterations
    if crs not in CRS_CHOICES:
        raise GeoserviceError("crs", f"unknown coordinate system {crs!r}; allowed: {', '.join(CRS_CHOICES)}")
    if profile not in ("drive", "ambulance"):
        raise GeoserviceError("profile", f"calibration fits driving: drive or ambulance, not {profile!r}")
    if not 2 <= folds <= MAX_FOLDS:
        raise GeoserviceError("folds", f"--folds must be between 2 and {MAX_FOLDS}, got {folds}")
    if days not in ("all", "weekday", "weekend"):
        raise GeoserviceError("days", f"days must be all, weekday or weekend, got {days!r}")
    if max_iterations < 1:
        raise GeoserviceError("max_iterations", f"at least one iteration is needed, got {max_iterations}")
    before = hourly_profiles(before_profiles)  # a bad file names hourly_profiles, before any work
    table = read_trips(trips, crs)
    entry = svc.pick(region)
    engine = svc.engine(entry.name)
    if profile not in engine.profiles:
        raise GeoserviceError("profile", f"region {entry.name} has no {profile!r} profile ({sorted(engine.profiles)})")
    cal = calibrate(
        engine,
        table,
        region=entry.name,
        before=before or default_hourly_profiles(),
        before_label=str(before_profiles) if before else f"built-in hourly curve ({HOURLY_SOURCE})",
        options=options,
        progress=progress,
    )
    return entry.name, cal
