"""Sky to projected phase space: the one conversion used for real data and mocks alike.

Conventions (docs/architecture.md, "Units and conventions"):

* projected positions are comoving h^-1 Mpc at the cluster redshift, from the exact
  gnomonic (tangent-plane) projection about the cluster centre: x = xi D_M(z_cl),
  y = eta D_M(z_cl), with xi towards increasing RA (east) and eta towards north;
* line-of-sight velocities are rest-frame km/s, v_los = c (z - z_cl) / (1 + z_cl)
  (:func:`los_velocity`; inverse :func:`redshift_at_velocity`);
* mock observed redshifts are (1 + z_obs) = (1 + z_cos)(1 + v_pec,los / c)
  (:func:`observed_redshift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from surveymass.cosmology import C_KMS, transverse_comoving_distance
from surveymass.errors import InputError

if TYPE_CHECKING:
    from astropy.cosmology import FLRW


@dataclass(frozen=True)
class PhaseSpace:
    """Projected phase-space coordinates of galaxies around a cluster.

    x, y, r: comoving h^-1 Mpc in the tangent plane (x east, y north); v_los: km/s.
    """

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    v_los: np.ndarray


#: Fewest galaxies an aperture may require of a field (Aperture.min_galaxies).
MIN_APERTURE_GALAXIES = 3


#: What a field holds: every galaxy of the aperture (``cylindrical``, as real data) or only
#: the target halo's members in it (``idealised``, mocks only).
SETUPS = ("cylindrical", "idealised")


@dataclass(frozen=True)
class Aperture:
    """The cylinder in phase space that defines a cluster field.

    r_max: projected radius [comoving h^-1 Mpc]; v_max: |v_los| limit [km/s];
    min_galaxies: fewest galaxies a usable field holds, at least MIN_APERTURE_GALAXIES (a
    velocity dispersion needs several galaxies). Defaults follow Ho et al. (2019) and the
    Deep Sets paper (1.6 h^-1 Mpc, 2200 km/s, 10 galaxies).
    """

    r_max: float = 1.6
    v_max: float = 2200.0
    min_galaxies: int = 10

    def __post_init__(self) -> None:
        if not (self.r_max > 0 and self.v_max > 0
                and self.min_galaxies >= MIN_APERTURE_GALAXIES):
            raise InputError(f"invalid aperture {self}: r_max and v_max must be positive "
                             f"and min_galaxies at least {MIN_APERTURE_GALAXIES} (a velocity "
                             "dispersion needs several galaxies)")

    def contains(self, ps: PhaseSpace) -> np.ndarray:
        """Boolean mask of the galaxies inside the cylinder."""
        return (ps.r < self.r_max) & (np.abs(ps.v_los) < self.v_max)


def los_velocity(z: np.ndarray, z_cl: np.ndarray | float) -> np.ndarray:
    """Rest-frame line-of-sight velocity [km/s] of redshift ``z`` relative to ``z_cl``."""
    return C_KMS * (np.asarray(z, float) - z_cl) / (1.0 + np.asarray(z_cl, float))


def redshift_at_velocity(v_los: np.ndarray, z_cl: np.ndarray | float) -> np.ndarray:
    """Observed redshift whose :func:`los_velocity` [km/s] about ``z_cl`` is ``v_los``:
    z = z_cl + v_los (1 + z_cl) / c (the exact inverse)."""
    z_cl = np.asarray(z_cl, float)
    return z_cl + np.asarray(v_los, float) * (1.0 + z_cl) / C_KMS


def observed_redshift(z_cos: np.ndarray, v_pec_los: np.ndarray) -> np.ndarray:
    """Mock observed redshift of a cosmological redshift ``z_cos`` and a peculiar
    line-of-sight velocity ``v_pec_los`` [km/s, positive away]: (1 + z_obs) =
    (1 + z_cos)(1 + v_pec_los / c)."""
    return (1.0 + np.asarray(z_cos, float)) * (1.0 + np.asarray(v_pec_los, float) / C_KMS) - 1.0


def tangent_plane(ra: np.ndarray, dec: np.ndarray, ra0: np.ndarray | float,
                  dec0: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic standard coordinates (xi, eta) [radians] of (ra, dec) about (ra0, dec0).

    All angles in degrees; xi grows towards east (increasing RA), eta towards north.
    Points 90 degrees or more from the centre have no gnomonic image and give NaN.
    Valid across RA = 0/360 and near the poles (the formula uses only sines and cosines).
    """
    a, d = np.radians(ra), np.radians(dec)
    a0, d0 = np.radians(ra0), np.radians(dec0)
    cos_c = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(cos_c > 0, 1.0 / cos_c, np.nan)
    xi = np.cos(d) * np.sin(a - a0) * inv
    eta = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(a - a0)) * inv
    return xi, eta


def _validated(name: str, values, lo: float, hi: float) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if np.any(bad):
        first = arr.ravel()[np.argmax(bad.ravel())]
        raise InputError(f"{name} must be finite and within [{lo}, {hi}]; "
                         f"{int(bad.sum())} value(s) are not (first: {first}). "
                         "Drop or fix those rows before converting to phase space.")
    return arr


def angular_radius(r, z_cl, cosmology: FLRW) -> np.ndarray:
    """Angle [rad] from the centre of a point at projected comoving radius ``r``
    [h^-1 Mpc] about a cluster at redshift ``z_cl``, in the tangent-plane projection of
    :func:`sky_to_phase_space`: arctan(r / D_M(z_cl))."""
    return np.arctan(np.asarray(r, float)
                     / transverse_comoving_distance(cosmology, np.asarray(z_cl, float)))


def sky_to_phase_space(ra, dec, z, ra_cl, dec_cl, z_cl, cosmology: FLRW) -> PhaseSpace:
    """Projected phase space of galaxies (ra, dec [deg], z) about a cluster.

    ``ra_cl, dec_cl, z_cl`` are scalars or arrays broadcastable to the galaxies (one
    cluster per galaxy, for batches). Distances use ``cosmology``'s transverse comoving
    distance at the cluster redshift, in h^-1 Mpc.
    """
    ra = _validated("ra", ra, -360.0, 720.0)
    dec = _validated("dec", dec, -90.0, 90.0)
    z = _validated("z", z, -0.1, 20.0)
    ra_cl = _validated("cluster ra", ra_cl, -360.0, 720.0)
    dec_cl = _validated("cluster dec", dec_cl, -90.0, 90.0)
    z_cl = _validated("cluster redshift", z_cl, 1e-5, 20.0)
    xi, eta = tangent_plane(ra, dec, ra_cl, dec_cl)
    # one distance integral per distinct cluster redshift, not per galaxy
    z_unique, index = np.unique(z_cl, return_inverse=True)
    d_m = transverse_comoving_distance(cosmology, z_unique)[index].reshape(z_cl.shape)
    x, y = xi * d_m, eta * d_m
    return PhaseSpace(x=x, y=y, r=np.hypot(x, y), v_los=los_velocity(z, z_cl))
