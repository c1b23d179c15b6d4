"""A vector tile set (PMTiles of Mapbox Vector Tiles) made at build time: the region's basemap,
served one tile at a time (``GET /regions/{name}/tiles/{z}/{x}/{y}.mvt``) instead of one GeoJSON.

A :class:`TileLayer` holds its features in Web Mercator metres, each with the first zoom it is
drawn at and its properties. :func:`write_tileset` cuts every layer into the tiles of every zoom
from ``maxzoom`` down to 0: every other zoom the geometries are simplified to a quarter of a
screen pixel of the next zoom down (512-px tiles: the pages draw one data tile over 2×2 screen
tiles) and what is smaller than a pixel is dropped; the geometries left are clipped to each
tile (with a buffer, so lines and outlines join across tiles), and the pieces of one tile with
the same properties become one multi-geometry feature. Tiles are gzipped MVT (extent 4096, encoded on arrays by
``bundle.mvt_encode``) in one PMTiles archive (``pmtiles``): memory holds one zoom's geometries of
one layer and the encoded tiles of that zoom, never the archive (the writer spools tiles to disk).
The layers' ``geoms`` are simplified in place as the zooms go down.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np
import shapely
from numpy.typing import NDArray

from .mvt_encode import LINESTRING, POINT, POLYGON, TileFeature, TileProps, encode_geometries, encode_layer

log = logging.getLogger(__name__)

__all__ = ["TILESET_FILE", "EXTENT", "HALF", "TileLayer", "signatures", "write_tileset", "tile_bounds_m", "to_mercator"]

TILESET_FILE = "tiles.pmtiles"
EXTENT = 4096
HALF = 20037508.342789244  # half the Web Mercator world, metres
BUFFER = 64  # tile units of geometry kept beyond a tile's edge
PIXEL = EXTENT / 512  # tile units per screen pixel (a data tile is drawn 512 px wide)
CHUNK = 50_000  # (feature, tile) pairs clipped and encoded at once (bounded memory)


class TilesSummary(TypedDict):
    """What ``write_tileset`` wrote (the bundle's ``meta["tiles"]``): tiles, bytes, maxzoom and the
    features of each layer at ``maxzoom``."""

    tiles: int
    bytes: int
    maxzoom: int
    features_at_maxzoom: dict[str, int]


@dataclass
class TileLayer:
    """One layer of the tile set: ``kind`` point, line or polygon; ``geoms`` in EPSG:3857
    metres; ``minzoom`` per feature (the first zoom it is in); ``props`` per feature (a dict,
    shared dicts are fine) or ``sig`` and ``sig_props``; features whose props are equal are
    merged per tile."""

    name: str
    kind: str
    geoms: np.ndarray
    minzoom: np.ndarray
    props: Sequence[TileProps] | None
    fields: dict[str, str] = field(default_factory=dict)  # TileJSON vector_layers fields
    sig: np.ndarray | None = None
    sig_props: list[TileProps] = field(default_factory=list)

    def __post_init__(self) -> None:
        """``props`` per feature, or (``props=None``) ``sig`` per feature, an index into
        ``sig_props`` (equal props once). Features are kept in the order of their props: the
        pieces of one tile with equal props are then neighbours (merged without a sort)."""
        self.geoms = np.asarray(self.geoms, dtype=object)
        self.minzoom = np.asarray(self.minzoom, dtype=np.int16)
        if self.props is not None:
            self.sig, self.sig_props = signatures(self.props)
            self.props = None
        assert self.sig is not None
        if not (len(self.geoms) == len(self.minzoom) == len(self.sig)):
            raise ValueError(f"layer {self.name}: geoms, minzoom and props differ in length")
        order = np.argsort(self.sig, kind="stable")
        self.geoms, self.minzoom, self.sig = self.geoms[order], self.minzoom[order], np.asarray(self.sig)[order]


def signatures(props: Sequence[TileProps]) -> tuple[NDArray[np.int64], list[TileProps]]:
    """(index per feature, distinct props): equal props by object, then by value."""
    by_text: dict[str, int] = {}
    by_obj: dict[int, int] = {}
    distinct: list[TileProps] = []
    sig = np.empty(len(props), np.int64)
    for i, p in enumerate(props):
        s = by_obj.get(id(p))
        if s is None:
            text = json.dumps(p, sort_keys=True, ensure_ascii=False)
            s = by_text.setdefault(text, len(distinct))
            if s == len(distinct):
                distinct.append(p)
            by_obj[id(p)] = s
        sig[i] = s
    return sig, distinct


def to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees to Web Mercator metres (EPSG:3857)."""
    lat = np.clip(lat, -85.05112878, 85.05112878)
    x = np.radians(lon) * 6378137.0
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * 6378137.0
    return x, y


def tile_bounds_m(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of tile z/x/y in Web Mercator metres (y of tiles counts down)."""
    size = 2 * HALF / (1 << z)
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


def _pairs(geoms: np.ndarray, z: int, buffer_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature index, tile x, tile y) of every tile each geometry's box (grown by ``buffer_m``) touches."""
    size = 2 * HALF / (1 << z)
    n = (1 << z) - 1
    b = shapely.bounds(geoms)
    tx0 = np.clip(np.floor((b[:, 0] - buffer_m + HALF) / size), 0, n).astype(np.int64)
    tx1 = np.clip(np.floor((b[:, 2] + buffer_m + HALF) / size), 0, n).astype(np.int64)
    ty0 = np.clip(np.floor((HALF - b[:, 3] - buffer_m) / size), 0, n).astype(np.int64)
    ty1 = np.clip(np.floor((HALF - b[:, 1] + buffer_m) / size), 0, n).astype(np.int64)
    nx, ny = tx1 - tx0 + 1, ty1 - ty0 + 1
    count = nx * ny
    fi = np.repeat(np.arange(len(geoms)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return fi, tx0[fi] + k % nx[fi], ty0[fi] + k // nx[fi]


def _simplified(layer: TileLayer, geoms: np.ndarray, unit: float, z: int, simplify: bool = True) -> np.ndarray:
    """``geoms`` in place: those drawn at zoom ``z`` simplified to half a pixel of ``z``, a quarter
    of the zoom below, which then uses them as they are (when not ``simplify``; also at the last
    zoom, where a tile unit is finer than OSM's own drawing and rounding to it is enough); the
    others, and pieces under a pixel (lines shorter, areas smaller than a pixel square), None.
    In place and in chunks: a province's roads are never held twice."""
    geoms[layer.minzoom > z] = None
    if layer.kind == "point":
        return geoms
    sel = np.flatnonzero(~shapely.is_missing(geoms))
    for lo in range(0, len(sel), CHUNK):
        idx = sel[lo : lo + CHUNK]
        g = geoms[idx]
        if simplify:
            g = shapely.simplify(g, unit * PIXEL / 2, preserve_topology=layer.kind == "polygon")
        if layer.kind == "line":
            small = shapely.length(g) < unit * PIXEL / 2
        else:
            small = shapely.area(g) < (unit * PIXEL) ** 2
        g[small | shapely.is_empty(g)] = None
        geoms[idx] = g
    return geoms


def _tile_pieces(layer: TileLayer, geoms: np.ndarray, z: int) -> dict[tuple[int, int], list[TileFeature]]:
    """Per tile (x, y): the features of ``layer`` in it as (props, geometry type, encoded
    geometry): the pieces of one tile with equal props are one feature."""
    unit = 2 * HALF / (1 << z) / EXTENT
    sigs = layer.sig
    assert sigs is not None
    live = np.flatnonzero(~shapely.is_missing(geoms))
    if len(live) == 0:
        return {}
    fi, tx, ty = _pairs(geoms[live], z, 0.0 if layer.kind == "point" else BUFFER * unit)
    order = np.argsort(ty * (1 << z) + tx, kind="stable")  # the pairs of a tile together
    fi, tx, ty = live[fi[order]], tx[order], ty[order]
    part_type = {"point": 0, "line": 1, "polygon": 3}[layer.kind]
    gtype = {"point": POINT, "line": LINESTRING, "polygon": POLYGON}[layer.kind]
    out: dict[tuple[int, int], list[TileFeature]] = {}
    for lo in range(0, len(fi), CHUNK):
        f, x, y = fi[lo : lo + CHUNK], tx[lo : lo + CHUNK], ty[lo : lo + CHUNK]
        size = EXTENT * unit
        x0, y1 = -HALF + x * size, HALF - y * size
        g = geoms[f]
        if layer.kind != "point":  # clipped to the tile and its buffer, unless inside it already
            pad = BUFFER * unit
            b = shapely.bounds(g)
            out_of = np.flatnonzero(
                (b[:, 0] < x0 - pad) | (b[:, 2] > x0 + size + pad) | (b[:, 1] < y1 - size - pad) | (b[:, 3] > y1 + pad)
            )
            if len(out_of):
                g = g.copy()
                tile = (y * (1 << z) + x)[out_of]
                cut = np.flatnonzero(np.diff(tile)) + 1
                for a, e in zip(np.r_[0, cut], np.r_[cut, len(out_of)]):
                    rows, r0 = out_of[a:e], out_of[a]
                    g[rows] = shapely.clip_by_rect(
                        g[rows], x0[r0] - pad, y1[r0] - size - pad, x0[r0] + size + pad, y1[r0] + pad
                    )
        tid = shapely.get_type_id(g)
        single = np.flatnonzero(tid == part_type)
        multi = np.flatnonzero(tid != part_type)  # multi-part (or collections) after clipping
        mparts, mpiece = shapely.get_parts(g[multi], return_index=True)
        ok = shapely.get_type_id(mparts) == part_type
        parts = np.concatenate([g[single], mparts[ok]])
        piece = np.concatenate([single, multi[mpiece[ok]]])
        order = np.argsort(piece, kind="stable")  # back in pair order (by tile, then props)
        parts, piece = parts[order], piece[order]
        if len(parts) == 0:
            continue
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        px0, py1 = x0[piece][idx], y1[piece][idx]
        local = np.round(np.column_stack(((coords[:, 0] - px0) / unit, (py1 - coords[:, 1]) / unit)))
        if layer.kind == "polygon":
            parts = shapely.set_coordinates(parts.copy(), local)
        # one feature per (tile, props): pairs are by tile, and by props within a tile (the
        # features' order), so a group is a run of equal (tile, props)
        tk, sg = y[piece] * (1 << z) + x[piece], sigs[f[piece]]
        new = np.r_[True, (tk[1:] != tk[:-1]) | (sg[1:] != sg[:-1])]
        group = np.cumsum(new) - 1
        if layer.kind == "polygon":
            geoms_b = encode_geometries(parts, group, int(group[-1]) + 1, gtype)
        else:  # lines and points from their coordinates: no shapely objects rebuilt
            geoms_b = encode_geometries(None, group, int(group[-1]) + 1, gtype, coords=(local, idx))
        for tile_lin, sig, gb in zip(tk[new].tolist(), sg[new].tolist(), geoms_b):
            ty_, tx_ = divmod(tile_lin, 1 << z)
            out.setdefault((tx_, ty_), []).append((layer.sig_props[sig], gtype, gb))
    return out


def write_tileset(
    layers: Sequence[TileLayer],
    out: Path,
    *,
    maxzoom: int = 14,
    bounds: Sequence[float],
    attribution: str,
    progress: Callable[[str], None] | None = None,
) -> TilesSummary:
    """Cut ``layers`` into tiles of zooms 0..``maxzoom`` and write them to the PMTiles file
    ``out``; ``bounds`` (lon0, lat0, lon1, lat1) and ``attribution`` go into its metadata.
    Returns a summary: tiles, bytes, features per layer at ``maxzoom``."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    summary: TilesSummary = {"tiles": 0, "bytes": 0, "maxzoom": maxzoom, "features_at_maxzoom": {}}
    with open(out, "wb") as f:
        writer = Writer(f)  # type: ignore[no-untyped-call]  # pmtiles' Writer has no annotations
        for z in range(maxzoom, -1, -1):
            unit = 2 * HALF / (1 << z) / EXTENT
            tiles: dict[tuple[int, int], list[bytes]] = {}
            for lay in layers:
                # simplified every other zoom, to a quarter pixel of the zoom below: the two share it
                _simplified(lay, lay.geoms, unit, z, simplify=z < maxzoom and (maxzoom - z) % 2 == 1)
                for key, feats in _tile_pieces(lay, lay.geoms, z).items():
                    tiles.setdefault(key, []).append(encode_layer(lay.name, feats, EXTENT))
                    if z == maxzoom:
                        summary["features_at_maxzoom"][lay.name] = summary["features_at_maxzoom"].get(
                            lay.name, 0
                        ) + len(feats)
            ids = sorted((zxy_to_tileid(z, x, y), x, y) for x, y in tiles)
            for tid, x, y in ids:
                data = b"".join(tiles[(x, y)])
                blob = gzip.compress(data, compresslevel=4, mtime=0)
                writer.write_tile(tid, blob)  # type: ignore[no-untyped-call]  # pmtiles: no annotations
                summary["tiles"] += 1
                summary["bytes"] += len(blob)
            if progress:
                progress(f"  zoom {z}: {len(ids):,} tiles")
            del tiles
        lon0, lat0, lon1, lat1 = bounds
        header = {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_lon_e7": int(lon0 * 1e7),
            "min_lat_e7": int(lat0 * 1e7),
            "max_lon_e7": int(lon1 * 1e7),
            "max_lat_e7": int(lat1 * 1e7),
            "center_zoom": max(0, min(maxzoom, 12)),
            "center_lon_e7": int((lon0 + lon1) / 2 * 1e7),
            "center_lat_e7": int((lat0 + lat1) / 2 * 1e7),
        }
        metadata = {
            "name": out.parent.name,
            "attribution": attribution,
            "vector_layers": [
                {
                    "id": lay.name,
                    "fields": lay.fields,
                    "minzoom": int(lay.minzoom.min()) if len(lay.minzoom) else maxzoom,
                    "maxzoom": maxzoom,
                }
                for lay in layers
            ],
        }
        if summary["tiles"] == 0:  # an archive needs one tile: an empty one at zoom 0
            writer.write_tile(zxy_to_tileid(0, 0, 0), gzip.compress(b"", mtime=0))  # type: ignore[no-untyped-call]  # as above
        writer.finalize(header, metadata)  # type: ignore[no-untyped-call]  # pmtiles: no annotations
    summary["bytes"] = out.stat().st_size
    log.debug("tile set %s: %s", out, summary)
    return summary


def zoom_of_pixel(metres: float, lat: float = 0.0) -> int:
    """The zoom at which ``metres`` on the ground is about one pixel of a 512-px tile."""
    return max(0, round(math.log2(2 * HALF * math.cos(math.radians(lat)) / 512 / max(metres, 1e-9))))
