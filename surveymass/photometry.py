"""Photometry: distance modulus, r-band K-correction, the survey's limiting absolute magnitude
and the Schechter luminosity function.

Conventions (docs/architecture.md): absolute magnitudes are M_r - 5 log10 h in the r band
shifted to z = 0.1 (Blanton et al. 2003, AJ 125, 2348), so that with distances in
h^-1 Mpc the distance modulus carries no h: m = M + 5 log10(D_L / h^-1 Mpc) + 25 + K(z).

K-corrections are the polynomial fits of Chilingarian, Melchior & Zolotukhin (2010,
MNRAS 405, 1409) in the updated form of Chilingarian & Zolotukhin (2012, MNRAS 419, 1727;
the coefficients of the "K-corrections calculator", kcor.sai.msu.ru):
K(z, c) = sum_ij a_ij z^i c^j, with c the *observed* g - r colour (fitted for z < 0.5;
used here for z <= 0.3, see :func:`observed_color_gr`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.polynomial.polynomial import polyval2d

from surveymass.cosmology import distance_table
from surveymass.errors import InputError

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: a_ij of K(z, g - r) for SDSS r and g (Chilingarian & Zolotukhin 2012; row i: power of z,
#: column j: power of the observed g - r colour).
_KCOR_R_GR = np.array([
    [0.0, 0.0, 0.0, 0.0],
    [1.83285, -2.71446, 4.97336, -3.66864],
    [-19.7595, 10.5033, 18.8196, 6.07785],
    [33.6059, -120.713, -49.299, 0.0],
    [144.371, 216.453, 0.0, 0.0],
    [-295.39, 0.0, 0.0, 0.0],
])
_KCOR_G_GR = np.array([
    [0.0, 0.0, 0.0, 0.0],
    [-2.45204, 4.10188, 10.5258, -13.5889],
    [56.7969, -140.913, 144.572, 57.2155],
    [-466.949, 222.789, -917.46, -78.0591],
    [2906.77, 1500.8, 1689.97, 30.889],
    [-10453.7, -4419.56, -1011.01, 0.0],
    [17568.0, 3236.68, 0.0, 0.0],
    [-10820.7, 0.0, 0.0, 0.0],
])
_KCOR = {"r": _KCOR_R_GR, "g": _KCOR_G_GR}

#: Bandpass shift of the absolute magnitudes (the ^{0.1}r band of Blanton et al. 2003).
BAND_SHIFT = 0.1

#: Rest-frame g - r of the galaxy whose limiting magnitude :func:`absolute_magnitude_limit`
#: reports: a red-sequence galaxy, the bulk of cluster members.
REFERENCE_COLOR_GR = 0.75

#: K-corrections are used for z <= 0.3, where the colour inversion is monotonic.
Z_MAX_KCORRECTION = 0.3
_COLOR_OBS_RANGE = (-0.5, 2.5)
_Z_MAX_DISTANCE = 1.0


def k_correction_chilingarian(band: str, z, color_gr_obs) -> np.ndarray:
    """K-correction [mag] to the rest-frame (z = 0) SDSS ``band`` ('g' or 'r') at redshift
    ``z`` for observed colour g - r (Chilingarian & Zolotukhin 2012 polynomial)."""
    if band not in _KCOR:
        raise InputError(f"no K-correction for band {band!r}; available: {sorted(_KCOR)}")
    z, color = np.broadcast_arrays(np.asarray(z, float), np.asarray(color_gr_obs, float))
    return polyval2d(z, color, _KCOR[band])


def observed_color_gr(z, color_gr_rest) -> np.ndarray:
    """Observed g - r at redshift ``z`` (0 <= z <= 0.3) of a galaxy with rest-frame g - r
    ``color_gr_rest``: the root of c_obs - K_g(z, c_obs) + K_r(z, c_obs) = c_rest.

    For z <= 0.3 the left side increases monotonically with c_obs in [-0.5, 2.5], so
    bisection finds the root (to 1e-6 mag); rest-frame colours outside the range this
    interval maps to are clipped to it.
    """
    z, rest = np.broadcast_arrays(np.asarray(z, float), np.asarray(color_gr_rest, float))
    lo, hi = np.full(z.shape, _COLOR_OBS_RANGE[0]), np.full(z.shape, _COLOR_OBS_RANGE[1])
    for _ in range(22):
        mid = 0.5 * (lo + hi)
        rest_mid = (mid - k_correction_chilingarian("g", z, mid)
                    + k_correction_chilingarian("r", z, mid))
        below = rest_mid < rest
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def k_correction_r(z, color_gr_rest, band_shift: float = BAND_SHIFT) -> np.ndarray:
    """K-correction [mag] of observed SDSS r to the r band shifted to ``band_shift``.

    m = M_shifted + DM + K. With M_shifted = M_0 + K_0(band_shift) + 2.5 log10(1 + band_shift)
    (the definition of a shifted band), K(z) = K_0(z) - K_0(band_shift) - 2.5 log10(1 +
    band_shift), where K_0 is the rest-frame correction at the galaxy's observed colour.
    At z = band_shift it equals -2.5 log10(1 + band_shift) for every colour.
    """
    z = np.asarray(z, float)
    if np.any((z < 0) | (z > Z_MAX_KCORRECTION)):
        raise InputError(f"K-corrections are used for 0 <= z <= {Z_MAX_KCORRECTION}; got z in "
                         f"[{z.min():g}, {z.max():g}]")
    k_z = k_correction_chilingarian("r", z, observed_color_gr(z, color_gr_rest))
    if band_shift == 0:
        return k_z
    k_shift = k_correction_chilingarian("r", band_shift,
                                        observed_color_gr(band_shift, color_gr_rest))
    return k_z - k_shift - 2.5 * np.log10(1.0 + band_shift)


# K(z, c_rest) of k_correction_r tabulated for mocks (millions of galaxies); a grid of
# dz = 0.001 and dc = 0.01 reproduces the polynomial to better than 1e-4 mag.
_K_GRID_Z = np.linspace(0.0, Z_MAX_KCORRECTION, 501)
_K_GRID_COLOR = np.linspace(-0.5, 1.5, 201)
_K_TABLE: list = []


def k_correction_r_tabulated(z, color_gr_rest) -> np.ndarray:
    """:func:`k_correction_r` (band shift 0.1) by bilinear interpolation in a table:
    the same numbers to < 1e-4 mag, ~50 times faster; colours are clipped to [-0.5, 1.5]."""
    if not _K_TABLE:
        from scipy.interpolate import RegularGridInterpolator  # slow import; mocks only

        zz, cc = np.meshgrid(_K_GRID_Z, _K_GRID_COLOR, indexing="ij")
        _K_TABLE.append(RegularGridInterpolator((_K_GRID_Z, _K_GRID_COLOR),
                                                k_correction_r(zz, cc)))
    z, colour = np.broadcast_arrays(np.asarray(z, float), np.asarray(color_gr_rest, float))
    if np.any((z < 0) | (z > Z_MAX_KCORRECTION)):
        raise InputError(f"K-corrections are used for 0 <= z <= {Z_MAX_KCORRECTION}; got z in "
                         f"[{z.min():g}, {z.max():g}]")
    points = np.stack([z.ravel(), np.clip(colour.ravel(), -0.5, 1.5)], axis=-1)
    return _K_TABLE[0](points).reshape(z.shape)


def distance_modulus_from_distance(d_m, z) -> np.ndarray:
    """Distance modulus with h absorbed, 5 log10(D_L / h^-1 Mpc) + 25, for transverse
    comoving distance ``d_m`` [h^-1 Mpc] and redshift ``z`` (D_L = (1 + z) D_M)."""
    d_m = np.asarray(d_m, float)
    if np.any(d_m <= 0):
        raise InputError("distances must be positive to give a distance modulus")
    return 5.0 * np.log10((1.0 + np.asarray(z, float)) * d_m) + 25.0


def transverse_distance(z, cosmology: FLRW) -> np.ndarray:
    """D_M(z) [h^-1 Mpc] for 0 <= z <= 1, from the cached
    :func:`surveymass.cosmology.distance_table` (InputError outside)."""
    return distance_table(cosmology, z_max=_Z_MAX_DISTANCE).transverse_distance(z)


def distance_modulus(z, cosmology: FLRW) -> np.ndarray:
    """Distance modulus with h absorbed [mag] at redshift ``z`` (0 < z <= 1):
    m - (M - 5 log10 h) without K-correction."""
    z = np.asarray(z, float)
    if np.any((z <= 0) | (z > _Z_MAX_DISTANCE)):
        raise InputError(f"distance modulus needs 0 < z <= {_Z_MAX_DISTANCE}")
    return distance_modulus_from_distance(transverse_distance(z, cosmology), z)


def apparent_magnitude(abs_mag, z_obs, d_m, color_gr_rest) -> np.ndarray:
    """Apparent r magnitude of galaxies with absolute magnitude ``abs_mag`` (M_r - 5 log10 h,
    ^{0.1}r), observed redshift ``z_obs``, transverse comoving distance ``d_m`` [h^-1 Mpc]
    and rest-frame g - r. D_L = (1 + z_obs) D_M(z_cos): the (1 + z_obs) factor neglects a
    (1 + v_pec/c) term, below 0.02 mag for |v_pec| < 3000 km/s."""
    return (np.asarray(abs_mag, float) + distance_modulus_from_distance(d_m, z_obs)
            + k_correction_r_tabulated(z_obs, color_gr_rest))


def absolute_magnitude(mag, z_obs, cosmology: FLRW,
                       color_gr_rest=REFERENCE_COLOR_GR) -> np.ndarray:
    """Absolute magnitude M_r - 5 log10 h (^{0.1}r) of galaxies of apparent r magnitude
    ``mag`` at observed redshift ``z_obs`` (0 < z <= 0.3) and rest-frame g - r, with
    D_L = (1 + z_obs) D_M(z_obs), as a survey without peculiar-velocity corrections
    computes it; inverse of :func:`apparent_magnitude` when v_pec = 0."""
    return (np.asarray(mag, float) - distance_modulus(z_obs, cosmology)
            - k_correction_r_tabulated(z_obs, color_gr_rest))


def absolute_magnitude_limit(z, survey, cosmology: FLRW,
                             color_gr: float = REFERENCE_COLOR_GR) -> np.ndarray:
    """Faintest absolute magnitude M_r - 5 log10 h (^{0.1}r) that ``survey`` (a
    :class:`~surveymass.survey.SurveyConfig`) observes at redshift ``z`` for a galaxy of
    rest-frame colour ``color_gr``: from the apparent limit, and no fainter than the
    survey's absolute limit when it has one. Used by the mocks and, as a field feature,
    by inference."""
    limit = survey.mag_limit - distance_modulus(z, cosmology) - k_correction_r(z, color_gr)
    if survey.abs_mag_limit is not None:
        limit = np.minimum(limit, survey.abs_mag_limit)
    return limit


def schechter_magnitudes(mags, phi_star: float, m_star: float, alpha: float) -> np.ndarray:
    """Schechter luminosity function per magnitude [h^3 Mpc^-3 mag^-1] at absolute
    magnitudes ``mags`` (Blanton et al. 2003's form): 0.4 ln 10 phi* x^(alpha + 1) e^-x,
    x = 10^(-0.4 (M - M*))."""
    x = 10 ** (-0.4 * (np.asarray(mags) - m_star))
    return 0.4 * np.log(10.0) * phi_star * x ** (alpha + 1) * np.exp(-x)
