"""A coverage report that says the traffic it was computed under (a scenario, or a departure's hour).

Why here: ``analyses.coverage`` knows only the weights it was given (a departure's hour is a
table to it, "custom"); the service knows which question was asked and adds that to the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ...analyses.coverage import CoverageReport
from ..traffic import Traffic

__all__ = ["TrafficCoverage"]


@dataclass(frozen=True)
class TrafficCoverage(CoverageReport):
    """A coverage report that says the traffic it was computed under: ``scenario_name`` is the
    traffic's name (``hour_08`` for a departure), and for a departure the JSON adds ``depart``,
    ``hour`` and ``hourly_profiles`` (where the hour's factors came from)."""

    traffic: Traffic = Traffic("free_flow", "free_flow")
    band: dict[str, Any] | None = None  # with a percentile: analyses.coverage_band

    @classmethod
    def of(cls, rep: CoverageReport, tr: Traffic, band: dict[str, Any] | None = None) -> TrafficCoverage:
        plain = {f.name: getattr(rep, f.name) for f in fields(CoverageReport)}
        if tr.depart is not None or tr.percentile is not None:  # the analysis names a table "custom"
            plain["method"] = rep.method.replace("scenario custom;", f"traffic {tr.label()};", 1)
        return cls(**plain, traffic=tr, band=band)

    @property
    def scenario_name(self) -> str:
        return self.traffic.name

    @property
    def shown_scenario(self) -> str:
        """As ``to_json``'s ``scenario`` when text: the traffic's name with a percentile, else the table's."""
        return self.traffic.name if self.traffic.percentile is not None else super().shown_scenario

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.traffic.depart is not None:
            out.update(depart=self.traffic.depart, hour=self.traffic.hour, hourly_profiles=self.traffic.source)
        if self.traffic.percentile is not None:
            out["scenario"] = self.traffic.name
        out.update(self.traffic.to_json())
        if self.band is not None:
            out["band"] = self.band
        return out
