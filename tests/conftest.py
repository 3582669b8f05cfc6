"""Shared fixtures. Network access is blocked for the whole default run (pytest-socket,
configured in pyproject.toml); tests marked ``live`` run only with ``--live``."""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The tests' copy of the project's real-data folder (tests/data/shared/PROVENANCE.md):
#: the files as in shared/data, those over 50 kB xz-compressed, SHA256SUMS of the originals.
FIXTURE_DATA = REPO / "tests" / "data" / "shared"
#: Set to a folder laid out like shared/data to run the real-data tests on it instead.
SHARED_DATA_VARIABLE = "SURVEYMASS_SHARED_DATA"


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


def unpack_fixture_data(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target``, decompressing ``*.xz``, and check every file against
    ``SHA256SUMS``; returns ``target``."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.name != "SHA256SUMS":
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".xz":
                out.with_suffix("").write_bytes(lzma.decompress(path.read_bytes()))
            else:
                shutil.copyfile(path, out)
    for line in (source / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if hashlib.sha256((target / name).read_bytes()).hexdigest() != digest:
            raise ValueError(f"{source}: {name} does not match its SHA256SUMS entry")
    return target


def require_shared_data(path: Path) -> Path:
    """``path`` if it exists; else skip, except in CI (``CI=true``) where it fails, so
    that real-data tests never silently vanish."""
    if not path.exists():
        message = f"shared data not found at {path}"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must provide it (the real-data tests cannot skip)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data(tmp_path_factory) -> Path:
    """The project's real-data files, laid out as shared/data: the repository's copy
    unpacked, or the folder named by ``SURVEYMASS_SHARED_DATA``."""
    if os.environ.get(SHARED_DATA_VARIABLE):
        return require_shared_data(Path(os.environ[SHARED_DATA_VARIABLE]))
    return unpack_fixture_data(FIXTURE_DATA, tmp_path_factory.mktemp("shared_data"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty query cache."""
    monkeypatch.setenv("SURVEYMASS_CACHE", str(tmp_path / "cache"))
