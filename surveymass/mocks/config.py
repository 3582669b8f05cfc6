"""The settings of mock observations and training sets: light dataclasses (numpy, the
aperture and the galaxy-halo prior only), so that the command line can show them as its
defaults without importing the mock machinery."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from surveymass.errors import InputError
from surveymass.phasespace import SETUPS, Aperture
from surveymass.universe.synthetic.nuisance import GalaxyHaloPrior


@dataclass(frozen=True)
class MassBins:
    """Bins in log10 M200c [h^-1 Msun] over which the training set is flat.

    The range is the prior of the trained posterior. At the top it stops at 15.2 (the papers
    go to 15.3 with Uchuu, 8 h^-3 Gpc^3): the default synthetic universe (1 h^-3 Gpc^3)
    holds 23 halos in 15.0-15.1 and 14 in 15.1-15.2 (filled with up to 400 lines of sight
    each) but only 4 in 15.2-15.3; 0.2 dex beyond 15 keeps the posterior of a 10^15 cluster
    off the edge of its prior. At the bottom it starts 1.2 dex below the masses the models
    are judged at (10^14-10^15): a calibrated posterior pulls the lowest bins up (+0.09 to
    +0.14 dex in the first), and the fields just above pay for it with a dip of -0.01 to
    -0.03 dex over the next ~0.7 dex. With the range starting at 13.5 that dip sat on
    10^14 (-0.023 dex at 14.0-14.1); from 12.8 it lies below 10^14 (docs/models.md)."""

    log_min: float = 12.8
    log_max: float = 15.2
    width: float = 0.1

    def __post_init__(self) -> None:
        if not (self.log_max > self.log_min and self.width > 0):
            raise InputError(f"invalid mass range {self.log_min}-{self.log_max} "
                             f"(bin width {self.width}): need log_max > log_min, width > 0")
        n = (self.log_max - self.log_min) / self.width
        if abs(n - round(n)) > 1e-6:
            raise InputError(f"the mass range {self.log_min}-{self.log_max} is not a whole "
                             f"number of {self.width}-dex bins")

    @property
    def edges(self) -> np.ndarray:
        n = round((self.log_max - self.log_min) / self.width)
        return np.linspace(self.log_min, self.log_max, n + 1)

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    def index(self, log_mass: np.ndarray) -> np.ndarray:
        """Bin index of each mass; -1 outside the range."""
        idx = np.searchsorted(self.edges, log_mass, side="right") - 1
        idx[(log_mass < self.log_min) | (log_mass >= self.log_max)] = -1
        return idx


@dataclass(frozen=True)
class MockConfig:
    """How mock fields are made.

    setup: "cylindrical" (all galaxies in the aperture) or "idealised" (members only);
    aperture: the phase-space cut and minimum richness; velocity_margin_kms: window beyond
    ``aperture.v_max`` gathered so that peculiar velocities up to this can scatter galaxies
    into the aperture [km/s]; fibre_collisions, footprint: apply the survey's fibre
    collisions and footprint completeness; galaxy_halo: the galaxy-halo nuisance prior
    with which each field repaints its target halo's satellites (None: the universe's
    galaxies as they are).
    """

    setup: str = "cylindrical"
    aperture: Aperture = field(default_factory=Aperture)
    velocity_margin_kms: float = 2500.0
    fibre_collisions: bool = True
    footprint: bool = False
    galaxy_halo: GalaxyHaloPrior | None = None

    def __post_init__(self) -> None:
        if self.setup not in SETUPS:
            raise InputError(f"unknown setup {self.setup!r}; choose one of {SETUPS}")
        if self.velocity_margin_kms < 0:
            raise InputError("velocity_margin_kms must be >= 0")
        if self.galaxy_halo is not None and not isinstance(self.galaxy_halo, GalaxyHaloPrior):
            raise InputError("galaxy_halo must be a GalaxyHaloPrior or None")

    def to_dict(self) -> dict:
        return {"setup": self.setup, "r_max": self.aperture.r_max,
                "v_max": self.aperture.v_max, "min_galaxies": self.aperture.min_galaxies,
                "velocity_margin_kms": self.velocity_margin_kms,
                "fibre_collisions": self.fibre_collisions, "footprint": self.footprint,
                "galaxy_halo": self.galaxy_halo.to_dict() if self.galaxy_halo else None}


@dataclass(frozen=True)
class TrainingSetConfig:
    """Size and sampling of a training set.

    n_fields: fields flat in mass over train + val + test (default: 2942 per 0.1-dex bin
    of the default 12.8-15.2); bins: the mass range and bins [log10 h^-1 Msun]; max_los:
    cap on lines of sight per halo; fractions: (train, val, test) share of the halos of
    each mass bin; n_natural: fields of the natural-mass-function test split (default: as
    many as the flat test split); seed: master seed.
    """

    n_fields: int = 70_608
    bins: MassBins = field(default_factory=MassBins)
    max_los: int = 400
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    n_natural: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_fields < self.bins.n_bins:
            raise InputError(f"n_fields={self.n_fields} is fewer than the {self.bins.n_bins} "
                             "mass bins: ask for more fields or use wider bins")
        if self.max_los < 1:
            raise InputError(f"max_los must be at least 1, got {self.max_los}")
        if self.n_natural is not None and self.n_natural < 0:
            raise InputError(f"n_natural must be >= 0, got {self.n_natural}")

    @property
    def natural_fields(self) -> int:
        """Fields of the natural-mass-function test split: ``n_natural``, or as many as the
        flat test split when it is None."""
        if self.n_natural is None:
            return round(self.n_fields * self.fractions[2])
        return self.n_natural

    @property
    def per_bin(self) -> int:
        return math.ceil(self.n_fields / self.bins.n_bins)

    def to_dict(self) -> dict:
        return {"n_fields": self.n_fields, "per_bin": self.per_bin,
                "log10_m200c_min": self.bins.log_min, "log10_m200c_max": self.bins.log_max,
                "bin_width": self.bins.width, "max_los": self.max_los,
                "fractions": list(self.fractions), "n_natural": self.n_natural,
                "seed": self.seed}
