"""The bundle's landmark layer for the place search (``extra/landmarks.json``), written at build
time with every search key that does not change with edits already computed:

* ``landmarks``: the OSM landmarks (``sources.osm_landmarks``): id, kind, name, name_zh,
  name_en, lon, lat;
* ``road_names_en``: a road name → its English name (OSM ``name:en``);
* ``pinyin``: a Chinese name of a landmark or road → [full pinyin, initials].

A bundle without the file (built before it existed) is searched without landmarks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..sources.name_keys import pinyin_keys
from ..sources.osm_landmarks import read_osm_landmarks

__all__ = ["LANDMARKS_FILE", "write_landmarks", "read_landmarks"]

LANDMARKS_FILE = "landmarks.json"


def write_landmarks(osm: str | Path, folder: Path, road_names: Iterable[str]) -> dict[str, Path]:
    """``landmarks.json`` of an OSM file into ``folder``, as the ``extra_files`` entry of a bundle.
    ``road_names``: the distinct road names of the bundle's networks (their pinyin is stored)."""
    found = read_osm_landmarks(osm)
    names = {lm.name for lm in found.landmarks} | {lm.name_zh for lm in found.landmarks if lm.name_zh}
    names |= {n for n in road_names if n}
    pinyin = {n: list(k) for n in sorted(names) if (k := pinyin_keys(n)) is not None}
    doc = {
        "source": "OpenStreetMap",
        "attribution": "© OpenStreetMap contributors, ODbL 1.0",
        "landmarks": [lm.to_dict() for lm in found.landmarks],
        "road_names_en": found.road_names_en,
        "pinyin": pinyin,
    }
    path = folder / LANDMARKS_FILE
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {LANDMARKS_FILE: path}


def read_landmarks(bundle: Path) -> dict[str, Any]:
    """The landmark layer of a bundle folder; empty lists and maps when it has none."""
    path = bundle / "extra" / LANDMARKS_FILE
    if not path.is_file():
        return {"landmarks": [], "road_names_en": {}, "pinyin": {}}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {k: doc.get(k) or ({} if k != "landmarks" else []) for k in ("landmarks", "road_names_en", "pinyin")}
