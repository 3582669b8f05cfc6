"""Halo formulas shared by the synthetic universe, the simulation readers and the checks:
R200c, V200c and the NFW enclosed-mass factor.

Masses M200c [h^-1 Msun], radii comoving [h^-1 Mpc], velocities [km/s]. R200c uses the
astropy cosmology passed in (no global state); colossus is not used because it has no
massive neutrinos and keeps a process-wide current cosmology.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.constants import G

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: G [(km/s)^2 Mpc / Msun]; with M in h^-1 Msun and R in h^-1 Mpc the h cancel in G M / R.
G_KMS2_MPC_MSUN: float = G.to_value(u.km ** 2 / u.s ** 2 * u.Mpc / u.Msun)


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
