"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO / "tests" / "data"
"""Real test-only data copied into the repo (provenance and licences in tests/data/DATA.md)."""
DEMO_DATA = REPO / "geoservice" / "data"
"""The demo inputs shipped inside the package (andorra/, monaco/, hubei/)."""


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Real read-only test data in tests/data (osm/, facilities/, hubei/); nothing outside the repo."""
    return REAL_DATA


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """The package's demo data folder (geoservice/data): Andorra / Monaco extracts, Hubei census."""
    return DEMO_DATA


@pytest.fixture(scope="session")
def regions_dir(tmp_path_factory) -> Path:
    """Demo bundles built once per test session from geoservice/data (never the developer's cache)."""
    from geoservice.bundle.demo import DEMO_REGIONS, build_demo

    out = tmp_path_factory.mktemp("regions")
    for name in DEMO_REGIONS:
        build_demo(name, DEMO_DATA, out, quiet=True)
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
