"""Bulk import of facilities into one region (``POST /facilities/import``): every row validated
like a file row, the batch checked against the region's roads for a likely wrong coordinate
system (as ``build`` checks a facility file), then written in one transaction with one audit row
each (``Registry.import_records``) and seen at once by every face.

* Rows are counted from 1, as file rows are; a problem is reported as ``facilities[N].<field>``.
* Ids are generated when missing and must be new in the region (409 naming the row otherwise).
* The region is the one named, else the one whose network holds the first good point; every point
  must lie in it.
* The positions are checked as ``build`` and ``import-layer`` check a file, by the same function
  (``sources.crs_check.check_positions``): by name against the region's OpenStreetMap
  facilities, else against its roads. A batch of which no point is near the region is refused.
* ``strict`` (the default): any bad row, or a likely wrong coordinate system, rejects the whole
  batch and nothing is written. Without it the good rows are written, the bad ones listed in
  ``rejected``, and a likely wrong system is a warning.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, Field

from ...errors import ConflictError, GeoserviceError
from ...sources.crs_check import (
    NAMES,
    DistanceFn,
    Namesakes,
    Reference,
    Wording,
    check_positions,
    network_distances,
)
from ...sources.facility_rows import RowError, validate_records
from ...sources.schema import travel_profile
from ..core import GeoService, RegionEntry
from ..registry.store import ApiKey, Registry

__all__ = ["MAX_ROWS", "ImportResult", "RejectedRow", "RowProblem", "AuditRange", "import_facilities", "row_field"]

MAX_ROWS: Final = 5000
_CONFLICT: Final = "already exists"


class RowProblem(BaseModel):
    field: str = Field(description="the facility's field at fault")
    message: str = Field(description="'<field>: <what is wrong>'")


class RejectedRow(BaseModel):
    row: int = Field(description="position in `facilities`, counted from 1")
    id: str | None = Field(None, description="the id the row gave, if any")
    errors: list[RowProblem]


class AuditRange(BaseModel):
    first: int = Field(description="audit id of the first facility written")
    last: int = Field(description="audit id of the last facility written")


class CrsFigures(BaseModel):
    declared: str
    evidence: str = Field(
        description="what decided: 'names' (the region's OpenStreetMap facilities of the same name) or 'roads'"
    )
    points_checked: int
    median_m: dict[str, float | None] = Field(
        description="median metres per reading: to the namesake (names) or to a road (roads); null: over 2 km"
    )
    names_matched: int = Field(0, description="rows whose name matches an OpenStreetMap facility of the region")
    votes: dict[str, int] = Field(
        default_factory=dict, description="per reading, the matched rows it clearly puts on their namesake"
    )
    likely: str | None = Field(None, description="another system that fits much better, if any")


class ImportResult(BaseModel):
    region: str
    crs: str = Field(description="the coordinate system the rows were read in")
    strict: bool
    written: int = Field(description="facilities written (in one transaction)")
    ids: list[str] = Field(description="ids of the facilities written, in row order")
    rejected: list[RejectedRow] = Field(default_factory=list, description="rows left out (strict: false only)")
    warnings: list[str] = Field(default_factory=list)
    crs_check: CrsFigures | None = Field(None, description="the coordinate-system check; null when no point could tell")
    audit: AuditRange | None = Field(None, description="the audit rows of this import")
    unsnapped: dict[str, list[str]] = Field(
        default_factory=dict, description="ids written that are too far from a network (by network)"
    )


def row_field(row: int, field: str) -> str:
    """How a row's field is named in errors: ``facilities[3].lon`` (rows counted from 1)."""
    return f"facilities[{row}].{field}"


def _registry(svc: GeoService) -> Registry:
    if svc.registry is None:
        raise GeoserviceError("db", "no facility registry is open; imports need one (GEOSERVICE_DB_PATH or --db)")
    return svc.registry


def _crs_key(crs: str) -> str:
    key = crs.strip().lower().replace("-", "").replace("_", "") if isinstance(crs, str) else ""
    if key not in NAMES:
        raise GeoserviceError("crs", f"unknown coordinate system {crs!r}; allowed: {', '.join(NAMES)}")
    return key


