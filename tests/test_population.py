"""The mass-function prior: n(M, z) from colossus, importance resampling, coverage on a
population that follows the mass function."""

import numpy as np
import pytest
from colossus.lss import mass_function

from surveymass.cosmology import colossus_cosmology, default_cosmology
from surveymass.errors import InputError
from surveymass.models.metrics import LEVELS, tarp_coverage
from surveymass.models.population import (
    MassFunctionPrior,
    bundle_mass_function_prior,
    reweight_samples,
)


@pytest.fixture(scope="module")
def prior():
    return MassFunctionPrior((13.0, 15.2), default_cosmology())


def test_log_density_is_the_tinker08_mass_function(prior):
    colossus_cosmology(default_cosmology())
    log_m = np.array([[13.5, 14.0, 14.7]])
    expected = np.log(mass_function.massFunction(10 ** log_m[0], 0.05, mdef="200c",
                                                 model="tinker08", q_out="dndlnM"))
    got = prior.log_density(log_m, [0.05])[0]
    # differences are what matter (the prior is defined up to a constant)
    np.testing.assert_allclose(np.diff(got), np.diff(expected), atol=2e-3)
    # the cluster mass function falls by ~1.4 e-folds from 10^14 to 10^14.5 at z = 0.05
    assert -2.0 < got[1] - got[0] < -0.8


def test_density_is_minus_infinity_outside_the_training_range(prior):
    values = prior.log_density([[12.9, 13.1, 15.1, 15.3]], [0.05])[0]
    assert np.isneginf(values[[0, 3]]).all() and np.isfinite(values[[1, 2]]).all()


def test_flat_draws_resample_to_the_mass_function(prior):
    rng = np.random.default_rng(1)
    flat = rng.uniform(13.0, 15.2, (1, 200_000))
    out = reweight_samples(flat, [0.05], prior, seed=2)
    grid = np.linspace(13.0, 15.2, 2201)
    density = np.exp(prior.log_density(grid[None, :], [0.05])[0])
    cdf = np.cumsum(density) / density.sum()
    expected_median = grid[np.searchsorted(cdf, 0.5)]
    assert np.median(out.samples) == pytest.approx(expected_median, abs=0.01)
    # most of the population lies near the lower edge: a small effective sample
    assert 0.05 < out.ess_fraction[0] < 0.5


def test_narrow_posterior_shifts_by_the_eddington_term(prior):
    """A Gaussian posterior of width s on a locally exponential mass function
    n ∝ exp(beta log10 M) moves by beta s^2 (Eddington bias)."""
    mu, s = 14.5, 0.05
    rng = np.random.default_rng(3)
    flat = rng.normal(mu, s, (1, 400_000))
    out = reweight_samples(flat, [0.05], prior, seed=4)
    d = prior.log_density([[mu - 0.05, mu + 0.05]], [0.05])[0]
    beta = (d[1] - d[0]) / 0.1  # e-folds per dex
    assert np.mean(out.samples) - mu == pytest.approx(beta * s ** 2, rel=0.08)
    assert beta * s ** 2 < -0.005  # a real shift, towards low masses


def test_reweighting_calibrates_a_population_that_follows_the_mass_function(prior):
    """Truths drawn from n(M), data = truth + N(0, 0.25): the flat-prior posterior
    N(data, 0.25) under-covers that population; re-weighted it is calibrated."""
    rng = np.random.default_rng(5)
    grid = np.linspace(13.0, 15.2, 4401)
    density = np.exp(prior.log_density(grid[None, :], [0.05])[0])
    truth = np.interp(rng.random(3000), np.cumsum(density) / density.sum(), grid)
    data = truth + 0.25 * rng.standard_normal(truth.size)
    flat = data[:, None] + 0.25 * rng.standard_normal((truth.size, 2000))
    z = np.full(truth.size, 0.05)
    keep = np.isfinite(prior.log_density(flat, z)).any(axis=1)
    out = reweight_samples(flat[keep], z[keep], prior, seed=6)
    flat_dev = np.max(np.abs(tarp_coverage(flat[keep], truth[keep], 7) - LEVELS))
    reweighted_dev = np.max(np.abs(tarp_coverage(out.samples, truth[keep], 7) - LEVELS))
    assert flat_dev > 0.07  # measured 0.087
    assert reweighted_dev < 0.03  # measured 0.010


def test_rows_without_weight_are_nan(prior):
    out = reweight_samples(np.full((2, 10), 16.0), [0.05, 0.05], prior)
    assert np.isnan(out.samples).all() and (out.ess_fraction == 0).all()


