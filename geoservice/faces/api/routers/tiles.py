"""The region's vector tiles, one at a time, from the PMTiles archive the build wrote
(``bundle.vector_tiles``): read by byte ranges (``os.pread``), never the whole file, with a small
bounded cache of recent tiles; the server's memory does not grow with the basemap's size."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from ....bundle.vector_tiles import TILESET_FILE
from ....errors import NotFoundError
from ....service.core import GeoService
from ..deps import ServiceDep
from ..schemas import ErrorResponse

router = APIRouter(tags=["service"])

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "public, max-age=86400"
CACHE_BYTES = 32 * 1024 * 1024
"""Tiles kept in memory per process (least recently used dropped first)."""
ATTRIBUTION = "© OpenStreetMap contributors, ODbL"


class TileJSON(BaseModel):
    """TileJSON 3.0 of a region's vector tile set (https://github.com/mapbox/tilejson-spec)."""

    tilejson: str = "3.0.0"
    name: str
    tiles: list[str] = Field(description="URL template of the tiles: /regions/{name}/tiles/{z}/{x}/{y}.mvt")
    bounds: list[float] = Field(description="lon0, lat0, lon1, lat1 (WGS-84)")
    minzoom: int
    maxzoom: int = Field(description="last zoom with data; clients draw it larger beyond (overzoom)")
    vector_layers: list[dict[str, Any]] = Field(description="layers: id, fields, minzoom, maxzoom")
    attribution: str


class _Archive:
    """One PMTiles file opened for byte-range reads: its header and root directory in memory."""

    def __init__(self, path: Path):
        from pmtiles.tile import Compression, deserialize_directory, deserialize_header

        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self.header = deserialize_header(self.read(0, 127))
        h = self.header
        self.root = deserialize_directory(self.read(h["root_offset"], h["root_length"]))
        self.gzip = Compression(h["tile_compression"]) == Compression.GZIP
        self.tag = hashlib.blake2b(f"{path}:{os.fstat(self.fd).st_mtime_ns}".encode(), digest_size=6).hexdigest()

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def metadata(self) -> dict[str, Any]:
        import json

        from pmtiles.tile import Compression

        h = self.header
        raw = self.read(h["metadata_offset"], h["metadata_length"])
        meta: dict[str, Any] = json.loads(
            gzip.decompress(raw) if Compression(h["internal_compression"]) == Compression.GZIP else raw
        )
        return meta

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The stored bytes of tile z/x/y (gzipped MVT), None when it has none."""
        from pmtiles.tile import deserialize_directory, find_tile, zxy_to_tileid

        h = self.header
        tid = zxy_to_tileid(z, x, y)
        entries = self.root
        for _ in range(4):  # root, then at most three levels of leaf directories
            e = find_tile(entries, tid)
            if e is None:
                return None
            if e.run_length > 0:
                return self.read(h["tile_data_offset"] + e.offset, e.length)
            entries = deserialize_directory(self.read(h["leaf_directory_offset"] + e.offset, e.length))
        return None

    def close(self) -> None:
        os.close(self.fd)


_lock = threading.Lock()
_archives: dict[str, tuple[str, _Archive]] = {}
_tiles: OrderedDict[tuple[str, int, int, int], bytes | None] = OrderedDict()
_cached_bytes = 0


def _archive(svc: GeoService, name: str) -> _Archive:
    e = svc.entry(name)
    path = Path(e.path) / TILESET_FILE
    assert e.region is not None
    stamp = f"{e.region.meta.get('created')}"
    with _lock:
        held = _archives.get(name)
        if held is not None and held[0] == stamp and held[1].path == path:
            return held[1]
        if not path.is_file():
            raise NotFoundError(
                "region",
                f"region {name!r} has no vector tile set (built by an older geoservice); rebuild it with "
                f"'geoservice build' to get tiles (the pages draw /regions/{name}/basemap meanwhile)",
            )
        if held is not None:
            held[1].close()
        arch = _Archive(path)
        _archives[name] = (stamp, arch)
        return arch


def _cached_tile(arch: _Archive, z: int, x: int, y: int) -> bytes | None:
    global _cached_bytes
    key = (arch.tag, z, x, y)
    with _lock:
        if key in _tiles:
            _tiles.move_to_end(key)
            return _tiles[key]
    data = arch.tile(z, x, y)
    with _lock:
        if key not in _tiles:
            _tiles[key] = data
            _cached_bytes += len(data or b"")
        while _cached_bytes > CACHE_BYTES and _tiles:
            _, old = _tiles.popitem(last=False)
            _cached_bytes -= len(old or b"")
    return data


NameP = Annotated[str, PathParam(max_length=200, description="region name (see /regions)")]


@router.get(
    "/regions/{name}/tiles/{z}/{x}/{y}.mvt",
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "the tile (Mapbox Vector Tile, gzip-encoded)"},
        204: {"description": "no data in this tile (outside the region, or deeper than the last zoom)"},
        304: {"description": "not modified (If-None-Match)"},
        404: {"model": ErrorResponse},
    },
    response_class=Response,
)
def tile(
    name: NameP,
    z: Annotated[int, PathParam(ge=0, le=24, description="zoom (0-24)")],
    x: Annotated[int, PathParam(ge=0, description="column, 0 to 2^z - 1")],
    y: Annotated[int, PathParam(ge=0, description="row from the north, 0 to 2^z - 1")],
    request: Request,
    svc: ServiceDep,
) -> Response:
    """One vector tile of the region's basemap (layers: water, waterway, green, buildings, roads,
    admin, places; see GET /regions/{name}/tiles.json). Data tiles go to the last zoom of
    tiles.json; clients draw that zoom larger beyond it. Cached by clients for a day (ETag)."""
    for field, v in (("x", x), ("y", y)):
        if v >= 1 << z:
            raise NotFoundError(field, f"{field}={v} is outside zoom {z} (0 to {(1 << z) - 1})")
    arch = _archive(svc, name)
    data = _cached_tile(arch, z, x, y) if z <= arch.header["max_zoom"] else None
    etag = f'"{arch.tag}-{z}-{x}-{y}"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    if arch.gzip:
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            data = gzip.decompress(data)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


@router.get("/regions/{name}/tiles.json", response_model=TileJSON, responses={404: {"model": ErrorResponse}})
def tilejson(name: NameP, request: Request, svc: ServiceDep, response: Response) -> TileJSON:
    """TileJSON of the region's vector tile set: the tile URL template, bounds, zooms, layers and
    attribution. 404 when the region was built without tiles (the pages then draw its GeoJSON
    basemap)."""
    arch = _archive(svc, name)
    h, meta = arch.header, arch.metadata()
    response.headers["Cache-Control"] = "public, max-age=300"
    base = str(request.base_url).rstrip("/")
    return TileJSON(
        name=name,
        tiles=[f"{base}/regions/{name}/tiles/{{z}}/{{x}}/{{y}}.mvt"],
        bounds=[h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7],
        minzoom=int(h["min_zoom"]),
        maxzoom=int(h["max_zoom"]),
        vector_layers=meta.get("vector_layers", []),
        attribution=meta.get("attribution") or ATTRIBUTION,
    )
