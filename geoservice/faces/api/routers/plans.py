"""Emergency response planning: AED coverage through the week, AED siting on foot, ambulance
station models, the plan's county targets and stroke tiers, stroke triage by time of day.

Read-only questions (nothing is saved); the answers are the CLI's report.json."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ....service.answers.plans import (
    AedSitingAnswer,
    AedWeekAnswer,
    EmsSitingAnswer,
    PlanTargetsAnswer,
    StrokeTiersAnswer,
    TriageCompareAnswer,
)
from ....service.usecases import plans
from ..cancellable import cancellable
from ..deps import ServiceDep
from ..errors import R404, R422
from ..schemas import IsoDay, Name, OpeningHours, RegionName, ScenarioName

router = APIRouter(prefix="/plans", tags=["planning"])

ERR: dict[int | str, dict[str, Any]] = {**R404, **R422}
RegionQ = Annotated[str | None, Query(max_length=200, description="region name; default: the first region served")]
WeekOfQ = Annotated[
    IsoDay | None, Query(description="any day of the week to evaluate, YYYY-MM-DD (default: this week)")
]


@router.get("/aed-week", response_model=AedWeekAnswer, responses=ERR)
@cancellable
def aed_week(
    svc: ServiceDep,
    minutes: Annotated[float | None, Query(gt=0, le=60, description="walking minutes (default 4)")] = None,
    week_of: WeekOfQ = None,
    region: RegionQ = None,
) -> AedWeekAnswer:
    """For each of the 168 hours of a week, the population within `minutes` on foot of an AED
    open then (and open or of unknown hours), against all AEDs open 24/7; the worst hours and
    the person-hours lost to opening hours."""
    entry, rep = plans.aed_week_plan(svc, minutes=minutes, week_of=week_of, region=region)
    return plans.aed_week_answer(entry, rep)


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    name: Name | None = None
    opening_hours: OpeningHours | None = Field(None, description="its own hours; else `candidate_hours`")


class AedSitingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: int = Field(3, ge=1, le=100, description="new AEDs")
    minutes: float | None = Field(None, gt=0, le=60, description="walking minutes (default 4)")
    candidates: Literal["osm", "facilities"] | Annotated[list[CandidateIn], Field(min_length=1, max_length=2000)] = (
        Field("osm", description="osm (gathering places of the bundle's OSM extract), facilities, or a list of points")
    )
    objective: Annotated[str, Field(max_length=10)] = Field(
        "week", description="week (population-hours over the week) or one hour, e.g. Su03"
    )
    unknown_hours: Literal["closed", "open"] = Field("closed", description="existing AEDs of unknown hours count as")
    candidate_hours: OpeningHours = Field("24/7", description="hours of a candidate without its own")
    week_of: IsoDay | None = None
    region: RegionName | None = None


@router.post("/aed-siting", response_model=AedSitingAnswer, responses=ERR)
@cancellable
def aed_siting(body: AedSitingIn, svc: ServiceDep) -> AedSitingAnswer:
    """New public AEDs on the walking network, opening hours respected hour by hour (maximal
    covering over the week or at one hour), existing AEDs kept. Nothing is saved."""
    cands: str | list[plans.AedCandidate] = (
        body.candidates
        if isinstance(body.candidates, str)
        else [
            plans.AedCandidate(f"point-{i}", c.name or f"given point {i}", c.lon, c.lat, "given", c.opening_hours)
            for i, c in enumerate(body.candidates, 1)
        ]
    )
    entry, rep = plans.aed_siting_plan(
        svc,
        add=body.add,
        minutes=body.minutes,
        candidates=cands,
        hours=plans.AedHours(body.objective, body.week_of, body.unknown_hours, body.candidate_hours),
        region=body.region,
    )
    return plans.aed_siting_answer(entry, rep)


@router.get("/ems-siting", response_model=EmsSitingAnswer, responses=ERR)
@cancellable
def ems_siting(
    svc: ServiceDep,
    model: Annotated[Literal["mexclp", "backup"], Query(description="mexclp or backup coverage")] = "mexclp",
    add: Annotated[int, Query(ge=1, le=50, description="new stations")] = 2,
    minutes: Annotated[float | None, Query(gt=0, le=240, description="default: setting ems_minutes")] = None,
    busy_fraction: Annotated[float | None, Query(ge=0, lt=1, description="default: setting ems_busy_fraction")] = None,
    candidates: Annotated[Literal["facilities", "grid", "both"], Query()] = "facilities",
    scenario: Annotated[ScenarioName, Query(description="free_flow, off_peak or peak")] = "free_flow",
    region: RegionQ = None,
) -> EmsSitingAnswer:
    """New EMS stations on ambulance drive times (station to patient): MEXCLP maximises the
    expected coverage with busy ambulances, backup the population covered twice."""
    entry, rep = plans.ems_plan(
        svc,
        model=model,
        add=add,
        assume=plans.EmsAssumptions(minutes, busy_fraction),
        candidates=plans.CandidateSpec(candidates),
        scenario=scenario,
        region=region,
    )
    return plans.ems_answer(entry, rep)


@router.get("/targets", response_model=PlanTargetsAnswer, responses=ERR)
@cancellable
def targets(
    svc: ServiceDep,
    region: RegionQ = None,
    layer: Annotated[bool, Query(description="include the admin units as GeoJSON (the choropleth)")] = False,
) -> PlanTargetsAnswer:
    """The plan's targets per admin unit: stroke centers (>= 1), share of hospitals that are chest
    pain centers (70%; no grades in the data), share of township / community health service
    centers that are grassroots units (70%); targets from the settings."""
    entry, rep = plans.plan_targets(svc, region=region)
    return plans.plan_targets_answer(entry, rep, layer=layer)


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    admin_code: Annotated[str, Field(max_length=40)] | None = None
    thrombolysis_rate_pct: float = Field(ge=0, le=100)
    demo: bool = False
    note: Annotated[str, Field(max_length=300)] | None = None


class TiersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rates: list[RateIn] = Field(min_length=1, max_length=500)
    region: RegionName | None = None


@router.post("/stroke-tiers", response_model=StrokeTiersAnswer, responses=ERR)
@cancellable
def stroke_tiers(body: TiersIn, svc: ServiceDep) -> StrokeTiersAnswer:
    """Stroke quality tiers of the rates given, per admin unit (>5%: advanced training and QC
    plan; 3-5%: basic training; <3%: inspection tours); rows matching no unit of the region are
    listed in `unmatched`."""
    rows = [
        plans.RateRow(r.name, r.admin_code, r.thrombolysis_rate_pct, r.demo, r.note, i)
        for i, r in enumerate(body.rates, 1)
    ]
    entry, tiers, unmatched, _ = plans.thrombolysis_tiers(svc, rows, region=body.region, require=False)
    return plans.tiers_answer(svc, entry, tiers, unmatched)


@router.get("/triage-compare", response_model=TriageCompareAnswer, responses=ERR)
@cancellable
def triage_compare(
    svc: ServiceDep,
    scenarios: Annotated[str, Query(max_length=80, description="two scenarios")] = "free_flow,peak",
    max_extra: Annotated[float, Query(ge=0, le=240, description="extra minutes acceptable to go direct")] = 15.0,
    dido: Annotated[float, Query(ge=0, le=480, description="door-in-door-out minutes")] = 60.0,
    dtn: Annotated[float, Query(ge=0, le=480, description="default door-to-needle minutes")] = 60.0,
    layer: Annotated[bool, Query(description="include the per-location layer")] = False,
    region: RegionQ = None,
) -> TriageCompareAnswer:
    """Drip-and-ship vs direct-to-EVT under two traffic scenarios, with the area where the
    recommendation changes (polygons) and who is in it."""
    entry, rep = plans.triage_by_time(
        svc, scenarios=scenarios, rule=plans.TriageRule(max_extra, dido, dtn), region=region
    )
    return plans.triage_answer(entry, rep, layer=layer)


# ------------------------------------------------------------------------------ the plan report
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


@cancellable
def _report(
    svc: ServiceDep, *, region: str | None, lang: str, format: str, targets: dict[str, float], by: str
) -> tuple[str, str]:
    """(body, media type); the page is kept in the region's answer cache as the report is."""
    import json

    from ....service.usecases.plan_report import plan_report
    from ...report import inline_html

    entry = svc.pick(region)

    def page() -> tuple[str, str]:
        _, rep = plan_report(svc, region=entry.name, targets=targets, by=by)
        doc = rep.to_json()
        if format == "json":
            return json.dumps(dict(doc, lang=lang), ensure_ascii=False), "application/json"
        return inline_html(doc, svc.engine(entry.name), lang=lang), "text/html; charset=utf-8"

    shown: tuple[str, str] = entry.cache.get_or_compute(
        ("plan_report_page", by, tuple(sorted(targets.items())), lang, format), page
    )
    return shown


