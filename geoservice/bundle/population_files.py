"""The population files of a bundle (extra/): each unit's share inside the road extract spread
onto every network, the admin units, and population.json with the method and the totals inside /
outside (see ``bundle.population`` and ``bundle.population_inside`` for the methods)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..sources.population import PopulationError
from .population import NODE_METHOD, assign_units, remainder_index, spread_on_network
from .population_inside import INSIDE_METHOD, InsideShares, extract_extent

__all__ = ["PopulationFiles", "population_extra_files"]


@dataclass
class PopulationFiles:
    """The extra/ files written for a bundle and its population summary: population.json, also
    kept as ``meta["population"]``."""

    files: dict[str, Path]
    meta: dict


def population_extra_files(
    spec, networks: dict, tmpdir: Path, *, bounds: tuple[float, float, float, float] | None = None
) -> PopulationFiles:
    """Keep each unit's share inside the road extract (``bundle.population_inside``; ``bounds``:
    the box the OSM file declares), spread it onto every network and write the bundle's extra/
    files into ``tmpdir``."""
    tmpdir = Path(tmpdir)
    drive = networks.get("drive") or next(iter(networks.values()))
    units_all = spec.units.reset_index(drop=True)
    rem = remainder_index(spec)
    assigned = {
        name: assign_units(units_all, net.node_lon, net.node_lat, crs=net.crs, remainder=rem)
        for name, net in networks.items()
    }
    a = assigned[drive.name]
    has_nodes = np.bincount(a[a >= 0], minlength=len(units_all)) > 0
    extent, extent_how = extract_extent(drive, bounds)
    ins = InsideShares.compute(units_all, extent, has_nodes=has_nodes, remainder=rem)
    keep = np.flatnonzero(ins.keep)
    if not len(keep) or not has_nodes.any():
        x0, y0, x1, y1 = extent.bounds
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
    dropped = [f"{units_all.iloc[u]['name']} ({units_all.iloc[u]['admin_code']})" for u in np.flatnonzero(~ins.keep)]
    if dropped:
        notes.append(
            f"{len(dropped)} unit(s) entirely outside the road extract (not in the bundle): " + ", ".join(dropped)
        )
    summary = {
        **spec.to_meta(),
        "method": NODE_METHOD,
        "inside_method": INSIDE_METHOD,
        "extent": extent_how,
        "census_total": census_total,
        "total_inside": total_inside,
        "total_outside": census_total - total_inside,
        "units": int(len(units)),
        "units_outside": len(dropped),
        "notes": notes,
        "by_unit": ins.unit_records(units_all),
        "networks": {},
    }
    files: dict[str, Path] = {}
    spreads = {}
    for name, net in networks.items():
        unit = new_index[assigned[name]]
        spec_net = spec_in
        # another network (walk) may not reach every unit the drive network does: its people there
        # are not on that network (noted), the others keep their counts exactly
        no_node = (units["population"].fillna(0).to_numpy() > 0) & (
            np.bincount(unit[unit >= 0], minlength=len(units)) == 0
        )
        if no_node.any():
            missing = units[no_node]
            notes.append(
                f"the {name} network has no node in "
                + ", ".join(
                    f"{r['name']} ({r['admin_code']}, {int(r['population']):,} inside)" for _, r in missing.iterrows()
                )
                + f": those people are not on the {name} network"
            )
            spec_net = dataclasses.replace(
                spec_in, units=units.assign(population=np.where(no_node, 0.0, units["population"]))
            )
        npop = spread_on_network(spec_net, net, unit=unit)
        spreads[name] = npop
        p = tmpdir / f"population_{name}.npz"
        np.savez(p, population=npop.population, unit=npop.unit)
        files[p.name] = p
        per_unit = np.bincount(npop.unit[npop.unit >= 0], npop.population[npop.unit >= 0], minlength=len(units))
        summary["networks"][name] = {
            "total": int(npop.population.sum()),
            "nodes_with_population": int((npop.population > 0).sum()),
            "nodes_outside_units": int((npop.unit < 0).sum()),
        }
        if name == drive.name or "population_model" not in units:
            units["population_model"] = per_unit.astype(np.int64)
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
    return PopulationFiles(files, summary)
