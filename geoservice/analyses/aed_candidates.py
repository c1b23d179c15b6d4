"""Where a new public AED could go: gathering places of the bundle's OSM extract, a file, or the
registry's hospitals and health centres.

* ``osm``: schools, stations, malls and sports venues (``sources.gathering_places``) read from
  the OSM file the bundle was built from (``meta.json`` inputs, role ``osm``), checked against
  the checksum recorded at build time. A bundle stores no such places itself, so when that file
  is gone or changed, or holds none of them, the error says so and asks for a file.
* a CSV with ``lon``, ``lat`` and optionally ``id``, ``name``, ``kind``, ``opening_hours``.
* ``facilities``: the registry's hospitals, clinics and grassroots units without an AED at the
  same point (their hours unknown: the default hours apply).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

from ..bundle.store import Region
from ..engine.engine import Engine
from ..errors import GeoserviceError, InputFileError
from ..sources.gathering_places import KINDS, read_gathering_places
from ..sources.opening_hours import opening_hours_error
from .aed_siting import AedCandidate

__all__ = ["osm_candidates", "csv_candidates", "facility_candidates", "aed_candidates"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _osm_input(osm: dict[str, Any], look_in: list[Path]) -> Path:
    """The recorded OSM input, else a file of the same name and checksum under ``look_in`` (the
    package's demo data: a bundle built on another machine)."""
    path = Path(osm["path"])
    if path.is_file() or not osm.get("sha256"):
        return path
    for d in look_in:
        for hit in sorted(Path(d).rglob(path.name)) if Path(d).is_dir() else []:
            if hit.is_file() and _sha256(hit) == osm["sha256"]:
                return hit
    return path


def osm_candidates(
    region: Region, *, field: str = "candidates", look_in: list[Path] | None = None
) -> list[AedCandidate]:
    """Gathering places of the OSM extract the bundle was built from (found again by name and
    checksum under ``look_in`` when it has moved)."""
    osm = next((i for i in region.meta.get("inputs", []) if i.get("role") == "osm"), None)
    ask = "give candidates as a CSV file (lon, lat[, name, opening_hours]) or use the registry's facilities"
    if osm is None:
        raise GeoserviceError(field, f"region {region.name}: its bundle names no OSM input; {ask}")
    path = _osm_input(osm, look_in or [])
    if not path.is_file():
        raise GeoserviceError(
            field, f"region {region.name}: the bundle stores no gathering places and its OSM file {path} is gone; {ask}"
        )
    if osm.get("sha256") and _sha256(path) != osm["sha256"]:
        raise GeoserviceError(
            field, f"region {region.name}: {path} has changed since the bundle was built (checksum); {ask}"
        )
    places = read_gathering_places(path, field=field)
    if not places:
        raise GeoserviceError(
            field,
            f"region {region.name}: its OSM extract holds no gathering places ({', '.join(KINDS)}); {ask}",
        )
    return [AedCandidate(p.id, p.name, p.lon, p.lat, f"OSM {p.kind} (ODbL)", p.opening_hours) for p in places]


def csv_candidates(path: str | Path, *, field: str = "candidates") -> list[AedCandidate]:
    """Candidates of a CSV file (``lon``, ``lat``; optional ``id``, ``name``, ``kind``, ``opening_hours``)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(field, f"file not found: {p}")
    out: list[AedCandidate] = []
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not {"lon", "lat"} <= set(reader.fieldnames or []):
            raise InputFileError(field, f"{p}: needs lon and lat columns; has {reader.fieldnames}")
        for n, row in enumerate(reader, 1):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
            except (TypeError, ValueError):
                raise InputFileError(field, f"{p} row {n}: lon and lat must be numbers") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InputFileError(field, f"{p} row {n}: ({lon}, {lat}) is not a lon/lat")
            hours = (row.get("opening_hours") or "").strip() or None
            if hours and opening_hours_error(hours):
                raise InputFileError(field, f"{p} row {n}: opening_hours: {opening_hours_error(hours)}")
            kind = (row.get("kind") or "").strip()
            out.append(
                AedCandidate(
                    id=(row.get("id") or "").strip() or f"candidate-{n}",
                    name=(row.get("name") or "").strip() or f"candidate {n}",
                    lon=lon,
                    lat=lat,
                    source=f"{p.name}" + (f" ({kind})" if kind else ""),
                    opening_hours=hours,
                )
            )
    if not out:
        raise InputFileError(field, f"{p}: no rows")
    return out


def facility_candidates(engine: Engine) -> list[AedCandidate]:
    """Hospitals, clinics and grassroots units of the registry that have no AED at the same point."""
    fac = engine.facilities
    aeds = {(round(g.x, 5), round(g.y, 5)) for g in fac[fac["type"] == "aed"].geometry}
    out: list[AedCandidate] = []
    seen: set[tuple[float, float]] = set()
    for _, r in fac[fac["type"].isin(["hospital", "grassroots_unit"])].iterrows():
        key = (round(r.geometry.x, 5), round(r.geometry.y, 5))
        if key in aeds or key in seen:
            continue
        seen.add(key)
        out.append(
            AedCandidate(
                str(r["id"]), str(r["name"]), float(r.geometry.x), float(r.geometry.y), f"registry {r['type']}"
            )
        )
    return out


def aed_candidates(
    engine: Engine, source: str, *, field: str = "candidates", look_in: list[Path] | None = None
) -> tuple[list[AedCandidate], str]:
    """(candidates, description) for ``source``: ``osm``, ``facilities`` or a CSV path."""
    if source == "osm":
        places = osm_candidates(engine.region, field=field, look_in=look_in)
        return places, "the bundle's OSM extract (gathering places)"
    if source == "facilities":
        cands = facility_candidates(engine)
        if not cands:
            raise GeoserviceError(field, "the registry has no hospital or grassroots unit without an AED")
        return cands, "the registry's hospitals and grassroots units"
    return csv_candidates(source, field=field), Path(source).name