@router.get(
    "/report",
    responses={
        **ERR,
        200: {
            "content": {"text/html": {}, "application/json": {}},
            "description": "the report as one offline HTML page (images inlined) or its report.json",
        },
    },
    response_class=Response,
)
def report(
    svc: ServiceDep,
    region: RegionQ = None,
    lang: Annotated[Literal["zh", "en"], Query(description="language of the page: zh (default) or en")] = "zh",
    format: Annotated[
        Literal["html", "json"],
        Query(description="html: the printable page, charts inlined as data: URLs; json: report.json (every figure)"),
    ] = "html",
    target: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="target overrides NAME=VALUE (repeatable), e.g. aed_per_100k=45; names as `geoservice report "
            "--target`",
        ),
    ] = None,
    by: Annotated[Literal["admin"], Query(description="one page per admin unit (the only choice)")] = "admin",
) -> Response:
    """The plan report of a region, as `geoservice report` writes it (without the PDF; print the
    page, or run the command for report.pdf): a summary (targets met per county, the Lorenz
    curves of access across counties, the AED week heat map), one page per admin unit (map from
    our roads, figures against every target with their source, what to build next with the people
    each site gains). Heavy: some 5-30 s on central Shanghai, then kept until the facilities change."""
    from ....service.usecases.plan_report import parse_targets

    body, media = _report(svc=svc, region=region, lang=lang, format=format, targets=parse_targets(target), by=by)
    headers = {"content-security-policy": REPORT_CSP} if format == "html" else {}
    return Response(content=body, media_type=media, headers=headers)
