"""The "3 x 1 hour" stroke timeline per location (3个1小时).

chain = onset->call (assumed, ``onset_to_call_min``) + dispatch (``dispatch_min``) + ambulance
response from the nearest EMS station to the location (when the region has EMS stations) +
transport to the nearest IVT-capable stroke center + that center's door-to-needle time
(facility attribute ``door_to_needle_min``, default ``default_dtn_min``).

Targets: pre-hospital transport (dispatch + response + transport) <= ``transport_target_min`` (60);
whole chain met when each of the three hours holds: onset->call <= 60, transport <= 60,
door-to-needle <= 60. Status: ``chain_met``, ``transport_met`` (transport only), ``not_met``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..bundle.population import load_population
from ..engine.engine import Engine
from ..errors import GeoserviceError
from ..sources.schema import FacilityFilter
from .triage import _dtn

__all__ = ["TimelineParams", "TimelineReport", "timeline_report"]


@dataclass(frozen=True)
class TimelineParams:
    onset_to_call_min: float = 30.0
    dispatch_min: float = 3.0
    default_dtn_min: float = 60.0
    transport_target_min: float = 60.0
    hour_min: float = 60.0

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise GeoserviceError(k, f"timeline parameter {k} must be a non-negative number, got {v!r}")


@dataclass(frozen=True)
class TimelineReport:
    """The 3 x 1-hour chain per populated location; ``to_json()`` gives report.json (with the layer)."""

    params: dict[str, float]
    profile: str
    ems_stations: bool
    population_by_status: dict[str, float] | None  # None: no population data (and no shares)
    share_transport_met: float | None
    share_chain_met: float | None
    layer: dict[str, Any]  # GeoJSON points: status and times per location
    method: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def timeline_report(
    engine: Engine,
    *,
    params: TimelineParams = TimelineParams(),
    profile: str = "ambulance",
    scenario: str | dict[str, float] = "free_flow",
    capability: str = "ivt",
) -> TimelineReport:
    router = engine.router_for(profile)
    net = router.net
    fac = engine.facilities
    has_ems = bool((fac["type"] == "ems_station").any())
    if has_ems:
        t_resp, _ = engine.all_nearest(
            profile=profile, direction="from", where=FacilityFilter.parse(type="ems_station"), scenario=scenario
        )
    else:
        t_resp = np.zeros(net.n_nodes)
    t_tr, lab = engine.all_nearest(
        profile=profile, where=FacilityFilter.parse(type="stroke_center", capability=capability), scenario=scenario
    )
    dtn = _dtn(engine, lab, params.default_dtn_min)
    transport = params.dispatch_min * 60 + t_resp + t_tr
    chain = params.onset_to_call_min * 60 + transport + dtn * 60
    H = params.hour_min * 60
    t_ok = transport <= params.transport_target_min * 60
    c_ok = t_ok & (params.onset_to_call_min * 60 <= H) & (dtn * 60 <= H)
    status = np.where(c_ok, "chain_met", np.where(t_ok, "transport_met", "not_met"))
    layer = load_population(engine.region, net.name)
    pop = layer.population
    people = layer.has_census  # else pop holds road weights: points kept, no population reported
    idx = np.flatnonzero(pop > 0)

    def m(x: float) -> float | None:
        return round(float(x) / 60, 1) if np.isfinite(x) else None

    feats = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(float(net.node_lon[n]), 6), round(float(net.node_lat[n]), 6)],
            },
            "properties": {
                "status": str(status[n]),
                "population": float(pop[n]) if people else None,
                "response_min": m(t_resp[n]) if has_ems else None,
                "transport_min": m(transport[n]),
                "to_center_min": m(t_tr[n]),
                "dtn_min": float(dtn[n]),
                "chain_min": m(chain[n]),
                "center": str(fac.iloc[lab[n]]["id"]) if lab[n] >= 0 else None,
            },
        }
        for n in idx
    ]
    tot = float(pop.sum()) if people else 0.0  # no population data: no shares
    summary = (
        {k: round(float(pop[status == k].sum()), 1) for k in ("chain_met", "transport_met", "not_met")}
        if people
        else None
    )
    return TimelineReport(
        params=asdict(params),
        profile=profile,
        ems_stations=has_ems,
        population_by_status=summary,
        share_transport_met=round(float(pop[t_ok].sum()) / tot, 6) if tot else None,
        share_chain_met=round(float(pop[c_ok].sum()) / tot, 6) if tot else None,
        layer={"type": "FeatureCollection", "features": feats},
        method=(
            (__doc__ or "").strip().split("\n\n", 1)[1].replace("\n", " ")
            + ("" if has_ems else " No EMS stations in this region: ambulance response not included.")
            + f" Network times ({profile}); population: {layer.source if people else 'no population data'};"
            " roads © OpenStreetMap contributors (ODbL)"
        ),
    )
