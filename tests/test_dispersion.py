"""Velocity dispersions (gapper, biweight) and the M–sigma relation."""

from __future__ import annotations

import numpy as np
import pytest

from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.halo import MSigmaRelation, evrard2008
from surveymass.models.dispersion import (
    biweight,
    fit_msigma,
    gapper,
    velocity_dispersion,
)


def test_gapper_matches_beers_formula_worked_by_hand():
    # Sorted -300, -100, 0, 250, 400: gaps 200, 100, 250, 150; weights i(n-i) = 4, 6, 6, 4
    # sum = 800 + 600 + 1500 + 600 = 3500; sigma_G = sqrt(pi) / (5 * 4) * 3500 = 175 sqrt(pi)
    v = np.array([[250.0, -100.0, 400.0, -300.0, 0.0]])
    assert gapper(v)[0] == pytest.approx(175 * np.sqrt(np.pi), rel=1e-12)


@pytest.mark.parametrize("estimator, n_se", [("gapper", 3), ("biweight", 4)])
def test_estimators_recover_a_gaussian_sigma_within_the_standard_error(estimator, n_se):
    sigma, n = 700.0, 3000
    v = np.random.default_rng(11).normal(100.0, sigma, (1, n))
    standard_error = sigma / np.sqrt(2 * n)
    assert abs(velocity_dispersion(v, estimator)[0] - sigma) < n_se * standard_error


@pytest.mark.parametrize("func", [gapper, biweight])
def test_padded_rows_equal_rows_done_one_by_one(func):
    rng = np.random.default_rng(2)
    rows = [rng.normal(0, s, n) for s, n in ((300, 12), (800, 40), (500, 25))]
    padded = np.full((3, 40), np.nan)
    for i, r in enumerate(rows):
        padded[i, :len(r)] = r
    np.testing.assert_allclose(func(padded), [func(r[None])[0] for r in rows], rtol=1e-12)
    assert np.isnan(func(np.array([[5.0, np.nan]])))[0]  # one value has no dispersion


def test_unknown_estimator_is_a_clear_error():
    with pytest.raises(InputError, match="gapper"):
        velocity_dispersion(np.ones((1, 3)), "std")


def test_fit_recovers_slope_and_intercept_of_noiseless_data_and_inverts():
    cosmo = default_cosmology()
    truth = MSigmaRelation(slope=0.34, intercept=-2.05)
    log_m = np.linspace(13.5, 15.2, 50)
    z = np.linspace(0.02, 0.2, 50)
    sigma = 10 ** truth.log10_sigma(log_m, z, cosmo)
    fit = fit_msigma(log_m, sigma, z, cosmo)
    assert fit.slope == pytest.approx(0.34, abs=1e-10)
    assert fit.intercept == pytest.approx(-2.05, abs=1e-9)
    assert fit.scatter < 1e-10
    np.testing.assert_allclose(fit.log10_mass(sigma, z, cosmo), log_m, atol=1e-9)
    with pytest.raises(InputError, match="at least 3"):
        fit_msigma(log_m[:2], sigma[:2], z[:2], cosmo)


def test_evrard_2008_worked_values():
    # sigma = 1082.9 km/s (h(z) M200c / 1e15 Msun)^0.3361 (Evrard et al. 2008, eq. 1)
    cosmo = default_cosmology()
    ev = evrard2008()
    assert 10 ** ev.log10_sigma(15.0, 0.0, cosmo) == pytest.approx(1082.9)
    assert 10 ** ev.log10_sigma(14.0, 0.0, cosmo) == pytest.approx(1082.9 * 10 ** -0.3361)
    ez = cosmo.efunc(0.5)
    assert 10 ** ev.log10_sigma(15.0, 0.5, cosmo) == pytest.approx(1082.9 * ez ** 0.3361)
