"""Shared fixtures. Network access is blocked for the whole default run (pytest-socket,
configured in pyproject.toml); tests marked ``live`` run only with ``--live``."""

from __future__ import annotations

import os
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


def require_shared_data(path: Path = SHARED_DATA) -> Path:
    """``path`` if it exists; else skip, except in CI (``CI=true``) where it fails, so
    that real-data tests never silently vanish."""
    if not path.exists():
        message = f"shared data not found at {path}"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must provide it (the real-data tests cannot skip)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's real-data folder (shared/data beside the checkout)."""
    return require_shared_data()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty query cache."""
    monkeypatch.setenv("SURVEYMASS_CACHE", str(tmp_path / "cache"))
