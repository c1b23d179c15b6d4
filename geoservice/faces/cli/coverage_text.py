"""The coverage command's text on stderr: one summary line, then a table by admin unit with the
census count, the share of the unit inside the road extract, its people inside and the share
covered; a region without census says "no population data" instead of any population figure.
People off the network asked (on foot: across a river the footways do not cross) are among the
people inside, never covered, and the summary says how many."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...analyses.coverage import CoverageReport

__all__ = ["coverage_summary", "unit_table"]


def coverage_summary(rep: CoverageReport, *, region: str, out: Path) -> str:
    o = rep.overall
    n_gaps = len(rep.gaps.get("features") or [])
    people = (
        f"population share {_share(o.population_share)} of {o.population:,.0f} inside the road extract"
        if rep.population_data and o.population is not None
        else "no population data"
    )
    if rep.population_data and o.population_off_network:
        people += f" ({o.population_off_network:,.0f} of them off the {rep.profile} network, not covered)"
    return (
        f"{rep.type} within {rep.minutes:g} min ({rep.profile}, {rep.scenario_name}) in {region}: "
        f"{people}, area share {_share(o.area_share)}, road share {_share(o.road_share)}; "
        f"{n_gaps or 'no'} gap polygon{'' if n_gaps == 1 else 's'}; wrote {out}/"
    )


def _share(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _count(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def unit_table(rep: CoverageReport) -> str:
    """Per admin unit: census count, share of the unit inside the road extract, people inside, covered."""
    head = ("admin_code", "name", "census", "area inside", "people inside", "covered", "share covered", "roads")
    rows = [head] + [
        (
            u.admin_code,
            u.name,
            _count(u.census_population),
            _share(u.share_inside),
            _count(u.population) if rep.population_data else "no population data",
            _count(u.population_covered),
            _share(u.population_share),
            _share(u.road_share),
        )
        for u in rep.by_unit
    ]
    o = rep.overall
    if rep.population_data:
        rows.append(
            (
                "ALL",
                "inside the extract",
                "",
                "",
                _count(o.population),
                _count(o.population_covered),
                _share(o.population_share),
                _share(o.road_share),
            )
        )
        if o.population_outside_extract is not None:
            rows.append(("", "outside the extract", _count(o.population_outside_extract), "", "", "", "", ""))
    width = [max(_width(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            c + " " * (width[i] - _width(c)) if i < 2 else " " * (width[i] - _width(c)) + c for i, c in enumerate(r)
        )
        for r in rows
    )


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)
