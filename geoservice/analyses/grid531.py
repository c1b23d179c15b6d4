"""The "531" chest-pain network: grassroots units -> basic centers (5:1) -> standard centers (3:1).

Within each county (or the whole region with ``scope="region"``) every tier is a capacitated
assignment that first links as many units as possible within the drive-time threshold and then
minimises the total drive time (each center expanded into ``capacity`` slots, solved exactly by
``scipy.optimize.linear_sum_assignment`` with one "not linked" slot per unit whose cost exceeds
any sum of real links). Drive times come from the engine's network matrix, unit -> center.
Counties are the bundle's admin units, reported by name with their code.

The result is a :class:`Grid531Report`; ``to_json()`` gives report.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from ..bundle.population import assign_units, load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError
from .records import JsonRecord

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "capacitated_assignment",
    "grid531",
    "Grid531Error",
    "TIERS",
    "Grid531Report",
    "Link",
    "UnlinkedUnit",
    "TierSummary",
]

TIERS = (
    # (name, from type, from level, to type, to level, capacity)
    ("grassroots->basic", "grassroots_unit", None, "chest_pain_center", "basic", 5),
    ("basic->standard", "chest_pain_center", "basic", "chest_pain_center", "standard", 3),
)
FORBID = 1e15


class Grid531Error(GeoserviceError):
    """Bad input to this analysis; ``field`` names it."""


@dataclass(frozen=True)
class Link(JsonRecord):
    """A unit linked to a center of the next tier, with the drive time unit -> center."""

    tier: str
    county: str  # admin unit name (the region's name with scope="region")
    county_code: str
    from_id: str
    from_name: str
    from_lon: float
    from_lat: float
    to_id: str
    to_name: str
    to_lon: float
    to_lat: float
    time_s: float


@dataclass(frozen=True)
class UnlinkedUnit(JsonRecord):
    tier: str
    county: str
    county_code: str
    id: str
    name: str
    lon: float
    lat: float
    reason: str
    nearest_time_s: float | None = None


@dataclass(frozen=True)
class TierSummary(JsonRecord):
    tier: str
    county: str
    county_code: str
    units: int
    centers: int
    linked: int
    capacity: int
    total_time_s: float


@dataclass(frozen=True)
class Grid531Report:
    threshold_min: float
    scope: str
    capacities: tuple[int, int]  # (grassroots per basic, basic per standard)
    links: list[Link]
    unlinked: list[UnlinkedUnit]
    summary: list[TierSummary]
    method: str
    region: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold_min": self.threshold_min,
            "scope": self.scope,
            "capacities": {"grassroots_per_basic": self.capacities[0], "basic_per_standard": self.capacities[1]},
            "links": [x.to_json() for x in self.links],
            "unlinked": [x.to_json() for x in self.unlinked],
            "summary": [x.to_json() for x in self.summary],
            "method": self.method,
            "region": self.region,
            "note": self.note,
        }


def capacitated_assignment(cost: np.ndarray, capacity: ArrayLike, threshold: float) -> np.ndarray:
    """Center index per unit (-1 = not linked) for a units x centers cost matrix.

    Maximises the number of links with cost <= threshold, then minimises their total cost,
    with at most ``capacity[j]`` units per center j."""
    cost = np.asarray(cost, float)
    n, m = cost.shape
    cap = np.broadcast_to(np.asarray(capacity, int), (m,))
    if n == 0:
        return np.zeros(0, np.int64)
    slot_center = np.repeat(np.arange(m), np.minimum(cap, n))
    c = cost[:, slot_center] if len(slot_center) else np.zeros((n, 0))
    c = np.where(np.isfinite(c) & (c <= threshold), c, FORBID)
    finite = cost[np.isfinite(cost) & (cost <= threshold)]
    pen = float(finite.sum() + 1.0) if len(finite) else 1.0
    dummy = np.full((n, n), FORBID)
    np.fill_diagonal(dummy, pen)
    full = np.hstack([c, dummy])
    rows, cols = linear_sum_assignment(full)
    out = np.full(n, -1, np.int64)
    for r, k in zip(rows, cols):
        if k < len(slot_center) and full[r, k] < FORBID:
            out[r] = slot_center[k]
    return out


def _unit_names(engine: Engine) -> dict[str, str]:
    """admin_code -> name of the bundle's admin units."""
    units = load_population(engine.region, "drive").units
    if "admin_code" not in units or "name" not in units:
        return {}
    return {str(c): str(n) for c, n in zip(units["admin_code"], units["name"]) if n is not None and str(n) != ""}


def _county_of(engine: Engine, fac: gpd.GeoDataFrame) -> np.ndarray:
    if "admin_code" in fac and fac["admin_code"].notna().all() and (fac["admin_code"].astype(str) != "").all():
        given: np.ndarray = fac["admin_code"].astype(str).to_numpy()
        return given
    layer = load_population(engine.region, "drive")
    units = layer.units
    if units.geometry.isna().all():
        return np.array(["all"] * len(fac))
    idx = assign_units(
        units, fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy(), crs=engine.router_for("drive").net.crs
    )
    codes = units["admin_code"].astype(str).to_numpy()
    rem = layer.units["admin_code"].astype(str).tolist()
    out = np.where(idx >= 0, codes[np.maximum(idx, 0)], "")
    # facilities in no unit polygon: the remainder unit if the bundle has one
    missing_geom = [c for c, g in zip(rem, units.geometry) if g is None or g.is_empty]
    county: np.ndarray = np.where(out == "", missing_geom[0] if missing_geom else "unknown", out)
    return county


