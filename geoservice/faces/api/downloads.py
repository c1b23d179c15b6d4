"""The ``format`` parameter of the GET endpoints that can answer with a file (coverage, service
areas, layers), its documented media types, and the file answer (``service.downloads``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query, Response

from ...service.usecases.downloads import MEDIA_TYPES, Download

Format = Literal["json", "geojson", "gpkg", "csv"]


FormatQ = Annotated[
    Format,
    Query(
        description="json (the answer, default), or a file to save: geojson, gpkg (GeoPackage) or csv "
        "(UTF-8 with BOM); files carry the OpenStreetMap attribution (ODbL)",
    ),
]


def file_responses(geojson_is: str) -> dict[int | str, dict[str, Any]]:
    """The 200 media types of a ``format`` endpoint besides its JSON answer, for ``responses=``."""
    return {
        200: {
            "description": "the answer (JSON), or with `format` a file (`Content-Disposition: attachment`)",
            "content": {
                MEDIA_TYPES["geojson"]: {"schema": {"type": "object", "description": geojson_is}},
                MEDIA_TYPES["gpkg"]: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }


def file_response(d: Download) -> Response:
    """The file as an attachment (an ASCII name, and the exact one per RFC 6266)."""
    disposition = f"attachment; filename=\"{d.filename}\"; filename*=UTF-8''{quote(d.filename)}"
    return Response(d.content, media_type=d.media_type, headers={"Content-Disposition": disposition})
