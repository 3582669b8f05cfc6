"""Halo formulas shared by the synthetic universe, the simulation readers, the checks and
the models: R200c, V200c, the NFW enclosed-mass factor, E(z) and the M-sigma power law
(with the Evrard et al. 2008 dark-matter relation).

The M-sigma form (Deep Sets paper, eq. 1; Ho et al. 2019) is log10 sigma = A log10(E(z)
M200c) + B with M200c in h^-1 Msun and E(z) = H(z)/H0, the self-similar redshift scaling of
Evrard et al. (2008), whose dark-matter relation sigma = 1082.9 km/s (h(z) M200c /
1e15 Msun)^0.3361 (their eq. 1 and table 3) is the same form with A = 0.3361,
B = log10(1082.9) - 15 A.

Masses M200c [h^-1 Msun], radii comoving [h^-1 Mpc], velocities [km/s]. R200c uses the
astropy cosmology passed in (no global state); colossus is not used because it has no
massive neutrinos and keeps a process-wide current cosmology.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.constants import G

from surveymass.config import dataclass_from_dict

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: G [(km/s)^2 Mpc / Msun]; with M in h^-1 Msun and R in h^-1 Mpc the h cancel in G M / R.
G_KMS2_MPC_MSUN: float = G.to_value(u.km ** 2 / u.s ** 2 * u.Mpc / u.Msun)
#: Evrard et al. (2008) dark-matter velocity dispersion relation: sigma_15 [km/s], slope.
EVRARD_SIGMA_15 = 1082.9
EVRARD_SLOPE = 0.3361


def r200c(m200c: np.ndarray, redshift: float, cosmology: FLRW) -> np.ndarray:
    """Comoving R200c [h^-1 Mpc] of M200c [h^-1 Msun] at ``redshift``:
    (3 M200c / (4 pi 200 rho_c(z)))^(1/3) (1 + z), rho_c(z) [h^2 Msun / Mpc^3] from astropy."""
    rho_c = cosmology.critical_density(redshift).to_value(u.Msun / u.Mpc ** 3) / cosmology.h ** 2
    r_physical = (3.0 * np.asarray(m200c, dtype=np.float64)
                  / (4.0 * np.pi * 200.0 * rho_c)) ** (1.0 / 3.0)
    return r_physical * (1.0 + np.asarray(redshift, dtype=np.float64))


def v200c(m200c: np.ndarray, r200c_comoving: np.ndarray, redshift: float) -> np.ndarray:
    """Circular velocity at R200c [km/s]: sqrt(G M200c / R200c,physical), for M200c
    [h^-1 Msun] and comoving R200c [h^-1 Mpc]."""
    return np.sqrt(G_KMS2_MPC_MSUN * np.asarray(m200c, dtype=np.float64)
                   * (1.0 + np.asarray(redshift, dtype=np.float64))
                   / np.asarray(r200c_comoving, dtype=np.float64))


def nfw_mass_factor(c: np.ndarray) -> np.ndarray:
    """m(c) = ln(1 + c) - c / (1 + c): the NFW mass inside c scale radii in units of
    4 pi rho_s r_s^3 (dimensionless)."""
    c = np.asarray(c, dtype=np.float64)
    return np.log1p(c) - c / (1.0 + c)


def nfw_radius_ratio(concentration, redshift: float, mdef_in: str, mdef_out: str
                     ) -> np.ndarray:
    """R_out / R_in of NFW halos of concentration c = R_in / r_s in the colossus mass
    definition ``mdef_in``, moved to ``mdef_out`` ("200c", "200m", "vir": Bryan & Norman
    1998, ...) at ``redshift``, in colossus' current cosmology (set it with
    :func:`surveymass.cosmology.colossus_cosmology`): x solves
    m(c x) / m(c) / x^3 = Delta_out / Delta_in (m: :func:`nfw_mass_factor`), tabulated in c
    (0.5-60; x to 0.001 over 0.3-3.5) once per redshift, pair and cosmology: what colossus'
    changeMassDefinition solves halo by halo. With :func:`nfw_mass_in_definition`, the one
    mass-definition conversion of the package (synthetic universe, readers, checks)."""
    from colossus.cosmology import cosmology

    table_c, table_x = _radius_ratio_table(float(redshift), mdef_in, mdef_out,
                                           cosmology.getCurrent().name)
    return np.interp(concentration, table_c, table_x)


def nfw_mass_in_definition(mass, concentration, redshift: float, mdef_in: str,
                           mdef_out: str) -> np.ndarray:
    """Mass [h^-1 Msun] in ``mdef_out`` of NFW halos of ``mass`` and concentration in
    ``mdef_in`` (:func:`nfw_radius_ratio`); the concentration there is c x."""
    c = np.asarray(concentration, float)
    x = nfw_radius_ratio(c, redshift, mdef_in, mdef_out)
    return np.asarray(mass, float) * nfw_mass_factor(c * x) / nfw_mass_factor(c)


@functools.lru_cache(maxsize=32)
def _radius_ratio_table(redshift: float, mdef_in: str, mdef_out: str,
                        cosmology_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(c, R_out / R_in) of :func:`nfw_radius_ratio` on a grid of c."""
    from colossus.halo import mass_so

    target = (mass_so.densityThreshold(redshift, mdef_out)
              / mass_so.densityThreshold(redshift, mdef_in))
    table_c = np.linspace(0.5, 60.0, 600)
    x = np.linspace(0.3, 3.5, 3201)
    mean_density = (nfw_mass_factor(table_c[:, None] * x[None, :])
                    / nfw_mass_factor(table_c)[:, None] / x ** 3)
    return table_c, x[np.argmin(np.abs(mean_density - target), axis=1)]


def log10_ez(z: np.ndarray, cosmology: FLRW) -> np.ndarray:
    """log10 E(z) = log10 H(z)/H0."""
    return np.log10(cosmology.efunc(np.asarray(z, float)))


@dataclass(frozen=True)
class MSigmaRelation:
    """log10 sigma = slope log10(E(z) M200c) + intercept; ``scatter`` [dex in sigma] is
    the rms residual of the fit; ``estimator`` names the dispersion estimator."""

    slope: float
    intercept: float
    scatter: float = 0.0
    estimator: str = "gapper"

    def log10_sigma(self, log10_m200c, z, cosmology: FLRW) -> np.ndarray:
        """Predicted log10 sigma [km/s] for log10 M200c [h^-1 Msun] at redshift z."""
        return self.slope * (np.asarray(log10_m200c) + log10_ez(z, cosmology)) + self.intercept

    def log10_mass(self, sigma, z, cosmology: FLRW) -> np.ndarray:
        """log10 M_sigma [h^-1 Msun], the inverse of the relation at redshift z."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((np.log10(sigma) - self.intercept) / self.slope
                    - log10_ez(z, cosmology))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MSigmaRelation:
        return dataclass_from_dict(cls, data, "M-sigma relation")


def evrard2008() -> MSigmaRelation:
    """Evrard et al. (2008) dark-matter relation in this module's form (M in h^-1 Msun)."""
    return MSigmaRelation(slope=EVRARD_SLOPE,
                          intercept=np.log10(EVRARD_SIGMA_15) - 15 * EVRARD_SLOPE,
                          estimator="dark matter")
