"""Observed trips on a region's roads: the checks that need the network, and their routes under
any hourly factors, with the free-flow seconds per road class that calibration fits.

Checks (each failing trip becomes a ``Rejection`` with its reason, never a fitted one):

* the file's coordinate system, on real positions (``sources.crs_check.check_positions``, the
  check of facility files): a file that is probably GCJ-02 or BD-09 but declared otherwise is
  refused as a whole (every trip would be a few hundred metres off, a biased fit), and so is a
  file none of whose points lies near the region's roads;
* ``off_network``: an end farther from a road than the region allows (the engine's snapping
  limit, 500 m by car), e.g. a GPS fix in the wrong city;
* ``too_short``: ends closer than ``MIN_TRIP_M``: the time is all parking and turn-out;
* ``too_fast``: the straight-line distance covered faster than the network's top speed;
* ``no_route``: no road route joins the ends.

Routes: the trips are grouped by the table of their departure hour, the hierarchy customised
once per distinct table (``engine.trip_paths.PairRouter``), each trip routed as ``matrix
--depart`` routes it (the same snapping, seeds and weights: ``Router.weights``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bundle.network import haversine_m
from ..engine.engine import Engine
from ..engine.router import Router
from ..engine.trip_paths import PairRouter, PointSeeds, RouteParts, point_seeds
from ..errors import GeoserviceError
from ..sources.crs_check import Wording, check_positions, network_distances
from ..sources.speeds import ROAD_CLASSES, scenario_key
from ..sources.trips import Rejection, Trips

__all__ = ["MIN_TRIP_M", "TripNetwork", "prepare"]

MIN_TRIP_M = 200.0
"""Trips whose ends lie closer than this (straight line) say nothing about road speeds."""
CRS_SAMPLE = 1000
"""At most this many trip ends (the nearest the middle of the file's) are checked for the
coordinate system."""

Table = dict[str, float]


@dataclass
class TripNetwork:
    """The usable trips of a file on one profile's network: ``keep`` (positions in the Trips),
    their seeds and straight-line metres, and a router for their routes under hourly tables."""

    router: Router
    profile: str
    pairs: PairRouter
    keep: np.ndarray
    src: PointSeeds
    dst: PointSeeds
    crow_m: np.ndarray
    top_speed_kmh: float
    crs_check: dict[str, Any] | None  # CrsCheck.to_meta(): the JSON figures of the check

    def route(self, tables: list[Table], hour: np.ndarray, idx: np.ndarray | None = None) -> RouteParts:
        """Routes of the kept trips ``idx`` (positions in ``keep``; all by default) departing in
        ``hour`` (one per trip in idx), each under ``tables[hour]``: trips whose tables are
        equal share one customised hierarchy."""
        idx = np.arange(len(self.keep)) if idx is None else np.asarray(idx, np.int64)
        n = len(idx)
        out_t, out_a, out_l = np.full(n, np.inf), np.zeros(n), np.zeros(n)
        out_g = np.zeros((n, len(ROAD_CLASSES)))
        out_s = np.zeros(n, np.int64)
        groups: dict[tuple[str, tuple[tuple[str, float], ...]], list[int]] = {}
        for h in np.unique(hour):
            groups.setdefault(scenario_key(self.profile, tables[int(h)]), []).append(int(h))
        for key, hours in groups.items():
            sel = np.flatnonzero(np.isin(hour, hours))
            if not len(sel):
                continue
            w = self.router.weights(self.profile, dict(key[1]))
            parts = self.pairs.route(self.pairs.customise(w), self.src.take(idx[sel]), self.dst.take(idx[sel]))
            out_t[sel], out_g[sel], out_a[sel] = parts.time_s, parts.group_s, parts.access_s
            out_l[sel], out_s[sel] = parts.length_m, parts.signature
        return RouteParts(out_t, out_g, out_a, out_l, out_s)


def _off_network(router: Router, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Metres from each point to the nearest road (inf beyond 2 km), for the rejection message."""
    return network_distances(router.net)(lon, lat)


def _where(m: float) -> str:
    return "over 2,000 m" if not np.isfinite(m) else f"{m:,.0f} m"


def prepare(engine: Engine, trips: Trips, profile: str, *, region: str) -> tuple[TripNetwork, list[Rejection]]:
    """Check the trips against the region's ``profile`` network (see the module); the kept ones
    with their seeds, and a rejection per trip left out."""
    router = engine.router_for(profile)
    if router.walks:
        raise GeoserviceError("profile", "calibration fits traffic factors of driving: --profile drive or ambulance")
    net = router.net
    n = len(trips)
    if n == 0:
        raise GeoserviceError("trips", f"no row of {trips.path} is a readable trip ({len(trips.rejected)} rejected)")
    # the coordinate system, on the file's own positions: a system is the file's, not a row's,
    # so the trip ends nearest the middle of them all tell, and keep the road index small
    lon = np.concatenate([trips.o_lon, trips.d_lon])
    lat = np.concatenate([trips.o_lat, trips.d_lat])
    mid_lon, mid_lat = np.median(lon), np.median(lat)
    near = np.argsort(np.hypot((lon - mid_lon) * np.cos(np.radians(mid_lat)), lat - mid_lat))[:CRS_SAMPLE]
    lon, lat = lon[near], lat[near]
    check = check_positions(
        lon,
        lat,
        trips.crs,
        network_distances(net),
        region=region,
        wording=Wording(label=trips.path, strict=True, nothing="nothing fitted", field_name="trips"),
    )
    rejected: list[Rejection] = []
    so = router.snap_many(trips.o_lon, trips.o_lat, strict=False)
    sd = router.snap_many(trips.d_lon, trips.d_lat, strict=False)
    off = np.array([a is None or b is None for a, b in zip(so, sd)], bool)
    if off.any():
        i_off = np.flatnonzero(off)
        do = _off_network(router, trips.o_lon[i_off], trips.o_lat[i_off])
        dd = _off_network(router, trips.d_lon[i_off], trips.d_lat[i_off])
        for k, i in enumerate(i_off):
            ends = [
                f"{end} ({lo:.5f}, {la:.5f}) is {_where(m)} from the nearest {net.name} road"
                for end, s, lo, la, m in (
                    ("origin", so[i], trips.o_lon[i], trips.o_lat[i], do[k]),
                    ("destination", sd[i], trips.d_lon[i], trips.d_lat[i], dd[k]),
                )
                if s is None
            ]
            detail = "; ".join(ends) + f" (the limit is {router.max_snap_m:.0f} m)"
            rejected.append(Rejection(int(trips.row[i]), trips.trip_id[i], "off_network", detail))
    crow = haversine_m(trips.o_lon, trips.o_lat, trips.d_lon, trips.d_lat)
    base = net.times(profile)
    ok_t = base > 0
    top_ms = float(np.max(net.edge_len[ok_t] / base[ok_t])) if ok_t.any() else 0.0
    short = ~off & (crow < MIN_TRIP_M)
    fast = ~off & ~short & (crow > top_ms * trips.observed_s)
    for i in np.flatnonzero(short):
        rejected.append(
            Rejection(
                int(trips.row[i]),
                trips.trip_id[i],
                "too_short",
                f"origin and destination are {crow[i]:.0f} m apart (at least {MIN_TRIP_M:.0f} m are needed)",
            )
        )
    for i in np.flatnonzero(fast):
        rejected.append(
            Rejection(
                int(trips.row[i]),
                trips.trip_id[i],
                "too_fast",
                f"{crow[i] / 1000:.2f} km in a straight line in {trips.observed_s[i]:g} s is "
                f"{crow[i] / trips.observed_s[i] * 3.6:.0f} km/h, faster than the {profile} network's top speed "
                f"({top_ms * 3.6:.0f} km/h)",
            )
        )
    keep = np.flatnonzero(~off & ~short & ~fast)
    src = point_seeds(router, [so[i] for i in keep], "from", profile)  # type: ignore[misc]
    dst = point_seeds(router, [sd[i] for i in keep], "to", profile)  # type: ignore[misc]
    edge_class = net.way_class[net.geom_way[net.edge_geom]].astype(np.int64)
    pairs = PairRouter(router, profile, edge_class, len(ROAD_CLASSES))
    tn = TripNetwork(
        router,
        profile,
        pairs,
        keep,
        src,
        dst,
        crow[keep],
        top_ms * 3.6,
        None if check is None else check.to_meta(),
    )
    return tn, rejected
