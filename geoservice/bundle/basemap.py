"""The offline basemap of a bundle (``basemap.geojson``): water, major roads, the network's
outline and labels, for pages that draw no tile set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from ..sources.osm_names import OsmNames
from ..sources.osm_water import WaterFeature
from ..sources.speeds import MAJOR_CLASSES, ROAD_CLASSES
from .labels import LABELLED_CLASSES, place_labels, road_labels, way_lines
from .network import Network
from .store import ATTRIBUTION


def basemap_layers(
    drive: Network,
    out: Path,
    *,
    water: list[WaterFeature] | None = None,
    names: OsmNames | None = None,
    simplify_m: float = 5.0,
    outline_cell_m: float = 500.0,
) -> Path:
    """Offline basemap written to ``out`` as GeoJSON: water (drawn first), major roads (one line
    per OSM way, simplified by ``simplify_m``), the network outline (cells of ``outline_cell_m``
    holding road nodes) and, last, labels (``kind="label"``, see ``bundle.labels``): road names
    placed on the roads, and place names of ``names`` (from ``sources.osm_names``) within the
    outline. Written feature by feature: a province's basemap is hundreds of MB of text."""
    to_wgs = Transformer.from_crs(drive.crs, "EPSG:4326", always_xy=True)

    def wgs(geom: Any) -> Any:
        return shapely.transform(geom, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))

    def dumps(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    ways, lines_m = way_lines(drive, sorted(MAJOR_CLASSES, key=ROAD_CLASSES.index))
    with open(out, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","attribution":' + json.dumps(ATTRIBUTION, ensure_ascii=False))
        f.write(',"features":[\n')
        sep = ""
        for feat in water or []:
            f.write(sep + dumps(feat))
            sep = ",\n"
        for lo in range(0, len(ways), 50_000):  # in batches: one GeoJSON string per road at a time
            lines = shapely.set_precision(wgs(shapely.simplify(lines_m[lo : lo + 50_000], simplify_m)), 1e-6)
            for gj, w in zip(shapely.to_geojson(lines), ways[lo : lo + 50_000]):
                props = {"kind": "road", "class": ROAD_CLASSES[int(drive.way_class[w])], "name": drive.way_name[int(w)]}
                f.write(f'{sep}{{"type":"Feature","geometry":{gj},"properties":{dumps(props)}}}')
                sep = ",\n"
        outline_m = _outline(drive, outline_cell_m)
        f.write(
            sep
            + '{"type":"Feature","geometry":'
            + str(shapely.to_geojson(shapely.set_precision(wgs(outline_m), 1e-6)))
            + ',"properties":{"kind":"outline","class":"network","name":"road network extent"}}'
        )
        same = set(LABELLED_CLASSES) == set(MAJOR_CLASSES)
        anchors = road_labels(
            drive,
            way_names=names.way_names if names else None,
            to_wgs=to_wgs,
            lines=(ways, lines_m) if same else None,
        )
        del lines_m
        labels = [a.feature() for a in anchors]
        if names is not None:
            labels += place_labels(names.places, within=wgs(outline_m.buffer(outline_cell_m)))
        for label in labels:
            f.write(",\n" + dumps(label))
        f.write("]}")
    return out


def _outline(drive: Network, cell: float) -> shapely.MultiPolygon:
    """The network's extent in metres: cells of ``cell`` holding road nodes, closed and
    hole-filled, polygonised."""
    # rasterio and scipy.ndimage: heavy, loaded by a build only (the service imports this module)
    from rasterio.features import shapes
    from rasterio.transform import Affine
    from scipy.ndimage import binary_closing, binary_fill_holes

    x0, y0 = drive.node_x.min() - 2 * cell, drive.node_y.min() - 2 * cell
    nx = int((drive.node_x.max() - x0) // cell) + 3
    ny = int((drive.node_y.max() - y0) // cell) + 3
    grid = np.zeros((ny, nx), bool)
    grid[((drive.node_y - y0) // cell).astype(int), ((drive.node_x - x0) // cell).astype(int)] = True
    grid = binary_fill_holes(binary_closing(grid, iterations=2)).astype(np.uint8)
    polys: list[Any] = [
        shapely.geometry.shape(g)
        for g, v in shapes(grid, mask=grid.astype(bool), transform=Affine(cell, 0, x0, 0, cell, y0))
        if v == 1
    ]
    return shapely.MultiPolygon(polys)
