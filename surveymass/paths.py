"""Where the shipped catalogs, survey configs and model bundles live.

They sit at the top of the source tree (``catalogs/``, ``trained_models/``) as described
in docs/architecture.md; ``SURVEYMASS_HOME`` points elsewhere when set.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("SURVEYMASS_HOME", Path(__file__).resolve().parents[1]))
CATALOGS = PROJECT_ROOT / "catalogs"
SURVEYS = CATALOGS / "surveys"
TRAINED_MODELS = PROJECT_ROOT / "trained_models"


def cache_dir() -> Path:
    """The query cache folder (``SURVEYMASS_CACHE`` or ~/.cache/surveymass)."""
    return Path(os.environ.get("SURVEYMASS_CACHE", Path.home() / ".cache" / "surveymass"))
