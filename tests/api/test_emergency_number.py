"""The emergency number of a region (/config regions[].emergency): what the citizen page dials.
Hand-checked numbers: 120 for an ambulance in mainland China, 112 in Monaco and Andorra (EU-wide
112), 999 in Hong Kong, 119 in Taiwan; a country without a listed number gets 112."""

from __future__ import annotations

import pytest

from geoservice.service.usecases.emergency import emergency_number

BOX = [0.0, 0.0, 1.0, 1.0]  # a box whose centre is never used below (a centre is given)


@pytest.mark.parametrize(
    ("centre", "number", "country"),
    [
        ((121.4737, 31.2304), "120", "CN"),  # 人民广场, Shanghai
        ((114.3054, 30.5931), "120", "CN"),  # Wuhan, Hubei
        ((7.4249, 43.7388), "112", "MC"),  # Monaco's facilities
        ((1.5212, 42.5069), "112", "AD"),  # Andorra la Vella
        ((114.1694, 22.3193), "999", "HK"),  # Kowloon
        ((121.5654, 25.0330), "119", "TW"),  # Taipei
        ((-47.8825, -15.7942), "112", "BR"),  # Brasília: not listed, the GSM number
    ],
)
def test_the_number_of_the_country_where_the_region_is(centre, number, country):
    e = emergency_number({}, BOX, centre)
    assert (e.number, e.country) == (number, country)
    assert e.source == ("default" if country == "BR" else "location")


def test_a_region_setting_or_country_comes_first():
    shanghai = (121.4737, 31.2304)
    assert emergency_number({"emergency_number": " 110 "}, BOX, shanghai).model_dump() == {
        "number": "110",
        "country": None,
        "source": "setting",
    }
    e = emergency_number({"country": "hk"}, BOX, shanghai)
    assert (e.number, e.country, e.source) == ("999", "HK", "country")
    # a country not listed: where the region is decides
    assert emergency_number({"country": "ZZ"}, BOX, shanghai).number == "120"


def test_a_box_over_a_border_is_read_at_its_facilities():
    """Monaco's extract reaches into France: its box's centre lies in France (112 as well, but the
    wrong country); the median of its facilities lies in Monaco."""
    box = [7.349008, 43.7150324, 7.490353, 43.7699812]
    assert emergency_number({}, box).country == "FR"
    assert emergency_number({}, box, (7.4249, 43.7388)).country == "MC"


def test_config_says_each_regions_number(client, state):
    regions = {r["name"]: r for r in client.get("/config").json()["regions"]}
    assert {n: r["emergency"] for n, r in regions.items()} == {
        "andorra": {"number": "112", "country": "AD", "source": "location"},
        "monaco": {"number": "112", "country": "MC", "source": "location"},
    }
    meta = state.entry("monaco").region.meta
    meta["emergency_number"] = "17"  # a region setting in the bundle's meta.json
    try:
        monaco = next(r for r in client.get("/config").json()["regions"] if r["name"] == "monaco")
        assert monaco["emergency"] == {"number": "17", "country": None, "source": "setting"}
    finally:
        del meta["emergency_number"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "ambulance" in schema["RegionInfo"]["properties"]["emergency"]["description"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_manuals_example_prints_what_it_shows(lang, capsys):
    """docs/howto/citizen-app.{en,zh}.md: its python block prints its text block."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "howto" / f"citizen-app.{lang}.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", page, re.S).group(1)
    exec(compile(code, f"citizen-app.{lang}.md", "exec"), {})
    assert capsys.readouterr().out == shown
