"""Training sets as the models see them: the mocks' reader turned into FieldSets.

The format and its reader belong to :mod:`surveymass.mocks.trainingset`; this module only
interprets the manifest (setup, aperture, survey, cosmology) for training and converts a
split's tables to a :class:`~surveymass.models.data.FieldSet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from surveymass.cosmology import cosmology_from_dict
from surveymass.errors import InputError
from surveymass.mocks.trainingset import read_manifest, read_training_set
from surveymass.models.data import FieldSet, fieldset_from_tables
from surveymass.phasespace import SETUPS, Aperture
from surveymass.survey import SurveyConfig

if TYPE_CHECKING:
    from astropy.cosmology import FLRW


@dataclass(frozen=True)
class TrainingSetInfo:
    """What a training set's manifest says about how its fields were made."""

    manifest: dict
    setup: str
    aperture: Aperture
    survey: SurveyConfig
    cosmology: FLRW


def training_set_info(folder: str | Path) -> TrainingSetInfo:
    """Read and interpret the manifest of the training set in ``folder``."""
    manifest = read_manifest(folder)
    try:
        mock = manifest["setup"]
        setup = mock["setup"]
        aperture = Aperture(r_max=mock["r_max"], v_max=mock["v_max"],
                            min_galaxies=mock["min_galaxies"])
        survey = SurveyConfig.from_dict(manifest["survey"], source=f"{folder} manifest")
        cosmology = cosmology_from_dict(manifest["universe"]["cosmology"])
    except (KeyError, TypeError) as exc:
        raise InputError(f"the manifest of {folder} lacks {exc} (setup, aperture, survey or "
                         "universe cosmology); rebuild the training set with "
                         "`surveymass mocks`") from exc
    if setup not in SETUPS:
        raise InputError(f"{folder}: setup {setup!r} is not one of {SETUPS}")
    return TrainingSetInfo(manifest, setup, aperture, survey, cosmology)


def load_split(folder: str | Path, split: str) -> FieldSet:
    """The fields of one split (``train``, ``val``, ``test``, ``test_natural``)."""
    fields, galaxies, _ = read_training_set(folder, split)
    return fieldset_from_tables(fields, galaxies, where=f"{folder} {split}")
