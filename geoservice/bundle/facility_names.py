"""Readable names for the facilities OSM maps without one, given at build time: a citizen is shown
"医院（淮海中路）" or "Hospital on Avenue Pasteur", never "unnamed hospital" or a raw OSM id (the id
stays in the ``id`` column).

The street is the named road of the network nearest the facility: "on" it when within ``ON_M``,
"near" it within ``NEAR_M``; farther from every named road, the nearest OSM place (town, suburb,
village: "Hospital in Canillo", "医院（某镇）"). The form follows the name's language: a Chinese
name gives the Chinese form, any other the English one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

import numpy as np

from ..sources.name_keys import has_han
from ..sources.osm_names import Place
from .network import Network

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["PLACEHOLDER", "readable_name", "name_unnamed_facilities", "ON_M", "NEAR_M"]

ON_M: Final = 150.0
NEAR_M: Final = 600.0
PLACEHOLDER: Final = re.compile(r"^unnamed (hospital|clinic)$", re.I)  # osm_pois' name of a feature without one
_KIND: Final = {"hospital": ("医院", "Hospital"), "clinic": ("诊所", "Clinic")}


def readable_name(kind: str, where: str | None, how: str = "on") -> str:
    """The name of an unnamed ``kind`` (hospital, clinic) ``how`` ("on" a street, "near" it, "in" a
    place) ``where`` is: "医院（淮海中路）", "医院（淮海中路附近）", "Hospital on Avenue Pasteur",
    "Hospital near CS-413", "Hospital in Canillo"; the kind alone without ``where``."""
    zh, en = _KIND.get(kind, (kind, kind.capitalize()))
    if not where:
        return en
    if has_han(where):
        return f"{zh}（{where}附近）" if how == "near" else f"{zh}（{where}）"
    return f"{en} {how} {where}"


def _named_vertices(net: Network) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """lon, lat and road name of every vertex of a named road geometry."""
    names = net.way_name
    gname = np.array([names[int(w)] or "" for w in np.asarray(net.geom_way).tolist()], dtype=object)
    a, b = np.asarray(net.geom_a), np.asarray(net.geom_b)
    keep = np.flatnonzero(gname != "")
    if len(keep) == 0:
        return np.zeros(0), np.zeros(0), []
    counts = b[keep] - a[keep] + 1
    idx = np.repeat(a[keep] - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(int(counts.sum()))
    vname = np.repeat(gname[keep], counts)
    return np.asarray(net.lon)[idx], np.asarray(net.lat)[idx], vname.tolist()


def name_unnamed_facilities(fac: gpd.GeoDataFrame, net: Network, places: Callable[[], Sequence[Place]] = list) -> int:
    """Rename, in place, the rows of ``fac`` (a facility table) whose name is an OSM placeholder;
    the number renamed. ``places``: called only when a facility is far from every named road, the
    OSM place nodes (objects with ``name``, ``lon``, ``lat``; ``sources.osm_names.Place``)."""
    if len(fac) == 0:
        return 0
    rows = [i for i, n in enumerate(fac["name"].astype(str).tolist()) if PLACEHOLDER.match(n.strip())]
    if not rows:
        return 0
    from scipy.spatial import cKDTree

    vlon, vlat, vname = _named_vertices(net)
    lat0 = float(np.mean(fac["lat"].to_numpy(dtype=float)))
    kx = math.cos(math.radians(lat0)) * 111_320.0
    tree = cKDTree(np.c_[vlon * kx, vlat * 111_320.0]) if len(vlon) else None
    col = fac.columns.get_loc("name")
    found: Sequence[Place] | None = None
    for i in rows:
        kind = PLACEHOLDER.match(str(fac.iat[i, col]).strip()).group(1).lower()  # type: ignore[union-attr]
        x, y = float(fac["lon"].iat[i]) * kx, float(fac["lat"].iat[i]) * 111_320.0
        where, how, d = None, "on", math.inf
        if tree is not None:
            d, j = tree.query([x, y])
            where, how = vname[int(j)], ("on" if d <= ON_M else "near")
        if d > NEAR_M:
            found = places() if found is None else found
            if found:
                p = min(found, key=lambda p: math.hypot(p.lon * kx - x, p.lat * 111_320.0 - y))
                where, how = p.name, "in"
        fac.iat[i, col] = readable_name(kind, where, how)
    return len(rows)