def test_bad_range_and_redshift_are_refused():
    with pytest.raises(InputError, match="training mass range"):
        MassFunctionPrior((15.0, 14.0), default_cosmology())
    p = MassFunctionPrior((13.0, 15.0), default_cosmology())
    with pytest.raises(InputError, match="tabulated for"):
        p.log_density([[14.0]], [0.5])


def test_a_bundle_without_a_training_range_has_no_mass_function_prior():
    class Card:
        name, info, cosmology = "toy", {"training": {}}, default_cosmology()

    with pytest.raises(InputError, match="flat prior"):
        bundle_mass_function_prior(Card())


def test_the_shipped_bundle_has_its_mass_function_prior():
    from surveymass.models.bundle import load_bundle

    p = bundle_mass_function_prior(load_bundle())
    assert p.log_range == (12.8, 15.2) and p.model == "tinker08"


def test_evaluation_reports_coverage_under_the_mass_function_prior(tmp_path_factory):
    from surveymass.models.bundle import load_bundle
    from surveymass.models.datasets import load_split
    from surveymass.models.evaluate import calibration
    from surveymass.models.predict import predict
    from toy_clusters import trained_toy_bundle

    data, folder = trained_toy_bundle(tmp_path_factory)
    bundle = load_bundle(folder)
    fields = load_split(data, "test")
    prediction = predict(bundle, fields, n_samples=200, seed=1, device="cpu")
    lo, hi = float(fields.log10_m200c.min()), float(fields.log10_m200c.max())
    out = calibration(bundle, fields, prediction, seed=0,
                      prior=MassFunctionPrior((lo - 0.3, hi + 0.3), default_cosmology()))
    mf = out["mass_function"]
    assert mf["n_fields"] == fields.n_fields
    assert len(mf["hpd"]) == len(LEVELS) and 0 < mf["median_ess_fraction"] <= 1
    # the toy truths are flat in mass, not mass-function distributed: the flat posterior
    # covers them better than the re-weighted one
    assert mf["tarp_max_deviation"] > out["tarp_max_deviation"]


def test_select_galaxies_keeps_fields_and_drops_galaxies(tmp_path_factory):
    from surveymass.models.datasets import load_split
    from toy_clusters import trained_toy_bundle

    data, _ = trained_toy_bundle(tmp_path_factory)
    fields = load_split(data, "test").subset(np.arange(4))
    keep = np.arange(fields.offsets[-1]) % 2 == 0
    thin = fields.select_galaxies(keep)
    assert thin.n_fields == 4 and thin.offsets[-1] == keep.sum()
    np.testing.assert_array_equal(thin.v_los, fields.v_los[keep])
    np.testing.assert_array_equal(thin.is_member, fields.is_member[keep])
    first = fields.n_galaxies[0]
    assert thin.n_galaxies[0] == (first + 1) // 2


def test_richness_sensitivity_of_the_toy_bundle(tmp_path_factory):
    """Toy richness tracks mass tightly: a network trained on it leans on the count."""
    from surveymass.models.bundle import load_bundle
    from surveymass.models.datasets import load_split
    from surveymass.models.evaluate import richness_sensitivity
    from toy_clusters import trained_toy_bundle

    data, folder = trained_toy_bundle(tmp_path_factory)
    fields = load_split(data, "test")
    out = richness_sensitivity(load_bundle(folder), fields, n_samples=200)
    assert 0 < out["n_fields"] <= fields.n_fields
    assert np.isfinite(out["per_field"]).all() and abs(out["median"]) < 2


def test_richness_sensitivity_is_the_shift_beyond_m_sigma_per_dex(tmp_path_factory,
                                                                   monkeypatch):
    """A posterior median of 0.7 log10 N above an M-sigma of 0.1 log10 N leans 0.6 dex per
    dex of galaxy number on richness."""
    from types import SimpleNamespace

    from surveymass.models import evaluate
    from surveymass.models.bundle import load_bundle
    from surveymass.models.datasets import load_split
    from toy_clusters import trained_toy_bundle

    def fake_predict(bundle, fields, **kwargs):
        log_n = np.log10(fields.n_galaxies)
        return SimpleNamespace(median=14 + 0.7 * log_n, log10_m_sigma=13 + 0.1 * log_n)

    monkeypatch.setattr(evaluate, "predict", fake_predict)
    data, folder = trained_toy_bundle(tmp_path_factory)
    out = evaluate.richness_sensitivity(load_bundle(folder), load_split(data, "test"))
    np.testing.assert_allclose(out["per_field"], 0.6, atol=1e-9)
