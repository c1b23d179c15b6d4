"""The landmarks of a bundle (``extra/landmarks.json``, written at build time by
``bundle.landmarks``) as named points of the place search: squares, stations, bus stops, malls,
schools, parks, hospitals, attractions. Each is found by its name, its other names (``name:zh``,
``name:en``) and the pinyin keys stored at build time; those outside the region's roads (a station
of the next town in the extract) are left out, since no search can start from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...bundle.landmarks import read_landmarks
from ...bundle.store import Region
from .place_index import ALT_EN, AdminUnit, NamedPoints, district_of, normalise, pinyin_alt_keys

__all__ = ["landmark_layer", "landmark_points"]


def landmark_layer(region: Region) -> dict[str, Any]:
    """The bundle's landmark file: landmarks, road English names, stored pinyin keys."""
    return read_landmarks(region.path)


def landmark_points(region: Region, units: list[AdminUnit], doc: dict[str, Any]) -> NamedPoints:
    """The landmarks of ``doc`` (``landmark_layer``) inside the region's road box."""
    x0, y0, x1, y1 = region.bbox
    pinyin = doc.get("pinyin") or {}
    out = NamedPoints()
    lons: list[float] = []
    lats: list[float] = []
    for lm in doc.get("landmarks") or []:
        lon, lat, name = float(lm["lon"]), float(lm["lat"]), str(lm["name"])
        key = normalise(name)
        if not key or not (x0 <= lon <= x1 and y0 <= lat <= y1):
            continue
        others = {normalise(n) for n in (lm.get("name_zh"), lm.get("name_en")) if n} - {key, ""}
        alt = pinyin_alt_keys(name, pinyin) + tuple((k, ALT_EN) for k in sorted(others))
        if lm.get("name_zh") and lm["name_zh"] != name:
            alt += pinyin_alt_keys(str(lm["name_zh"]), pinyin)
        out.names.append(name)
        out.keys.append(key)
        out.kinds.append("landmark")
        out.categories.append(str(lm["kind"]))
        out.names_en.append(lm.get("name_en") or None)
        out.ids.append(str(lm["id"]))
        out.alt_keys.append(alt)
        lons.append(lon)
        lats.append(lat)
    out.lon, out.lat = np.array(lons, dtype=float), np.array(lats, dtype=float)
    out.districts = district_of(units, out.lon, out.lat)
    out.roles = [()] * len(lons)
    return out
