"""The survey description: a small declarative config read from TOML.

A survey is what decides which galaxies have spectra: a magnitude limit in a band, fibre
collisions, redshift errors, a footprint, and the redshift range of the clusters a model
is trained for. The shipped default, ``sdss_legacy``, lives in surveymass/data/catalogs/surveys/.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surveymass.errors import InputError
from surveymass.paths import CATALOGS, SURVEYS

DEFAULT_SURVEY = "sdss_legacy"


@dataclass(frozen=True)
class SurveyConfig:
    """A spectroscopic survey.

    mag_limit: apparent magnitude limit in ``band`` (extinction corrected);
    z_min, z_max: cluster redshift range; fibre_radius_arcsec: closest fibre separation;
    collision_recovery: fraction of collided pairs that still get both spectra;
    velocity_error_kms: 1-sigma redshift error as a velocity; footprint: HEALPix map file
    name in surveymass/data/catalogs/ or a path ("" for no footprint).
    """

    name: str
    mag_limit: float
    z_min: float
    z_max: float
    fibre_radius_arcsec: float
    collision_recovery: float
    velocity_error_kms: float
    band: str = "r"
    footprint: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.z_min < self.z_max <= 1.0:
            problems.append(f"need 0 < z_min < z_max <= 1, got z_min={self.z_min}, "
                            f"z_max={self.z_max}")
        if not 5 < self.mag_limit < 30:
            problems.append(f"mag_limit={self.mag_limit} is not an apparent magnitude")
        if self.fibre_radius_arcsec < 0:
            problems.append("fibre_radius_arcsec must be >= 0")
        if not 0 <= self.collision_recovery <= 1:
            problems.append("collision_recovery must be a fraction in [0, 1]")
        if self.velocity_error_kms < 0:
            problems.append("velocity_error_kms must be >= 0")
        if self.band != "r":
            problems.append(f"band {self.band!r} is not supported (only 'r')")
        if problems:
            raise InputError(f"survey config {self.name!r} is inconsistent: "
                             + "; ".join(problems))

    def observes(self, mag: np.ndarray) -> np.ndarray:
        """Mask of galaxies bright enough for the survey's magnitude limit.

        Galaxies of unknown (NaN) magnitude are kept: a catalogue without photometry is
        assumed to be drawn from the survey. This is the one magnitude cut of the package.
        """
        return ~(np.asarray(mag, dtype=float) > self.mag_limit)

    @property
    def footprint_path(self) -> Path | None:
        """The footprint map file, or None when the survey has none."""
        if not self.footprint:
            return None
        path = Path(self.footprint)
        return path if path.is_absolute() else CATALOGS / path

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> "SurveyConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING}
        missing = sorted(required - set(data))
        unknown = sorted(set(data) - fields)
        if missing or unknown:
            raise InputError(f"survey config {source}: missing field(s) {missing}, unknown "
                             f"field(s) {unknown}; the fields are {sorted(fields)}")
        try:
            return cls(**data)
        except TypeError as exc:  # wrong value types
            raise InputError(f"survey config {source}: {exc}") from exc


def load_survey(name_or_path: str | Path = DEFAULT_SURVEY) -> SurveyConfig:
    """Read a survey config: a shipped name (e.g. ``sdss_legacy``) or a TOML file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SURVEYS / f"{name_or_path}.toml"
    if not path.exists():
        shipped = sorted(p.stem for p in SURVEYS.glob("*.toml"))
        raise InputError(f"no survey config {name_or_path!r}: give a TOML file or one of the "
                         f"shipped surveys {shipped}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"survey config {path} is not valid TOML: {exc}") from exc
    return SurveyConfig.from_dict(data, source=str(path))
