"""A question about facilities that no facility answers is an error, not a silent 0%.

Coverage, what-if, siting and service areas measure the facilities a filter (type, level,
capability) selects. When it selects none, every figure would be 0 (or empty) and read as an
answer about real facilities, e.g. "EVT coverage 0%" of a region built with chest pain centers
only. So the service raises :class:`NoFacilityError` once, here, for every face: the CLI prints
``geoservice: error: --capability: …`` with exit status 2, the API answers 422 naming the field.

The field is the first filter part that empties the selection: ``type`` (no facility of the type),
else ``level``, else ``capability``; the message says what the region has instead. Facilities of
the filter that are all too far from the roads to be reached are the same error (field ``type``).
A what-if that *adds* sites is not such a question (the added sites are facilities), so
``queries.coverage`` does not ask for this check then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pandas as pd

from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.schema import FacilityFilter

__all__ = ["NoFacilityError", "no_facility_error", "require_facilities", "table_error"]


class NoFacilityError(GeoserviceError):
    """The filter selects no facility (``field``: type, level or capability)."""


def _what(where: FacilityFilter) -> str:
    out = where.type or "facility"
    if where.levels:
        out += f" of level {' or '.join(sorted(where.levels))}"
    if where.capabilities:
        out += f" with capability {' and '.join(sorted(where.capabilities))}"
    return out


def _counts(values: Iterable[object]) -> str:
    c = Counter(str(v) for v in values if v is not None and v == v and str(v) != "")
    return ", ".join(f"{k} {n}" for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def table_error(fac: pd.DataFrame, where: FacilityFilter, place: str) -> NoFacilityError | None:
    """The error when no row of the facility table ``fac`` matches ``where`` (None when one does),
    naming the first filter part that empties it; ``place`` says where ("region monaco")."""
    if len(fac) and where.mask(fac).any():
        return None
    ftype = where.type
    has = {c: c in fac.columns for c in ("type", "level", "capabilities")}
    if ftype is not None:
        of_type = fac[fac["type"] == ftype] if has["type"] and len(fac) else fac.iloc[0:0]
        if not len(of_type):
            there = _counts(fac["type"]) if has["type"] and len(fac) else "no facility at all"
            return NoFacilityError("type", f"no {ftype} in {place} (it has: {there}); nothing to measure")
        if where.levels and not FacilityFilter(ftype, where.levels).mask(of_type).any():
            return NoFacilityError(
                "level",
                f"no {_what(FacilityFilter(ftype, where.levels))} in {place} "
                f"(levels of its {len(of_type)} {ftype}: {_counts(of_type['level'])}); nothing to measure",
            )
        if where.capabilities:
            base = FacilityFilter(ftype, where.levels)
            pool = fac[base.mask(fac)]
            caps = (
                [c for v in pool["capabilities"] for c in str(v or "").split(",") if c] if has["capabilities"] else []
            )
            return NoFacilityError(
                "capability",
                f"no {_what(where)} in {place} (capabilities of its {len(pool)} {_what(base)}: "
                f"{_counts(caps)}); nothing to measure",
            )
    return NoFacilityError("type", f"no {_what(where)} in {place}; nothing to measure")


def no_facility_error(eng: Engine, where: FacilityFilter, profile: str, region: str) -> NoFacilityError | None:
    """The error to raise when ``where`` selects no facility of ``eng`` on the profile's network
    (None when it selects some). Cheap when it does: the engine caches its selections."""
    if len(eng.select(profile, where=where).rows):
        return None
    err = table_error(eng.facilities, where, f"region {region}")
    if err is not None:
        return err
    n = int(where.mask(eng.facilities).sum())
    net = eng.router_for(profile).net.name
    return NoFacilityError(
        "type",
        f"none of the {n} {_what(where)} of region {region} is on its {net} network "
        "(each lies beyond the snapping limit of its roads); nothing to measure",
    )


def require_facilities(eng: Engine, where: FacilityFilter, profile: str, region: str) -> None:
    """Raise :class:`NoFacilityError` when ``where`` selects no facility on the profile's network."""
    err = no_facility_error(eng, where, profile, region)
    if err is not None:
        raise err
