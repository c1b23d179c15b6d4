"""Equity of access: population-weighted Gini and Theil indices, the Lorenz curve, the worst-off
decile of people and where they live, and an urban / rural split.

For values ``x_k`` held by groups of ``w_k`` people (admin units, or demand points), with
``W = sum w_k`` and the mean ``mu = sum w_k x_k / W``:

* **Gini** ``G = sum_k sum_l w_k w_l |x_k - x_l| / (2 W^2 mu)``, computed as one minus twice the
  area under the Lorenz curve (the same number): 0 when everyone has the same value,
  ``1 - w_max / W`` when one group holds everything;
* **Theil T** ``T = sum_k (w_k / W) (x_k / mu) ln(x_k / mu)`` (``0 ln 0 = 0``): 0 for equal
  values, ``ln(W / w_k)`` when group *k* holds everything (``ln N`` for N equal groups);
* **Lorenz curve**: groups sorted by ascending value; points (cumulative population share,
  cumulative value share) from (0, 0) to (1, 1);
* **worst-off decile**: the 10% of people with the lowest access (the longest travel time), the
  demand point on the boundary counted in part, and how many of them live in each admin unit;
* **urban / rural**: the admin units' type (``equity.unit_types``: a ``unit_type`` column, else
  the name: 区 urban; 县, 旗, 林区, county-level 市 rural), each group's mean and indices.

Travel time: people who reach no facility have no time; they are left out of the indices (said in
``notes``) and counted first among the worst off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .records import JsonRecord

if TYPE_CHECKING:  # access imports this module (unit_types): the type only
    from .access import AccessResult

__all__ = [
    "EquityResult",
    "EquityUnits",
    "GroupFigures",
    "LorenzPoint",
    "UnitShare",
    "access_equity",
    "equity",
    "gini",
    "lorenz",
    "theil_t",
    "unit_types",
]

WORST_SHARE = 0.1


@dataclass(frozen=True)
class EquityUnits:
    """The admin units demand points fall in: codes and names (by unit index) and each code's
    type (``unit_types``: urban / rural; None: no urban / rural split)."""

    codes: list[str]
    names: list[str]
    types: dict[str, str] | None = None


@dataclass(frozen=True)
class LorenzPoint(JsonRecord):
    population_share: float
    value_share: float


@dataclass(frozen=True)
class UnitShare(JsonRecord):
    """People of one admin unit among the worst-off decile, and their share of the unit."""

    admin_code: str
    name: str
    people: float
    share_of_unit: float | None


@dataclass(frozen=True)
class GroupFigures(JsonRecord):
    """One group of admin units (``urban`` / ``rural``): its people, mean and indices."""

    group: str
    units: int
    population: float
    mean: float | None
    gini: float | None
    theil_t: float | None


@dataclass(frozen=True)
class EquityResult:
    """The equity of one measure (``access``: per 100,000 people, higher is better;
    ``travel_time``: minutes to the nearest facility, lower is better).

    ``gini`` / ``theil_t`` / ``lorenz`` are across admin units (each unit its population-weighted
    mean, weighted by its people); ``gini_people`` / ``theil_people`` across demand points."""

    measure: str
    unit: str
    higher_is_better: bool
    population: float
    mean: float | None
    gini: float | None
    theil_t: float | None
    gini_people: float | None
    theil_people: float | None
    lorenz: list[LorenzPoint]
    worst_decile_people: float
    worst_decile_threshold: float | None  # the value at the decile's boundary (None: unreachable)
    worst_decile_mean: float | None  # over those with a value
    worst_decile_units: list[UnitShare]
    urban_rural: list[GroupFigures] = field(default_factory=list)
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "measure",
                "unit",
                "higher_is_better",
                "population",
                "mean",
                "gini",
                "theil_t",
                "gini_people",
                "theil_people",
                "worst_decile_people",
                "worst_decile_threshold",
                "worst_decile_mean",
                "method",
            )
        }
        out["lorenz"] = [p.to_json() for p in self.lorenz]
        out["worst_decile_units"] = [u.to_json() for u in self.worst_decile_units]
        out["urban_rural"] = [g.to_json() for g in self.urban_rural]
        out["notes"] = list(self.notes)
        return out


def _clean(values: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    ok = np.isfinite(x) & (w > 0)
    if (x[ok] < 0).any():
        raise ValueError("Gini and Theil need non-negative values")
    return x[ok], w[ok]


def lorenz(values: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative population share, cumulative value share), ascending values, from (0, 0)."""
    x, w = _clean(values, weights)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    total = float((w * x).sum())
    p = np.concatenate([[0.0], np.cumsum(w) / w.sum()]) if len(w) else np.array([0.0])
    v = np.concatenate([[0.0], np.cumsum(w * x) / total]) if total > 0 else np.zeros(len(p))
    return p, v


