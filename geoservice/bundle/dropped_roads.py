"""The roads a network build dropped as disconnected, and where they are.

``bundle.network`` keeps the largest strongly connected component of each network and drops the
rest (its report counts the nodes). Those roads still have people along them: the walking network
of central Shanghai does not cross the Huangpu, so all of 浦东新区's footways and streets inside
the extract are dropped from it. So that every network counts the same people (``bundle.
population_files``), the dropped roads are kept here as points with the road length around them:
people spread onto them are *off the network* (counted, never covered), and the build says how
many nodes and people the dropped parts held.

A way is in a dropped part when the network kept no piece of it and it shares no OSM node with a
way the network kept (a closed way that touches the network at one node only is cut away as a
loop, not a disconnected part: it is not counted here). Each such way is one point, at its middle
vertex, carrying its length (metres) and its length of residential-type roads (the weights of
``bundle.population.node_weights``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sources.osm_roads import RawWays
from ..sources.speeds import CLASS_INDEX
from .network import NETWORK_FLAGS, Network, haversine_m
from .population import residential_classes

__all__ = ["DroppedRoads", "dropped_roads"]

_CHUNK = 2_000_000  # positions of kept ways looked up at a time (bounded memory on a province)


@dataclass(frozen=True)
class DroppedRoads:
    """One point per way of a dropped part of network ``network``."""

    network: str
    nodes: int  # graph nodes dropped (the network build's report)
    lon: np.ndarray
    lat: np.ndarray
    length_m: np.ndarray  # the way's length
    residential_m: np.ndarray  # of it, residential-type road (the population weight)

    @property
    def ways(self) -> int:
        return len(self.lon)

    @classmethod
    def none(cls, network: str, nodes: int = 0) -> DroppedRoads:
        z = np.zeros(0)
        return cls(network, nodes, z, z, z, z)


def _positions(ptr: np.ndarray, ways: np.ndarray) -> np.ndarray:
    lens = (ptr[ways + 1] - ptr[ways]).astype(np.int64)
    starts = np.repeat(ptr[ways].astype(np.int64) - (np.cumsum(lens) - lens), lens)
    return starts + np.arange(int(lens.sum()), dtype=np.int64)


def dropped_roads(raw: RawWays, net: Network) -> DroppedRoads:
    """The ways of ``raw`` that network ``net`` (built from ``raw``) dropped as disconnected."""
    nodes = int(net.report.get("nodes_dropped", 0))
    ways = np.flatnonzero(raw.way_flags & NETWORK_FLAGS[net.name])
    kept = np.unique(np.asarray(net.part_way))
    missing = np.setdiff1d(ways, kept)
    if not len(missing):
        return DroppedRoads.none(net.name, nodes)
    mlen = (raw.ptr[missing + 1] - raw.ptr[missing]).astype(np.int64)
    mpos = _positions(raw.ptr, missing)
    mref = np.asarray(raw.ref[mpos])
    ids = np.unique(mref)
    touched = np.zeros(len(ids), bool)  # the missing ways' nodes that a kept way uses too
    per_way = max(1, int(np.mean(raw.ptr[kept + 1] - raw.ptr[kept]))) if len(kept) else 1
    step = max(1, _CHUNK // per_way)
    for lo in range(0, len(kept), step):
        r = np.asarray(raw.ref[_positions(raw.ptr, kept[lo : lo + step])])
        i = np.minimum(np.searchsorted(ids, r), len(ids) - 1)
        touched[i[ids[i] == r]] = True
    starts = np.cumsum(mlen) - mlen
    attached = np.maximum.reduceat(touched[np.searchsorted(ids, mref)], starts) if len(mref) else np.zeros(0, bool)
    attached |= mlen < 2  # (a way of one node has no length)
    keep = ~attached
    if not keep.any():
        return DroppedRoads.none(net.name, nodes)
    dw, dlen, dstart = missing[keep], mlen[keep], starts[keep]
    lon, lat = np.asarray(raw.lon[mpos]), np.asarray(raw.lat[mpos])
    seg = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) if len(lon) > 1 else np.zeros(0)
    seg = np.append(seg, 0.0)
    seg[starts + mlen - 1] = 0.0  # no segment joins one way to the next
    way_len = np.add.reduceat(seg, starts)[keep]
    res = np.isin(raw.way_class[dw], [CLASS_INDEX[c] for c in residential_classes(net.name) if c in CLASS_INDEX])
    mid = dstart + dlen // 2
    return DroppedRoads(
        network=net.name,
        nodes=nodes,
        lon=lon[mid].astype(float),
        lat=lat[mid].astype(float),
        length_m=way_len,
        residential_m=np.where(res, way_len, 0.0),
    )
