"""Origin-destination matrices of any size, written to disk block by block as they are computed.

Why: a province's matrix (thousands x tens of thousands of pairs) does not fit in memory as one
array, nor as a list of rows. ``Engine.matrix`` answers a block of origins at a time over the
customised hierarchy; each block is written at once (CSV rows, or one Parquet row group) and
dropped, so memory stays at one block (``block`` x destinations) whatever the size. The file is
written beside its target and moved in only when complete (``fileio.atomic_path``).

Layout is long: ``origin_id, destination_id, time_s, distance_m`` (seconds and metres to 0.1,
distance along the fastest route). Without a cutoff every pair has a row, unreachable ones with
empty time and distance; with ``cutoff_s`` only pairs within it are written (a far pair has no row).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GeoserviceError
from ..fileio import atomic_path
from ..questions import MatrixQuestion
from ..sources.cell_values import spreadsheet_safe
from .router import Scenario

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["MatrixFile", "write_matrix", "matrix_format", "FORMATS", "COLUMNS"]

FORMATS = ("csv", "parquet")
COLUMNS = ("origin_id", "destination_id", "time_s", "distance_m")


@dataclass(frozen=True)
class MatrixFile:
    """What was written: the file, its format, the matrix size and how many pairs have a row."""

    path: Path
    format: str
    origins: int
    destinations: int
    pairs: int
    blocks: int
    cutoff_s: float | None


def matrix_format(path: str | Path) -> str:
    """``csv`` or ``parquet`` from the file name; Parquet needs pyarrow (errors name ``output``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise GeoserviceError("output", f"{path}: write a .csv or .parquet file, not {suffix or 'no suffix'!r}")
    if suffix == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise GeoserviceError(
            "output", f"{path}: writing Parquet needs pyarrow, which is not installed; write a .csv file instead"
        )
    return suffix


def _blocks(
    engine: Engine,
    origins: Sequence[tuple[float, float]],
    destinations: Sequence[tuple[float, float]],
    *,
    profile: str,
    scenario: Scenario,
    block: int,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first origin index, times, metres) per block of ``block`` origins, in origin order."""
    times: list[np.ndarray] = []
    meters: list[np.ndarray] = []
    start = 0
    for _, t, m in engine.matrix(origins, destinations, profile=profile, scenario=scenario, block=block):
        times.append(t)
        meters.append(m)
        if len(times) == block:
            yield start, np.vstack(times), np.vstack(meters)
            start += block
            times, meters = [], []
    if times:
        yield start, np.vstack(times), np.vstack(meters)


def write_matrix(
    engine: Engine, q: MatrixQuestion, path: str | Path, *, scenario: Scenario = None, block: int = 256
) -> MatrixFile:
    """Write the matrix from ``q.origins`` to ``q.destinations`` (by ``q.mode``, only the pairs within
    ``q.cutoff_s`` if set) to ``path`` (.csv or .parquet), one block of origins at a time; see the
    module docstring. ``scenario`` is the question's traffic resolved for the region (edge factors).
    A point off the network is an error naming ``origins`` or ``destinations`` and its row, raised
    before anything is written."""
    origins, destinations, origin_ids, destination_ids = q.origins, q.destinations, q.origin_ids, q.destination_ids
    profile, cutoff_s = q.mode, q.cutoff_s
    fmt = matrix_format(path)
    if len(origin_ids) != len(origins) or len(destination_ids) != len(destinations):
        raise ValueError("one id per origin and per destination")
    oid = [str(i) for i in origin_ids]
    did = [str(i) for i in destination_ids]
    n_dest = len(destinations)
    blocks = _blocks(engine, origins, destinations, profile=profile, scenario=scenario, block=block)
    pairs = n_blocks = 0
    out = Path(path)
    with atomic_path(out) as tmp, _Writer(tmp, fmt, oid, did) as writer:
        for start, times, meters in blocks:
            oi = np.repeat(np.arange(start, start + len(times)), n_dest)
            dj = np.tile(np.arange(n_dest), len(times))
            t, m = times.ravel(), meters.ravel()
            if cutoff_s is not None:
                keep = t <= cutoff_s
                oi, dj, t, m = oi[keep], dj[keep], t[keep], m[keep]
            ok = np.isfinite(t)
            writer.write(oi, dj, np.round(t, 1), np.round(m, 1), ok)
            pairs += len(t)
            n_blocks += 1
    return MatrixFile(out, fmt, len(origins), n_dest, pairs, n_blocks, cutoff_s)


def _tenths(x: np.ndarray, ok: np.ndarray) -> list[str]:
    """Numbers as text with one decimal, "" where not ``ok``."""
    out = list(map("{:.1f}".format, np.where(ok, x, 0.0).tolist()))
    for i in np.flatnonzero(~ok).tolist():
        out[i] = ""
    return out


def _field(text: str) -> str:
    """A CSV field, quoted only where needed (csv.QUOTE_MINIMAL with a comma delimiter), that a
    spreadsheet opens as text (an id such as ``=1+1`` gets a leading ')."""
    text = spreadsheet_safe(text)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class _Writer:
    """Appends blocks of long rows to a CSV file or a Parquet file (one row group per block)."""

    def __init__(self, path: Path, fmt: str, origin_ids: list[str], destination_ids: list[str]):
        self.path, self.fmt = path, fmt
        self.ids = (np.asarray(origin_ids, object), np.asarray(destination_ids, object))
        self.fields = (
            np.asarray(list(map(_field, origin_ids)), object),
            np.asarray(list(map(_field, destination_ids)), object),
        )
        self._fh: Any = None
        self._csv = False
        self._pq: Any = None
        self._schema: Any = None

    def __enter__(self) -> _Writer:
        if self.fmt == "csv":
            self._fh = open(self.path, "w", newline="", encoding="utf-8")
            self._csv = True
            self._fh.write(",".join(COLUMNS) + "\n")
        else:  # lazy: pyarrow is optional and heavy, needed only for Parquet (``matrix_format``)
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema(
                [("origin_id", pa.string()), ("destination_id", pa.string())]
                + [("time_s", pa.float64()), ("distance_m", pa.float64())]
            )
            self._pq = pq.ParquetWriter(str(self.path), self._schema)
        return self

    def write(self, oi: np.ndarray, dj: np.ndarray, t: np.ndarray, m: np.ndarray, ok: np.ndarray) -> None:
        """Rows for origin positions ``oi`` and destination positions ``dj``."""
        if self._csv:
            # formatting is most of the cost: ids are quoted once each, numbers by str.format
            # (twice as fast as csv.writer or numpy's string functions on a million rows)
            o, d = self.fields[0][oi].tolist(), self.fields[1][dj].tolist()
            self._fh.write("".join(map("{},{},{},{}\n".format, o, d, _tenths(t, ok), _tenths(m, ok))))
            return
        import pyarrow as pa  # lazy: optional, Parquet only (see __enter__)

        cols = [
            pa.array(self.ids[0][oi].tolist(), pa.string()),
            pa.array(self.ids[1][dj].tolist(), pa.string()),
            pa.array(t, pa.float64(), mask=~ok),
            pa.array(m, pa.float64(), mask=~ok),
        ]
        self._pq.write_table(pa.Table.from_arrays(cols, schema=self._schema))

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._pq is not None:
            self._pq.close()
