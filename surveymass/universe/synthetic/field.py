"""The large-scale structure: one Gaussian linear density field on a periodic grid, biased
lognormal fields from it that place halos, and the linear peculiar velocities.

One white-noise realisation W(k) gives the linear matter field delta_L(k) = W(k) sqrt(P(k) /
V_cell) (P from colossus at the snapshot). A population of bias b is placed with probability
proportional to a lognormal field exp(G_b), where G_b has the same phases and the power
spectrum that makes exp(G_b) - 1 correlate as b^2 xi_L (the lognormal transform of Coles &
Jones 1991, MNRAS 248, 1; as in the lognormal mocks of Agrawal et al. 2017, JCAP 10, 003).
Velocities follow linear theory, v(k) = i f a H delta_L(k) k / k^2 with f = Omega_m(z)^0.55
(Linder 2005, PRD 72, 043529).

The halo fields take the nonlinear matter power (P_lin times P_nl / P_lin of HMcode-2020,
Mead et al. 2021, MNRAS 502, 1401, computed with CAMB) when ``nonlinear_clustering`` is set:
the linear xi falls short of the halo-halo clustering at 1-5 h^-1 Mpc by a factor ~2
(b^2 xi_nl is the 2-halo term of the halo model, e.g. Zehavi et al. 2011, sec. 4). The boost
is tapered by exp(-(k / k_t)^2), k_t = half the grid's Nyquist wavenumber: points spread
uniformly inside a cell cannot carry power on the cell scale, and without the taper the
lognormal fields pile halos into single cells (measured: w_p 2-4x too high below 1 h^-1 Mpc).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

from surveymass.universe.synthetic.config import SyntheticConfig

_WORKERS = -1  # scipy.fft: all cores


class LinearField:
    """The Gaussian linear field of one seed on the ``config.n_cells``^3 grid."""

    def __init__(self, config: SyntheticConfig, colossus_cosmo, rng: np.random.Generator,
                 astropy_cosmo=None):
        """``astropy_cosmo`` (with ``config.nonlinear_clustering``): the cosmology CAMB
        computes the nonlinear boost for."""
        n = config.n_cells
        self.n = n
        self.cell = config.box_size / n
        self.redshift = config.redshift
        self._cosmo = colossus_cosmo
        k_full = (2 * np.pi * scipy.fft.fftfreq(n, d=self.cell)).astype(np.float32)
        k_half = (2 * np.pi * scipy.fft.rfftfreq(n, d=self.cell)).astype(np.float32)
        self._k = (k_full[:, None, None], k_full[None, :, None], k_half[None, None, :])
        white = rng.standard_normal((n, n, n), dtype=np.float32)
        self._delta_k = scipy.fft.rfftn(white, workers=_WORKERS)
        del white
        self._power_over_vcell = self._power(self._k_norm()) / self.cell ** 3
        self._delta_k *= np.sqrt(self._power_over_vcell)
        self._halo_power = self._power_over_vcell
        if config.nonlinear_clustering:
            k_table, boost = nonlinear_boost(astropy_cosmo, config.sigma8, config.ns,
                                             config.redshift)
            k = np.maximum(self._k_norm(), k_table[0])
            taper = np.exp(-(k / (0.5 * np.pi / self.cell)) ** 2)
            self._halo_power = self._power_over_vcell * (1 + taper * (np.interp(
                np.log(k), np.log(k_table), boost) - 1)).astype(np.float32)

    def _k_norm(self) -> np.ndarray:
        kx, ky, kz = self._k
        return np.sqrt(kx * kx + ky * ky + kz * kz)

    def _power(self, k: np.ndarray) -> np.ndarray:
        """Linear P(k) [h^-3 Mpc^3] interpolated in log-log from colossus; P(0) = 0."""
        table_k = np.logspace(-4, np.log10(max(float(k.max()), 1e-3)) + 0.01, 2000)
        table_p = self._cosmo.matterPowerSpectrum(table_k, self.redshift)
        out = np.zeros(k.shape, np.float32)
        nonzero = k > 0
        out[nonzero] = np.exp(np.interp(np.log(k[nonzero]), np.log(table_k), np.log(table_p)))
        return out

    def _cell_window(self) -> np.ndarray:
        """|W(k)|^2 of placing points uniformly inside cells: prod_i sinc^2(k_i cell / 2),
        floored at 0.2 (its compensation must not blow up near the Nyquist corners)."""
        w2 = np.ones(1, np.float32)
        for k in self._k:
            w2 = w2 * np.sinc(k * self.cell / (2 * np.pi)).astype(np.float32) ** 2
        return np.maximum(w2, 0.2)

    def cell_weights(self, bias: float) -> np.ndarray:
        """Unnormalised probability per cell (flat float64) of a population of ``bias``:
        a lognormal field whose 2-point function is bias^2 xi on the grid, with the power
        divided by the cell window so that points spread uniformly inside cells keep it."""
        xi = scipy.fft.irfftn(bias ** 2 * self._halo_power / self._cell_window(),
                              s=(self.n,) * 3, workers=_WORKERS)
        np.log1p(np.maximum(xi, -0.99), out=xi)
        gauss_power = scipy.fft.rfftn(xi, workers=_WORKERS).real
        del xi
        np.maximum(gauss_power, 0.0, out=gauss_power)
        ratio = np.sqrt(gauss_power / np.where(self._power_over_vcell > 0,
                                               self._power_over_vcell, np.inf))
        del gauss_power
        g = scipy.fft.irfftn(self._delta_k * ratio, s=(self.n,) * 3, workers=_WORKERS)
        g -= g.max()
        return np.exp(g, dtype=np.float64).ravel()

    def velocity(self, axis: int) -> np.ndarray:
        """Linear peculiar velocity component ``axis`` (0, 1, 2) on the grid [km/s], flat."""
        om = self._cosmo.Om(self.redshift)
        f = om ** 0.55
        a_h = 100.0 * self._cosmo.Ez(self.redshift) / (1.0 + self.redshift)  # km/s per h^-1 Mpc
        k2 = self._k_norm() ** 2
        k2[0, 0, 0] = 1.0
        vk = (1j * f * a_h) * self._delta_k * (self._k[axis] / k2)
        return scipy.fft.irfftn(vk, s=(self.n,) * 3, workers=_WORKERS).astype(np.float32).ravel()

    def missing_dispersion(self) -> float:
        """1-D linear velocity dispersion [km/s] of the modes beyond the grid: the sphere of
        the grid's k-volume, k_s = (6 / pi)^(1/3) pi / cell."""
        from scipy.integrate import quad

        om = self._cosmo.Om(self.redshift)
        a_h = 100.0 * self._cosmo.Ez(self.redshift) / (1.0 + self.redshift)
        k_s = (6.0 / np.pi) ** (1 / 3) * np.pi / self.cell
        power = lambda lnk: self._cosmo.matterPowerSpectrum(np.exp(lnk), self.redshift) \
            * np.exp(lnk)
        integral, _ = quad(power, np.log(k_s), np.log(1e3), limit=200)
        return float(om ** 0.55 * a_h * np.sqrt(integral / (6 * np.pi ** 2)))

    def cells_to_positions(self, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Uniform random positions [h^-1 Mpc], shape (n, 3), inside flat cell indices."""
        ijk = np.stack(np.unravel_index(cells, (self.n,) * 3), axis=1).astype(np.float64)
        return (ijk + rng.random(ijk.shape)) * self.cell


def nonlinear_boost(cosmo, sigma8: float, ns: float, redshift: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(k [h Mpc^-1], P_nl / P_lin) at ``redshift`` from CAMB's HMcode-2020 (cached)."""
    m_nu = float(np.sum(cosmo.m_nu.value)) if cosmo.has_massive_nu else 0.0
    return _nonlinear_boost(float(cosmo.H0.value), float(cosmo.Om0), float(cosmo.Ob0), m_nu,
                            float(sigma8), float(ns), float(redshift))


@lru_cache(maxsize=4)
def _nonlinear_boost(h0: float, om0: float, ob0: float, m_nu: float, sigma8: float, ns: float,
                     redshift: float) -> tuple[np.ndarray, np.ndarray]:
    import camb

    h = h0 / 100.0
    omega_nu = m_nu / 93.14  # Omega_nu h^2 of massive neutrinos
    amplitude = 2.1e-9
    for _ in range(2):  # the second pass rescales A_s to the requested sigma8
        pars = camb.set_params(H0=h0, ombh2=ob0 * h * h, omch2=(om0 - ob0) * h * h - omega_nu,
                               mnu=m_nu, ns=ns, As=amplitude, WantTransfer=True, WantCls=False,
                               NonLinear=camb.model.NonLinear_both, kmax=40.0,
                               redshifts=sorted({redshift, 0.0}, reverse=True))
        results = camb.get_results(pars)
        amplitude *= (sigma8 / results.get_sigma8_0()) ** 2
    k = np.logspace(-3, np.log10(30.0), 400)
    nonlinear = results.get_matter_power_interpolator(nonlinear=True, hubble_units=True,
                                                      k_hunit=True).P(redshift, k)
    linear = results.get_matter_power_interpolator(nonlinear=False, hubble_units=True,
                                                   k_hunit=True).P(redshift, k)
    return k, nonlinear / linear
