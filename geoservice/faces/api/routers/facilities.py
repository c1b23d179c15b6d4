"""Facility registry: list (public), create / replace / delete (editor key, audited), audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from ....errors import GeoserviceError
from ....service import edits, queries
from ....sources.schema import FacilityFilter
from ..deps import AnyKey, EditorKey, ServiceDep
from ..schemas import AuditList, EditResult, ErrorResponse, Facility, FacilityIn, FacilityList

router = APIRouter(tags=["facilities"])

ERR: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "no or unknown API key"},
    403: {"model": ErrorResponse, "description": "the key's role may not edit"},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}

FacId = Annotated[str, Path(max_length=200, description="facility id")]
RegionParam = Annotated[
    str | None,
    Query(max_length=200, description="region holding the facility; needed only when several regions use the same id"),
]
MAX_OFFSET = 2**62  # SQLite integers are 64-bit


def _fields(body: FacilityIn) -> dict:
    return body.model_dump(exclude={"crs", "region"})


@router.get("/facilities", response_model=FacilityList, responses=ERR)
def list_facilities(
    svc: ServiceDep,
    type: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
) -> FacilityList:
    fc = queries.facility_layer(svc, FacilityFilter.parse(type=type, allow_all=True), region=region)
    return FacilityList(count=len(fc.features), facilities=[Facility(**f.properties) for f in fc.features])


@router.get("/facilities/{id}", response_model=Facility, responses=ERR)
def get_facility(id: FacId, svc: ServiceDep, region: RegionParam = None) -> Facility:
    reg, rec = edits.find_facility(svc, id, region)
    return Facility(**queries.facility_props(rec, reg, "wgs84"))


@router.post("/facilities", response_model=EditResult, status_code=status.HTTP_201_CREATED, responses=ERR)
def create_facility(body: FacilityIn, svc: ServiceDep, key: EditorKey) -> EditResult:
    """Add a facility (editor key). Validated like file import; every answer reflects it at once."""
    return edits.create_facility(svc, _fields(body), actor=key, crs=body.crs, region=body.region)


@router.put("/facilities/{id}", response_model=EditResult, responses=ERR)
def replace_facility(
    id: FacId, body: FacilityIn, svc: ServiceDep, key: EditorKey, region: RegionParam = None
) -> EditResult:
    """Replace a facility's record (editor key); the audit keeps the record before and after."""
    return edits.replace_facility(svc, id, _fields(body), actor=key, crs=body.crs, region=region or body.region)


@router.delete("/facilities/{id}", response_model=EditResult, responses=ERR)
def delete_facility(id: FacId, svc: ServiceDep, key: EditorKey, region: RegionParam = None) -> EditResult:
    return edits.delete_facility(svc, id, actor=key, region=region)


@router.get("/audit", response_model=AuditList, responses=ERR)
def audit(
    svc: ServiceDep,
    key: AnyKey,
    facility_id: Annotated[str | None, Query(max_length=200)] = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200, description="key name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditList:
    """Every edit, newest first: who, when, action, record before and after (any valid key)."""
    if svc.registry is None:
        raise GeoserviceError("db", "no facility registry is open")
    rows = svc.registry.audit(region=region, facility_id=facility_id, actor=actor, limit=limit, offset=offset)
    return AuditList(count=len(rows), entries=rows)