def grid531(
    engine: Engine,
    *,
    threshold_min: float = 60.0,
    scope: str = "county",
    profile: str = "drive",
    capacities: tuple[int, int] = (5, 3),
) -> Grid531Report:
    """Links of both tiers with drive times, and the units that cannot be linked."""
    if scope not in ("county", "region"):
        raise Grid531Error("scope", f"scope must be 'county' or 'region', got {scope!r}")
    if not threshold_min > 0:
        raise Grid531Error("threshold_min", f"threshold must be positive, got {threshold_min}")
    if len(capacities) != 2 or any(int(c) < 1 for c in capacities):
        raise Grid531Error("capacities", f"capacities must be >= 1, got {tuple(capacities)}")
    region = str(engine.region.name)
    fac = engine.facilities
    county = _county_of(engine, fac) if scope == "county" else np.array(["region"] * len(fac))
    names = _unit_names(engine) if scope == "county" else {"region": region}

    def name_of(code: object) -> str:
        return names.get(str(code), str(code))

    T = threshold_min * 60.0
    links: list[Link] = []
    unlinked: list[UnlinkedUnit] = []
    summary: list[TierSummary] = []
    empty_tiers: list[str] = []
    for (tier, ft, fl, tt, tl, _), cap in zip(TIERS, capacities):
        src = np.flatnonzero(((fac["type"] == ft) & ((fac["level"] == fl) if fl else True)).to_numpy())
        dst = np.flatnonzero(((fac["type"] == tt) & (fac["level"] == tl)).to_numpy())
        if not len(src):
            empty_tiers.append(tier)
        for cty in sorted(set(county[src])):
            cname, ccode = name_of(cty), str(cty)
            s = src[county[src] == cty]
            d = dst[county[dst] == cty]
            if not len(d):
                for i in s:
                    r = fac.iloc[i]
                    unlinked.append(
                        UnlinkedUnit(
                            tier=tier,
                            county=cname,
                            county_code=ccode,
                            id=str(r["id"]),
                            name=str(r["name"]),
                            lon=float(r.geometry.x),
                            lat=float(r.geometry.y),
                            reason=f"no {tl} {tt} in the {scope}",
                        )
                    )
                summary.append(
                    TierSummary(
                        tier=tier,
                        county=cname,
                        county_code=ccode,
                        units=int(len(s)),
                        centers=0,
                        linked=0,
                        capacity=0,
                        total_time_s=0.0,
                    )
                )
                continue
            opts = [(float(fac.geometry.iloc[i].x), float(fac.geometry.iloc[i].y)) for i in s]
            dpts = [(float(fac.geometry.iloc[j].x), float(fac.geometry.iloc[j].y)) for j in d]
            cost = np.full((len(s), len(d)), np.inf)
            for i, times, _ in engine.matrix(opts, dpts, profile=profile, facilities=True):
                cost[i] = times
            asg = capacitated_assignment(cost, int(cap), T)
            for k, i in enumerate(s):
                r = fac.iloc[i]
                if asg[k] < 0:
                    best = float(np.min(cost[k])) if np.isfinite(cost[k]).any() else None
                    reason = (
                        f"no {tl} center within {threshold_min:g} min"
                        if best is None or best > T
                        else "all centers within the threshold are at capacity"
                    )
                    unlinked.append(
                        UnlinkedUnit(
                            tier=tier,
                            county=cname,
                            county_code=ccode,
                            id=str(r["id"]),
                            name=str(r["name"]),
                            lon=float(r.geometry.x),
                            lat=float(r.geometry.y),
                            reason=reason,
                            nearest_time_s=None if best is None else round(best, 1),
                        )
                    )
                    continue
                t = fac.iloc[d[asg[k]]]
                links.append(
                    Link(
                        tier=tier,
                        county=cname,
                        county_code=ccode,
                        from_id=str(r["id"]),
                        from_name=str(r["name"]),
                        from_lon=float(r.geometry.x),
                        from_lat=float(r.geometry.y),
                        to_id=str(t["id"]),
                        to_name=str(t["name"]),
                        to_lon=float(t.geometry.x),
                        to_lat=float(t.geometry.y),
                        time_s=round(float(cost[k, asg[k]]), 1),
                    )
                )
            summary.append(
                TierSummary(
                    tier=tier,
                    county=cname,
                    county_code=ccode,
                    units=int(len(s)),
                    centers=int(len(d)),
                    linked=int((asg >= 0).sum()),
                    capacity=int(cap) * int(len(d)),
                    total_time_s=round(float(sum(cost[k, asg[k]] for k in range(len(s)) if asg[k] >= 0)), 1),
                )
            )
    note = None
    if len(empty_tiers) == len(TIERS):
        note = f"no grassroots units / basic centers to link in {region}"
    elif empty_tiers:
        what = {"grassroots->basic": "grassroots units", "basic->standard": "basic centers"}
        note = f"no {' / '.join(what[t] for t in empty_tiers)} to link in {region}"
    return Grid531Report(
        threshold_min=threshold_min,
        scope=scope,
        capacities=(int(capacities[0]), int(capacities[1])),
        links=links,
        unlinked=unlinked,
        summary=summary,
        region=region,
        note=note,
        method=(
            "capacitated min-cost assignment per "
            + ("county (admin unit)" if scope == "county" else "region")
            + f" (max links within {threshold_min:g} min, then least total drive time; scipy "
            "linear_sum_assignment on capacity slots); drive times on the OpenStreetMap road network "
            "(ODbL), unit -> center"
        ),
    )
