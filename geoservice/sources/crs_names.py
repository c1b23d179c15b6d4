"""The strongest evidence of a file's coordinate system: its facilities' names (see
``sources.crs_check``). Each point with a namesake among the region's OpenStreetMap facilities
(``Reference``) votes for the reading that puts it on that namesake."""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .crs_base import (
    CLEAR,
    CONSISTENT,
    FIT_M,
    M_PER_DEG,
    MAX_NAMESAKES,
    MIN_MATCHES,
    NAMES,
    SEPARATION_M,
    CrsCheck,
    fix_hint,
    fmt_m,
    read_as_wgs,
    readings_of,
)
from .hospital_names import bracket_keys, name_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Reference", "NameVotes", "name_votes", "names_check"]


def _group(ftype: Any) -> str:
    """AEDs are matched with AEDs, every other facility with the hospitals and clinics."""
    return "aed" if str(ftype or "").strip().lower() == "aed" else "care"


def _name_keys(name: Any) -> tuple[str, ...]:
    """The comparison key of a name and its bracket keys; none for a missing or placeholder name."""
    if not isinstance(name, str) or not name.strip() or name.strip().lower().startswith("unnamed "):
        return ()
    keys = (name_key(name), *bracket_keys(name))
    return tuple(dict.fromkeys(k for k in keys if len(k) >= 2))


