"""Shared fixtures. Network access is blocked for the whole default run (pytest-socket,
configured in pyproject.toml); tests marked ``live`` run only with ``--live``."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--live", action="store_true",
                     help="run tests that query the real SDSS/NED/VizieR services")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--live"):
        for item in items:
            if "live" in item.keywords:
                item.add_marker(pytest.mark.enable_socket)
        return
    skip = pytest.mark.skip(reason="talks to live services; run with --live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's real-data folder (shared/data beside the checkout)."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty query cache."""
    monkeypatch.setenv("SURVEYMASS_CACHE", str(tmp_path / "cache"))
