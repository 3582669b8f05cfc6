"""Galaxies in halos: the conditional luminosity function, NFW satellites with isotropic
Jeans velocities, and red/blue colours.

CLF (Yang, Mo & van den Bosch 2003; parameterisation and numbers of Cacciato et al. 2009,
MNRAS 394, 929): one central per halo with log-normal luminosity around
L_c(M) = L0 (M/M1)^g1 / (1 + M/M1)^(g1 - g2), scatter sigma_c [dex]; satellites with
Phi_s(L|M) = phi_s*/L_s* (L/L_s*)^alpha_s exp(-(L/L_s*)^2), L_s* = 0.562 L_c,
log phi_s* = b0 + b1 log M12 + b2 (log M12)^2, M12 = M / 10^12 h^-1 Msun. M is the halo mass
in the CLF's own definition (``clf_mass_definition``, converted from M200c through the NFW
profile). Above the pivot mass M_p (``clf_pivot_mass``) the satellites follow the cluster
form: L_s* stays at its value at M_p and phi_s* grows as (M / M_p)^beta
(``clf_satellite_slope``); see :class:`~.config.SyntheticConfig` for the calibration.
Luminosities are h^-2 Lsun in the 0.1r band, M_r - 5 log h = 4.76 - 2.5 log10 L
(Blanton et al. 2003).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.special import lambertw, spence

from surveymass.halo import nfw_mass_factor, v200c
from surveymass.photometry import schechter_magnitudes
from surveymass.universe.synthetic.config import SyntheticConfig
from surveymass.universe.synthetic.halos import (
    mass_function_dndlnm,
    mass_in_definition,
    median_concentration,
    virial_radius_ratio,
)

# --- the conditional luminosity function -------------------------------------------------

def clf_mass(config: SyntheticConfig, m200c: np.ndarray,
             concentration: np.ndarray | None = None) -> np.ndarray:
    """Halo mass [h^-1 Msun] in the CLF's definition of halos of M200c and c200c (the mean
    concentration when none is given)."""
    if concentration is None:
        concentration = median_concentration(config, m200c)
    return mass_in_definition(config, m200c, concentration, config.clf_mass_definition)


def central_log_lum(config: SyntheticConfig, m_clf: np.ndarray) -> np.ndarray:
    """Median log10 L_c [h^-2 Lsun] of centrals in halos of CLF mass [h^-1 Msun]."""
    x = np.asarray(m_clf, float) / 10 ** config.clf_log_m1
    return (config.clf_log_l0 + config.clf_gamma1 * np.log10(x)
            - (config.clf_gamma1 - config.clf_gamma2) * np.log10(1.0 + x))


def satellite_log_lstar(config: SyntheticConfig, m_clf: np.ndarray) -> np.ndarray:
    """log10 L_s* [h^-2 Lsun]: 0.562 L_c, held at its pivot-mass value above the pivot."""
    return (np.log10(config.clf_satellite_l_ratio)
            + central_log_lum(config, np.minimum(m_clf, config.clf_pivot_mass)))


def satellite_phi_star(config: SyntheticConfig, m_clf: np.ndarray) -> np.ndarray:
    """Satellite CLF normalisation phi_s* (number per unit L / L_s*) of CLF mass
    [h^-1 Msun]: the Cacciato et al. quadratic up to the pivot, a power law above it."""
    m = np.asarray(m_clf, float)
    log_m12 = np.log10(np.minimum(m, config.clf_pivot_mass)) - 12.0
    log_phi = config.clf_b0 + config.clf_b1 * log_m12 + config.clf_b2 * log_m12 ** 2
    above = np.log10(np.maximum(m / config.clf_pivot_mass, 1.0))
    return 10 ** (log_phi + config.clf_satellite_slope * above)


def magnitude(config: SyntheticConfig, log_lum: np.ndarray) -> np.ndarray:
    """M_r - 5 log h of log10 L [h^-2 Lsun]."""
    return config.sun_abs_mag_r - 2.5 * np.asarray(log_lum)


def log_luminosity(config: SyntheticConfig, mag: np.ndarray) -> np.ndarray:
    """log10 L [h^-2 Lsun] of M_r - 5 log h."""
    return (config.sun_abs_mag_r - np.asarray(mag)) / 2.5


class SatelliteTail:
    """J(x) = int_x^inf t^alpha exp(-t^2) dt tabulated for the satellite luminosities
    x = L / L_s*, with its inverse (alpha < -1 diverges at 0, so no closed-form gamma)."""

    def __init__(self, alpha: float):
        self.log_x = np.linspace(-7.0, 1.0, 4001)
        x = 10 ** self.log_x
        integrand = x ** (alpha + 1) * np.exp(-x * x) * np.log(10.0)  # per dex
        steps = 0.5 * (integrand[1:] + integrand[:-1]) * np.diff(self.log_x)
        self.tail = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.interp(np.log10(x), self.log_x, self.tail)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """x with J(x) = values."""
        return 10 ** np.interp(values, self.tail[::-1], self.log_x[::-1])


def clf_magnitude_function(config: SyntheticConfig, mags: np.ndarray,
                           m_min: float = 1e9) -> tuple[np.ndarray, np.ndarray]:
    """Analytic LF of the CLF on the snapshot mass function: (all, centrals) per magnitude
    [h^3 Mpc^-3 mag^-1] at ``mags``, from halos above ``m_min`` (colossus cosmology set)."""
    log_m = np.arange(np.log10(m_min), np.log10(config.m_max), 0.005)
    dn = mass_function_dndlnm(config, 10 ** log_m) * np.log(10.0) * 0.005  # per bin
    m_clf = clf_mass(config, 10 ** log_m)
    log_l = log_luminosity(config, mags)[:, None]
    d = log_l - central_log_lum(config, m_clf)[None, :]
    cen_per_dex = np.exp(-0.5 * (d / config.clf_sigma_c) ** 2) \
        / (np.sqrt(2 * np.pi) * config.clf_sigma_c)
    y = np.minimum(10 ** (log_l - satellite_log_lstar(config, m_clf)[None, :]), 1e3)
    sat_per_dex = satellite_phi_star(config, m_clf) * y ** (config.clf_alpha_s + 1) \
        * np.exp(-y * y) * np.log(10.0)
    per_mag = 0.4  # dex of L per magnitude
    cen = cen_per_dex @ dn * per_mag
    return (cen_per_dex + sat_per_dex) @ dn * per_mag, cen


@dataclass(frozen=True)
class MagnitudeMap:
    """Monotone map from CLF magnitudes to magnitudes with the Blanton et al. (2003) LF:
    n_Blanton(< M_new) = n_CLF(< M_clf) (cumulative abundance matching). Identity when
    matching is off."""

    clf_mags: np.ndarray
    matched_mags: np.ndarray

    def __call__(self, clf_mags: np.ndarray) -> np.ndarray:
        return np.interp(clf_mags, self.clf_mags, self.matched_mags)

    def clf_limit(self, mag_limit: float) -> float:
        """The CLF magnitude that maps to ``mag_limit``."""
        return float(np.interp(mag_limit, self.matched_mags, self.clf_mags))


def magnitude_map(config: SyntheticConfig) -> MagnitudeMap:
    """The :class:`MagnitudeMap` of ``config`` (cumulative densities on a 0.01 mag grid)."""
    mags = np.arange(-25.0, config.mag_limit + 1.5, 0.01)
    if not config.match_blanton_lf:
        return MagnitudeMap(mags, mags)
    clf, _ = clf_magnitude_function(config, mags)
    target = schechter_magnitudes(mags, config.lf_phi_star, config.lf_m_star, config.lf_alpha)
    n_clf = cumulative_trapezoid(clf, mags, initial=0.0)
    n_target = cumulative_trapezoid(target, mags, initial=0.0)
    matched = np.interp(n_clf, n_target, mags)
    return MagnitudeMap(mags, np.maximum.accumulate(matched))


def derived_min_mass(config: SyntheticConfig, clf_mag_limit: float) -> float:
    """Lowest halo mass [h^-1 Msun] such that halos below it would host fewer than
    ``config.lost_fraction`` of the galaxies brighter than ``clf_mag_limit`` (CLF
    magnitudes)."""
    from scipy.stats import norm

    log_m = np.arange(8.0, 15.0, 0.01)
    dn = mass_function_dndlnm(config, 10 ** log_m) * np.log(10.0) * 0.01
    m = clf_mass(config, 10 ** log_m)
    log_l_min = log_luminosity(config, clf_mag_limit)
    n_cen = norm.sf((log_l_min - central_log_lum(config, m)) / config.clf_sigma_c)
    x_min = 10 ** (log_l_min - satellite_log_lstar(config, m))
    n_sat = satellite_phi_star(config, m) * SatelliteTail(config.clf_alpha_s)(x_min)
    per_bin = dn * (n_cen + n_sat)
    lost = np.cumsum(per_bin) / per_bin.sum()
    return float(10 ** log_m[np.searchsorted(lost, config.lost_fraction)])


# --- galaxies of a chunk of halos -----------------------------------------------------------

def satellite_extent(config: SyntheticConfig, concentration: np.ndarray) -> np.ndarray:
    """Outer radius of the satellites in units of R200c: R_vir / R200c (Bryan & Norman 1998,
    the halo boundary of Rockstar catalogues such as Uchuu) or 1 (``satellite_truncation``)."""
    c = np.asarray(concentration, float)
    if config.satellite_truncation == "vir":
        return virial_radius_ratio(config, c)
    return np.ones_like(c)


def nfw_radii(concentration: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Radii r / R200c drawn from NFW profiles truncated at R200c, by the exact inverse CDF
    with the Lambert W function (Robotham & Howlett 2018, RNAAS 2, 55)."""
    c = np.asarray(concentration, float)
    q = rng.random(c.size) * nfw_mass_factor(c)
    w = lambertw(-np.exp(-q - 1.0), k=0).real
    return (-1.0 / w - 1.0) / c


