"""The emergency number a region's citizens call for an ambulance: 120 in mainland China, 112 in
Monaco and Andorra (and the EU), 999 in Hong Kong and Macao...

Where it comes from, first found wins (``source`` says which):

1. ``setting``: the bundle's ``meta.json`` ``emergency_number`` (a region setting: edit the bundle's
   meta.json, e.g. for a border region or a local number);
2. ``country``: the bundle's ``meta.json`` ``country`` (ISO 3166-1 alpha-2) looked up in
   :data:`NUMBERS`;
3. ``location``: the country of the region's centre (the median of its facilities), found offline
   by the GeoNames places shipped with the ``reverse-geocode`` package (the nearest place of over
   1,000 people), looked up in :data:`NUMBERS`;
4. ``default``: 112, the number every GSM mobile phone connects to the local emergency service in
   most of the world.

Worked out once per region and process (the place list loads in ~1.5 s, once)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

Source = Literal["setting", "country", "location", "default"]

DEFAULT = "112"

EUROPE_112 = (
    *("AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE"),
    *("IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK", "SM", "VA"),
)

# The number for an ambulance (a medical emergency), by ISO 3166-1 alpha-2 country. Where a country
# keeps a separate ambulance number (China 120, Viet Nam 115, Mongolia 103), that one.
NUMBERS: dict[str, str] = {
    "CN": "120",
    "HK": "999",
    "MO": "999",
    "TW": "119",
    "JP": "119",
    "KR": "119",
    "KP": "119",
    "MN": "103",
    "VN": "115",
    "LA": "195",
    "MM": "192",
    "TH": "1669",
    "SG": "995",
    "MY": "999",
    "PH": "911",
    "ID": "118",
    "IN": "108",
    "NP": "102",
    "BT": "112",
    "PK": "1122",
    "KZ": "103",
    "KG": "103",
    "TJ": "103",
    "AF": "102",
    "RU": "103",
    "US": "911",
    "CA": "911",
    "MX": "911",
    "AU": "000",
    "NZ": "111",
    "GB": "999",
    # the European Union, the EEA, and the small states among them: 112
    **dict.fromkeys(EUROPE_112, "112"),
}


class EmergencyNumber(BaseModel):
    number: str = Field(description="the number to dial for an ambulance, e.g. 120 (China) or 112 (Monaco)")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 country it was taken for, when known")
    source: Source = Field(
        description="setting: the bundle's meta.json emergency_number; country: its meta.json country; "
        "location: the country of the region's centre (GeoNames places, offline); default: 112"
    )


def country_at(lon: float, lat: float) -> str | None:
    """The ISO country code of the nearest GeoNames place of over 1,000 people (offline)."""
    try:
        import reverse_geocode  # lazy: loads its GeoNames table (read once), for this question only
    except ImportError:  # pragma: no cover - a dependency of geoservice
        return None
    found = reverse_geocode.search([(lat, lon)])
    code = found[0].get("country_code") if found else None
    return str(code).upper() if code else None


def load_places() -> None:
    """Load the GeoNames place list now (~1.5 s, once per process): ``serve`` calls it before the
    workers fork, so no citizen's first ``/config`` waits for it."""
    country_at(0.0, 0.0)


@lru_cache(maxsize=256)
def _resolve(number: str | None, country: str | None, lon: float, lat: float) -> EmergencyNumber:
    if number:
        return EmergencyNumber(number=number, country=country, source="setting")
    if country and country in NUMBERS:
        return EmergencyNumber(number=NUMBERS[country], country=country, source="country")
    found = country_at(lon, lat)
    if found and found in NUMBERS:
        return EmergencyNumber(number=NUMBERS[found], country=found, source="location")
    return EmergencyNumber(number=DEFAULT, country=found or country, source="default")


def emergency_number(
    meta: dict[str, Any], bbox: tuple[float, ...] | list[float], centre: tuple[float, float] | None = None
) -> EmergencyNumber:
    """The region's emergency number (see the module's text for the order). ``centre``: where its
    people are, e.g. the median of its facilities (an extract's box often reaches over a border:
    Monaco's box is centred in France); else the box's centre."""
    number = str(meta.get("emergency_number") or "").strip() or None
    country = str(meta.get("country") or "").strip().upper() or None
    x0, y0, x1, y1 = (float(v) for v in bbox)
    lon, lat = centre if centre is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
    return _resolve(number, country, round(float(lon), 4), round(float(lat), 4))
