"""The figures of the plan report (``geoservice report``, ``GET /plans/report``): typed, one list per
admin unit and one for the region, each against its target with the source of both.

The figures are those of the individual analyses (coverage by admin unit, the 531 grid, the
plan's targets, AED density, AED coverage through the week), gathered by ``service.plan_report``;
this module holds their types and the arithmetic the report adds itself:

* coverage per unit from one ``node_times`` array (the same sums as ``analyses.coverage``), so
  that "what if these sites were added" costs one network search per site, not one coverage run;
* the equity of access across units is ``analyses.equity`` (Gini, Theil T, Lorenz, worst-off
  decile), of E2SFCA access (``analyses.access``) and of travel times;
* the greedy choice of sites in a unit: each step takes the candidate that saves the most
  person-minutes (people x minutes closer to the nearest facility), reporting the people it
  brings within the target time and the people it brings closer;
* what changed since a previous report (its report.json).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

import numpy as np

from ..errors import GeoserviceError
from .records import JsonRecord

__all__ = [
    "Target",
    "Figure",
    "Change",
    "BuildSite",
    "BuildStep",
    "UnitPage",
    "Equity",
    "PlanReport",
    "DEFAULT_TARGETS",
    "unit_shares",
    "greedy_sites",
    "changes",
    "resolve_targets",
    "parse_targets",
]

UNREACHED_MIN = 120.0  # an unreached node counts as this many minutes in mean times


@dataclass(frozen=True)
class Target(JsonRecord):
    """A target the report measures against: ``kind`` share (0..1), count (>=) or per_100k."""

    key: str
    value: float
    kind: str
    source: str


DEFAULT_TARGETS: tuple[Target, ...] = (
    Target(
        "cpc_30min_share",
        0.9,
        "share",
        "people within 30 min by car of a chest pain center: report default, a planning assumption (no national "
        "share figure); set it with --target cpc_30min_share=…",
    ),
    Target(
        "stroke_60min_share",
        0.9,
        "share",
        "people within 60 min by car of a stroke center: report default, a planning assumption; "
        "--target stroke_60min_share=…",
    ),
    Target(
        "aed_per_100k",
        50.0,
        "per_100k",
        "the province's figure (analyses.standards: Shanghai more than 50 by the end of 2025, Zhejiang 45, "
        "Shenzhen's long-range plan 300), else none; --target aed_per_100k=…",
    ),
    Target(
        "stroke_centers",
        1.0,
        "count",
        "provincial plan (Hubei): at least one stroke center in every county (setting plan_stroke_centers_min)",
    ),
    Target(
        "cpc_hospital_share",
        0.7,
        "share",
        "provincial plan (Hubei): chest pain centers in 70% of grade II+ general hospitals (setting plan_cpc_share)",
    ),
    Target(
        "grassroots_share",
        0.7,
        "share",
        "provincial plan (Hubei): grassroots chest-pain units in 70% of township / community health centers "
        "(setting plan_grassroots_share)",
    ),
    Target(
        "grid531_linked_share",
        1.0,
        "share",
        "the 531 chest-pain network: every grassroots unit linked to a basic center (5:1) within 60 min by car",
    ),
)


@dataclass(frozen=True)
class Figure(JsonRecord):
    """One figure of a unit (or of the region) against its target (None: shown, no target)."""

    key: str
    value: float | None
    target: float | None
    met: bool | None
    kind: str  # share | count | per_100k | minutes | people
    source: str  # the command / analysis the value comes from
    confidence: str | None = None  # what the analysis says of its certainty (a proxy, an assumption)
    detail: str | None = None  # e.g. "2 of 15 hospitals"


class PriorFigure(TypedDict, total=False):
    """A figure of a previous report as its JSON holds it (``Figure.to_json``)."""

    key: str
    value: float | None
    met: bool | None


@dataclass(frozen=True)
class Change(JsonRecord):
    key: str
    before: float | None
    after: float | None
    met_before: bool | None
    met_after: bool | None


@dataclass(frozen=True)
class BuildSite(JsonRecord):
    name: str
    lon: float
    lat: float
    admin_code: str | None  # the unit the site lies in
    people_within: float | None  # people it brings within the target time (greedy order)
    people_closer: float | None  # people for whom it is nearer than any facility so far
    source: str


@dataclass(frozen=True)
class BuildStep(JsonRecord):
    """What meets one unmet target of a unit: ``needed`` new sites (or designations), the ones
    the siting model chose (``sites``), and whether they meet it (``met_after``)."""

    target: str
    facility: str  # chest_pain_center | stroke_center | aed | ems_station | grassroots_unit
    action: str  # new | designate
    needed: int
    sites: list[BuildSite]
    met_after: bool | None
    model: str


@dataclass(frozen=True)
class UnitPage:
    admin_code: str | None
    name: str
    population: float | None
    figures: list[Figure]
    changes: list[Change] = field(default_factory=list)
    build: list[BuildStep] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(1 for f in self.figures if f.met)

    @property
    def applicable(self) -> int:
        return sum(1 for f in self.figures if f.met is not None)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(met=self.met, applicable=self.applicable)
        return out


@dataclass(frozen=True)
class Equity(JsonRecord):
    """Equity of one measure across units, population-weighted (from ``analyses.equity``)."""

    measure: str
    higher_is_better: bool
    gini: float | None
    theil: float | None
    lorenz: list[list[float]]  # [cumulative population share, cumulative share of the measure]
    worst_unit: str | None  # the unit where most of the worst-off decile of people live
    worst_decile_people: float
    worst_decile_units: list[dict[str, Any]]  # admin_code, name, people, share_of_unit
    source: str


@dataclass(frozen=True)
class PlanReport:
    region: str
    region_label: dict[str, str]  # {"zh": …, "en": …}
    by: str
    targets: list[Target]
    province: UnitPage
    units: list[UnitPage]
    equity: list[Equity]
    aed_week: dict[str, Any]
    notes: list[str]
    sources: dict[str, str]
    previous: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_label": self.region_label,
            "by": self.by,
            "targets": [t.to_json() for t in self.targets],
            "province": self.province.to_json(),
            "units": [u.to_json() for u in self.units],
            "equity": [e.to_json() for e in self.equity],
            "aed_week": self.aed_week,
            "notes": list(self.notes),
            "sources": dict(self.sources),
            "previous": self.previous,
        }


# --------------------------------------------------------------------------- arithmetic
def unit_shares(
    pop: np.ndarray, unit: np.ndarray, off: np.ndarray, dist: np.ndarray, seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """(people per unit, people covered per unit) as ``analyses.coverage`` sums them."""
    nu = len(off)
    ok = unit >= 0
    covered = dist <= seconds
    upop = np.bincount(unit[ok], pop[ok], minlength=nu) + off
    ucov = np.bincount(unit[ok & covered], pop[ok & covered], minlength=nu)
    return upop, ucov


def greedy_sites(
    base: np.ndarray,
    cands: list[np.ndarray],
    pop: np.ndarray,
    mask: np.ndarray,
    seconds: float,
    k: int,
    *,
    objective: str = "minutes",
) -> list[tuple[int, float, float]]:
    """Up to ``k`` candidates chosen one by one for the people of ``mask``: each step the one that
    saves the most person-minutes over the nearest facility so far (``objective="minutes"``) or
    brings the most people within ``seconds`` (``"within"``, ties by person-minutes); ``cands[i]``
    is the time from every node with candidate i added, i.e. min(base, from i). [(index, people
    brought within ``seconds``, people brought closer)] in the order chosen; stops when none helps."""
    cur = np.where(np.isfinite(base), base, UNREACHED_MIN * 60)
    w = np.where(mask, pop, 0.0)
    out: list[tuple[int, float, float]] = []
    left = list(range(len(cands)))
    for _ in range(k):
        best, best_gain = -1, 0.0
        for i in left:
            t = np.minimum(cur, np.where(np.isfinite(cands[i]), cands[i], UNREACHED_MIN * 60))
            saved = float((w * (cur - t)).sum())
            gain = saved if objective == "minutes" else float(w[(t <= seconds) & (cur > seconds)].sum()) + saved * 1e-12
            if gain > best_gain + 1e-9:
                best, best_gain = i, gain
        if best < 0:
            break
        t = np.minimum(cur, np.where(np.isfinite(cands[best]), cands[best], UNREACHED_MIN * 60))
        within = float(w[(t <= seconds) & (cur > seconds)].sum())
        closer = float(w[t < cur - 1e-9].sum())
        out.append((best, within, closer))
        cur = t
        left.remove(best)
    return out


def changes(before: list[PriorFigure], now: list[Figure]) -> list[Change]:
    """The figures whose value or verdict differ from the previous report's (same key)."""
    old = {f["key"]: f for f in before}
    out = []
    for f in now:
        o = old.get(f.key)
        if o is None:
            continue
        b, a = o.get("value"), f.value
        same = (b is None and a is None) or (
            b is not None and a is not None and math.isclose(float(b), float(a), rel_tol=1e-9, abs_tol=1e-9)
        )
        if not same or o.get("met") != f.met:
            out.append(Change(f.key, b, a, o.get("met"), f.met))
    return out


