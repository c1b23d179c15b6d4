"""A user's own admin units and census: boundaries (GeoJSON / GeoPackage) joined to a census CSV.

This is the one path every census takes into a bundle (``geoservice build --admin-units …
--population …``, the Shanghai demo and the Hubei counties alike), so a province gets exactly what
the demo gets. The result is a :class:`~geoservice.sources.population.PopulationSpec`.

* Boundaries in GCJ-02 or BD-09 (``--admin-crs``) are converted to WGS-84 vertex by vertex with
  the exact inverse of ``sources.coords``; ids are compared as text (``420102`` = ``"420102"``).
* Census counts must be whole, non-negative numbers; totals are kept exactly (Python integers).
* A census unit without a polygon is an error listing the ids, unless it is folded explicitly
  into the unit that contains it (``--population-fold SRC=DST``, e.g. a development zone counted
  apart by the census but lying inside a district). A polygon without a census count carries no
  population (NaN) and is named in the spec's notes.

Every error names the flag at fault (field ``admin_id`` is shown as ``--admin-id``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .coords import CRS_CHOICES, to_wgs84
from .population_spec import InputFile, PopulationError, PopulationSpec

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "AdminCensusOptions",
    "Census",
    "read_admin_units",
    "read_census",
    "parse_folds",
    "join_census",
    "admin_census_spec",
]

SHOW = 12  # ids / rows listed in one error message


def _listed(items: list[Any]) -> str:
    more = f" … ({len(items)} in all)" if len(items) > SHOW else ""
    return ", ".join(str(i) for i in items[:SHOW]) + more


def _id_text(v: Any) -> str | None:
    """An id as text: 420102, 420102.0 and "420102" are the same id; None for a missing one."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    s = str(v).strip()
    return s or None


def _ids(values: Any, *, file: str, field_name: str, flag_col: str) -> list[str]:
    out = [_id_text(v) for v in values]
    missing = [i + 1 for i, v in enumerate(out) if v is None]
    if missing:
        raise PopulationError(f"{file}: no id in column {flag_col!r} on row(s) {_listed(missing)}", field_name)
    ids = [v for v in out if v is not None]
    dup = sorted(_dups(ids))
    if dup:
        raise PopulationError(f"{file}: duplicate id(s) in column {flag_col!r}: {_listed(dup)}", field_name)
    return ids


def _dups(ids: list[str]) -> set[str]:
    from collections import Counter

    return {v for v, n in Counter(ids).items() if n > 1}


# ------------------------------------------------------------------------------ boundaries
def read_admin_units(
    path: str | Path, *, crs: str = "wgs84", id_col: str, name_col: str | None = None
) -> gpd.GeoDataFrame:
    """Admin-unit polygons as a GeoDataFrame (EPSG:4326): ``admin_code`` (text), ``name``, geometry.

    ``crs`` is the system the coordinates are in (wgs84, gcj02, bd09); a file that declares a
    projected CRS is reprojected to lon/lat first (WGS-84 only: GCJ-02 / BD-09 are lon/lat)."""
    import geopandas as gpd
    import pyogrio.errors
    import shapely

    p = Path(path)
    if crs not in CRS_CHOICES:
        raise PopulationError(f"unknown coordinate system {crs!r}; allowed: {', '.join(CRS_CHOICES)}", "admin_crs")
    if not p.is_file():
        raise PopulationError(f"file not found: {p}", "admin_units")
    try:
        g = gpd.read_file(p)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise PopulationError(f"{p.name}: not a readable GeoJSON / GeoPackage ({exc})", "admin_units") from None
    if not len(g):
        raise PopulationError(f"{p.name}: no features", "admin_units")
    cols = [c for c in g.columns if c != g.geometry.name]
    for col, fld in ((id_col, "admin_id"), (name_col, "admin_name")):
        if col is not None and col not in g.columns:
            raise PopulationError(f"{p.name} has no column {col!r}; columns: {', '.join(map(str, cols))}", fld)
    if g.crs is not None and not g.crs.is_geographic:
        if crs != "wgs84":
            raise PopulationError(
                f"{p.name} is in a projected CRS ({g.crs.name}); {crs} coordinates are lon/lat degrees", "admin_crs"
            )
        g = g.to_crs("EPSG:4326")
    ids = _ids(g[id_col].tolist(), file=p.name, field_name="admin_id", flag_col=id_col)
    geoms = g.geometry.to_numpy()
    bad = [i + 1 for i, s in enumerate(geoms) if s is None or s.is_empty]
    if bad:
        raise PopulationError(f"{p.name}: no geometry on feature(s) {_listed(bad)}", "admin_units")
    kinds = shapely.get_type_id(geoms)
    wrong = [f"{i + 1} ({ids[i]}: {geoms[i].geom_type})" for i in np.flatnonzero(~np.isin(kinds, (3, 6)))]
    if wrong:
        raise PopulationError(
            f"{p.name}: admin units must be polygons or multipolygons; not on feature(s) {_listed(wrong)}",
            "admin_units",
        )
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise PopulationError(
            f"{p.name}: coordinates ({x0:.6g}, {y0:.6g}) … ({x1:.6g}, {y1:.6g}) are not lon/lat degrees "
            "(a projected file without a declared CRS?)",
            "admin_units",
        )
    if crs != "wgs84":
        geoms = shapely.transform(geoms, lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1], crs)))
    # a converted outline may cross itself by a hair: repair, keep the polygonal part
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(shapely.make_valid(s)) for s in geoms[invalid]]
    names = [str(v).strip() if _id_text(v) else ids[i] for i, v in enumerate(g[name_col])] if name_col else ids
    return gpd.GeoDataFrame({"admin_code": ids, "name": names}, geometry=list(geoms), crs="EPSG:4326")


