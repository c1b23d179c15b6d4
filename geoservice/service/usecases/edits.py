"""Facility edits: validated like file imports, written to the registry with their audit row in one
transaction, and seen at once by every face (the region's engine is reloaded)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ...errors import ConflictError, GeoserviceError, NotFoundError
from ...sources.cell_values import check_text
from ...sources.facility_rows import validate_records
from ...sources.schema import COLUMNS, travel_profile
from ..answers.queries import EditResult, Facility
from ..core import GeoService
from ..registry.store import ApiKey, Edit, Registry
from .queries import facility_props

__all__ = [
    "find_facility",
    "create_facility",
    "replace_facility",
    "patch_facility",
    "delete_facility",
    "facility_version",
]


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
    good = res.records[0]
    record = {c: good.get(c) for c in COLUMNS}
    record["demo"] = bool(record.get("demo") or False)
    return record


def find_facility(svc: GeoService, fid: str, region: str | None = None) -> tuple[str, dict[str, Any]]:
    """(region, record) of a facility id; ``region`` is needed only when two regions use the id."""
    reg = _registry(svc)
    check_text("id", fid)  # a NUL cannot even be looked up in PostgreSQL
    check_text("region", region)
    if region is not None:
        svc.entry(region)
        got = reg.get(region, fid)
        if got is None:
            raise NotFoundError("id", f"no facility {fid!r} in region {region!r}")
        return region, got[0]
    hits = [(r, rec) for r, rec in reg.find(fid) if r in svc.regions]
    if not hits:
        raise NotFoundError("id", f"no facility {fid!r}")
    if len(hits) > 1:
        raise ConflictError(
            "region", f"facility id {fid!r} exists in {', '.join(h[0] for h in hits)}; say which with region="
        )
    return hits[0]


def _result(svc: GeoService, edit: Edit, action: str) -> EditResult:
    eng = svc.engine(edit.region)
    after, before = edit.after, edit.before
    uns = [net for net, ids in eng.unsnapped.items() if after is not None and after["id"] in ids]
    return EditResult(
        region=edit.region,
        action=action,
        audit_id=edit.audit_id,
        version=edit.version,
        facility=Facility(**facility_props(after, edit.region, "wgs84")) if after else None,
        before=Facility(**facility_props(before, edit.region, "wgs84")) if before else None,
        unsnapped=uns,
    )


def _apply(
    svc: GeoService,
    region: str,
    fid: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    *,
    actor: ApiKey,
    action: str,
    if_version: int | frozenset[int] | None = None,
) -> EditResult:
    """Write one edit with its audit row, reload what changed, and answer with the result."""
    edit = _registry(svc).edit(region, fid, change, actor=actor, action=action, if_version=if_version)
    svc.refresh(region)
    return _result(svc, edit, action)


def _same_id(fields: dict[str, Any], fid: str) -> None:
    if fields.get("id") is not None and fields["id"] != fid:
        raise GeoserviceError("id", f"body id {fields['id']!r} differs from the path id {fid!r}")


def _inside(svc: GeoService, region: str, rec: dict[str, Any]) -> dict[str, Any]:
    if not svc.regions[region].contains(rec["lon"], rec["lat"]):
        raise GeoserviceError(
            "lon,lat",
            f"({rec['lon']:.6f}, {rec['lat']:.6f}) is outside region {region!r}; "
            f"delete the facility and create it in the other region",
        )
    return rec


def create_facility(
    svc: GeoService, fields: dict[str, Any], *, actor: ApiKey, crs: str = "wgs84", region: str | None = None
) -> EditResult:
    """Add a facility; its region is the one whose network holds it unless named."""
    _registry(svc)
    ftype = str(fields.get("type") or "facility").strip().lower()
    fid = fields.get("id") or f"{ftype}-{uuid.uuid4().hex[:10]}"
    rec = _validated(fields, fid=fid, crs=crs, source=f"api:{actor.name}")
    entry = svc.locate(rec["lon"], rec["lat"], travel_profile(rec["type"]), region)
    return _apply(svc, entry.name, fid, lambda _: rec, actor=actor, action="create")


def replace_facility(
    svc: GeoService,
    fid: str,
    fields: dict[str, Any],
    *,
    actor: ApiKey,
    crs: str = "wgs84",
    region: str | None = None,
    if_version: int | frozenset[int] | None = None,
) -> EditResult:
    """Replace a facility's record; the audit keeps the record before and after."""
    _same_id(fields, fid)
    region_name, old = find_facility(svc, fid, region)

    def change(before: dict[str, Any] | None) -> dict[str, Any]:
        source = (before or old).get("source") or f"api:{actor.name}"
        return _inside(svc, region_name, _validated(fields, fid=fid, crs=crs, source=source))

    return _apply(svc, region_name, fid, change, actor=actor, action="update", if_version=if_version)


def patch_facility(
    svc: GeoService,
    fid: str,
    changes: dict[str, Any],
    *,
    actor: ApiKey,
    crs: str = "wgs84",
    region: str | None = None,
    if_version: int | frozenset[int] | None = None,
) -> EditResult:
    """Change only the fields given, on the record as stored at that moment (inside the write
    transaction: two editors changing different fields both keep their change)."""
    _same_id(changes, fid)
    if not changes:
        raise GeoserviceError("body", "no field to change")
    region_name, _ = find_facility(svc, fid, region)

    def change(before: dict[str, Any] | None) -> dict[str, Any]:
        assert before is not None
        moved = "lon" in changes or "lat" in changes
        if moved and crs != "wgs84" and not ("lon" in changes and "lat" in changes):
            raise GeoserviceError("lon,lat", f"give both lon and lat when crs is {crs}")
        merged = {**before, **changes}
        rec = _validated(merged, fid=fid, crs=crs if moved else "wgs84", source=merged.get("source") or actor.name)
        return _inside(svc, region_name, rec)

    return _apply(svc, region_name, fid, change, actor=actor, action="patch", if_version=if_version)


def delete_facility(
    svc: GeoService,
    fid: str,
    *,
    actor: ApiKey,
    region: str | None = None,
    if_version: int | frozenset[int] | None = None,
) -> EditResult:
    region_name, _ = find_facility(svc, fid, region)
    return _apply(svc, region_name, fid, lambda _: None, actor=actor, action="delete", if_version=if_version)


def facility_version(svc: GeoService, fid: str, region: str | None = None) -> tuple[str, dict[str, Any], int]:
    """(region, record, version) of a facility: its version is the ETag."""
    reg = _registry(svc)
    region_name, _ = find_facility(svc, fid, region)
    got = reg.get(region_name, fid)
    if got is None:  # deleted in between
        raise NotFoundError("id", f"no facility {fid!r} in region {region_name!r}")
    return region_name, got[0], got[1]
