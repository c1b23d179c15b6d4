"""Mapbox Vector Tile encoding (spec 2.1) on arrays: the geometry commands of many features at
once with numpy, then the protobuf messages by hand. ``mapbox_vector_tile.encode`` does the same
one feature and one vertex at a time in Python (~65 µs a line): a province's tile set would take
many minutes; this takes seconds. The tests decode what it writes with ``mapbox_vector_tile``.

Geometry of a feature (its parts in tile units, integers, y down): points as one MoveTo of all
its points; each line as MoveTo + LineTo; each polygon ring as MoveTo + LineTo + ClosePath, outer
rings clockwise on screen (positive area in tile coordinates), holes the other way. Parameters
are zigzag-encoded deltas from the cursor, which starts at (0, 0) per feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely

__all__ = ["POINT", "LINESTRING", "POLYGON", "TileProps", "TileFeature", "encode_geometries", "encode_layer", "varints"]

TileProps = Mapping[str, object]
"""A feature's properties in a tile (values: str, int, float or bool; anything else as text)."""
TileFeature = tuple[TileProps, int, bytes]
"""A feature of a tile layer: (properties, geometry type, packed geometry of ``encode_geometries``)."""

POINT, LINESTRING, POLYGON = 1, 2, 3
_MOVE, _LINE, _CLOSE = 1, 2, 7


def varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bytes as uint8, number of bytes per value) of the protobuf varints of ``values`` (< 2**35)."""
    v = np.asarray(values, np.uint64)
    nb = np.ones(len(v), np.int64)
    for k in range(1, 5):
        nb += v >= (1 << (7 * k))
    out = np.empty(int(nb.sum()), np.uint8)
    start = np.cumsum(nb) - nb
    for k in range(5):
        has = nb > k
        byte = (v[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (nb[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[start[has] + k] = (byte | more).astype(np.uint8)
    return out, nb


def _zigzag(d: np.ndarray) -> np.ndarray:
    return ((d << 1) ^ (d >> 63)).astype(np.uint64)


def encode_geometries(
    parts: np.ndarray | None,
    group: np.ndarray,
    n_groups: int,
    kind: int,
    coords: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[bytes]:
    """Packed geometry field (the varints, without tag and length) of each of ``n_groups``
    features; ``parts``: simple shapely geometries (Point, LineString or Polygon per ``kind``) in
    integer tile units, ``group``: the feature of each part, non-decreasing. Points and lines may
    come as ``coords`` instead: (vertices, the part of each vertex), as ``shapely.get_coordinates``
    with ``return_index`` gives them. A feature whose parts all collapse (a line to one point, a
    ring to under three) gets b""."""
    units: np.ndarray | None
    if kind == POLYGON:  # outer rings positive area in tile units (clockwise on screen), holes negative
        rings, ridx = shapely.get_rings(shapely.orient_polygons(parts, exterior_cw=False), return_index=True)
        units, ugroup, is_outer = rings, group[ridx], np.r_[True, ridx[1:] != ridx[:-1]]
        n_units = len(rings)
    else:
        units, ugroup, n_units = parts, group, len(group)
    xy, vi = coords if coords is not None and kind != POLYGON else shapely.get_coordinates(units, return_index=True)
    xy = np.asarray(xy).astype(np.int64)
    if kind == POLYGON:  # drop each ring's closing vertex
        last = np.r_[vi[1:] != vi[:-1], True]
        xy, vi = xy[~last], vi[~last]
    if kind != POINT:  # consecutive equal vertices (after rounding) say nothing
        dup = np.r_[False, (vi[1:] == vi[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)]
        xy, vi = xy[~dup], vi[~dup]
    count = np.bincount(vi, minlength=n_units)
    need = {POINT: 1, LINESTRING: 2, POLYGON: 3}[kind]
    ok_unit = count >= need
    if kind == POLYGON:  # a polygon whose outer ring collapsed goes, holes and all
        poly_ok = np.zeros(len(group), bool)
        poly_ok[ridx[is_outer]] = ok_unit[is_outer]
        ok_unit &= poly_ok[ridx]
    keep = ok_unit[vi]
    xy, vi = xy[keep], vi[keep]
    vgroup = ugroup[vi]
    d = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64))
    gfirst = np.r_[True, vgroup[1:] != vgroup[:-1]]
    d[gfirst] = xy[gfirst]  # the cursor starts at (0, 0) for each feature
    params = _zigzag(d).ravel()
    # command stream: per unit MoveTo(1) x y, LineTo(k-1) ..., [ClosePath]; points: one MoveTo(n) per feature
    kept_units = np.flatnonzero(ok_unit)
    k = count[kept_units]
    if kind == POINT:
        n_pts = np.bincount(vgroup, minlength=n_groups)
        has = np.flatnonzero(n_pts)
        size = 1 + 2 * n_pts[has]
        off = np.cumsum(size) - size
        cmds = np.empty(int(size.sum()), np.uint64)
        cmds[off] = _MOVE | (n_pts[has].astype(np.uint64) << np.uint64(3))
        pos = np.repeat(off + 1, n_pts[has]) + 2 * (
            np.arange(len(vgroup)) - np.repeat(np.cumsum(n_pts[has]) - n_pts[has], n_pts[has])
        )
        cmds[pos], cmds[pos + 1] = params[0::2], params[1::2]
        cmd_group, cmd_off, cmd_size = has, off, size
    else:
        size = 3 + 1 + 2 * (k - 1) + (kind == POLYGON)
        off = np.cumsum(size) - size
        cmds = np.empty(int(size.sum()), np.uint64)
        cmds[off] = _MOVE | (1 << 3)
        cmds[off + 3] = _LINE | ((k - 1).astype(np.uint64) << np.uint64(3))
        if kind == POLYGON:
            cmds[off + size - 1] = _CLOSE | (1 << 3)
        j = np.arange(len(vi)) - np.repeat(np.cumsum(k) - k, k)  # vertex number within its unit
        base = np.repeat(off, k)
        pos = np.where(j == 0, base + 1, base + 4 + 2 * (j - 1))
        cmds[pos], cmds[pos + 1] = params[0::2], params[1::2]
        cmd_group, cmd_off, cmd_size = ugroup[kept_units], off, size
    raw, nb = varints(cmds)
    byte_end = np.cumsum(nb)
    out = [b""] * n_groups
    if len(cmd_group) == 0:
        return out
    # the bytes of each feature: from its first command's first byte to its last command's last
    g_first = np.r_[True, cmd_group[1:] != cmd_group[:-1]]
    g_start = cmd_off[g_first]
    g_end = np.r_[cmd_off[1:][g_first[1:]], len(cmds)]
    b_start = np.where(g_start > 0, byte_end[g_start - 1], 0)
    b_end = byte_end[g_end - 1]
    buf = raw.tobytes()
    for g, a, b in zip(cmd_group[g_first], b_start, b_end):
        out[int(g)] = buf[a:b]
    del cmd_size
    return out


def _field(num: int, wire: int) -> bytes:
    return _uvarint((num << 3) | wire)


def _uvarint_slow(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


_SMALL = [_uvarint_slow(v) for v in range(1 << 14)]


def _uvarint(v: int) -> bytes:
    return _SMALL[v] if v < 16384 else _uvarint_slow(v)


def _bytes_field(num: int, data: bytes) -> bytes:
    return _field(num, 2) + _uvarint(len(data)) + data


def _value(v: object) -> bytes:
    import struct

    if isinstance(v, bool):
        return _field(7, 0) + _uvarint(int(v))
    if isinstance(v, int):
        return _field(6, 0) + _uvarint((v << 1) ^ (v >> 63)) if v < 0 else _field(5, 0) + _uvarint(v)
    if isinstance(v, float):
        return _field(3, 1) + struct.pack("<d", v)
    return _bytes_field(1, str(v).encode("utf-8"))


def encode_layer(name: str, features: Sequence[TileFeature], extent: int = 4096) -> bytes:
    """One Layer message (with its tag and length, ready to concatenate into a Tile) of
    ``features``: (properties, geometry type, packed geometry from :func:`encode_geometries`)."""
    keys: dict[str, int] = {}
    values: dict[tuple[type, object], int] = {}
    body = bytearray(_field(15, 0) + _uvarint(2) + _bytes_field(1, name.encode("utf-8")))
    type_field = {t: _field(3, 0) + _uvarint(t) for t in (POINT, LINESTRING, POLYGON)}
    geom_tag, feat_tag, tags_tag = _field(4, 2), _field(2, 2), _field(2, 2)
    tags_of: dict[int, bytes] = {}  # the same props object, the same tags (within this layer)
    for props, gtype, geom in features:
        if not geom:
            continue
        tags = tags_of.get(id(props))
        if tags is None:
            tags = tags_of[id(props)] = b"".join(
                _SMALL[keys.setdefault(k, len(keys))] + _uvarint(values.setdefault((type(v), v), len(values)))
                for k, v in props.items()
                if v is not None
            )
        feat = (tags_tag + _uvarint(len(tags)) + tags if tags else b"") + type_field[gtype]
        feat += geom_tag + _uvarint(len(geom)) + geom
        body += feat_tag + _uvarint(len(feat)) + feat
    for k in keys:
        body += _bytes_field(3, k.encode("utf-8"))
    for _, v in values:
        body += _bytes_field(4, _value(v))
    body += _field(5, 0) + _uvarint(extent)
    return _bytes_field(3, bytes(body))
