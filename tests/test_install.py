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


#: Libraries ``surveymass --help`` must not import (each costs 0.1-1.3 s at start-up).
HEAVY_FOR_HELP = ("torch", "pyro", "matplotlib", "healpy", "astroquery", "astropy.cosmology",
                  "astropy.units", "astropy.table", "scipy", "h5py", "pandas")


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_help_imports_no_heavy_library():
    """`surveymass --help` (every command registered, every sub-command's help) and
    `import surveymass` load none of the heavy libraries (start-up time;
    benchmarks/bench_startup.py; the rule: docs/architecture.md)."""
    helps = [[], ["universe"], ["universe", "check"], ["universe", "convert"],
             *[[c] for c in ("fetch", "infer", "mocks", "compare", "train", "evaluate",
                             "calibrate")]]
    code = ("import contextlib, io\nfrom surveymass.cli import main\n"
            f"for args in {helps!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        assert main([*args, '--help']) == 0, args")
    assert _loaded_after(code, HEAVY_FOR_HELP) == []
    assert _loaded_after("import surveymass", HEAVY_FOR_HELP + ("numpy",)) == []


def test_lazy_exports_import_on_first_use():
    """Package re-exports (surveymass.lazy) import their submodule only when used, and
    then give the submodule's object; unknown names are AttributeErrors."""
    code = ("import surveymass.universe.synthetic as s, sys\n"
            "before = 'surveymass.universe.synthetic.build' in sys.modules\n"
            "from surveymass.universe.synthetic import build_universe\n"
            "from surveymass.universe.synthetic.build import build_universe as b\n"
            "assert not before and build_universe is b and 'build_universe' in dir(s)\n"
            "try:\n    s.nothing\nexcept AttributeError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "module 'surveymass.universe.synthetic' has no attribute 'nothing'"


def test_infer_imports_no_plotting_or_network_library(tmp_path):
    """A one-cluster `infer` without --plots (the shipped Coma catalogue and bundle, the
    footprint map included) loads no matplotlib or healpy (healpy imports matplotlib;
    surveymass.masks.healpix uses astropy-healpix), no scipy.interpolate (the flat prior
    needs none), no network client (astroquery) and no pandas."""
    code = ("import contextlib, io\nfrom surveymass.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['infer', 'coma_sdss', '-o', {str(tmp_path / 'c.ecsv')!r}, "
            "'-q', '--device', 'cpu']) == 0")
    assert _loaded_after(code, ("matplotlib", "healpy", "scipy.interpolate", "astroquery",
                                "pandas")) == []
