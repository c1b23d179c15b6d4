"""Which coordinate system a facility file is likely in, judged on real positions, and whether its
points are anywhere near the region at all.

A file in GCJ-02 (AMap, Tencent) or BD-09 (Baidu) declared as WGS-84 loads without a single bad
row, yet inside China every point is a few hundred metres off (482 m GCJ-02 and 1,144 m BD-09 in
Shanghai; 167-616 m and 833-1,387 m over 90 % of China), which changes which center is nearest.
``check_positions`` is the one check that ``build``, ``import-layer --region`` and
``POST /facilities/import`` run, so ``strict`` means the same everywhere: a likely wrong system is
refused with ``strict`` and a warning without; points nowhere near the region are always an error.
The evidence, strongest first:

1. **Names** (``Reference``). Real facilities are campus centres 50-60 m from a road, and a shifted
   point is as close to *some* road in a dense city, so roads say little about hospitals. Their
   names do: the file's facilities are matched by name (``hospital_names.name_key``, bracket
   keys too) and type (AEDs with AEDs, every other type with hospitals/clinics) to the region's
   facilities whose position comes from OpenStreetMap (the OSM POIs build reads; in a bundle its
   rows with an OpenStreetMap source). Each matched point votes for the reading (declared,
   GCJ-02, BD-09) that puts it on its namesake: within ``FIT_M``, and every other reading at
   least twice as far (``CLEAR``) and ``SEPARATION_M`` away. A consistent offset decides: at
   least ``MIN_MATCHES`` votes, ``CONSISTENT`` of them for one reading.
2. **Roads** (``check_crs``), when names cannot decide: the median distance to a road of the
   points as declared against the median read as each other system.
3. **Nowhere near**: no point within ``CHECK_RADIUS_M`` of a road in any reading is an error (a
   file of another region, or lon/lat swapped in a way no row can tell, which it then names).

Only points inside China (``out_of_china``) can be shifted, and only points near the network
say anything about the roads, so a file that covers more than the region is judged by the part
that the region holds.

Thresholds:

* ``FIT_M`` 300 m: one facility in two sources (an OSM campus outline's centroid, a registry's or
  AMap's point at the main building or gate) lies within a campus radius of itself.
* ``CLEAR`` 0.5 and ``SEPARATION_M`` 100 m: where the readings lie closer together than that
  (the GCJ-02 offset falls to 44 m in the far west) the names cannot tell them apart.
* ``MIN_MATCHES`` 5 and ``CONSISTENT`` 2/3: a few pairs can fit by chance; an offset that the
  transform explains for two thirds of the matched facilities cannot.
* ``MAX_NAMESAKES`` 3: a name shared by more facilities of the region (医务室, AED) tells nothing.
* Roads (measured on the Shanghai/Huangpu extract, one of the densest road networks there is:
  ten road points shifted to GCJ-02 but declared WGS-84 lie a median 30-170 m from *some* road,
  median 85 m, because another street is never far; read correctly they lie on the road):
  ``RATIO`` 3: another reading's median must be at least 3 times smaller (correctly declared
  points 0-60 m from their road never came within a ratio of 0.6 in 200 random draws);
  ``MIN_DECLARED_M`` 30 m: below that every reading is "on the road" within geocoding error;
  ``MIN_POINTS`` 5: a median of one or two points can fit another street by chance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import GeoserviceError
from .coords import out_of_china
from .crs_base import (
    CHECK_RADIUS_M,
    CLEAR,
    CONSISTENT,
    FIT_M,
    MAX_NAMESAKES,
    MIN_DECLARED_M,
    MIN_MATCHES,
    MIN_POINTS,
    NAMES,
    RATIO,
    SEPARATION_M,
    CrsCheck,
    DistanceFn,
    as_declared,
    crs_key,
    fix_hint,
    fmt_m,
    read_as_wgs,
    readings_of,
)
from .crs_names import Reference, name_votes, names_check
from .facility_rows import RowError

__all__ = [
    "CHECK_RADIUS_M",
    "CLEAR",
    "CONSISTENT",
    "FIT_M",
    "MAX_NAMESAKES",
    "MIN_DECLARED_M",
    "MIN_MATCHES",
    "MIN_POINTS",
    "NAMES",
    "RATIO",
    "SEPARATION_M",
    "CrsCheck",
    "DistanceFn",
    "Namesakes",
    "Reference",
    "Wording",
    "as_declared",
    "check_crs",
    "check_positions",
    "network_distances",
    "nothing_loaded",
]

# --------------------------------------------------------------------------- roads


def _road_distances(
    rx: NDArray[np.float64], ry: NDArray[np.float64], readings: Sequence[str], distances: DistanceFn
) -> dict[str, NDArray[np.float64]]:
    """Metres to a road of the file's numbers ``rx``/``ry`` read as each system."""
    return {c: np.asarray(distances(*read_as_wgs(rx, ry, c)), np.float64) for c in readings}


