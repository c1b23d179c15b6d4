"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# The repo is cloned next to shared/ (locally and in CI): <parent>/shared/data
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real read-only project data (see shared/data/DATA.md); fails loudly when absent."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; clone the repo next to shared/")
    return SHARED_DATA


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def regions_dir(tmp_path_factory) -> Path:
    """Demo bundles built once per test session from data/ (never the developer's cache)."""
    from geoservice.bundle.demo import DEMO_REGIONS, build_demo

    out = tmp_path_factory.mktemp("regions")
    for name in DEMO_REGIONS:
        build_demo(name, REPO / "data", out, quiet=True)
    return out


@pytest.fixture(scope="session")
def andorra(regions_dir):
    from geoservice.bundle.store import load_region

    return load_region(regions_dir / "andorra")


@pytest.fixture(scope="session")
def monaco(regions_dir):
    from geoservice.bundle.store import load_region

    return load_region(regions_dir / "monaco")


@pytest.fixture(scope="session")
def andorra_engine(andorra):
    from geoservice.engine.engine import Engine

    return Engine(andorra)


@pytest.fixture(scope="session")
def monaco_engine(monaco):
    from geoservice.engine.engine import Engine

    return Engine(monaco)
