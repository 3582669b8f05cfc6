"""Mass-free summaries of cluster fields, computed by one function for real and mock fields.

A field is the galaxies a survey observes inside the aperture cylinder of one cluster,
given as their projected radius R [comoving h^-1 Mpc] and line-of-sight velocity v_los
[km/s] from :func:`surveymass.observe.observe_field` (the path of real catalogues
and of :class:`surveymass.mocks.FieldMaker` alike). From it :func:`summarise_fields` takes

* the richness N: every galaxy in the cylinder, interlopers included, without background
  subtraction (mock fields carry the same fore- and background, so the raw counts compare
  like with like and no noisy background estimate is added to either side);
* the dispersion sigma (:func:`surveymass.models.membership.gapper_dispersion`): the
  biweight scale of the v_los of the cylinder's members, the galaxies the shifting gapper
  keeps, NaN below ``MIN_SIGMA_GALAXIES`` members; the member count is ``n_members``;
* the radial profile (galaxies per R bin) and the phase-space counts (per (R, |v_los|) bin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from surveymass.errors import InputError
from surveymass.models.membership import gapper_dispersion
from surveymass.phasespace import Aperture

#: log10 N given to a field without galaxies (log N of the richness statistics).
LOG_N_EMPTY = float(np.log10(0.5))


@dataclass(frozen=True)
class Binning:
    """Bins of the profile (``r_edges`` [h^-1 Mpc]) and of the phase-space counts
    (``ps_r_edges`` [h^-1 Mpc] by ``v_edges`` [km/s] of |v_los|)."""

    r_edges: tuple = tuple(np.round(np.linspace(0.0, 1.6, 9), 3))
    ps_r_edges: tuple = (0.0, 0.4, 0.8, 1.2, 1.6)
    v_edges: tuple = (0.0, 550.0, 1100.0, 1650.0, 2200.0)

    @classmethod
    def for_aperture(cls, aperture: Aperture) -> "Binning":
        """Default bins stretched over ``aperture``."""
        return cls(r_edges=tuple(np.linspace(0.0, aperture.r_max, 9)),
                   ps_r_edges=tuple(np.linspace(0.0, aperture.r_max, 5)),
                   v_edges=tuple(np.linspace(0.0, aperture.v_max, 5)))


@dataclass
class FieldSummaries:
    """One row per field: richness ``n_galaxies``, member dispersion ``log_sigma`` (log10
    km/s, NaN when unmeasured) of ``n_members`` members, ``profile`` (n_fields, n_r) and
    ``phase_space`` (n_fields, n_r, n_v) counts; ``binning`` their bins."""

    n_galaxies: np.ndarray
    log_sigma: np.ndarray
    n_members: np.ndarray
    profile: np.ndarray
    phase_space: np.ndarray
    binning: Binning = field(default_factory=Binning)

    @property
    def log_n(self) -> np.ndarray:
        """log10 N (fields without galaxies at :data:`LOG_N_EMPTY`)."""
        return np.log10(np.maximum(self.n_galaxies, 10 ** LOG_N_EMPTY))

    def take(self, index) -> "FieldSummaries":
        return FieldSummaries(self.n_galaxies[index], self.log_sigma[index],
                              self.n_members[index], self.profile[index],
                              self.phase_space[index], self.binning)


def summarise_fields(radii: list[np.ndarray], velocities: list[np.ndarray],
                     binning: Binning = Binning()) -> FieldSummaries:
    """Summaries of fields given, per field, the R [h^-1 Mpc] and v_los [km/s] of the
    galaxies inside its aperture (the one measurement of real and mock fields)."""
    if len(radii) != len(velocities):
        raise InputError("give one array of radii and one of velocities per field")
    n = np.array([len(v) for v in velocities], dtype=int)
    log_sigma, n_members = gapper_dispersion(radii, velocities)
    profile = np.array([np.histogram(r, bins=binning.r_edges)[0] for r in radii],
                       dtype=float).reshape(len(n), len(binning.r_edges) - 1)
    phase = np.array([np.histogram2d(r, np.abs(v), bins=(binning.ps_r_edges,
                                                          binning.v_edges))[0]
                      for r, v in zip(radii, velocities)]).reshape(
        len(n), len(binning.ps_r_edges) - 1, len(binning.v_edges) - 1)
    return FieldSummaries(n, log_sigma, n_members, profile, phase, binning)
