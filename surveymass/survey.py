"""The survey description: a small declarative config read from TOML.

A survey is what decides which galaxies have spectra: a magnitude limit in a band, fibre
collisions, redshift errors, a footprint, and the redshift range of the clusters a model
is trained for. A volume-limited sample cut from it adds an absolute-magnitude limit and a
galaxy redshift limit. The shipped surveys live in surveymass/data/catalogs/surveys/: ``sdss_legacy`` (the
default, flux-limited) and ``sdss_dr7_vlim20`` (M_r - 5 log h < -20, z <= 0.107).

:meth:`SurveyConfig.observes` is the one selection of the package, used by the mocks and
by ``infer`` alike. A galaxy table whose header keyword ``SELECTED`` names the survey
(:data:`SELECTED_KEYWORD`) is declared already cut by it: it may lack magnitudes.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surveymass.config import dataclass_from_dict
from surveymass.errors import InputError
from surveymass.paths import CATALOGS, SURVEYS, shipped
from surveymass.photometry import REFERENCE_COLOR_GR, Z_MAX_KCORRECTION, absolute_magnitude

DEFAULT_SURVEY = "sdss_legacy"

#: Header keyword of a galaxy table already cut by the survey it names.
SELECTED_KEYWORD = "SELECTED"
#: Slack of the galaxy redshift limit: redshifts stored as float32 round up by ~1e-8.
_Z_SLACK = 1e-6


@dataclass(frozen=True)
class SurveyConfig:
    """A spectroscopic survey.

    mag_limit: apparent magnitude limit in ``band`` (extinction corrected);
    z_min, z_max: cluster redshift range; fibre_radius_arcsec: closest fibre separation;
    collision_recovery: fraction of collided pairs that still get both spectra;
    velocity_error_kms: 1-sigma redshift error as a velocity; footprint: HEALPix map file
    name in surveymass/data/catalogs/ or a path ("" for no footprint). A volume-limited sample also sets
    abs_mag_limit (keep M_r - 5 log h < abs_mag_limit, ^{0.1}r, from the observed redshift:
    :func:`surveymass.photometry.absolute_magnitude`) and galaxy_z_max (keep galaxies of
    observed z <= galaxy_z_max); mag_limit stays the parent survey's apparent limit.
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
    abs_mag_limit: float | None = None
    galaxy_z_max: float | None = None

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
        if self.abs_mag_limit is not None:
            if not -30 < self.abs_mag_limit < -10:
                problems.append(f"abs_mag_limit={self.abs_mag_limit} is not an absolute "
                                "magnitude M_r - 5 log h")
            if self.galaxy_z_max is None:
                problems.append("an absolute-magnitude limit needs galaxy_z_max (a "
                                "volume-limited sample)")
        if self.galaxy_z_max is not None and not (
                self.z_max < self.galaxy_z_max <= Z_MAX_KCORRECTION):
            problems.append(f"need z_max < galaxy_z_max <= {Z_MAX_KCORRECTION}, got "
                            f"galaxy_z_max={self.galaxy_z_max}")
        if self.band != "r":
            problems.append(f"band {self.band!r} is not supported (only 'r')")
        if problems:
            raise InputError(f"survey config {self.name!r} is inconsistent: "
                             + "; ".join(problems))

    @property
    def volume_limited(self) -> bool:
        """True when the survey selects on absolute magnitude."""
        return self.abs_mag_limit is not None

    def observes(self, mag, z=None, cosmology=None, color_gr=None,
                 already_cut: bool = False) -> np.ndarray:
        """Mask of the galaxies the survey observes: the one selection of the package.

        mag: apparent r magnitudes (extinction corrected); z: observed redshifts (needed
        when the survey limits galaxy redshifts or absolute magnitudes); cosmology: for the
        distances of the absolute magnitudes; color_gr: rest-frame g - r of each galaxy
        for the K-correction (NaN or None: :data:`~surveymass.photometry.REFERENCE_COLOR_GR`).
        Galaxies of unknown (NaN) apparent magnitude pass the apparent limit: a catalogue
        without photometry is assumed to be drawn from the survey. The absolute limit needs
        magnitudes unless ``already_cut`` declares the table cut by this survey already
        (see :func:`selection_applied`); otherwise it raises :class:`InputError`.
        """
        mag = np.asarray(mag, dtype=float)
        keep = ~(mag > self.mag_limit)
        if self.galaxy_z_max is not None:
            keep &= ~(self._redshifts(z, mag.shape) > self.galaxy_z_max + _Z_SLACK)
        if self.volume_limited and not already_cut:
            keep &= self._absolute_cut(mag, self._redshifts(z, mag.shape), cosmology,
                                       color_gr)
        return keep

    def _redshifts(self, z, shape) -> np.ndarray:
        if z is None:
            raise InputError(f"survey {self.name!r} cuts on galaxy redshift: give the "
                             "galaxies' observed redshifts")
        return np.broadcast_to(np.asarray(z, dtype=float), shape)

    def _absolute_cut(self, mag, z, cosmology, color_gr) -> np.ndarray:
        """M_r - 5 log h < abs_mag_limit for galaxies with 0 < z <= galaxy_z_max."""
        if cosmology is None:
            raise InputError(f"survey {self.name!r} selects on absolute magnitude: give the "
                             "cosmology of the distances")
        if np.isnan(mag).any():
            raise InputError(
                f"survey {self.name!r} selects M_r - 5 log h < {self.abs_mag_limit}, but "
                f"{int(np.isnan(mag).sum())} galaxies have no magnitude: give mag_r, or, if "
                f"the table is already cut by this survey, say so (infer --selected, header "
                f"keyword {SELECTED_KEYWORD} = '{self.name}', or already_cut=True)")
        colour = np.full(mag.shape, REFERENCE_COLOR_GR)
        if color_gr is not None:
            colour = np.where(np.isfinite(color_gr), color_gr, REFERENCE_COLOR_GR)
        inside = np.isfinite(mag) & (z > 0) & (z <= self.galaxy_z_max + _Z_SLACK)
        keep = np.zeros(mag.shape, bool)
        keep[inside] = absolute_magnitude(mag[inside], z[inside], cosmology,
                                          colour[inside]) < self.abs_mag_limit
        return keep

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
        return dataclass_from_dict(cls, data, f"survey config {source}")


def selection_applied(meta, survey: SurveyConfig) -> bool:
    """True when a table's header ``meta`` declares it already cut by ``survey``
    (keyword :data:`SELECTED_KEYWORD` equal to the survey's name)."""
    return str(meta.get(SELECTED_KEYWORD, "")).strip() == survey.name


def load_survey(name_or_path: str | Path = DEFAULT_SURVEY) -> SurveyConfig:
    """Read a survey config: a shipped name (e.g. ``sdss_legacy``) or a TOML file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = shipped("survey", path) or SURVEYS / f"{name_or_path}.toml"
    if not path.exists():
        names = sorted(p.stem for p in SURVEYS.glob("*.toml"))
        raise InputError(f"no survey config {name_or_path!r}: give a TOML file or one of the "
                         f"shipped surveys {names}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"survey config {path} is not valid TOML: {exc}") from exc
    return SurveyConfig.from_dict(data, source=str(path))