def resolve_targets(overrides: dict[str, float] | None) -> list[Target]:
    """The default targets with ``overrides`` ({key: value}) applied; an unknown key or a value
    out of range is an error naming ``target``."""
    out = list(DEFAULT_TARGETS)
    keys = [t.key for t in out]
    for k, v in (overrides or {}).items():
        if k not in keys:
            raise GeoserviceError("target", f"unknown target {k!r}; choose from {', '.join(keys)}")
        t = out[keys.index(k)]
        ok = isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 and (t.kind != "share" or v <= 1)
        if not ok:
            raise GeoserviceError(
                "target", f"{k} must be {'a share in [0, 1]' if t.kind == 'share' else '>= 0'}, got {v!r}"
            )
        out[keys.index(k)] = Target(k, float(v), t.kind, f"given: {k}={v:g} (default {t.value:g}: {t.source})")
    return out


def parse_targets(items: list[str] | None) -> dict[str, float]:
    """``["aed_per_100k=45", …]`` -> {key: value}; a malformed item is an error naming --target."""
    out: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise GeoserviceError("target", f"must be NAME=NUMBER, got {item!r}") from None
        if not sep:
            raise GeoserviceError("target", f"must be NAME=NUMBER, got {item!r}")
    resolve_targets(out)  # unknown names and values out of range, before any work
    return out
