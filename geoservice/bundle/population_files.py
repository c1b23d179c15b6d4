"""The population files of a bundle (extra/): each unit's share inside the road extract spread
onto every network, the admin units, and population.json with the method and the totals inside /
outside (see ``bundle.population`` and ``bundle.population_inside`` for the methods).

**Every network counts the same people**, unit by unit: the people inside the extract. The drive
network is the reference: a unit's people are spread over its connected drive roads (the people
along a dropped, disconnected part of them are counted on the connected roads of their unit, as
an ambulance reaches a gated compound through its gate). On any other network (walking) a unit's
people are spread over its roads on that network *including* the parts its build dropped as
disconnected (``bundle.dropped_roads``); the people on those parts, and those of a unit without
any road of that network, are **off the network**: counted in every total, never covered
(``off_network`` per unit in ``population_<network>.npz``). Each network's dropped nodes and the
people along them are in population.json and in the build's warnings."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sources.population_spec import PopulationError, PopulationSpec
from .dropped_roads import DroppedRoads
from .population import NODE_METHOD, assign_units, remainder_index, spread_on_network
from .population_inside import INSIDE_METHOD, Extent, InsideShares, extract_extent

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Network

__all__ = ["PopulationFiles", "population_extra_files"]


@dataclass
class PopulationFiles:
    """The extra/ files written for a bundle and its population summary: population.json, also
    kept as ``meta["population"]``."""

    files: dict[str, Path]
    meta: dict[str, Any]  # JSON: meta["population"]
    warnings: list[str] = dataclasses.field(default_factory=list)  # for the build to log


def population_extra_files(
    spec: PopulationSpec,
    networks: dict[str, Network],
    tmpdir: Path,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    extent: Extent | None = None,
    dropped: dict[str, DroppedRoads] | None = None,
) -> PopulationFiles:
    """Keep each unit's share inside the road extract (``bundle.population_inside``; ``bounds``:
    the box the OSM file declares; ``extent``: given instead, e.g. a split piece's), spread it
    onto every network (``dropped``: each network's dropped roads, see the module docstring) and
    write the bundle's extra/ files into ``tmpdir``."""
    tmpdir = Path(tmpdir)
    off_roads: dict[str, DroppedRoads] = dict(dropped or {})
    drive = networks.get("drive") or next(iter(networks.values()))
    units_all = spec.units.reset_index(drop=True)
    rem = remainder_index(spec)
    assigned = {
        name: assign_units(units_all, net.node_lon, net.node_lat, crs=net.crs, remainder=rem)
        for name, net in networks.items()
    }
    a = assigned[drive.name]
    has_nodes = np.bincount(a[a >= 0], minlength=len(units_all)) > 0
    ext = extent if extent is not None else extract_extent(drive, bounds)
    ins = InsideShares.compute(units_all, ext, has_nodes=has_nodes, remainder=rem)
    keep = np.flatnonzero(ins.keep)
    if not len(keep) or not has_nodes.any():
        x0, y0, x1, y1 = ext.area.bounds
        raise PopulationError(
            f"no admin unit meets the road extract ({x0:.4f}, {y0:.4f}) … ({x1:.4f}, {y1:.4f}): "
            "another area's boundaries, or the wrong --admin-crs?",
            "admin_units",
        )
    new_index = np.full(len(units_all) + 1, -1, np.int64)  # last slot: -1 stays -1
    new_index[keep] = np.arange(len(keep))
    units = units_all.iloc[keep].reset_index(drop=True)
    units["population"] = [float(ins.inside[u]) if ins.inside[u] >= 0 else np.nan for u in keep]
    known = np.isfinite(ins.census)
    census_known = int(ins.census[known].sum())
    inside_known = int(ins.inside[known].sum())
    total_in = None if spec.total is None else int(spec.total) - census_known + inside_known
    spec_in = dataclasses.replace(spec, units=units, total=total_in)
    census_total = census_known if spec.total is None else int(spec.total)
    total_inside = inside_known if total_in is None else total_in
    notes = list(spec.notes) + ins.notes
    outside = [f"{units_all.iloc[u]['name']} ({units_all.iloc[u]['admin_code']})" for u in np.flatnonzero(~ins.keep)]
    if outside:
        notes.append(
            f"{len(outside)} unit(s) entirely outside the road extract (not in the bundle): " + ", ".join(outside)
        )
    by_network: dict[str, dict[str, int]] = {}
    summary: dict[str, Any] = {
        **spec.to_meta(),
        "method": NODE_METHOD,
        "inside_method": INSIDE_METHOD,
        "extent": ext.how
        + (f", clipped to this piece's box {', '.join(f'{v:.6f}' for v in ext.clip)}" if ext.clip else ""),
        "census_total": census_total,
        "total_inside": total_inside,
        "total_outside": census_total - total_inside,
        "units": int(len(units)),
        "units_outside": len(outside),
        "notes": notes,
        "by_unit": ins.unit_records(units_all),
        "networks": by_network,
    }
    files: dict[str, Path] = {}
    spreads = {}
    warnings: list[str] = []
    counts = units["population"].fillna(0).to_numpy(float)
    for name, net in networks.items():
        unit = new_index[assigned[name]]
        d = off_roads.get(name) or DroppedRoads.none(name, int(net.report.get("nodes_dropped", 0)))
        dunit = (
            new_index[assign_units(units_all, d.lon, d.lat, crs=net.crs, remainder=rem)]
            if d.ways
            else np.zeros(0, np.int64)
        )
        roads = np.bincount(unit[unit >= 0], minlength=len(units)) + np.bincount(
            dunit[dunit >= 0], minlength=len(units)
        )
        nowhere = (counts > 0) & (roads == 0)  # no road of this network at all in the unit
        spec_net = spec_in
        if nowhere.any():
            spec_net = dataclasses.replace(
                spec_in, units=units.assign(population=np.where(nowhere, 0.0, units["population"]))
            )
        spread_all = spread_on_network(spec_net, net, unit=unit, extra=(dunit, d.residential_m, d.length_m))
        on_dropped = spread_all.off_network if spread_all.off_network is not None else np.zeros(0, np.int64)
        held = np.bincount(dunit[dunit >= 0], on_dropped[dunit >= 0], minlength=len(units)).astype(np.int64)
        if name == drive.name:
            # the reference: its dropped parts' people are counted on the connected roads of their unit
            npop = spread_on_network(spec_in, net, unit=unit)
            off = np.zeros(len(units), np.int64)
        else:
            npop = spread_all
            off = held + np.where(nowhere, counts, 0).astype(np.int64)
        spreads[name] = npop
        p = tmpdir / f"population_{name}.npz"
        np.savez(p, population=npop.population, unit=npop.unit, off_network=off)
        files[p.name] = p
        per_unit = np.bincount(npop.unit[npop.unit >= 0], npop.population[npop.unit >= 0], minlength=len(units))
        by_network[name] = {
            "total": int(npop.population.sum() + off.sum()),
            "on_network": int(npop.population.sum()),
            "off_network": int(off.sum()),
            "nodes_with_population": int((npop.population > 0).sum()),
            "nodes_outside_units": int((npop.unit < 0).sum()),
            "nodes_dropped": d.nodes,
            "dropped_ways": d.ways,
            "people_on_dropped_parts": int(held.sum()),
        }
        if name == drive.name or "population_model" not in units:
            units["population_model"] = per_unit.astype(np.int64)
        warn = _dropped_warning(name, d, held, nowhere, counts, units, reference=name == drive.name)
        if warn:
            warnings.append(warn)
            notes.append(warn)
    units["population"] = ins.census[keep]  # the census count; population_inside the part inside
    units["share_inside"] = ins.share[keep].round(6)
    units["population_inside"] = [int(ins.inside[u]) if ins.inside[u] >= 0 else None for u in keep]
    # the remainder unit gets a drawable outline: hull of its nodes minus the other units
    if spec.remainder_code is not None:
        import shapely

        r = int(np.flatnonzero(units["admin_code"].to_numpy() == spec.remainder_code)[0])
        npop = spreads[drive.name]
        pts = shapely.multipoints(np.column_stack([drive.node_lon, drive.node_lat])[npop.unit == r])
        hull = shapely.concave_hull(pts, ratio=0.3).buffer(0.005)
        others = shapely.union_all([g for g in units.geometry if g is not None])
        units.loc[r, "geometry"] = hull.difference(others)
    up = tmpdir / "admin_units.geojson"
    up.write_text(units.to_json(drop_id=True), encoding="utf-8")
    files[up.name] = up
    mp = tmpdir / "population.json"
    mp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    files[mp.name] = mp
    return PopulationFiles(files, summary, warnings)


def _dropped_warning(
    name: str,
    d: DroppedRoads,
    held: np.ndarray,
    nowhere: np.ndarray,
    counts: np.ndarray,
    units: gpd.GeoDataFrame,
    *,
    reference: bool,
) -> str | None:
    """What the build says about a network's dropped parts and the people along them (None: nothing)."""
    if not d.nodes and not nowhere.any():
        return None
    names = units["name"].astype(str).to_numpy()
    codes = units["admin_code"].astype(str).to_numpy()
    per = held + np.where(nowhere, counts, 0).astype(np.int64)
    top = [f"{names[u]} ({codes[u]}) {int(per[u]):,}" for u in np.argsort(-per, kind="stable") if per[u] > 0][:5]
    people = int(per.sum())
    msg = f"the {name} network dropped {d.nodes:,} nodes in parts not connected to the rest"
    msg += f" ({d.ways:,} ways)" if d.ways else ""
    if nowhere.any():
        msg += "; " + ", ".join(names[nowhere]) + f" ha{'s' if nowhere.sum() == 1 else 've'} no {name} road at all"
    if reference:
        return msg + (
            f"; they held {people:,} people ({', '.join(top)}), counted on the connected roads of their units"
            if people
            else "; no one lives along them"
        )
    return msg + (
        f"; they held {people:,} people ({', '.join(top)}): counted off the {name} network, never covered"
        if people
        else "; no one lives along them"
    )
