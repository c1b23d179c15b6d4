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
        # one of each settings group (paths above; server, planning)
        ("GEOSERVICE_HEAVY_SLOTS", "0", "GEOSERVICE_HEAVY_SLOTS: Input should be greater than or equal to 1"),
        ("GEOSERVICE_CORS_ORIGINS", "http://a.local", "GEOSERVICE_CORS_ORIGINS: cannot be read"),
        ("GEOSERVICE_LOCAL_TIMEZONE", "Mars/Base", "GEOSERVICE_LOCAL_TIMEZONE: Value error, unknown time zone"),
        ("GEOSERVICE_EMS_BUSY_FRACTION", "1", "GEOSERVICE_EMS_BUSY_FRACTION: Input should be less than 1"),
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
