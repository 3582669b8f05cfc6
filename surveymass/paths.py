"""Where surveymass finds its shipped data and where it writes the user's.

Shipped, read-only package data (found with :mod:`importlib.resources`, so a wheel install
works as well as a source checkout; pip always unpacks a wheel into files):

- ``surveymass/data/catalogs/``: cluster registry, the Coma field, literature masses,
  footprint maps, survey configs in ``surveys/`` (``PROVENANCE.md`` lists each file);
- ``surveymass/data/trained_models/NAME/``: the shipped model bundles.

Written for the user: ``SURVEYMASS_HOME`` (default ``$XDG_DATA_HOME/surveymass``, that is
``~/.local/share/surveymass``) holds ``trained_models/NAME/``, the bundles ``surveymass train
--name NAME`` writes. A bundle name is looked up among the shipped bundles first, then the
user's, so a shipped name always means the shipped bundle. The query cache is separate
(:func:`cache_dir`).
"""

import os
from importlib import resources
from pathlib import Path

#: The results table ``infer`` writes when no ``-o`` is given (in the current folder).
DEFAULT_OUTPUT = "surveymass_results.ecsv"
PACKAGE_DATA = Path(str(resources.files("surveymass") / "data"))
CATALOGS = PACKAGE_DATA / "catalogs"
SURVEYS = CATALOGS / "surveys"
TRAINED_MODELS = PACKAGE_DATA / "trained_models"


def user_home() -> Path:
    """The user's writable surveymass folder (``SURVEYMASS_HOME`` or
    ``$XDG_DATA_HOME/surveymass``, default ~/.local/share/surveymass)."""
    if os.environ.get("SURVEYMASS_HOME"):
        return Path(os.environ["SURVEYMASS_HOME"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "surveymass"


def user_models() -> Path:
    """The folder of the user's model bundles (``user_home()/trained_models``)."""
    return user_home() / "trained_models"


#: Kinds of shipped resource: the folder a bare name is looked up in, and the suffix it
#: may omit.
SHIPPED = {"catalog": (CATALOGS, ".fits"), "map": (CATALOGS, ""), "survey": (SURVEYS, ".toml"),
           "bundle": (TRAINED_MODELS, "")}


def shipped(kind: str, name_or_path: str | Path) -> Path | None:
    """The shipped resource of ``kind`` (a key of :data:`SHIPPED`) that ``name_or_path``
    names, or None: a bare name (no folder part) is looked up in the kind's folder as it
    is and with the kind's suffix (``coma_sdss`` -> catalogs/coma_sdss.fits). Whether an
    existing local path comes first is the caller's rule."""
    path = Path(name_or_path)
    if len(path.parts) != 1 or path.is_absolute():
        return None
    folder, suffix = SHIPPED[kind]
    names = dict.fromkeys((path.name, f"{path.name}{suffix}"))  # one name when suffix is ""
    return next((folder / name for name in names if (folder / name).exists()), None)


def catalog_path(name_or_path: str | Path) -> Path:
    """A catalogue file: ``name_or_path`` itself when it exists, else the shipped catalogue
    of that name (``coma_sdss`` or ``coma_sdss.fits``), else ``name_or_path`` unchanged (for
    the reader's not-found message)."""
    path = Path(name_or_path)
    return path if path.exists() else shipped("catalog", path) or path


def cache_dir() -> Path:
    """The query cache folder (``SURVEYMASS_CACHE`` or ~/.cache/surveymass)."""
    return Path(os.environ.get("SURVEYMASS_CACHE", Path.home() / ".cache" / "surveymass"))