def _reject(errors: list[RowError], rows: int) -> GeoserviceError:
    """One error for a rejected batch: the first problem named, every one listed in ``errors``."""
    errs = sorted(errors, key=lambda e: e.row)
    first = errs[0]
    listed = [{"field": row_field(e.row, e.field), "message": f"{row_field(e.row, e.field)}: {e.reason}"} for e in errs]
    bad = len({e.row for e in errs})
    more = f"; {len(errs) - 1} more problem{'s' if len(errs) > 2 else ''} listed in errors" if len(errs) > 1 else ""
    message = (
        f"{first.reason} (row {first.row}){more}; {bad} bad row{'s' if bad > 1 else ''} of {rows}, nothing written"
    )
    cls = ConflictError if all(_CONFLICT in e.reason and e.field == "id" for e in errs) else GeoserviceError
    return cls(row_field(first.row, first.field), message, errors=listed)


def _lazy_distances(entry: RegionEntry) -> DistanceFn:
    """The distance to the region's drive roads (else its first network), measured only when
    needed (the names decide without it)."""
    assert entry.region is not None
    nets = entry.region.networks
    net = nets.get("drive") or next(iter(nets.values()))
    built: list[DistanceFn] = []

    def distances(lon: Any, lat: Any) -> Any:
        if not built:
            built.append(network_distances(net))
        return built[0](lon, lat)

    return distances


def _check_positions(
    entry: RegionEntry, records: list[tuple[int, dict[str, Any]]], crs: str, strict: bool
) -> tuple[CrsFigures | None, str | None]:
    """``check_positions`` (as ``build`` and ``import-layer`` run it), worded for an API batch."""
    assert entry.region is not None
    recs = [rec for _, rec in records]
    check = check_positions(
        [r["lon"] for r in recs],
        [r["lat"] for r in recs],
        crs,
        _lazy_distances(entry),
        region=entry.name,
        namesakes=Namesakes(
            [r.get("name") for r in recs],
            [r.get("type") for r in recs],
            Reference.cached(entry.region.facilities, f"the OpenStreetMap facilities of region {entry.name}"),
        ),
        wording=Wording(
            strict=strict,
            fix='send "crs": "{crs}"',
            nothing='nothing written (or send "strict": false to write the rows as declared)',
        ),
    )
    if check is None:
        return None, None
    meta = check.to_meta()
    figures = CrsFigures(
        declared=check.declared,
        evidence=check.evidence,
        points_checked=check.points,
        median_m=meta["median_m"],
        names_matched=check.matched,
        votes=check.votes,
        likely=check.likely,
    )
    return figures, check.warning


def _existing_ids(reg: Registry, region: str) -> set[str]:
    with reg.db.read() as q:
        return {str(r["id"]) for r in q.all("SELECT id FROM facilities WHERE region=?", (region,))}


def _audit_range(reg: Registry, region: str, after_id: int, actor: ApiKey, written: int) -> AuditRange | None:
    """The audit ids of this import: the region's create rows by this key since ``after_id``
    (None in the unlikely case that another import by the same key landed in between)."""
    with reg.db.read() as q:
        r = q.one(
            "SELECT MIN(id) AS first, MAX(id) AS last, COUNT(*) AS n FROM audit "
            "WHERE region=? AND id>? AND action='create' AND actor=?",
            (region, after_id, actor.name),
        )
    if not r or int(r["n"] or 0) != written or r["first"] is None:
        return None
    return AuditRange(first=int(r["first"]), last=int(r["last"]))