def jeans_sigma_r(s: np.ndarray, concentration: np.ndarray) -> np.ndarray:
    """Isotropic NFW radial velocity dispersion sigma_r / V200c at s = r / R200c
    (Lokas & Mamon 2001, MNRAS 321, 155, eq. 14)."""
    c = np.asarray(concentration, float)
    cs = np.maximum(np.asarray(s, float) * c, 1e-4)
    g = 1.0 / nfw_mass_factor(c)
    log1p_cs = np.log1p(cs)
    bracket = (np.pi ** 2 - np.log(cs) - 1.0 / cs - 1.0 / (1.0 + cs) ** 2 - 6.0 / (1.0 + cs)
               + (1.0 + 1.0 / cs ** 2 - 4.0 / cs - 2.0 / (1.0 + cs)) * log1p_cs
               + 3.0 * log1p_cs ** 2 + 6.0 * spence(1.0 + cs))  # spence(1 + x) = Li2(-x)
    sigma2 = 0.5 * c ** 2 * g * (cs / c) * (1.0 + cs) ** 2 * bracket
    return np.sqrt(np.maximum(sigma2, 0.0))


def anisotropic_jeans_table(concentration_ratio: float, beta: float
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(log10 y, F(y)) with sigma_r^2 / V200c^2 = (c / m(c)) F(c r / R200c) for satellites
    of NFW concentration q c (q = ``concentration_ratio``) and constant anisotropy ``beta``
    in an NFW halo of concentration c: the Jeans solution (Lokas & Mamon 2001, MNRAS 321,
    155, with beta constant), y = r / r_s of the dark matter, tracer nu(y) =
    1 / (q y (1 + q y)^2):
    F(y) = y^(-2 beta) / nu(y) int_y^inf nu(u) m(u) u^(2 beta - 2) du (trapezoid on a
    log grid from 1e-5 to 1e6)."""
    log_y = np.linspace(-5.0, 6.0, 4401)
    y = 10 ** log_y
    nu = 1.0 / (concentration_ratio * y * (1.0 + concentration_ratio * y) ** 2)
    per_ln = nu * nfw_mass_factor(y) * y ** (2 * beta - 1)  # integrand times u (d ln u)
    steps = 0.5 * (per_ln[1:] + per_ln[:-1]) * np.diff(log_y) * np.log(10.0)
    outer = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])
    return log_y, outer / (nu * y ** (2 * beta))


def satellite_sigma_r(config: SyntheticConfig, s: np.ndarray, extent: np.ndarray,
                      concentration: np.ndarray, v200: np.ndarray) -> np.ndarray:
    """Radial velocity dispersion [km/s] of satellites at s = r / R_out (R_out = ``extent``
    R200c) in hosts of NFW ``concentration`` and V200c ``v200`` [km/s]: the closed-form
    isotropic solution in units of V_out = V200c sqrt(m(c x) / (m(c) x)) when the
    satellites trace the dark matter (:func:`jeans_sigma_r`), else the numerical Jeans
    solution for the config's concentration ratio and constant anisotropy
    (:func:`anisotropic_jeans_table`). Both vanish at infinity, not at R_out."""
    c, x = np.asarray(concentration, float), np.asarray(extent, float)
    q, beta = config.satellite_concentration_ratio, config.satellite_anisotropy
    if q == 1.0 and beta == 0.0:
        return jeans_sigma_r(s, c * x) * (v200 * np.sqrt(nfw_mass_factor(c * x) / nfw_mass_factor(c) / x))
    log_y, table = anisotropic_jeans_table(q, beta)
    y = np.clip(np.asarray(s, float) * x * c, 10 ** log_y[0], 10 ** log_y[-1])
    return v200 * np.sqrt(c / nfw_mass_factor(c) * np.interp(np.log10(y), log_y, table))


def orbital_velocities(sigma_r: np.ndarray, directions: np.ndarray, beta: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Gaussian velocities [units of sigma_r] of satellites at radial unit vectors
    ``directions``: sigma_r along them, sigma_r sqrt(1 - beta) across (constant
    anisotropy beta; beta = 0 is isotropic)."""
    xi = rng.standard_normal((sigma_r.size, 3))
    k = np.sqrt(1.0 - beta)
    radial = np.einsum("ij,ij->i", xi, directions)[:, None] * directions
    return (k * xi + (1.0 - k) * radial) * sigma_r[:, None]


def random_directions(n: int, rng: np.random.Generator) -> np.ndarray:
    """Isotropic unit vectors, shape (n, 3)."""
    v = rng.standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def red_fraction(mags: np.ndarray) -> np.ndarray:
    """Fraction of red-sequence galaxies at M_r - 5 log h: 1 - f_blue with
    f_blue = 0.46 + 0.07 (M_r + 20), clipped to [0, 1] (Skibba & Sheth 2009, sec. 2.2)."""
    return 1.0 - np.clip(0.46 + 0.07 * (np.asarray(mags) + 20.0), 0.0, 1.0)


def colours(mags: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(g - r, quiescent): red sequence <g-r> = 0.932 - 0.032 (M_r + 20), rms 0.07; blue
    cloud <g-r> = 0.62 - 0.11 (M_r + 20), rms 0.12 (Skibba & Sheth 2009, sec. 2.2)."""
    mags = np.asarray(mags, float)
    red = rng.random(mags.size) < red_fraction(mags)
    mean = np.where(red, 0.932 - 0.032 * (mags + 20.0), 0.62 - 0.11 * (mags + 20.0))
    spread = np.where(red, 0.07, 0.12)
    return (mean + spread * rng.standard_normal(mags.size)).astype(np.float32), red


@dataclass
class GalaxyModel:
    """The galaxy content of halos for one config: the CLF, the magnitude map and limit."""

    config: SyntheticConfig
    mag_map: MagnitudeMap

    def __post_init__(self) -> None:
        self.clf_limit = self.mag_map.clf_limit(self.config.mag_limit)
        self.log_l_min = float(log_luminosity(self.config, self.clf_limit))
        self.tail = SatelliteTail(self.config.clf_alpha_s)

    def number_deviates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Per-halo log10 factors on the mean satellite number: Gaussian of
        ``clf_satellite_scatter_dex`` with mean -sigma^2 ln(10) / 2, so that the mean number
        is unchanged (no draw when the scatter is zero)."""
        sigma = self.config.clf_satellite_scatter_dex
        if sigma == 0.0:
            return np.zeros(n)
        return sigma * rng.standard_normal(n) - 0.5 * np.log(10.0) * sigma ** 2

    def populate(self, halos: dict[str, np.ndarray], first_id: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Galaxies (GALAXY_COLUMNS) of a chunk of halos, ids from ``first_id``."""
        cfg = self.config
        m = clf_mass(cfg, halos["m200c"], halos["concentration"])
        cen_log_l = central_log_lum(cfg, m) + cfg.clf_sigma_c * rng.standard_normal(m.size)
        cen_idx = np.flatnonzero(cen_log_l >= self.log_l_min)
        host, sat_log_l = self._satellite_luminosities(m, self.number_deviates(m.size, rng),
                                                       rng)
        index = np.concatenate([cen_idx, host])
        is_central = np.concatenate([np.ones(cen_idx.size, bool), np.zeros(host.size, bool)])
        log_l = np.concatenate([cen_log_l[cen_idx], sat_log_l])
        return self._galaxies(halos, index, is_central, log_l, first_id, rng)

    def satellites(self, halos: dict[str, np.ndarray], first_id: int,
                   rng: np.random.Generator, log_deviates: np.ndarray | None = None
                   ) -> dict[str, np.ndarray]:
        """Satellites alone (GALAXY_COLUMNS) of ``halos``, ids from ``first_id``, with
        per-halo log10 number factors ``log_deviates`` (drawn when None): the repainting of
        :mod:`surveymass.mocks.fields`."""
        m = clf_mass(self.config, halos["m200c"], halos["concentration"])
        if log_deviates is None:
            log_deviates = self.number_deviates(m.size, rng)
        host, log_l = self._satellite_luminosities(m, log_deviates, rng)
        return self._galaxies(halos, host, np.zeros(host.size, bool), log_l, first_id, rng)

    def _satellite_luminosities(self, m_clf: np.ndarray, log_deviates: np.ndarray,
                                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(host index, log10 L) of satellites of halos of CLF mass ``m_clf``: Poisson
        numbers around the CLF mean times 10^log_deviates, luminosities from the CLF."""
        log_lstar = satellite_log_lstar(self.config, m_clf)
        tail_min = self.tail(10 ** (self.log_l_min - log_lstar))
        mean = satellite_phi_star(self.config, m_clf) * tail_min
        n_sat = rng.poisson(mean * 10 ** log_deviates)
        host = np.repeat(np.arange(m_clf.size), n_sat)
        sat_x = self.tail.inverse(tail_min[host] * rng.random(host.size))
        return host, np.log10(sat_x) + log_lstar[host]

    def _galaxies(self, halos: dict[str, np.ndarray], index: np.ndarray,
                  is_central: np.ndarray, log_l: np.ndarray, first_id: int,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Galaxy columns of galaxies in halos ``index`` (centrals first, at the halo centre;
        satellites on orbits) with luminosities ``log_l``."""
        cfg = self.config
        pos = np.stack([halos[a][index] for a in "xyz"], axis=1).astype(np.float64)
        vel = np.stack([halos["v" + a][index] for a in "xyz"], axis=1).astype(np.float64)
        n_cen = int(is_central.sum())
        offset_pos, offset_vel = self._satellite_orbits(halos, index[n_cen:], rng)
        pos[n_cen:] += offset_pos
        vel[n_cen:] += offset_vel
        pos %= cfg.box_size
        mags = self.mag_map(magnitude(cfg, log_l))
        gr, quiescent = colours(mags, rng)
        pos = pos.astype(np.float32)
        pos[pos >= cfg.box_size] = 0.0  # float32 rounding can land exactly on box_size
        return {
            "galaxy_id": first_id + np.arange(index.size, dtype=np.int64),
            "host_id": halos["halo_id"][index],
            "is_central": is_central,
            "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2],
            "vx": vel[:, 0].astype(np.float32), "vy": vel[:, 1].astype(np.float32),
            "vz": vel[:, 2].astype(np.float32),
            "mag_r": mags.astype(np.float32), "color_gr": gr, "quiescent": quiescent,
        }

    def _satellite_orbits(self, halos: dict[str, np.ndarray], host: np.ndarray,
                          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Positions [h^-1 Mpc] and velocities [km/s] of satellites relative to their hosts:
        NFW radii (scale radius R200c / (q c), q the concentration ratio) out to the
        satellite extent R_out (the outer population's own extent for that fraction of
        them), isotropic directions, Gaussian velocities with the Jeans dispersion
        (:func:`satellite_sigma_r`) and the config's anisotropy, times the velocity bias."""
        cfg = self.config
        c = halos["concentration"][host].astype(float)
        r200 = halos["r200c"][host].astype(float)
        x = satellite_extent(cfg, c)
        if cfg.satellite_outer_fraction > 0:
            outer = rng.random(host.size) < cfg.satellite_outer_fraction
            x = np.where(outer, cfg.satellite_outer_extent, x)
        s = nfw_radii(c * cfg.satellite_concentration_ratio * x, rng)
        directions = random_directions(host.size, rng)
        v200 = v200c(halos["m200c"][host], r200, cfg.redshift)
        sigma = satellite_sigma_r(cfg, s, x, c, v200) * cfg.satellite_velocity_bias
        return (directions * (s * x * r200)[:, None],
                orbital_velocities(sigma, directions, cfg.satellite_anisotropy, rng))
