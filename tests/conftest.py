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
