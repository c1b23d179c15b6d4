"""Facility edits: validated like file imports, written to the registry with their audit row in one
transaction, and seen at once by every face (the region's engine is reloaded)."""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import ConflictError, GeoserviceError, NotFoundError
from ..sources.facility_rows import validate_records
from ..sources.schema import travel_profile
from .answers import EditResult, Facility
from .core import GeoService
from .queries import facility_props
from .registry import ApiKey, Registry

__all__ = ["find_facility", "create_facility", "replace_facility", "delete_facility"]


def _registry(svc: GeoService) -> Registry:
    if svc.registry is None:
        raise GeoserviceError("db", "no facility registry is open; edits need one (GEOSERVICE_DB_PATH or --db)")
    return svc.registry


def _validated(fields: dict[str, Any], *, fid: str, crs: str, source: str) -> dict[str, Any]:
    rec = dict(fields, id=fid)
    if isinstance(rec.get("capabilities"), list):
        rec["capabilities"] = ",".join(rec["capabilities"])
    res = validate_records([rec], crs=crs, source=source)
    if res.errors:
        errs = [{"field": e.field, "message": f"{e.field}: {e.reason}"} for e in res.errors]
        first = res.errors[0]
        raise GeoserviceError(first.field, first.reason + "".join(f"; {e['message']}" for e in errs[1:]), errors=errs)
    return Registry.record_from_row(res.layer.iloc[0])


def find_facility(svc: GeoService, fid: str, region: str | None = None) -> tuple[str, dict[str, Any]]:
    """(region, record) of a facility id; ``region`` is needed only when two regions use the id."""
    reg = _registry(svc)
    if region is not None:
        svc.entry(region)
        rec = reg.get(region, fid)
        if rec is None:
            raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
        return region, rec
    hits = [(r, rec) for r, rec in reg.find(fid) if r in svc.regions]
    if not hits:
        raise NotFoundError("id", f"no facility {fid!r}")
    if len(hits) > 1:
        raise ConflictError(
            "region", f"facility id {fid!r} exists in {', '.join(h[0] for h in hits)}; say which with region="
        )
    return hits[0]


def _result(
    svc: GeoService,
    region: str,
    action: str,
    audit_id: int,
    after: dict[str, Any] | None,
    before: dict[str, Any] | None,
) -> EditResult:
    eng = svc.engine(region)
    uns = [net for net, ids in eng.unsnapped.items() if after is not None and after["id"] in ids]
    return EditResult(
        region=region,
        action=action,
        audit_id=audit_id,
        facility=Facility(**facility_props(after, region, "wgs84")) if after else None,
        before=Facility(**facility_props(before, region, "wgs84")) if before else None,
        unsnapped=uns,
    )


def create_facility(
    svc: GeoService, fields: dict[str, Any], *, actor: ApiKey, crs: str = "wgs84", region: str | None = None
) -> EditResult:
    """Add a facility; its region is the one whose network holds it unless named."""
    reg = _registry(svc)
    ftype = str(fields.get("type") or "facility").strip().lower()
    fid = fields.get("id") or f"{ftype}-{uuid.uuid4().hex[:10]}"
    rec = _validated(fields, fid=fid, crs=crs, source=f"api:{actor.name}")
    entry = svc.locate(rec["lon"], rec["lat"], travel_profile(rec["type"]), region)
    _, aid = reg.write(entry.name, rec, actor=actor, action="create")
    svc.refresh(entry.name)
    return _result(svc, entry.name, "create", aid, rec, None)


def replace_facility(
    svc: GeoService, fid: str, fields: dict[str, Any], *, actor: ApiKey, crs: str = "wgs84", region: str | None = None
) -> EditResult:
    """Replace a facility's record; the audit keeps the record before and after."""
    reg = _registry(svc)
    if fields.get("id") is not None and fields["id"] != fid:
        raise GeoserviceError("id", f"body id {fields['id']!r} differs from the path id {fid!r}")
    region_name, old = find_facility(svc, fid, region)
    rec = _validated(fields, fid=fid, crs=crs, source=old.get("source") or f"api:{actor.name}")
    if not svc.regions[region_name].contains(rec["lon"], rec["lat"]):
        raise GeoserviceError(
            "lon,lat",
            f"({rec['lon']:.6f}, {rec['lat']:.6f}) is outside region {region_name!r}; "
            f"delete the facility and create it in the other region",
        )
    before, aid = reg.write(region_name, rec, actor=actor, action="update")
    svc.refresh(region_name)
    return _result(svc, region_name, "update", aid, rec, before)


def delete_facility(svc: GeoService, fid: str, *, actor: ApiKey, region: str | None = None) -> EditResult:
    reg = _registry(svc)
    region_name, _ = find_facility(svc, fid, region)
    before, aid = reg.delete(region_name, fid, actor=actor)
    svc.refresh(region_name)
    return _result(svc, region_name, "delete", aid, None, before)
