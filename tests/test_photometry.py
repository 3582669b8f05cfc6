"""Distance modulus, K-corrections and the survey's limiting absolute magnitude."""

import numpy as np
import pytest

from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.photometry import (
    absolute_magnitude_limit,
    apparent_magnitude,
    distance_modulus,
    k_correction_chilingarian,
    k_correction_r,
    k_correction_r_tabulated,
    observed_color_gr,
    transverse_distance,
)
from surveymass.survey import load_survey

COSMO = default_cosmology()


def test_chilingarian_polynomial_reproduces_the_calculators_worked_example():
    # kcor.sai.msu.ru calc_kcor('g', 0.2, 'g - r', 1.1) = 0.5209713976 (Chilingarian &
    # Zolotukhin 2012 coefficients), the published usage example of the calculator.
    assert k_correction_chilingarian("g", 0.2, 1.1) == pytest.approx(0.5209713976, abs=1e-9)


def test_chilingarian_r_band_polynomial_worked_by_hand():
    """K_r(z = 0.1, g - r = 0.8) = sum_ij a_ij z^i (g - r)^j with the r_gr coefficients of
    the kcor.sai.msu.ru calculator (Chilingarian, Melchior & Zolotukhin 2010, refit by
    Chilingarian & Zolotukhin 2012), c = 0.8 (c^2 = 0.64, c^3 = 0.512):

    z^1: 1.83285 - 2.71446 c + 4.97336 c^2 - 3.66864 c^3 = 0.96588872  -> x 0.1   = 0.096588872
    z^2: -19.7595 + 10.5033 c + 18.8196 c^2 + 6.07785 c^3 = 3.7995432  -> x 0.01  = 0.037995432
    z^3: 33.6059 - 120.713 c - 49.299 c^2 = -94.51586                  -> x 1e-3  = -0.09451586
    z^4: 144.371 + 216.453 c = 317.5334                                -> x 1e-4  = 0.03175334
    z^5: -295.39                                                       -> x 1e-5  = -0.0029539
    sum = 0.068867884 mag.
    """
    assert k_correction_chilingarian("r", 0.1, 0.8) == pytest.approx(0.068867884, abs=1e-9)


def test_rest_frame_k_correction_vanishes_at_zero_redshift():
    colours = np.linspace(0.0, 1.2, 7)
    np.testing.assert_allclose(k_correction_r(0.0, colours, band_shift=0.0), 0.0, atol=1e-12)


def test_shifted_band_k_correction_is_the_bandpass_term_at_the_shift():
    # by definition of the ^{0.1}r band, K(z = 0.1) = -2.5 log10(1.1) for every galaxy
    colours = np.linspace(0.2, 1.1, 10)
    np.testing.assert_allclose(k_correction_r(0.1, colours), -2.5 * np.log10(1.1), atol=1e-12)


def test_red_galaxies_have_larger_r_band_k_corrections_than_blue_ones():
    # a flat f_nu spectrum has K = -2.5 log10(1 + z); blue galaxies lie near it, red
    # galaxies (falling blueward of 4000 A) well above it
    k = k_correction_r(0.2, np.array([0.3, 0.95]), band_shift=0.0)
    assert -2.5 * np.log10(1.2) < k[0] < 0 < k[1] < 0.4


def test_observed_colour_solves_the_colour_k_correction_relation():
    z = np.array([0.02, 0.1, 0.2, 0.3])
    rest = np.array([0.4, 0.75, 0.9, 0.6])
    obs = observed_color_gr(z, rest)
    back = obs - k_correction_chilingarian("g", z, obs) + k_correction_chilingarian("r", z, obs)
    np.testing.assert_allclose(back, rest, atol=1e-5)
    assert np.all(obs[1:] > rest[1:])  # galaxies redden with redshift


def test_tabulated_k_correction_matches_the_polynomial():
    rng = np.random.default_rng(0)
    z, colour = rng.uniform(0, 0.3, 5000), rng.uniform(-0.2, 1.3, 5000)
    np.testing.assert_allclose(k_correction_r_tabulated(z, colour), k_correction_r(z, colour),
                               atol=1e-4)


def test_distance_modulus_is_astropys_with_h_absorbed():
    z = np.array([0.02, 0.05, 0.1])
    expected = COSMO.distmod(z).value + 5 * np.log10(COSMO.h)
    np.testing.assert_allclose(distance_modulus(z, COSMO), expected, atol=1e-5)
    # Planck15: D_L(0.1) = 473.4 Mpc -> 5 log10(473.4 e6 / 10) - 5 log10(0.6774) = 37.54
    assert distance_modulus(0.1, COSMO) == pytest.approx(37.539, abs=2e-3)


def test_apparent_magnitude_adds_distance_modulus_and_k_correction():
    d_m = transverse_distance(0.1, COSMO)
    m = apparent_magnitude(-21.0, 0.1, d_m, 0.8)
    assert m == pytest.approx(-21.0 + distance_modulus(0.1, COSMO) - 2.5 * np.log10(1.1),
                              abs=1e-4)


def test_sdss_limit_is_about_minus_19_7_at_z_0_1_and_fainter_nearby():
    survey = load_survey("sdss_legacy")
    z = np.array([0.02, 0.05, 0.1])
    limit = absolute_magnitude_limit(z, survey, COSMO)
    # at z = 0.1 the K-correction is -2.5 log10(1.1): 17.77 - 37.539 + 0.1035 = -19.666
    assert limit[2] == pytest.approx(17.77 - distance_modulus(0.1, COSMO)
                                     + 2.5 * np.log10(1.1), abs=1e-9)
    assert limit[2] == pytest.approx(-19.67, abs=0.01)
    assert np.all(np.diff(limit) < 0)
    assert limit[0] == pytest.approx(-16.0, abs=0.1)


@pytest.mark.parametrize("call", [
    lambda: k_correction_r(0.45, 0.8),
    lambda: k_correction_r(-0.1, 0.8),
    lambda: distance_modulus(0.0, COSMO),
    lambda: k_correction_chilingarian("u", 0.1, 0.8),
])
def test_out_of_range_input_is_refused(call):
    with pytest.raises(InputError):
        call()