def gini(values: ArrayLike, weights: ArrayLike) -> float | None:
    """Population-weighted Gini (None: no one, or every value 0)."""
    x, w = _clean(values, weights)
    if not len(x) or float((w * x).sum()) <= 0:
        return None
    p, v = lorenz(x, w)
    area = float((np.diff(p) * (v[1:] + v[:-1])).sum()) / 2
    return max(0.0, 1.0 - 2.0 * area)


def theil_t(values: ArrayLike, weights: ArrayLike) -> float | None:
    """Population-weighted Theil T (None: no one, or every value 0)."""
    x, w = _clean(values, weights)
    if not len(x) or float((w * x).sum()) <= 0:
        return None
    mu = float((w * x).sum() / w.sum())
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return max(0.0, float((w * terms).sum() / w.sum()))


def _wmean(x: np.ndarray, w: np.ndarray) -> float | None:
    ok = np.isfinite(x) & (w > 0)
    return float((x[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else None


def _r(v: float | None, nd: int = 12) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, nd)


def equity(
    values: np.ndarray,
    people: np.ndarray,
    unit: np.ndarray,
    *,
    units: EquityUnits,
    measure: str = "access",
    value_unit: str = "",
    higher_is_better: bool = True,
) -> EquityResult:
    """Equity of ``values`` held by demand points of ``people`` in admin unit ``unit`` (index
    into ``units``, -1 none); a value of inf or nan has no value (unreachable)."""
    codes, names = units.codes, units.names
    x = np.asarray(values, float)
    w = np.asarray(people, float)
    u = np.asarray(unit, np.int64)
    total = float(w.sum())
    has = np.isfinite(x)
    n_units = len(codes)
    u_pop = np.array([float(w[u == k].sum()) for k in range(n_units)])
    u_val = np.array([_wmean(x[u == k], w[u == k]) or np.nan for k in range(n_units)])
    keep = np.isfinite(u_val) & (u_pop > 0)
    p, v = lorenz(u_val[keep], u_pop[keep])
    # worst-off decile: worst first (no value = worst of all)
    if higher_is_better:
        order = np.argsort(np.where(has, x, -np.inf), kind="stable")
    else:
        order = np.argsort(-np.where(has, x, np.inf), kind="stable")
    target = WORST_SHARE * total
    cum = np.cumsum(w[order])
    before = cum - w[order]
    take = np.clip(target - before, 0, w[order])
    chosen = take > 0
    worst_people = float(take.sum())
    last = order[chosen][-1] if chosen.any() else None
    threshold = float(x[last]) if last is not None and np.isfinite(x[last]) else None
    wv = has[order] & chosen
    worst_mean = float((take[wv] * x[order][wv]).sum() / take[wv].sum()) if wv.any() else None
    by_unit = np.zeros(n_units + 1)
    np.add.at(by_unit, np.where(u[order] >= 0, u[order], n_units), take)
    shares = [
        UnitShare(codes[k], names[k], round(float(by_unit[k]), 1), _r(by_unit[k] / u_pop[k], 4) if u_pop[k] else None)
        for k in np.argsort(-by_unit[:n_units], kind="stable")
        if by_unit[k] > 0
    ]
    groups = []
    types = units.types or {}
    for g in ("urban", "rural"):
        ks = [k for k in range(n_units) if types.get(codes[k]) == g]
        if not ks:
            continue
        m = np.isin(u, ks)
        gk = [k for k in ks if keep[k]]
        groups.append(
            GroupFigures(
                group=g,
                units=len(ks),
                population=round(float(w[m].sum()), 1),
                mean=_r(_wmean(x[m], w[m])),
                gini=_r(gini(u_val[gk], u_pop[gk])),
                theil_t=_r(theil_t(u_val[gk], u_pop[gk])),
            )
        )
    notes = []
    if (~has & (w > 0)).any():
        notes.append(
            f"{float(w[~has].sum()):,.0f} people reach no facility: left out of the indices, counted first "
            "among the worst off"
        )
    if len(groups) == 1:
        notes.append(f"every admin unit with a known type is {groups[0].group}: no urban / rural comparison")
    if not groups:
        notes.append("the admin units do not say which are urban or rural")
    return EquityResult(
        measure=measure,
        unit=value_unit,
        higher_is_better=higher_is_better,
        population=round(total, 1),
        mean=_r(_wmean(x, w)),
        gini=_r(gini(u_val[keep], u_pop[keep])),
        theil_t=_r(theil_t(u_val[keep], u_pop[keep])),
        gini_people=_r(gini(x, w)),
        theil_people=_r(theil_t(x, w)),
        lorenz=[LorenzPoint(round(float(a), 6), round(float(b), 6)) for a, b in zip(p, v)],
        worst_decile_people=round(worst_people, 1),
        worst_decile_threshold=_r(threshold),
        worst_decile_mean=_r(worst_mean),
        worst_decile_units=shares,
        urban_rural=groups,
        method=(
            f"{measure} ({value_unit}): population-weighted Gini and Theil T across {int(keep.sum())} admin "
            "units (each its population-weighted mean) and across demand points; Lorenz curve across units, "
            f"{'lowest' if higher_is_better else 'highest'} values first; worst-off decile = the "
            f"{WORST_SHARE:.0%} of people with the {'lowest' if higher_is_better else 'highest'} values"
        ),
        notes=notes,
    )


def access_equity(res: AccessResult) -> tuple[EquityResult, EquityResult]:
    """Equity of an ``access.AccessResult``: (access per 100,000 people, minutes to the nearest facility)."""
    units = EquityUnits([u.admin_code for u in res.units], [u.name for u in res.units], res.unit_types)
    acc = equity(
        res.point_score * 1e5,
        res.point_population,
        res.point_unit,
        measure="access",
        value_unit="E2SFCA score per 100,000 people",
        units=units,
        higher_is_better=True,
    )
    tt = equity(
        res.point_nearest_s / 60.0,
        res.point_population,
        res.point_unit,
        measure="travel_time",
        value_unit="minutes to the nearest facility",
        units=units,
        higher_is_better=False,
    )
    return acc, tt


def unit_types(units: pd.DataFrame) -> dict[str, str]:
    """admin_code -> ``urban`` / ``rural`` from a ``unit_type`` column if the admin units carry
    one, else from the Chinese name: 区 (a city district) is urban; 县, 自治县, 旗, 林区 and
    county-level 市 are rural. Units whose name says neither are left out."""
    out: dict[str, str] = {}
    col = units["unit_type"] if "unit_type" in units.columns else None
    for i, (code, name) in enumerate(zip(units["admin_code"].astype(str), units["name"].astype(str))):
        given = str(col.iloc[i]).strip().lower() if col is not None and col.iloc[i] is not None else ""
        if given in ("urban", "rural"):
            out[code] = given
        elif name.endswith("林区") or name.endswith(("县", "旗", "市")):
            out[code] = "rural"
        elif name.endswith("区"):
            out[code] = "urban"
    return out
