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
    """Demo bundles built from geoservice/data (never the developer's cache) once per run: under
    pytest-xdist the first worker to ask builds them into the run's shared temporary folder while
    the others wait on a lock, and ``GEOSERVICE_TEST_REGIONS_DIR`` (set by scripts/test.sh for its
    parallel and serial parts, and by scripts/mutation.sh) names a folder built once and reused."""
    import fcntl
    import os

    from geoservice.bundle.demo import DEMO_REGIONS, ensure_demo

    kept = os.environ.get("GEOSERVICE_TEST_REGIONS_DIR")
    if kept:
        out = Path(kept)
    elif os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' base folders share a parent
        out = tmp_path_factory.getbasetemp().parent / "regions"
    else:
        out = tmp_path_factory.mktemp("regions")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".build-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        for name in DEMO_REGIONS:
            ensure_demo(name, DEMO_DATA, out, quiet=True)
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


# ---------------------------------------------------------------------------- parallel runs
SERIAL = (
    # timing, CPU or memory measured on the machine: run alone, after the parallel part
    "tests/api/test_load_shedding.py",
    "tests/api/test_memory_bounds.py",
    "tests/test_durability.py",
    "tests/test_worker_restarts.py",
    "tests/test_workers.py",
    "tests/test_fork_safety.py",
    "tests/test_nation.py",  # a Dask LocalCluster of its own
    "tests/api/test_hardening.py::test_slow_requests_get_503",
    # the README's commands build on each other (a bundle built, then exported); once, a worker of the
    # parallel part found the bundle missing: one process, in order, as a reader types them
    "tests/test_readme_commands.py",
)
"""Test files (or one test: ``file::name``) marked ``serial``: ``scripts/test.sh`` runs the rest in
parallel (pytest-xdist, ``-m "not serial"``), then these in one process."""
IN_ORDER = (
    "tests/api/test_contract.py",  # ~2,500 requests over one app: one worker, beside the others
)
"""Files whose tests build on each other (the README's commands, one after another) or share one
long run: one worker runs each of them, in order."""


def pytest_collection_modifyitems(config, items):
    """``serial`` on the files above; the browser tests as one xdist group (one worker runs them
    all, over one live server and one Chromium at a time)."""
    for item in items:
        rel = Path(str(item.fspath)).resolve().relative_to(REPO).as_posix()
        if rel in SERIAL or f"{rel}::{item.originalname}" in SERIAL:
            item.add_marker(pytest.mark.serial)
        elif rel.startswith("tests/browser/"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif rel in IN_ORDER:
            item.add_marker(pytest.mark.xdist_group(rel))
