"""A setting the environment gets wrong is one line naming the variable (exit 2), never a traceback."""

from __future__ import annotations

import pytest

from geoservice.faces.cli import main
from geoservice.service import settings


@pytest.mark.parametrize(
    "var,value,says",
    [
        ("GEOSERVICE_REGIONS", "/data/regions/monaco", 'GEOSERVICE_REGIONS: cannot be read (a JSON list, e.g. ["'),
        ("GEOSERVICE_MAX_SNAP_DRIVE_M", "-3", "GEOSERVICE_MAX_SNAP_DRIVE_M: Input should be greater than 0"),
    ],
)
def test_a_bad_setting_is_one_line(monkeypatch, capsys, var, value, says):
    monkeypatch.setenv(var, value)
    settings.get_settings.cache_clear()
    try:
        code = main(["settings"])
    finally:
        settings.get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"geoservice: error: {says}") and len(err.strip().splitlines()) == 1
