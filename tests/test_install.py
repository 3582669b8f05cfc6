"""Installation: the shipped data are package data a wheel carries, found by name; user
bundles live in SURVEYMASS_HOME."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import tomllib

from conftest import REPO

from surveymass.models.bundle import CARD, bundle_path
from surveymass.paths import CATALOGS, PACKAGE_DATA, TRAINED_MODELS, catalog_path, user_models


def test_every_shipped_file_is_listed_as_package_data():
    """pyproject's package-data globs cover every file under surveymass/data, so a wheel
    (or `pip install .`) carries all of them."""
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["surveymass.data"]
    files = [p.relative_to(PACKAGE_DATA).as_posix() for p in PACKAGE_DATA.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert {"catalogs/coma_sdss.fits", "trained_models/sdss_legacy/weights.pt",
            "catalogs/surveys/sdss_legacy.toml"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_bundle_names_resolve_shipped_first_then_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYMASS_HOME", str(tmp_path))
    assert user_models() == tmp_path / "trained_models"
    assert bundle_path("mine") == tmp_path / "trained_models" / "mine"
    shadow = tmp_path / "trained_models" / "sdss_legacy"
    shadow.mkdir(parents=True)
    (shadow / CARD).write_text(json.dumps({"format": "not a bundle"}))
    assert bundle_path("sdss_legacy") == TRAINED_MODELS / "sdss_legacy"  # shipped wins
    monkeypatch.delenv("SURVEYMASS_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert bundle_path("mine") == tmp_path / "xdg" / "surveymass" / "trained_models" / "mine"


def test_shipped_catalogues_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert catalog_path("coma_sdss") == catalog_path("coma_sdss.fits") == \
        CATALOGS / "coma_sdss.fits"
    (tmp_path / "coma_sdss.fits").write_text("yours")
    assert catalog_path("coma_sdss.fits").resolve() == tmp_path / "coma_sdss.fits"
    assert str(catalog_path("absent.fits")) == "absent.fits"


def test_help_imports_no_heavy_library():
    """`import surveymass.cli` with every command registered, and `--help`, load none of
    torch, pyro, matplotlib, healpy, astroquery (start-up time; benchmarks/bench_startup.py)."""
    code = ("import sys\nfrom surveymass.cli import main\nassert main(['--help']) == 0\n"
            "print(sorted(m for m in ('torch', 'pyro', 'matplotlib', 'healpy', 'astroquery')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"
