"""The settings are grouped (paths, server, limits, planning) while every environment name of the
flat namespace they replaced keeps setting the same value, from the environment and from ``.env``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geoservice.faces.cli import main
from geoservice.service import settings
from geoservice.service.settings import GROUPS, Settings

# every GEOSERVICE_* name documented before the settings were grouped: (value set, value read, group)
OLD_NAMES: dict[str, tuple[str, object, str]] = {
    "GEOSERVICE_DATA_DIR": ("/srv/data", "/srv/data", "paths"),
    "GEOSERVICE_REGIONS_DIR": ("/srv/regions", "/srv/regions", "paths"),
    "GEOSERVICE_REGIONS": ('["/srv/regions/a", "/srv/regions/b"]', ["/srv/regions/a", "/srv/regions/b"], "paths"),
    "GEOSERVICE_DB_PATH": ("/srv/reg.sqlite", "/srv/reg.sqlite", "paths"),
    "GEOSERVICE_DATABASE_URL": ("postgresql://u@h/db", "postgresql://u@h/db", "paths"),
    "GEOSERVICE_MAX_SNAP_DRIVE_M": ("750", 750.0, "limits"),
    "GEOSERVICE_MAX_SNAP_WALK_M": ("120.5", 120.5, "limits"),
    "GEOSERVICE_CACHE_ENTRIES": ("17", 17, "server"),
    "GEOSERVICE_CACHE_BYTES": ("2097152", 2097152, "server"),
    "GEOSERVICE_CACHE_REGION_BYTES": ("3145728", 3145728, "server"),
    "GEOSERVICE_MAX_ANSWER_BYTES": ("100000", 100000, "limits"),
    "GEOSERVICE_MAX_WALK_MINUTES": ("45", 45.0, "limits"),
    "GEOSERVICE_AREA_SIMPLIFY_CELLS": ("0", 0.0, "limits"),
    "GEOSERVICE_BASEMAP_TILES": ("http://tiles.local/{z}/{x}/{y}.png", "http://tiles.local/{z}/{x}/{y}.png", "server"),
    "GEOSERVICE_BASEMAP_GCJ02": ("true", True, "server"),
    "GEOSERVICE_CORS_ORIGINS": ('["http://a.local"]', ["http://a.local"], "server"),
    "GEOSERVICE_MAX_BODY_BYTES": ("2048", 2048, "limits"),
    "GEOSERVICE_MAX_IMPORT_BODY_BYTES": ("4096", 4096, "limits"),
    "GEOSERVICE_REQUEST_TIMEOUT_S": ("12.5", 12.5, "server"),
    "GEOSERVICE_FAILED_KEY_LIMIT": ("3", 3, "server"),
    "GEOSERVICE_FAILED_KEY_WINDOW_S": ("9", 9.0, "server"),
    "GEOSERVICE_WRITES_PER_MINUTE": ("7", 7, "server"),
    "GEOSERVICE_FAILED_KEYS_PER_ADDRESS": ("11", 11, "server"),
    "GEOSERVICE_TRUSTED_PROXIES": ('["10.0.0.5", " 10.1.0.0/16"]', ["10.0.0.5", "10.1.0.0/16"], "server"),
    "GEOSERVICE_PUBLIC_RATE_PER_S": ("5", 5.0, "server"),
    "GEOSERVICE_PUBLIC_BURST": ("50", 50.0, "server"),
    "GEOSERVICE_CITIZEN_SLOTS": ("2", 2, "server"),
    "GEOSERVICE_READ_SLOTS": ("3", 3, "server"),
    "GEOSERVICE_EDIT_SLOTS": ("5", 5, "server"),
    "GEOSERVICE_HEAVY_SLOTS": ("2", 2, "server"),
    "GEOSERVICE_QUEUE_WAIT_S": ("0.5", 0.5, "server"),
    "GEOSERVICE_HEAVY_QUEUE_WAIT_S": ("40", 40.0, "server"),
    "GEOSERVICE_HEAVY_NICE": ("0", 0, "server"),
    "GEOSERVICE_PLAN_STROKE_CENTERS_MIN": ("2", 2, "planning"),
    "GEOSERVICE_PLAN_CPC_SHARE": ("0.5", 0.5, "planning"),
    "GEOSERVICE_PLAN_GRASSROOTS_SHARE": ("0.25", 0.25, "planning"),
    "GEOSERVICE_THROMBOLYSIS_HIGH_PCT": ("6", 6.0, "planning"),
    "GEOSERVICE_THROMBOLYSIS_LOW_PCT": ("2", 2.0, "planning"),
    "GEOSERVICE_EMS_MINUTES": ("15", 15.0, "planning"),
    "GEOSERVICE_EMS_BUSY_FRACTION": ("0.2", 0.2, "planning"),
    "GEOSERVICE_HOURLY_PROFILES": ("hours.csv", "hours.csv", "planning"),  # a real file, read when the settings are
    "GEOSERVICE_RESPONDER_TTL_S": ("300", 300.0, "server"),
    "GEOSERVICE_RESPONDER_WALK_SPEED_MS": ("1.2", 1.2, "planning"),
    "GEOSERVICE_DISPATCH_DELAY_S": ("90", 90.0, "planning"),
    "GEOSERVICE_AED_SETUP_S": ("45", 45.0, "planning"),
    "GEOSERVICE_DISPATCH_MAX_WALK_MIN": ("20", 20.0, "planning"),
    "GEOSERVICE_DISPATCH_UNKNOWN_HOURS": ("exclude", "exclude", "planning"),
    "GEOSERVICE_LOCAL_TIMEZONE": ("Asia/Shanghai", "Asia/Shanghai", "server"),
}


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No GEOSERVICE_* variable nor .env of this machine in the way; settings read anew."""
    for var in list(os.environ):
        if var.upper().startswith("GEOSERVICE_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    settings.get_settings.cache_clear()
    yield tmp_path
    settings.get_settings.cache_clear()


def _profile(folder: Path) -> Path:
    """An hourly-factors file (primary roads 1.5 times slower all day)."""
    path = folder / "hours.csv"
    hours = ",".join(f"h{h:02d}" for h in range(24))
    path.write_text(f"road_class,{hours}\nprimary," + ",".join(["1.5"] * 24) + "\n")
    return path


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value) if type(value).__name__.endswith("Path") else value


