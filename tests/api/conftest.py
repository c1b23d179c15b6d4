"""API fixtures: a fresh registry per test over the session's demo bundles, on each backend.

``registry_target`` (and so ``state``, ``client``, every API test) runs once on SQLite and once on
PostgreSQL + PostGIS: the latter in a fresh schema of the database named by
``GEOSERVICE_TEST_DATABASE_URL`` (``scripts/test.sh`` starts a throwaway server and sets it),
dropped after the test; without that variable the PostgreSQL runs are skipped with the reason."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2.*")


@pytest.fixture
def pg_url(pg_schema):
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped after the test)."""
    return pg_schema[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_target(request, tmp_path):
    """Where a test's registry lives: a SQLite file, or a PostgreSQL URL (own schema)."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def open_reg(registry_target):
    """Open (more) registries on this test's target; all closed after the test."""
    from geoservice.service.registry.store import open_registry

    opened = []

    def open_() -> object:
        reg = open_registry(registry_target)
        opened.append(reg)
        return reg

    yield open_
    for reg in opened:
        reg.close()


@pytest.fixture
def state(andorra, monaco, open_reg):
    from geoservice.service.core import GeoService

    return GeoService([andorra, monaco], registry=open_reg())


@pytest.fixture
def client(state):
    from fastapi.testclient import TestClient

    from geoservice.faces.api.app import create_app

    with TestClient(create_app(state)) as c:
        yield c


@pytest.fixture
def keys(state):
    """Tokens by role: editor, viewer, admin."""
    return {role: state.registry.create_key(f"test-{role}", role)[1] for role in ("editor", "viewer", "admin")}


@pytest.fixture
def editor(keys):
    return {"X-API-Key": keys["editor"]}
