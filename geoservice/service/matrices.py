"""Origin-destination matrices to a file: the region, travel mode and traffic of the question,
then ``engine.matrix_stream`` writes it block by block (any size, bounded memory)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..engine.matrix_stream import MatrixFile, matrix_format, write_matrix
from ..errors import GeoserviceError
from .core import GeoService
from .queries import traffic_of
from .traffic import Traffic

__all__ = ["matrix_file", "MatrixAnswer", "MAX_CUTOFF_MINUTES"]

MAX_CUTOFF_MINUTES = 24 * 60.0


@dataclass(frozen=True)
class MatrixAnswer:
    """The file written, the region and profile used and the traffic (which scenario or hour)."""

    region: str
    profile: str
    traffic: Traffic
    file: MatrixFile


def matrix_file(
    svc: GeoService,
    *,
    origin_ids: list[str],
    origins: list[tuple[float, float]],
    destination_ids: list[str],
    destinations: list[tuple[float, float]],
    output: str | Path,
    profile: str | None = None,
    scenario: str | dict[str, float] | None = None,
    depart: str | None = None,
    cutoff_minutes: float | None = None,
    block: int = 256,
) -> MatrixAnswer:
    """Travel times and distances from every origin to every destination, written to ``output``
    (.csv, or .parquet with pyarrow); the first origin picks the region. With ``cutoff_minutes``
    only the pairs within it are written."""
    matrix_format(output)  # a wrong suffix fails before any work
    if cutoff_minutes is not None and not (math.isfinite(cutoff_minutes) and 0 < cutoff_minutes <= MAX_CUTOFF_MINUTES):
        raise GeoserviceError("cutoff_minutes", f"must be in (0, {MAX_CUTOFF_MINUTES:g}], got {cutoff_minutes:g}")
    prof = profile or "drive"
    if not origins:
        raise GeoserviceError("origins", "no origins")
    entry = svc.locate(origins[0][0], origins[0][1], prof, field_name="origins")
    eng = svc.engine(entry.name)
    tr = traffic_of(svc, eng, prof, scenario, depart)
    out = write_matrix(
        eng,
        origins,
        destinations,
        output,
        origin_ids=origin_ids,
        destination_ids=destination_ids,
        profile=prof,
        scenario=tr.scenario,
        cutoff_s=None if cutoff_minutes is None else cutoff_minutes * 60.0,
        block=block,
    )
    return MatrixAnswer(entry.name, prof, tr, out)
