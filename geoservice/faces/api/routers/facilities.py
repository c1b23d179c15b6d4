"""Facility registry: list (public), create / replace / delete (editor key, audited), audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from ....sources.facilities import validate_records
from ..deps import AnyKey, EditorKey, StateDep, check_type
from ..errors import ApiError
from ..registry import Registry, RegistryError
from ..schemas import AuditList, EditResult, ErrorResponse, Facility, FacilityIn, FacilityList
from ..util import facility_props

router = APIRouter(tags=["facilities"])

ERR = {401: {"model": ErrorResponse, "description": "no or unknown API key"},
       403: {"model": ErrorResponse, "description": "the key's role may not edit"},
       404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}

FacId = Annotated[str, Path(max_length=200, description="facility id")]
RegionParam = Annotated[str | None, Query(description="region holding the facility; needed only when "
                                                      "several regions use the same id")]


def _validated(body: FacilityIn, *, fid: str, source: str) -> dict:
    rec = body.model_dump(exclude={"crs", "region"})
    rec["id"] = fid
    if isinstance(rec.get("capabilities"), list):
        rec["capabilities"] = ",".join(rec["capabilities"])
    try:
        res = validate_records([rec], crs=body.crs, source=source)
    except ValueError as exc:
        raise ApiError(422, "crs", f"crs: {exc}") from None
    if res.errors:
        errs = [{"field": e.field, "message": f"{e.field}: {e.reason}"} for e in res.errors]
        raise ApiError(422, errs[0]["field"], "; ".join(e["message"] for e in errs), errors=errs)
    return Registry.record_from_row(res.layer.iloc[0])


def _find(state, fid: str, region: str | None) -> tuple[str, dict]:
    if region is not None:
        state.get(region)
        rec = state.registry.get(region, fid)
        if rec is None:
            raise ApiError(404, "id", f"id: no facility {fid!r} in region {region!r}")
        return region, rec
    hits = [(r, rec) for r, rec in state.registry.find(fid) if r in state.regions]
    if not hits:
        raise ApiError(404, "id", f"id: no facility {fid!r}")
    if len(hits) > 1:
        raise ApiError(409, "region", f"region: facility id {fid!r} exists in {', '.join(h[0] for h in hits)}; "
                                      f"say which with region=")
    return hits[0]


def _result(state, region: str, action: str, audit_id: int, after: dict | None, before: dict | None) -> EditResult:
    eng = state.regions[region].engine
    uns = [net for net, ids in eng.unsnapped.items() if after is not None and after["id"] in ids]
    return EditResult(region=region, action=action, audit_id=audit_id,
                      facility=facility_props(after, region, "wgs84") if after else None,
                      before=facility_props(before, region, "wgs84") if before else None, unsnapped=uns)


@router.get("/facilities", response_model=FacilityList)
def list_facilities(state: StateDep, type: Annotated[str | None, Query()] = None,
                    region: Annotated[str | None, Query()] = None) -> FacilityList:
    ftype = check_type(type, allow_all=True)
    entries = [state.get(region)] if region else list(state.regions.values())
    out = []
    for e in entries:
        for rec in state.registry.records(e.name):
            if ftype is None or rec["type"] == ftype:
                out.append(facility_props(rec, e.name, "wgs84"))
    return FacilityList(count=len(out), facilities=out)


@router.get("/facilities/{id}", response_model=Facility, responses=ERR)
def get_facility(id: FacId, state: StateDep, region: RegionParam = None) -> Facility:
    reg, rec = _find(state, id, region)
    return Facility(**facility_props(rec, reg, "wgs84"))


@router.post("/facilities", response_model=EditResult, status_code=status.HTTP_201_CREATED, responses=ERR)
def create_facility(body: FacilityIn, state: StateDep, key: EditorKey) -> EditResult:
    """Add a facility (editor key). Validated like file import; answers reflect it at once."""
    fid = body.id or f"{(body.type or 'facility').strip().lower()}-{uuid.uuid4().hex[:10]}"
    rec = _validated(body, fid=fid, source=f"api:{key.name}")
    entry = state.locate(rec["lon"], rec["lat"], "walk" if rec["type"] == "aed" else "drive", body.region)
    try:
        before, aid = state.registry.write(entry.name, rec, actor=key, action="create")
    except RegistryError as exc:
        raise ApiError(409, "id", str(exc)) from None
    state.refresh(entry.name)
    return _result(state, entry.name, "create", aid, rec, None)


@router.put("/facilities/{id}", response_model=EditResult, responses=ERR)
def replace_facility(id: FacId, body: FacilityIn, state: StateDep, key: EditorKey,
                     region: RegionParam = None) -> EditResult:
    """Replace a facility's record (editor key); the audit keeps the record before and after."""
    if body.id is not None and body.id != id:
        raise ApiError(422, "id", f"id: body id {body.id!r} differs from the path id {id!r}")
    reg, old = _find(state, id, region or body.region)
    rec = _validated(body, fid=id, source=old.get("source") or f"api:{key.name}")
    if not state.regions[reg].contains(rec["lon"], rec["lat"]):
        raise ApiError(422, "lon,lat", f"lon,lat: ({rec['lon']:.6f}, {rec['lat']:.6f}) is outside region {reg!r}; "
                                       f"delete the facility and create it in the other region")
    try:
        before, aid = state.registry.write(reg, rec, actor=key, action="update")
    except RegistryError as exc:
        raise ApiError(404, "id", str(exc)) from None
    state.refresh(reg)
    return _result(state, reg, "update", aid, rec, before)


@router.delete("/facilities/{id}", response_model=EditResult, responses=ERR)
def delete_facility(id: FacId, state: StateDep, key: EditorKey, region: RegionParam = None) -> EditResult:
    reg, _ = _find(state, id, region)
    try:
        before, aid = state.registry.delete(reg, id, actor=key)
    except RegistryError as exc:
        raise ApiError(404, "id", str(exc)) from None
    state.refresh(reg)
    return _result(state, reg, "delete", aid, None, before)


@router.get("/audit", response_model=AuditList, responses=ERR)
def audit(state: StateDep, key: AnyKey,
          facility_id: Annotated[str | None, Query()] = None,
          region: Annotated[str | None, Query()] = None,
          actor: Annotated[str | None, Query(description="key name")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          offset: Annotated[int, Query(ge=0)] = 0) -> AuditList:
    """Every edit, newest first: who, when, action, record before and after (any valid key)."""
    rows = state.registry.audit(region=region, facility_id=facility_id, actor=actor, limit=limit, offset=offset)
    return AuditList(count=len(rows), entries=rows)