def test_every_old_name_is_one_field_of_one_group():
    fields = {f"GEOSERVICE_{n.upper()}": g for g, cls in GROUPS.items() for n in cls.model_fields}
    assert len(fields) == 48 == len(OLD_NAMES)
    assert fields == {var: group for var, (_, _, group) in OLD_NAMES.items()}


def test_every_old_name_sets_its_value_from_the_environment(fresh, monkeypatch):
    defaults = Settings().flat()
    _profile(fresh)
    for var, (raw, _, _) in OLD_NAMES.items():
        monkeypatch.setenv(var, raw)
    got = settings.get_settings()
    for var, (_, want, group) in OLD_NAMES.items():
        name = var.removeprefix("GEOSERVICE_").lower()
        assert _plain(getattr(getattr(got, group), name)) == want, var
        assert _plain(defaults[name][1]) != want, f"{var}: the test value must differ from the default"


def test_dotenv_keys_still_work(fresh):
    profile = _profile(fresh)
    (fresh / ".env").write_text(
        f"GEOSERVICE_HOURLY_PROFILES={profile}\nGEOSERVICE_PLAN_CPC_SHARE=0.4\nGEOSERVICE_HEAVY_SLOTS=3\n"
        "GEOSERVICE_MAX_SNAP_WALK_M=99\nGEOSERVICE_REGIONS_DIR=/srv/r\n"
    )
    s = settings.get_settings()
    assert s.planning.hourly_profiles == profile and s.planning.plan_cpc_share == 0.4
    assert s.server.heavy_slots == 3 and s.limits.max_snap_walk_m == 99.0 and str(s.paths.regions_dir) == "/srv/r"
    assert s.limits.max_snap_m == {"drive": 500.0, "walk": 99.0}


def test_flat_names_build_and_replace(fresh):
    s = Settings.of(request_timeout_s=60, plan_cpc_share=0.9)
    assert (s.server.request_timeout_s, s.planning.plan_cpc_share, s.server.heavy_slots) == (60.0, 0.9, 1)
    t = s.replace(heavy_slots=4, max_walk_minutes=10.0)
    assert (t.server.heavy_slots, t.limits.max_walk_minutes, t.server.request_timeout_s) == (4, 10.0, 60.0)
    assert (s.server.heavy_slots, s.limits.max_walk_minutes) == (1, 60.0)  # the original is unchanged
    with pytest.raises(TypeError, match="no setting named 'timeout'"):
        Settings.of(timeout=3)


def test_settings_command_prints_every_name_by_group(fresh, capsys):
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("# settings.")]
    assert [lines[i].split(":")[0] for i in heads] == [f"# settings.{g}" for g in GROUPS]
    printed = {
        line.split("=")[0]: lines[max(i for i in heads if i < n)].split(":")[0].removeprefix("# settings.")
        for n, line in enumerate(lines)
        if line.startswith("GEOSERVICE_")
    }
    assert printed == {var: group for var, (_, _, group) in OLD_NAMES.items()}
