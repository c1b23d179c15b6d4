"""API fixtures: a fresh registry per test over the session's demo bundles."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2.*")


@pytest.fixture
def state(andorra, monaco, tmp_path):
    from geoservice.service.core import GeoService
    from geoservice.service.registry import Registry

    return GeoService([andorra, monaco], registry=Registry(tmp_path / "registry.sqlite"))


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
