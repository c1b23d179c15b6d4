"""Facility registry: list (public), create / replace / patch / delete (editor key, audited), audit log.

Each facility has a version, served as its ``ETag``; an edit with ``If-Match`` naming another
version gets 412 and changes nothing (optimistic concurrency). ``If-Match`` is read as RFC 9110
says: ``*``, or a list of ETags compared strongly (a weak ``W/"3"`` never matches); a field that
is no list of ETags cannot match either, so it is 412 too."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from ....errors import GeoserviceError
from ....service.answers.queries import AuditList, EditResult, Facility, FacilityList
from ....service.registry.store import PreconditionFailed
from ....service.usecases import edits, queries
from ....sources.schema import FacilityFilter
from ..deps import AnyKey, EditorKey, ServiceDep
from ..schemas import (
    ErrorResponse,
    FacilityIn,
    FacilityPatch,
    FacilityTypeOrAll,
    OneLine,
)

router = APIRouter(tags=["facilities"])

ERR: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "no or unknown API key"},
    403: {"model": ErrorResponse, "description": "the key's role may not edit"},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    412: {
        "model": ErrorResponse,
        "description": "If-Match names no current version (a stale or weak ETag, or no ETag at all)",
    },
    422: {"model": ErrorResponse},
}
IfMatch = Annotated[
    str | None,
    Header(max_length=80, description='the ETag of the version you edit (e.g. "3"); 412 if it is not current'),
]

FacId = Annotated[str, Path(max_length=200, description="facility id"), OneLine]
RegionParam = Annotated[
    str | None,
    Query(max_length=200, description="region holding the facility; needed only when several regions use the same id"),
    OneLine,
]
MAX_OFFSET = 2**62  # SQLite integers are 64-bit


def _fields(body: FacilityIn) -> dict[str, object]:
    return body.model_dump(exclude={"crs", "region"})


_ETAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')  # RFC 9110 entity-tag


def _if_version(if_match: str | None) -> frozenset[int] | None:
    """The versions ``If-Match`` allows: none or ``*`` → no check; ``"3"`` or ``"3", "4"`` → those.
    A weak ETag never matches (strong comparison), and a field that is not a list of ETags
    matches nothing: both are 412 at once, before anything is read or changed."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions: set[int] = set()
    weak = False
    for part in if_match.split(","):
        m = _ETAG.fullmatch(part)
        if m is None:
            raise PreconditionFailed(
                "If-Match",
                f'not a list of ETags, so it matches no version; send the ETag as sent, such as "3"; '
                f"got {if_match[:40]!r}; nothing changed",
            )
        if m[1]:
            weak = True
        elif m[2].isdigit():
            versions.add(int(m[2]))
    if not versions:
        why = "a weak ETag never matches (If-Match compares strongly)" if weak else "no ETag of this API"
        raise PreconditionFailed(
            "If-Match", f'{why}; send the ETag as sent, such as "3"; got {if_match[:40]!r}; nothing changed'
        )
    return frozenset(versions)


def _etag(response: Response, version: int) -> None:
    if version > 0:
        response.headers["ETag"] = f'"{version}"'


@router.get("/facilities", response_model=FacilityList, responses=ERR)
def list_facilities(
    svc: ServiceDep,
    type: Annotated[FacilityTypeOrAll | None, Query(description="facility type, or all (the default)")] = None,
    region: Annotated[str | None, Query(max_length=200), OneLine] = None,
) -> FacilityList:
    fc = queries.facility_layer(svc, FacilityFilter.parse(type=type, allow_all=True), region=region)
    return FacilityList(count=len(fc.features), facilities=[Facility(**f.properties) for f in fc.features])


@router.get("/facilities/{id}", response_model=Facility, responses=ERR)
def get_facility(id: FacId, svc: ServiceDep, response: Response, region: RegionParam = None) -> Facility:
    """One facility, with its version as the ETag."""
    reg, rec, version = edits.facility_version(svc, id, region)
    _etag(response, version)
    return Facility(**queries.facility_props(rec, reg, "wgs84"))


@router.post("/facilities", response_model=EditResult, status_code=status.HTTP_201_CREATED, responses=ERR)
def create_facility(body: FacilityIn, svc: ServiceDep, key: EditorKey, response: Response) -> EditResult:
    """Add a facility (editor key). Validated like file import; every answer reflects it at once."""
    res = edits.create_facility(svc, _fields(body), actor=key, crs=body.crs, region=body.region)
    _etag(response, res.version)
    return res


@router.put("/facilities/{id}", response_model=EditResult, responses=ERR)
def replace_facility(
    id: FacId,
    body: FacilityIn,
    svc: ServiceDep,
    key: EditorKey,
    response: Response,
    region: RegionParam = None,
    if_match: IfMatch = None,
) -> EditResult:
    """Replace a facility's record (editor key); the audit keeps the record before and after."""
    res = edits.replace_facility(
        svc, id, _fields(body), actor=key, crs=body.crs, region=region or body.region, if_version=_if_version(if_match)
    )
    _etag(response, res.version)
    return res


@router.patch("/facilities/{id}", response_model=EditResult, responses=ERR)
def patch_facility(
    id: FacId,
    body: FacilityPatch,
    svc: ServiceDep,
    key: EditorKey,
    response: Response,
    region: RegionParam = None,
    if_match: IfMatch = None,
) -> EditResult:
    """Change only the fields sent (editor key), on the record as stored at that moment: two
    editors changing different fields both keep their change. `If-Match` makes it conditional."""
    changes = body.model_dump(exclude_unset=True, exclude={"crs", "region"})
    res = edits.patch_facility(
        svc,
        id,
        changes,
        actor=key,
        crs=body.crs or "wgs84",
        region=region or body.region,
        if_version=_if_version(if_match),
    )
    _etag(response, res.version)
    return res


@router.delete("/facilities/{id}", response_model=EditResult, responses=ERR)
def delete_facility(
    id: FacId, svc: ServiceDep, key: EditorKey, region: RegionParam = None, if_match: IfMatch = None
) -> EditResult:
    """Delete a facility (editor key); the audit keeps its last record."""
    return edits.delete_facility(svc, id, actor=key, region=region, if_version=_if_version(if_match))


@router.get("/audit", response_model=AuditList, responses=ERR)
def audit(
    svc: ServiceDep,
    key: AnyKey,
    facility_id: Annotated[str | None, Query(max_length=200), OneLine] = None,
    region: Annotated[str | None, Query(max_length=200), OneLine] = None,
    actor: Annotated[str | None, Query(max_length=200, description="key name"), OneLine] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditList:
    """Every edit, newest first: who, when, action, record before and after (any valid key)."""
    if svc.registry is None:
        raise GeoserviceError("db", "no facility registry is open")
    rows = svc.registry.audit(region=region, facility_id=facility_id, actor=actor, limit=limit, offset=offset)
    return AuditList(count=len(rows), entries=rows)