def import_facilities(
    svc: GeoService,
    rows: Sequence[Any],
    *,
    actor: ApiKey,
    crs: str = "wgs84",
    region: str | None = None,
    strict: bool = True,
    row_errors: Sequence[RowError] = (),
) -> ImportResult:
    """Import ``rows`` (facility objects without crs/region; see the module docstring).

    ``row_errors`` are problems a face found already (e.g. request limits): those rows are
    rejected, and their fields named there are not reported twice."""
    reg = _registry(svc)
    crs = _crs_key(crs)
    if region is not None:
        svc.entry(region)  # 404 for an unknown region before any row work
    n = len(rows)
    if n == 0:
        raise GeoserviceError("facilities", "no facility to import")
    if n > MAX_ROWS:
        raise GeoserviceError("facilities", f"{n} facilities; at most {MAX_ROWS} per import: split the batch")

    records: list[Any] = []
    for row in rows:
        if not isinstance(row, Mapping):
            records.append(row)  # validate_records says it is not an object
            continue
        rec = dict(row)
        if isinstance(rec.get("capabilities"), (list, tuple)):
            rec["capabilities"] = ",".join(str(c) for c in rec["capabilities"])
        if rec.get("id") is None or rec.get("id") == "":
            ftype = str(rec.get("type") or "facility").strip().lower() or "facility"
            rec["id"] = f"{ftype}-{uuid.uuid4().hex[:10]}"
        records.append(rec)

    res = validate_records(records, crs=crs, source=f"api:{actor.name}")
    given = {(e.row, e.field) for e in row_errors}
    errors = list(row_errors) + [e for e in res.errors if (e.row, e.field) not in given]
    bad_rows = {e.row for e in errors}
    # validate_records keeps its good rows in input order
    dropped = {e.row for e in res.errors}
    kept = [i for i in range(1, n + 1) if i not in dropped]
    good: list[tuple[int, dict[str, Any]]] = [
        (i, Registry.record_from_row(r))
        for i, (_, r) in zip(kept, res.layer.iterrows(), strict=True)
        if i not in bad_rows
    ]

    if not good:
        raise _reject(errors, n)
    if region is not None:
        entry = svc.entry(region)
    else:
        row0, rec0 = good[0]
        entry = svc.locate(
            rec0["lon"], rec0["lat"], travel_profile(rec0["type"]), field_name=row_field(row0, "lon,lat")
        )
    if not any(entry.contains(rec["lon"], rec["lat"]) for _, rec in good):
        _check_positions(entry, good, crs, strict)  # says the points are nowhere near the region
    existing = _existing_ids(reg, entry.name)
    keep: list[tuple[int, dict[str, Any]]] = []
    for i, rec in good:
        if not entry.contains(rec["lon"], rec["lat"]):
            errors.append(
                RowError(i, "lon,lat", f"({rec['lon']:.6f}, {rec['lat']:.6f}) is outside region {entry.name!r}")
            )
        elif rec["id"] in existing:
            errors.append(RowError(i, "id", f"facility {rec['id']!r} {_CONFLICT} in region {entry.name!r}"))
        else:
            keep.append((i, rec))
    if errors and (strict or not keep):
        raise _reject(errors, n)

    figures, warning = _check_positions(entry, keep, crs, strict)

    to_write = [rec for _, rec in keep]
    after_id = reg.last_change(entry.name)
    try:
        written = reg.import_records(entry.name, to_write, actor=actor)
    except ConflictError as exc:  # created by someone else since the check above
        row_of = {rec["id"]: i for i, rec in keep}
        fid = next((f for f in row_of if repr(f) in exc.message), None)
        if fid is not None:
            raise ConflictError(
                row_field(row_of[fid], "id"), f"{exc.message} (row {row_of[fid]}); nothing written"
            ) from None
        raise
    svc.refresh(entry.name)

    ids = [rec["id"] for rec in to_write]
    wrote = set(ids)
    eng = svc.engine(entry.name)
    unsnapped = {net: hit for net, uns in eng.unsnapped.items() if (hit := [u for u in uns if u in wrote])}
    by_row: dict[int, list[RowError]] = {}
    for e in sorted(errors, key=lambda e: e.row):
        by_row.setdefault(e.row, []).append(e)
    rejected = [
        RejectedRow(
            row=i,
            id=_given_id(rows[i - 1]),
            errors=[RowProblem(field=e.field, message=f"{e.field}: {e.reason}") for e in errs],
        )
        for i, errs in by_row.items()
    ]
    return ImportResult(
        region=entry.name,
        crs=crs,
        strict=strict,
        written=written,
        ids=ids,
        rejected=rejected,
        warnings=[warning] if warning else [],
        crs_check=figures,
        audit=_audit_range(reg, entry.name, after_id, actor, written),
        unsnapped=unsnapped,
    )


def _given_id(row: Any) -> str | None:
    if isinstance(row, Mapping) and isinstance(row.get("id"), str) and row["id"]:
        return str(row["id"])[:64]
    return None
