"""Bulk import: ``POST /facilities/import`` (editor key), many facilities into one region in one
transaction (see ``service.imports``).

Each facility is checked here against the limits of :class:`FacilityIn` one at a time, so that a
bad facility is a bad *row* (named ``facilities[N].<field>``, counted from 1, and left out with
``strict: false``) rather than a rejected request."""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from ....service.usecases import imports
from ....service.usecases.imports import MAX_ROWS, ImportResult
from ....sources.facility_rows import RowError
from ..deps import EditorKey, ServiceDep
from ..errors import WRITE_ERRORS
from ..schemas import FacilityIn, InputCrs, RegionName

router = APIRouter(tags=["facilities"])

_BATCH_FIELDS = ("crs", "region")  # given once for the batch, not per facility


def _row_schema() -> dict[str, Any]:
    s = copy.deepcopy(FacilityIn.model_json_schema())
    for k in _BATCH_FIELDS:
        s["properties"].pop(k, None)
    s["title"] = "FacilityRow"
    s["description"] = "A facility of a bulk import: like FacilityIn, without crs and region (given once)."
    s.pop("example", None)
    return s


FacilityRow = Annotated[Any, WithJsonSchema(_row_schema())]


class FacilityImport(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "crs": "wgs84",
                "strict": True,
                "facilities": [
                    {"type": "aed", "name": "Lobby AED", "lon": 7.4246, "lat": 43.7384, "access": "yes"},
                    {"type": "aed", "name": "Station AED", "lon": 7.4199, "lat": 43.7393},
                ],
            }
        },
    )
    region: RegionName | None = Field(None, description="default: the region whose network holds the first point")
    crs: InputCrs = Field("wgs84", description="coordinate system of every lon/lat of the batch")
    strict: bool = Field(
        True,
        description="reject the whole batch for any bad row or a coordinate system the roads say is likely wrong; "
        "false: write the good rows, list the bad ones, warn about the system",
    )
    facilities: list[FacilityRow] = Field(
        min_length=1, max_length=MAX_ROWS, description=f"at most {MAX_ROWS:,} (and `max_import_body_bytes`)"
    )


def _got(value: Any) -> str:
    return "" if isinstance(value, (dict, list)) or value is None else f" (got {str(value)[:60]!r})"


def _checked(rows: list[Any]) -> tuple[list[Any], list[RowError]]:
    """Each facility against the request limits: (rows normalised, the fields at fault removed;
    their problems as row errors, rows counted from 1)."""
    out: list[Any] = []
    errors: list[RowError] = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            out.append(row)  # the service says it is not an object
            continue
        row = dict(row)
        for k in _BATCH_FIELDS:
            if k in row:
                errors.append(RowError(i, k, f"give {k} once for the whole batch, not per facility"))
                del row[k]
        try:
            model = FacilityIn.model_validate(row)
        except ValidationError as exc:
            bad: set[str] = set()
            for e in exc.errors():
                loc = e.get("loc") or ()
                f = str(loc[0]) if loc else "row"
                if f in bad:
                    continue
                bad.add(f)
                errors.append(RowError(i, f, f"{e.get('msg', 'invalid')}{_got(e.get('input'))}"))
            out.append({k: v for k, v in row.items() if k not in bad})
            continue
        out.append(model.model_dump(exclude=set(_BATCH_FIELDS)))
    return out, errors


@router.post(
    "/facilities/import", response_model=ImportResult, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS
)
def import_facilities(body: FacilityImport, svc: ServiceDep, key: EditorKey) -> ImportResult:
    """Add up to 5,000 facilities to one region in one transaction (editor key), one audit row each.

    Every facility is validated like a file row (problems named `facilities[N].<field>`, N counted
    from 1); ids are generated when missing and must be new (409). The region is the one named, else
    the one whose network holds the first point; every point must lie in it. The points are checked
    against the region's roads for a likely wrong `crs` (GCJ-02 / BD-09 data declared WGS-84): with
    `strict` (the default) that, or any bad row, rejects the whole batch (422, nothing written);
    with `strict: false` the good rows are written, the bad ones listed in `rejected` and the
    system check is a `warning`. Every endpoint sees the new facilities at once."""
    rows, row_errors = _checked(body.facilities)
    return imports.import_facilities(
        svc, rows, actor=key, crs=body.crs, region=body.region, strict=body.strict, row_errors=row_errors
    )
