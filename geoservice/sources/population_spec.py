"""The population a build spreads: admin units with their counts (``PopulationSpec``), and the
error of population inputs. Made by ``sources.admin_units`` (a user's boundaries and census) and
``sources.population`` (Hubei, the OSM-tag demos)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from ..errors import InputFileError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["PopulationError", "PopulationSpec", "SpecMeta", "InputFile"]


class InputFile(TypedDict):
    """A file a population was read from, as the bundle's ``meta["inputs"]`` lists it."""

    path: str
    role: str
    options: dict[str, str]


class SpecMeta(TypedDict):
    """A ``PopulationSpec``'s figures for the bundle's ``meta["population"]``."""

    source: str
    total: int | None
    census_total: int | None
    units: int
    units_with_count: int
    remainder_unit: str | None
    notes: list[str]


class PopulationError(InputFileError):
    """Population inputs are missing or inconsistent."""

    def __init__(self, message: str, field: str = "population") -> None:
        super().__init__(field, message)


@dataclass
class PopulationSpec:
    """Admin units to spread onto a network or a grid.

    ``units``: GeoDataFrame (EPSG:4326) with admin_code, name, population (float, NaN = not
    published), boundary_source, geometry (may be empty for the remainder unit).
    ``total``: published total to share among the units without a count (None: those units get 0).
    ``remainder_code``: unit that takes every point lying in no unit polygon (or None).
    ``census_total``: the exact sum of the census counts read (None for the OSM demo totals).
    ``inputs``: the files read and their options, for the bundle's ``meta["inputs"]``.
    """

    units: gpd.GeoDataFrame
    source: str
    total: int | None = None
    remainder_code: str | None = None
    notes: list[str] = field(default_factory=list)
    census_total: int | None = None
    inputs: list[InputFile] = field(default_factory=list)

    def to_meta(self) -> SpecMeta:
        known = self.units["population"].dropna()
        return {
            "source": self.source,
            "total": self.total,
            "census_total": self.census_total,
            "units": int(len(self.units)),
            "units_with_count": int(len(known)),
            "remainder_unit": self.remainder_code,
            "notes": list(self.notes),
        }