def _road_check(decl: str, dist: dict[str, NDArray[np.float64]], *, label: str | None, fix: str) -> CrsCheck | None:
    near = np.zeros(len(next(iter(dist.values()))), bool)
    for d in dist.values():
        near |= np.isfinite(d)
    n = int(near.sum())
    if n == 0:
        return None
    readings = list(dist)
    median = {c: float(np.median(d[near])) for c, d in dist.items()}
    check = CrsCheck(decl, n, median)
    best = min(readings[1:], key=lambda c: median[c])
    if n < MIN_POINTS or median[decl] < MIN_DECLARED_M or not median[best] * RATIO <= median[decl]:
        return check
    others = ", as ".join(f"{c}: {fmt_m(median[c])}" for c in readings[1:])
    warning = (
        f"{label + ': ' if label else ''}declared {decl}: median {fmt_m(median[decl])} from a road; "
        f"read as {others} ({n} points checked) — the file is probably {NAMES[best]}; {fix_hint(fix, best)}"
    )
    return CrsCheck(decl, n, median, best, warning)


def check_crs(
    lon: ArrayLike,
    lat: ArrayLike,
    declared: str,
    distances: DistanceFn,
    *,
    label: str | None = None,
    fix: str = "pass --crs {crs}",
) -> CrsCheck | None:
    """The roads evidence alone: is ``declared`` the likely system of a file's points?

    ``lon``/``lat`` are the points as loaded (converted to WGS-84 from ``declared``);
    ``distances`` measures WGS-84 points against the road network. Returns None when no point
    can tell (none inside China, or none near the network); otherwise the figures, with a
    one-line ``warning`` (prefixed by ``label``, e.g. the file name, and ending in ``fix`` for the
    likely system) when another reading puts the points much closer to the roads (see the module
    thresholds).
    """
    decl = crs_key(declared)
    rx, ry = as_declared(lon, lat, decl)
    inside = np.isfinite(rx) & np.isfinite(ry) & ~np.asarray(out_of_china(rx, ry), bool)
    if not inside.any():
        return None
    return _road_check(
        decl, _road_distances(rx[inside], ry[inside], readings_of(decl), distances), label=label, fix=fix
    )


# --------------------------------------------------------------------------- names


def _nowhere_near(
    rx: NDArray[np.float64],
    ry: NDArray[np.float64],
    decl: str,
    distances: DistanceFn,
    *,
    region: str,
    label: str | None,
    field_name: str,
) -> GeoserviceError:
    """The error for points of which none lies near the region's roads in any reading; it names
    a swap of lon and lat when the points read the other way round do lie there."""
    n = len(rx)
    what = f"{label}: none of its {n} points" if label else f"none of the {n} points"
    near = f"lies within {CHECK_RADIUS_M / 1000:g} km of the roads of region {region!r}"
    ok = np.abs(rx) <= 90.0
    swapped = 0
    if ok.any():
        sx, sy = read_as_wgs(ry[ok], rx[ok], decl)
        swapped = int(np.isfinite(np.asarray(distances(sx, sy), np.float64)).sum())
    if swapped:
        return GeoserviceError(
            field_name,
            f"{what} {near}, but {swapped} do with lon and lat swapped: put longitudes in the lon column "
            "and latitudes in the lat column",
        )
    return GeoserviceError(
        field_name,
        f"{what} {near}, in any coordinate system (the first at lon {rx[0]:.4f}, lat {ry[0]:.4f}): "
        "a file of another region, or the wrong region?",
    )


class RoadGeometry(Protocol):
    """The roads a check measures against: a bundle network's projected coordinates (``crs``,
    ``x``/``y``) and its road lines, coordinates ``geom_a[i]..geom_b[i]``."""

    crs: str
    x: np.ndarray
    y: np.ndarray
    geom_a: np.ndarray
    geom_b: np.ndarray


@dataclass(frozen=True)
class Namesakes:
    """The checked points' facility names and types, and the region's OSM facilities they are
    looked up in by name (``reference``; None: there are none)."""

    names: Iterable[object]
    types: Iterable[object]
    reference: Reference | None


@dataclass(frozen=True)
class Wording:
    """How a check speaks and fails: its warning is prefixed by ``label`` and ends in ``fix``
    (``{crs}``: the likely system); with ``strict`` that warning is raised on field ``crs``
    ending in ``nothing``; points nowhere near the roads raise on ``field_name``."""

    label: str | None = None
    strict: bool = False
    fix: str = "pass --crs {crs}"
    nothing: str = "nothing written"
    field_name: str = "facilities"