def _polygonal(geom: Any) -> Any:
    import shapely

    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


# ------------------------------------------------------------------------------ census
@dataclass(frozen=True)
class Census:
    """Census counts by unit id (text), in file order, with the file's exact total."""

    counts: dict[str, int]
    file: str
    column: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _read_csv_text(p: Path) -> pd.DataFrame:
    """The CSV as text columns; UTF-8 (with or without BOM), else GB18030 (Excel in China)."""
    import pandas as pd

    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(p, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise PopulationError(f"{p.name}: empty file", "population") from None
        except pd.errors.ParserError as exc:
            raise PopulationError(f"{p.name}: not a readable CSV ({exc})", "population") from None
    raise PopulationError(f"{p.name}: neither UTF-8 nor GB18030 text", "population")


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_census(path: str | Path, *, id_col: str, population_col: str, id_flag: str = "population_id") -> Census:
    """Census counts per unit id from a CSV (ids as text; whole, non-negative counts; ids unique).

    ``id_flag`` is the field named when the id column is missing (the flag the user gave it by)."""
    p = Path(path)
    if not p.is_file():
        raise PopulationError(f"file not found: {p}", "population")
    df = _read_csv_text(p)
    if not len(df):
        raise PopulationError(f"{p.name}: no rows", "population")
    for col, fld in ((id_col, id_flag), (population_col, "population_col")):
        if col not in df.columns:
            raise PopulationError(f"{p.name} has no column {col!r}; columns: {', '.join(df.columns)}", fld)
    ids = _ids(df[id_col].tolist(), file=p.name, field_name="population", flag_col=id_col)
    counts: dict[str, int] = {}
    bad: list[str] = []
    for row, (uid, raw) in enumerate(zip(ids, df[population_col].tolist()), start=1):
        text = raw.strip().replace(",", "").replace("_", "")
        if not _NUMBER.match(text):
            bad.append(f"row {row} ({uid}): {raw!r} is not a number")
            continue
        value = float(text)
        if value < 0:
            bad.append(f"row {row} ({uid}): {raw!r} is negative")
        elif not value.is_integer():
            bad.append(f"row {row} ({uid}): {raw!r} is not a whole number of people")
        else:
            counts[uid] = int(text.lstrip("+")) if text.lstrip("+").isdigit() else int(value)
    if bad:
        raise PopulationError(f"{p.name} column {population_col!r}: {_listed(bad)}", "population_col")
    return Census(counts, p.name, population_col)


# ------------------------------------------------------------------------------ join
def parse_folds(items: list[str] | None) -> dict[str, str]:
    """``["421071=421002", …]`` → {source id: destination id}, checked for clashes."""
    out: dict[str, str] = {}
    for item in items or []:
        src, sep, dst = (item or "").partition("=")
        src, dst = src.strip(), dst.strip()
        if not sep or not src or not dst:
            raise PopulationError(f"{item!r}: write SRC=DST (census id = admin-unit id)", "population_fold")
        if src == dst:
            raise PopulationError(f"{item!r}: a unit cannot be folded into itself", "population_fold")
        if src in out and out[src] != dst:
            raise PopulationError(f"{src} is folded twice ({out[src]} and {dst})", "population_fold")
        out[src] = dst
    chained = sorted(set(out) & set(out.values()))
    if chained:
        raise PopulationError(
            f"fold into a folded unit: {_listed(chained)}; fold straight to the last", "population_fold"
        )
    return out


def join_census(
    units: gpd.GeoDataFrame,
    census: Census,
    *,
    folds: dict[str, str] | None = None,
    source: str,
    boundary_source: str,
) -> PopulationSpec:
    """Units with their census count (NaN where the census has none); see the module docstring."""
    folds = dict(folds or {})
    counts = dict(census.counts)
    codes = units["admin_code"].tolist()
    have = set(codes)
    names = dict(zip(codes, units["name"]))
    notes: list[str] = []
    for src, dst in folds.items():
        if src not in counts:
            raise PopulationError(f"{src}=…: {src} is not in the census ({census.file})", "population_fold")
        if dst not in have:
            raise PopulationError(f"…={dst}: {dst} is not an admin unit id", "population_fold")
        if src in have:
            raise PopulationError(f"{src} has a polygon of its own: it needs no fold", "population_fold")
        moved = counts.pop(src)
        counts[dst] = counts.get(dst, 0) + moved
        notes.append(f"census unit {src} ({moved:,} people) folded into {dst} ({names[dst]})")
    orphans = [c for c in counts if c not in have]
    if orphans:
        raise PopulationError(
            f"census id(s) with no admin-unit polygon: {_listed(orphans)}; fix the ids, or fold each into the "
            "unit that contains it with --population-fold SRC=DST",
            "population",
        )
    uncounted = [c for c in codes if c not in counts]
    if uncounted:
        notes.append(
            f"{len(uncounted)} admin unit(s) without a census count carry no population: "
            + _listed([f"{c} ({names[c]})" for c in uncounted])
        )
    total = sum(counts.values())
    if total != census.total:  # a fold moves people, never adds or drops them
        raise AssertionError(f"census total changed in the join: {census.total} -> {total}")
    import geopandas as gpd

    out = gpd.GeoDataFrame(
        {
            "admin_code": codes,
            "name": units["name"].tolist(),
            "population": [float(counts[c]) if c in counts else np.nan for c in codes],
            "boundary_source": boundary_source,
        },
        geometry=units.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return PopulationSpec(out, source, notes=notes, census_total=total)


# ------------------------------------------------------------------------------ one call
@dataclass(frozen=True)
class AdminCensusOptions:
    """Everything ``build`` needs to read a census onto its own admin units (the CLI options)."""

    admin_units: Path
    admin_id: str
    population: Path
    population_col: str
    admin_name: str | None = None
    admin_crs: str = "wgs84"
    population_id: str | None = None  # the census id column; default: the admin_id column name
    folds: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # provenance of the census (default: file and column)
    boundary_source: str | None = None  # provenance of the polygons (default: the file)

    def inputs(self) -> list[InputFile]:
        """The two files and their options, for the bundle's ``meta["inputs"]``."""
        return [
            {
                "path": str(self.admin_units),
                "role": "admin_units",
                "options": {"crs": self.admin_crs, "id_col": self.admin_id, "name_col": self.admin_name or ""},
            },
            {
                "path": str(self.population),
                "role": "census",
                "options": {
                    "id_col": self.population_id or self.admin_id,
                    "population_col": self.population_col,
                    "folds": ";".join(f"{s}={d}" for s, d in self.folds.items()),
                },
            },
        ]


def admin_census_spec(opts: AdminCensusOptions) -> PopulationSpec:
    """Read, check and join the admin units and census of ``opts`` (see the module docstring)."""
    units = read_admin_units(opts.admin_units, crs=opts.admin_crs, id_col=opts.admin_id, name_col=opts.admin_name)
    census = read_census(
        opts.population,
        id_col=opts.population_id or opts.admin_id,
        population_col=opts.population_col,
        id_flag="population_id" if opts.population_id else "admin_id",
    )
    source = opts.source or f"census {census.file} column {opts.population_col!r} ({len(census.counts)} units)"
    boundary = opts.boundary_source or f"{Path(opts.admin_units).name} ({opts.admin_crs})"
    spec = join_census(units, census, folds=opts.folds, source=source, boundary_source=boundary)
    spec.inputs = opts.inputs()
    spec.notes.insert(
        0, f"census total {census.total:,} in {len(census.counts)} census units; {len(units)} admin-unit polygons"
    )
    return spec
