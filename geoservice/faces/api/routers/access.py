"""Capacity-aware access (E2SFCA), its equity and the standards (``GET /access``): the answer of
``geoservice access`` (its report.json), with the admin units as a GeoJSON layer for the planner."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ....analyses.standards import StandardTargets
from ....service.answers.queries import Crs
from ....service.output_crs import shift_geometry, shift_point
from ....service.usecases.access import AccessAsk, access, access_answer
from ..cancellable import cancellable
from ..deps import ServiceDep
from ..errors import R404, R422
from ..query_models import AccessParams

router = APIRouter(tags=["planning"])
ERR: dict[int | str, dict[str, Any]] = {**R404, **R422}


class FacilityRatioOut(BaseModel):
    id: str
    name: str
    lon: float
    lat: float
    capacity: float = Field(description="the facility's capacity; 1 when none was given")
    capacity_given: bool = Field(description="false: the facility table had no capacity, counted 1")
    weighted_demand: float = Field(description="people within the catchment, weighted by the distance decay")
    ratio_per_100k: float | None = Field(description="capacity per 100,000 of them (R_j); null: no one within reach")


class UnitAccessOut(BaseModel):
    admin_code: str
    name: str
    unit_type: Literal["urban", "rural"] | None = Field(None, description="from the unit's type or name (区 / 县, 市)")
    population: float
    score_per_100k: float | None = Field(description="population-weighted mean E2SFCA access, per 100,000 people")
    people_without_access: float = Field(description="people with no facility within the catchment")
    mean_nearest_min: float | None = Field(description="population-weighted minutes to the nearest facility")
    unreachable: float = Field(description="people who reach no facility at all")


class AccessPointOut(BaseModel):
    lon: float | None
    lat: float | None
    population: float
    admin_code: str | None
    score_per_100k: float
    nearest_min: float | None


class LorenzPointOut(BaseModel):
    population_share: float
    value_share: float


class UnitShareOut(BaseModel):
    admin_code: str
    name: str
    people: float = Field(description="people of the unit among the worst-off decile")
    share_of_unit: float | None


class GroupOut(BaseModel):
    group: Literal["urban", "rural"]
    units: int
    population: float
    mean: float | None
    gini: float | None
    theil_t: float | None


class EquityOut(BaseModel):
    measure: Literal["access", "travel_time"]
    unit: str
    higher_is_better: bool
    population: float
    mean: float | None
    gini: float | None = Field(description="population-weighted Gini across admin units (0 equal, 1 one holds all)")
    theil_t: float | None = Field(description="population-weighted Theil T across admin units (0 equal)")
    gini_people: float | None = Field(description="Gini across demand points")
    theil_people: float | None
    lorenz: list[LorenzPointOut] = Field(description="across admin units, ascending values, (0, 0) to (1, 1)")
    worst_decile_people: float
    worst_decile_threshold: float | None
    worst_decile_mean: float | None
    worst_decile_units: list[UnitShareOut] = Field(description="where the worst-off 10% of people live")
    urban_rural: list[GroupOut]
    method: str
    notes: list[str]


class EquityPair(BaseModel):
    access: EquityOut
    travel_time: EquityOut


class StandardRowOut(BaseModel):
    admin_code: str | None = Field(description="null: the whole region")
    name: str
    unit_type: str | None
    measure: str = Field(description="aed_per_100k, aed_fetch_return, ems_radius, ems_time, cpc_time, stroke_time")
    value: float | None
    target: float | None = Field(description="null: no target known for this region (give one)")
    met: bool | None
    source: str = Field(description="where the target comes from")
    value_unit: str
    detail: str


class StandardsOut(BaseModel):
    targets: dict[str, float | None]
    population_data: bool
    rows: list[StandardRowOut]
    method: str
    notes: list[str]


class AccessResponse(BaseModel):
    """E2SFCA (Luo & Qi 2009) on network travel times: per admin unit, per facility and (``points``)
    per demand point; ``equity`` and ``standards`` when asked."""

    region: str
    type: str
    profile: str
    scenario: str | dict[str, float]
    minutes: float = Field(description="the catchment")
    decay: Literal["gaussian", "zones"]
    decay_text: str
    capacity_used: bool
    capacity_note: str = Field(description='e.g. "no capacities given: every facility counts 1"')
    population_data: bool
    population: float
    score_per_100k: float | None
    facilities: list[FacilityRatioOut]
    units: list[UnitAccessOut]
    method: str
    notes: list[str]
    equity: EquityPair | None = None
    standards: StandardsOut | None = None
    points: list[AccessPointOut] | None = None
    layer: dict[str, Any] | None = Field(None, description="the admin units as GeoJSON with their figures (layer=true)")
    crs_name: Crs = "wgs84"
    attribution: str = "© OpenStreetMap contributors (ODbL)"


@router.get("/access", response_model=AccessResponse, responses=ERR)
@cancellable
def get_access(svc: ServiceDep, params: Annotated[AccessParams, Query()]) -> AccessResponse:
    """Capacity-aware access: each facility's `capacity` (none: 1) shared among the people within its
    catchment, decay-weighted (Gaussian by default, or zones), summed per place; per 100,000 people."""
    p = params
    given = {"aed_per_100k": p.aed_per_100k, "fetch_minutes": p.fetch_minutes, "ems_minutes": p.ems_minutes}
    given["share_target"] = p.share_target
    targets = StandardTargets(**{k: v for k, v in given.items() if v is not None}) if p.standards else None
    ask = AccessAsk(p.type, p.minutes, p.decay, p.zones, p.profile, p.level, p.scenario, p.depart)
    entry, res = access(svc, ask, region=p.region)
    ans = access_answer(svc, entry, res, equity=p.equity, targets=targets)
    out = ans.to_json(points=p.points)
    crs = p.crs
    for u in out["units"]:
        u["unit_type"] = res.unit_types.get(u["admin_code"])
    for f in out["facilities"]:
        f["lon"], f["lat"] = shift_point(f["lon"], f["lat"], crs)
    for pt in out.get("points") or []:
        if pt["lon"] is not None:
            pt["lon"], pt["lat"] = shift_point(pt["lon"], pt["lat"], crs)
    if p.layer:
        from ...maps.access import units_layer

        fc = units_layer(svc.engine(entry.name), res)
        for feat in fc["features"]:
            feat["geometry"] = shift_geometry(feat["geometry"], crs)
        out["layer"] = fc
    return AccessResponse(**out, crs_name=crs)