def check_positions(
    lon: ArrayLike,
    lat: ArrayLike,
    declared: str,
    distances: DistanceFn,
    *,
    region: str,
    namesakes: Namesakes | None = None,
    wording: Wording = Wording(),
) -> CrsCheck | None:
    """The check of a facility file's (or batch's) positions that every path runs.

    ``lon``/``lat``: the points as loaded (WGS-84, converted from ``declared``); ``namesakes``
    their facilities' names and types and the region's OSM facilities; ``distances`` the region's
    roads. Returns the figures of the evidence that decided (None when nothing could tell: outside
    China, no namesake and no road near), with a one-line ``warning`` (see ``Wording``) when the
    file is likely in another system. Raises ``GeoserviceError``: on field ``crs`` with that
    warning when ``wording.strict``; on ``wording.field_name`` when no point lies near the roads.
    """
    label, fix = wording.label, wording.fix
    decl = crs_key(declared)
    rx, ry = as_declared(lon, lat, decl)
    fin = np.isfinite(rx) & np.isfinite(ry)
    if not fin.any():
        return None
    inside = fin & ~np.asarray(out_of_china(rx, ry), bool)
    check: CrsCheck | None = None
    nv = None
    reference = namesakes.reference if namesakes is not None else None
    if namesakes is not None and reference is not None and inside.any():
        idx = np.flatnonzero(inside)
        name_list, type_list = list(namesakes.names), list(namesakes.types)
        nv = name_votes(rx[idx], ry[idx], decl, [name_list[i] for i in idx], [type_list[i] for i in idx], reference)
        if nv is not None and nv.likely is not None:
            check = names_check(decl, nv, reference, label=label, fix=fix)
    if check is None:
        # the roads: every reading of the points inside China, the declared one of the others
        dist = _road_distances(rx[inside], ry[inside], readings_of(decl), distances) if inside.any() else {}
        outside = fin & ~inside
        far_out = True
        if outside.any():
            far_out = not np.isfinite(np.asarray(distances(rx[outside], ry[outside]), np.float64)).any()
        if far_out and not any(np.isfinite(d).any() for d in dist.values()):
            raise _nowhere_near(
                rx[fin], ry[fin], decl, distances, region=region, label=label, field_name=wording.field_name
            )
        check = _road_check(decl, dist, label=label, fix=fix) if dist else None
        if check is not None and nv is not None:
            check = CrsCheck(
                check.declared,
                check.points,
                check.median_m,
                check.likely,
                check.warning,
                matched=nv.matched,
                votes=nv.votes,
            )
    if check is not None and check.warning and wording.strict:
        raise GeoserviceError("crs", f"{check.warning}; {wording.nothing}")
    return check


def nothing_loaded(label: str, errors: Sequence[RowError], *, field_name: str | None, nothing: str) -> GeoserviceError:
    """The error for a file of which no row could be loaded (``errors``: its ``RowError``s). When
    every row has lon and lat swapped it says so, with the first row's problem (and carries
    ``extra["swapped"]``: the rows need not be listed one by one)."""
    bad = len({e.row for e in errors})
    swapped = [e for e in errors if "look swapped" in e.reason]
    if swapped and len({e.row for e in swapped}) == bad:
        e = swapped[0]
        return GeoserviceError(
            field_name,
            f"{label}: lon and lat are swapped in every row ({bad} rows; row {e.row}: {e.reason}); {nothing}",
            swapped=True,
        )
    return GeoserviceError(
        field_name,
        f"no row of {label} could be loaded ({bad} bad row{'s' if bad > 1 else ''}, listed above); {nothing}",
    )


def network_distances(net: RoadGeometry, radius_m: float = CHECK_RADIUS_M) -> DistanceFn:
    """A ``DistanceFn`` over a bundle network's road geometries (projected ``x``/``y``, one line
    per ``geom_a``..``geom_b`` range): the straight-line distance to the nearest road, the one
    the engine's snapping measures, and inf beyond ``radius_m``."""
    import shapely
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    x, y = np.asarray(net.x, np.float64), np.asarray(net.y, np.float64)
    ga, gb = np.asarray(net.geom_a, np.int64), np.asarray(net.geom_b, np.int64)
    counts = gb - ga + 1
    offsets = np.cumsum(counts) - counts
    pos = np.repeat(ga, counts) + (np.arange(int(counts.sum())) - np.repeat(offsets, counts))
    px, py = x[pos], y[pos]
    gx0, gx1 = np.minimum.reduceat(px, offsets), np.maximum.reduceat(px, offsets)
    gy0, gy1 = np.minimum.reduceat(py, offsets), np.maximum.reduceat(py, offsets)

    def distances(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        qx, qy = (np.atleast_1d(np.asarray(v, np.float64)) for v in to_xy.transform(lon, lat))
        out = np.full(len(qx), np.inf)
        fin = np.isfinite(qx) & np.isfinite(qy)
        if not fin.any() or len(ga) == 0:
            return out
        # only the roads near the points (a province-wide network holds millions)
        sel = np.flatnonzero(
            (gx1 >= qx[fin].min() - radius_m)
            & (gx0 <= qx[fin].max() + radius_m)
            & (gy1 >= qy[fin].min() - radius_m)
            & (gy0 <= qy[fin].max() + radius_m)
        )
        if len(sel) == 0:
            return out
        keep = np.repeat(np.isin(np.arange(len(ga)), sel), counts)
        line_of = np.repeat(np.arange(len(ga)), counts)[keep]
        lines = shapely.linestrings(px[keep], py[keep], indices=np.searchsorted(sel, line_of))
        tree = shapely.STRtree(lines)
        idx = np.flatnonzero(fin)
        (qi, _), d = tree.query_nearest(
            shapely.points(qx[idx], qy[idx]), max_distance=radius_m, return_distance=True, all_matches=False
        )
        np.minimum.at(out, idx[qi], d)
        return out

    return distances