def _metres(
    lon0: NDArray[np.float64], lat0: NDArray[np.float64], lon1: NDArray[np.float64], lat1: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(east, north) metres from point 0 to point 1 (local flat approximation; a few km at most)."""
    east = (lon1 - lon0) * M_PER_DEG * np.cos(np.radians((lat0 + lat1) / 2))
    return east, (lat1 - lat0) * M_PER_DEG


@dataclass(frozen=True)
class Reference:
    """Facilities of the region whose positions come from OpenStreetMap (WGS-84), indexed by
    (type group, name key); ``what`` names them in messages."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    index: dict[tuple[str, str], tuple[int, ...]]
    what: str

    @classmethod
    def from_layer(cls, layer: pd.DataFrame | None, what: str) -> Reference | None:
        """The rows of a facility table (``lon``, ``lat``, ``name``, ``type``, ``source``) whose
        source names OpenStreetMap; None when there are none."""
        if layer is None or len(layer) == 0 or not {"lon", "lat", "name", "type"} <= set(layer.columns):
            return None
        rows = layer
        if "source" in layer.columns:
            rows = layer[layer["source"].astype(str).str.contains("openstreetmap", case=False, na=False)]
        lon, lat = rows["lon"].to_numpy(np.float64), rows["lat"].to_numpy(np.float64)
        index: dict[tuple[str, str], list[int]] = {}
        for i, (name, ftype) in enumerate(zip(rows["name"], rows["type"], strict=True)):
            if not (math.isfinite(lon[i]) and math.isfinite(lat[i])):
                continue
            g = _group(ftype)
            for k in _name_keys(name):
                index.setdefault((g, k), []).append(i)
        if not index:
            return None
        return cls(lon, lat, {k: tuple(v) for k, v in index.items()}, what)

    @classmethod
    def cached(cls, layer: pd.DataFrame | None, what: str) -> Reference | None:
        """``from_layer``, kept while ``layer`` lives: a served region's table is indexed once,
        not on every import (about 15 µs a name)."""
        key = id(layer)
        hit = _REFERENCES.get(key)
        if hit is not None and hit[0]() is layer and hit[1] == what:
            return hit[2]
        ref = cls.from_layer(layer, what)
        try:
            alive = weakref.ref(layer, lambda _, k=key: _REFERENCES.pop(k, None))  # type: ignore[misc]
        except TypeError:  # not weakly referable: not kept
            return ref
        _REFERENCES[key] = (alive, what, ref)
        return ref

    def namesakes(self, name: object, ftype: object) -> tuple[int, ...]:
        g = _group(ftype)
        return tuple(dict.fromkeys(j for k in _name_keys(name) for j in self.index.get((g, k), ())))


_REFERENCES: dict[int, tuple[weakref.ref[Any], str, Reference | None]] = {}


@dataclass(frozen=True)
class NameVotes:
    matched: int
    votes: dict[str, int]
    median_m: dict[str, float]
    likely: str | None  # the reading the names decide for (None: they cannot decide)
    offset_m: tuple[float, float] | None  # median (east, north) of declared points from their namesakes


def name_votes(
    rx: NDArray[np.float64],
    ry: NDArray[np.float64],
    decl: str,
    names: Sequence[object],
    types: Sequence[object],
    ref: Reference,
) -> NameVotes | None:
    pi: list[int] = []
    rj: list[int] = []
    for i, (name, ftype) in enumerate(zip(names, types, strict=True)):
        cands = ref.namesakes(name, ftype)
        if 0 < len(cands) <= MAX_NAMESAKES:
            pi += [i] * len(cands)
            rj += cands
    if not pi:
        return None
    p, j = np.asarray(pi, np.int64), np.asarray(rj, np.int64)
    readings = readings_of(decl)
    pos = {c: read_as_wgs(rx, ry, c) for c in readings}
    pair_d = {}
    for c in readings:
        e, n = _metres(pos[c][0][p], pos[c][1][p], ref.lon[j], ref.lat[j])
        pair_d[c] = np.hypot(e, n)
    points = np.unique(p)
    r = np.full((len(points), len(readings)), np.inf)
    slot = np.searchsorted(points, p)
    for k, c in enumerate(readings):
        col = np.full(len(points), np.inf)
        np.minimum.at(col, slot, pair_d[c])
        r[:, k] = col
    best = np.argmin(r, axis=1)
    r_sorted = np.sort(r, axis=1)
    r1, r2 = r_sorted[:, 0], r_sorted[:, 1]
    tells = (r1 <= FIT_M) & (r2 >= np.maximum(r1 / CLEAR, SEPARATION_M))
    votes = {c: int((tells & (best == k)).sum()) for k, c in enumerate(readings)}
    total = sum(votes.values())
    top = max(readings, key=lambda c: votes[c])  # the declared reading first on a tie
    decided = votes[top] >= MIN_MATCHES and votes[top] >= CONSISTENT * total
    use = tells & (best == readings.index(top)) if votes[top] else np.ones(len(points), bool)
    median = {c: float(np.median(r[use, k])) for k, c in enumerate(readings)}
    offset = None
    if decided and top != decl:
        # each point's namesake in the likely reading, and where the declared point lies from it
        order = np.lexsort((pair_d[top], p))
        first = order[np.unique(p[order], return_index=True)[1]]  # nearest namesake per point
        keep = use[np.searchsorted(points, p[first])]
        sel = first[keep]
        e, n = _metres(ref.lon[j[sel]], ref.lat[j[sel]], pos[decl][0][p[sel]], pos[decl][1][p[sel]])
        offset = (float(np.median(e)), float(np.median(n)))
    return NameVotes(len(points), votes, median, top if decided else None, offset)


def _direction(offset: tuple[float, float]) -> str:
    e, n = offset
    return f"about {abs(e):.0f} m {'east' if e >= 0 else 'west'} and {abs(n):.0f} m {'north' if n >= 0 else 'south'}"


def names_check(decl: str, nv: NameVotes, ref: Reference, *, label: str | None, fix: str) -> CrsCheck:
    best = nv.likely if nv.likely != decl else None
    warning = None
    if best is not None and nv.offset_m is not None:
        warning = (
            f"{label + ': ' if label else ''}declared {decl}, but {nv.votes[best]} of the {nv.matched} facilities "
            f"whose names match {ref.what} lie a median {fmt_m(nv.median_m[decl])} from their namesakes "
            f"({_direction(nv.offset_m)} of them), an offset that {NAMES[best]} explains (read as {best}: median "
            f"{fmt_m(nv.median_m[best])}) — the file is probably {NAMES[best]}; {fix_hint(fix, best)}"
        )
    points = sum(nv.votes.values())
    return CrsCheck(decl, points, nv.median_m, best, warning, "names", nv.matched, nv.votes, nv.offset_m)


# --------------------------------------------------------------------------- the one check
