"""Origin-destination matrices to a file: the region, travel mode and traffic of the question,
then ``engine.matrix_stream`` writes it block by block (any size, bounded memory)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ...engine.matrix_stream import MatrixFile, matrix_format, write_matrix
from ...engine.router import Router
from ...errors import GeoserviceError
from ...questions import MAX_CUTOFF_MINUTES, MatrixQuestion
from ..core import GeoService
from ..traffic import Traffic
from .queries import traffic_of

__all__ = ["matrix_file", "MatrixAnswer", "MAX_CUTOFF_MINUTES", "SnapSummary"]

FAR_SNAP_M = 50.0  # points this far from their road are counted and said


@dataclass(frozen=True)
class SnapSummary:
    """How far the points of one side lie from the roads they join: their walk to the road (at
    5 km/h) is in every time of the matrix, so points far off the road are said."""

    points: int
    far: int  # more than FAR_SNAP_M from their road
    max_m: float
    first_far_row: int | None  # 1-based row of the first far point

    def describe(self, side: str) -> str | None:
        if not self.far:
            return None
        return (
            f"{self.far} of {self.points} {side} lie more than {FAR_SNAP_M:g} m from their road (farthest "
            f"{self.max_m:.0f} m, first at row {self.first_far_row}); the walk to the road is in every time"
        )


def snap_summary(router: Router, points: list[tuple[float, float]]) -> SnapSummary:
    snaps = router.snap_many([p[0] for p in points], [p[1] for p in points], strict=False)
    d = [s.dist_m if s is not None else math.inf for s in snaps]
    far = [i for i, x in enumerate(d) if x > FAR_SNAP_M]
    return SnapSummary(len(points), len(far), round(max(d, default=0.0), 1), far[0] + 1 if far else None)


@dataclass(frozen=True)
class MatrixAnswer:
    """The file written, the region and profile used and the traffic (which scenario or hour)."""

    region: str
    profile: str
    traffic: Traffic
    file: MatrixFile
    origin_snaps: SnapSummary
    destination_snaps: SnapSummary

    def snap_notes(self) -> list[str]:
        return [
            n for n in (self.origin_snaps.describe("origins"), self.destination_snaps.describe("destinations")) if n
        ]


def matrix_file(svc: GeoService, q: MatrixQuestion, output: str | Path, *, block: int = 256) -> MatrixAnswer:
    """Travel times and distances from every origin of ``q`` to every destination, written to
    ``output`` (.csv, or .parquet with pyarrow); the first origin picks the region. With
    ``q.cutoff_minutes`` only the pairs within it are written."""
    matrix_format(output)  # a wrong suffix fails before any work
    prof = q.mode
    if not q.origins:
        raise GeoserviceError("origins", "no origins")
    entry = svc.locate(q.origins[0][0], q.origins[0][1], prof, field_name="origins")
    eng = svc.engine(entry.name)
    tr = traffic_of(svc, eng, prof, q.traffic.scenario, q.traffic.depart)
    out = write_matrix(eng, q, output, scenario=tr.scenario, block=block)
    router = eng.router_for(prof)
    origins, destinations = list(q.origins), list(q.destinations)
    return MatrixAnswer(entry.name, prof, tr, out, snap_summary(router, origins), snap_summary(router, destinations))
