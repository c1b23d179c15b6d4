"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO / "tests" / "data"
"""Real test-only data copied into the repo (provenance and licences in tests/data/DATA.md)."""
DEMO_DATA = REPO / "geoservice" / "data"
"""The demo inputs shipped inside the package (shanghai/, andorra/, monaco/, hubei/)."""


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Real read-only test data in tests/data (osm/, facilities/, hubei/); nothing outside the repo."""
    return REAL_DATA


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """The package's demo data folder (geoservice/data): Shanghai / Andorra / Monaco extracts,
    Shanghai and Hubei census."""
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
def shanghai(regions_dir):
    """Central Shanghai: real OSM roads, 16 district boundaries, 2020 census (the first demo region)."""
    from geoservice.bundle.store import load_region

    return load_region(regions_dir / "shanghai")


@pytest.fixture(scope="session")
def shanghai_engine(shanghai):
    from geoservice.engine.engine import Engine

    return Engine(shanghai)


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


# ---------------------------------------------------------------------------- PostgreSQL
PG_ENV = "GEOSERVICE_TEST_DATABASE_URL"


def with_search_path(url: str, schema: str) -> str:
    """The URL with ``schema`` first on its search_path (PostGIS stays reachable in public)."""
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema},public"


@pytest.fixture
def pg_schema():
    """(URL, schema): a fresh, empty schema of the server named by GEOSERVICE_TEST_DATABASE_URL
    (``scripts/test.sh`` starts a throwaway PostgreSQL + PostGIS), dropped after the test; the
    test is skipped, with the reason, when there is none."""
    import os
    import uuid

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (scripts/test.sh starts a throwaway PostgreSQL + PostGIS)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(base, schema), schema
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
