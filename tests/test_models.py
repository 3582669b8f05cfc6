"""Deep Sets symmetries, the flow's normalisation, and tiny networks trained on toy clusters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from toy_clusters import TINY_ARCHITECTURE, trained_toy_bundle

from surveymass.models.bundle import load_bundle
from surveymass.models.classifier import InterloperClassifier
from surveymass.models.datasets import load_split
from surveymass.models.deepsets import Architecture, HierarchicalDeepSets
from surveymass.models.metrics import binned_residuals, hpd_coverage, roc_auc, tarp_coverage
from surveymass.models.posterior import MassPosterior
from surveymass.models.predict import predict

ARCH = Architecture(**TINY_ARCHITECTURE)


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    """One torch thread: the test machine's cores are shared."""
    monkeypatch.setenv("SURVEYMASS_CPU_THREADS", "1")
    torch.set_num_threads(1)


def _inputs(seed=0, b=4, n=9, f=4, g=3):
    gen = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, n, dtype=torch.bool)
    mask[1, 6:] = False
    mask[3, 2:] = False
    return torch.randn(b, n, f, generator=gen), mask, torch.randn(b, g, generator=gen)


def test_deepsets_context_is_permutation_invariant_and_latents_equivariant():
    torch.manual_seed(0)
    net = HierarchicalDeepSets(4, 3, ARCH)
    galaxy, mask, field = _inputs()
    mask[:] = True
    perm = torch.randperm(galaxy.shape[1])
    h, c = net(galaxy, mask, field)
    h_p, c_p = net(galaxy[:, perm], mask[:, perm], field)
    torch.testing.assert_close(c_p, c, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h_p, h[:, perm], rtol=1e-5, atol=1e-6)


def test_padding_content_and_length_do_not_change_outputs():
    torch.manual_seed(0)
    classifier = InterloperClassifier(4, 3, ARCH)
    galaxy, mask, field = _inputs()
    logits = classifier(galaxy, mask, field)
    noisy = galaxy.clone()
    noisy[~mask] = 1e3 * torch.randn(int((~mask).sum()), 4)
    longer = torch.cat([noisy, torch.randn(4, 5, 4)], dim=1)
    longer_mask = torch.cat([mask, torch.zeros(4, 5, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(classifier(longer, longer_mask, field)[:, :9][mask], logits[mask])


def test_flow_density_integrates_to_one_and_samples_follow_it():
    torch.manual_seed(0)
    posterior = MassPosterior(4, 3, ARCH, delta_loc=0.1, delta_scale=0.2)
    galaxy, mask, field = _inputs()
    m_sigma = torch.tensor([14.0, 14.5, 13.8, 15.0])
    grid = torch.linspace(-2.5, 2.5, 4001)
    logp = posterior.log_prob_values(grid.expand(4, -1), galaxy, mask, field, m_sigma)
    step = float(grid[1] - grid[0])
    np.testing.assert_allclose(logp.exp().sum(1).numpy() * step, 1.0, atol=2e-3)
    samples = posterior.sample(20000, galaxy, mask, field, m_sigma)
    mean_from_density = (grid * logp.exp()).sum(1) * step
    np.testing.assert_allclose(samples.mean(1).numpy(), mean_from_density.numpy(), atol=0.01)


def test_coverage_statistics_are_calibrated_for_exact_gaussian_posteriors():
    rng = np.random.default_rng(0)
    centre = rng.normal(0, 1, 4000)
    truth = centre + rng.normal(0, 0.3, 4000)  # truth drawn from the posterior
    samples = centre[:, None] + rng.normal(0, 0.3, (4000, 400))
    logp = lambda x: -0.5 * ((x - centre[:, None]) / 0.3) ** 2  # noqa: E731
    hpd = hpd_coverage(logp(samples), logp(truth[:, None])[:, 0])
    levels = np.linspace(0.05, 0.95, 19)
    assert np.max(np.abs(hpd - levels)) < 0.03
    assert np.max(np.abs(tarp_coverage(samples, truth, seed=1) - levels)) < 0.03
    # an overconfident posterior (std 0.15 instead of 0.3) under-covers
    narrow = centre[:, None] + rng.normal(0, 0.15, (4000, 400))
    assert hpd_coverage(-0.5 * ((narrow - centre[:, None]) / 0.15) ** 2,
                        -0.5 * ((truth - centre) / 0.15) ** 2)[17] < 0.7


def test_bias_error_is_the_standard_error_of_a_median_counted_in_halos():
    """Independent fields: sqrt(pi/2) sigma / sqrt(n) (the median's asymptotic standard
    error). Ten identical lines of sight per halo carry the information of one field,
    so the error is that of n / 10 fields, not of n."""
    rng = np.random.default_rng(3)
    n, sigma = 2000, 0.1
    truth = np.full(n, 14.05)
    independent = truth + rng.normal(0, sigma, n)
    repeated = truth + np.repeat(rng.normal(0, sigma, n // 10), 10)
    edges = np.array([14.0, 14.1])
    expected = np.sqrt(np.pi / 2) * sigma / np.sqrt(n)
    one = binned_residuals(truth, independent, edges, halo_id=np.arange(n))[0]
    assert one["n_halos"] == n
    assert one["median_err"] == pytest.approx(expected, rel=0.2)
    grouped = binned_residuals(truth, repeated, edges, halo_id=np.arange(n) // 10)[0]
    assert grouped["n_halos"] == n // 10
    assert grouped["median_err"] == pytest.approx(expected * np.sqrt(10), rel=0.2)
    assert "median_err" not in binned_residuals(truth, repeated, edges)[0]
    # a bootstrap over fewer than five halos means nothing: no error is given
    assert binned_residuals(truth, repeated, edges, halo_id=np.arange(n) % 4)[0][
        "median_err"] is None


def test_roc_auc_worked_example():
    # positives 0.9, 0.4; negatives 0.5, 0.1: 3 of 4 pairs ordered -> 0.75
    assert roc_auc(np.array([0.9, 0.4, 0.5, 0.1]), np.array([True, True, False, False])) == 0.75


def test_tiny_trained_bundle_classifies_and_is_roughly_calibrated(tmp_path_factory):
    data, folder = trained_toy_bundle(tmp_path_factory)
    metrics = json.loads((folder / "model_card.json").read_text())["metrics"]["test"]
    test = load_split(data, "test")
    members = test.is_member
    # beats chance and the trivial all-member answer on the toy interloper signature
    assert metrics["classifier"]["roc_auc"] > 0.85
    assert metrics["classifier"]["accuracy"] > max(members.mean(), 1 - members.mean()) + 0.05
    # posterior roughly calibrated (120 test fields: binomial noise ~0.05 per level)
    assert metrics["coverage"]["hpd_max_deviation"] < 0.2
    assert metrics["coverage"]["tarp_max_deviation"] < 0.25
    # a mass estimate that tracks the truth, not worse than M-sigma by much
    assert metrics["scatter_npe_dex"] < 1.3 * metrics["scatter_msigma_dex"]
    assert metrics["scatter_npe_dex"] < 0.3


def test_predict_is_seeded_and_consistent(tmp_path_factory):
    data, folder = trained_toy_bundle(tmp_path_factory)
    bundle = load_bundle(folder)
    fields = load_split(data, "test").subset(np.arange(10))
    a = predict(bundle, fields, n_samples=50, seed=4, device="cpu")
    b = predict(bundle, fields, n_samples=50, seed=4, device="cpu")
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.samples.shape == (10, 50)
    assert np.all((a.p_member >= 0) & (a.p_member <= 1))
    assert np.all(a.n_members >= 3)
    np.testing.assert_allclose(a.log10_m_sigma,
                               bundle.msigma.log10_mass(a.sigma, fields.z_cl, bundle.cosmology))


def test_idealised_setup_has_no_classifier_and_every_galaxy_is_a_member(tmp_path):
    from toy_clusters import write_toy_training_set

    from surveymass.models.deepsets import Architecture as Arch
    from surveymass.models.pipeline import train_bundle
    from surveymass.models.training import TrainingConfig

    data = write_toy_training_set(tmp_path / "ts", {"train": 40, "val": 15, "test": 15},
                                  seed=5, setup="idealised")
    folder = train_bundle(data, "ideal", tmp_path / "b", Arch(**TINY_ARCHITECTURE),
                          TrainingConfig(batch_size=16, max_epochs=2), device="cpu", quiet=True)
    bundle = load_bundle(folder)
    assert bundle.classifier is None and bundle.setup == "idealised"
    fields = load_split(data, "test")
    prediction = predict(bundle, fields, n_samples=10, device="cpu")
    assert np.all(prediction.p_member == 1.0)
    np.testing.assert_array_equal(prediction.n_members, fields.n_galaxies)


def test_evaluate_refuses_a_training_set_that_does_not_match_the_bundle(tmp_path_factory,
                                                                         tmp_path):
    import dataclasses

    from astropy.cosmology import WMAP9

    from surveymass.errors import InputError
    from surveymass.models.evaluate import check_training_set, evaluate_bundle
    from surveymass.phasespace import Aperture

    data, folder = trained_toy_bundle(tmp_path_factory)
    bundle = load_bundle(folder)
    check_training_set(bundle, data)  # its own training set matches
    cases = {"aperture": dataclasses.replace(bundle, aperture=Aperture(r_max=1.0)),
             "cosmology": dataclasses.replace(bundle, cosmology=WMAP9),
             "mag_limit": dataclasses.replace(bundle, survey=dataclasses.replace(
                 bundle.survey, mag_limit=bundle.survey.mag_limit - 1.0))}
    for what, other in cases.items():
        with pytest.raises(InputError, match=f"does not match the bundle.*{what}"):
            evaluate_bundle(other, data, tmp_path / what, device="cpu", quiet=True)
        assert not (tmp_path / what).exists()


def test_robustness_label_names_the_fixed_values_off_the_prior_centre():
    from surveymass.models.evaluate import robustness_label
    from surveymass.universe.synthetic.nuisance import GalaxyHaloPrior, load_prior

    def manifest(prior):
        return {"setup": {"galaxy_halo": None if prior is None else prior.to_dict()}}

    # as `surveymass mocks --galaxy-halo default --galaxy-halo-fixed log_nsat_offset=p10`
    p10 = load_prior("default", ["log_nsat_offset=p10"])  # -0.15 + 0.1 * 0.45
    assert robustness_label(manifest(p10), "sets/ts_p10") == "log_nsat_offset=-0.105 (p10)"
    two = load_prior("default", ["log_nsat_offset=p90", "velocity_bias=1.08"])
    assert (robustness_label(manifest(two), "ts") ==
            "log_nsat_offset=0.255 (p90), velocity_bias=1.08 (p90)")
    assert robustness_label(manifest(GalaxyHaloPrior().fixed()), "ts") == "prior centre"
    # centre and percentile of the bundle's own prior when given: 0.075 is p43.75 of [-0.1, 0.3]
    centre = GalaxyHaloPrior().fixed()
    wider = GalaxyHaloPrior({"log_nsat_offset": (-0.1, 0.3)})
    assert robustness_label(manifest(centre), "ts", wider) == "log_nsat_offset=0.075 (p44)"
    # not a fixed galaxy-halo connection: the folder's name
    assert robustness_label(manifest(GalaxyHaloPrior()), "sets/ts_wide") == "ts_wide"
    assert robustness_label(manifest(None), "sets/ts_s2") == "ts_s2"
    assert robustness_label({"setup": {}}, "ts_v1") == "ts_v1"


def test_robustness_verdict_checks_every_bin_of_14_to_15_and_both_coverages():
    from surveymass.models.evaluate import robustness_failures

    def summary(biases, hpd=0.02, tarp=0.04):
        bins = [{"lo": round(14 + 0.1 * i, 6), "hi": round(14.1 + 0.1 * i, 6), "median": b}
                for i, b in enumerate(biases) if b is not None]
        return {"bins_in_range": bins,
                "coverage": {"hpd_max_deviation": hpd, "tarp_max_deviation": tarp}}

    good = [0.01, -0.03, 0.0, 0.02, -0.01, 0.029, 0.0, 0.01, -0.02, 0.03]
    assert robustness_failures(summary(good)) == []
    bad = list(good)
    bad[3], bad[7] = -0.031, None
    assert robustness_failures(summary(bad, hpd=0.051, tarp=0.05)) == [
        "HPD coverage deviation 0.051", "bias -0.031 dex in 14.3-14.4",
        "no bias in 14.7-14.8 (fewer than 2 fields)"]
    assert robustness_failures(summary(good, tarp=0.2)) == ["TARP coverage deviation 0.200"]


def test_evaluate_reports_each_robustness_set_with_numbers_and_a_verdict(tmp_path_factory,
                                                                         tmp_path):
    from toy_clusters import write_toy_training_set

    from surveymass.models.evaluate import (
        ROBUST_MAX_BIAS,
        ROBUST_MAX_COVERAGE_DEVIATION,
        evaluate_bundle,
    )
    from surveymass.universe.synthetic.nuisance import load_prior

    data, folder = trained_toy_bundle(tmp_path_factory)
    sets = [write_toy_training_set(tmp_path / f"ts_{q}", {"train": 5, "val": 5, "test": 80},
                                   seed=20 + i,
                                   galaxy_halo=load_prior("default", [f"log_nsat_offset={q}"]))
            for i, q in enumerate(("p10", "p90"))]
    report = evaluate_bundle(load_bundle(folder), data, tmp_path / "report", n_samples=100,
                             device="cpu", quiet=True, robustness=sets)
    entries = report["robustness"]
    assert [e["label"] for e in entries] == ["log_nsat_offset=-0.105 (p10)",
                                             "log_nsat_offset=0.255 (p90)"]
    for entry, path in zip(entries, sets):
        s = entry["summary"]
        assert entry["training_set"] == str(path) and entry["split"] == "test"
        assert s["n_fields"] == 80 and 0 < s["n_fields_in_range"] < 80
        bins = s["bins_in_range"]
        assert bins and all(14.0 <= b["lo"] < b["hi"] <= 15.0 for b in bins)
        assert np.isfinite([b["median"] for b in bins]).all()
        assert s["max_abs_bias_per_0.1dex_bin"] == max(abs(b["median"]) for b in bins)
        assert 0 < s["scatter_npe_dex"] < 1 and 0 < s["scatter_msigma_dex"] < 1
        assert np.isfinite(entry["richness_sensitivity"]["median"])
        # the verdict follows the numbers
        over = [b for b in bins if abs(b["median"]) > ROBUST_MAX_BIAS]
        cov = s["coverage"]
        passes = (len(bins) == 10 and not over
                  and max(cov["hpd_max_deviation"], cov["tarp_max_deviation"])
                  <= ROBUST_MAX_COVERAGE_DEVIATION)
        assert entry["verdict"] == ("PASS" if passes else "FAIL")
        assert (entry["failures"] == []) == passes
    stored = json.loads((tmp_path / "report" / "report.json").read_text())
    assert [e["verdict"] for e in stored["robustness"]] == [e["verdict"] for e in entries]
    assert stored["robustness_targets"] == {
        "log_mass_range": [14.0, 15.0], "bias_bin_dex": 0.1,
        "max_abs_bias_dex": ROBUST_MAX_BIAS,
        "max_coverage_deviation": ROBUST_MAX_COVERAGE_DEVIATION}
    assert "robustness.png" in stored["plots"]
    assert (tmp_path / "report" / "robustness.png").stat().st_size > 1000
    page = (tmp_path / "report" / "report.md").read_text()
    assert "## Robustness" in page and "log_nsat_offset=0.255 (p90)" in page


def test_evaluate_refuses_a_robustness_folder_that_is_no_matching_training_set(
        tmp_path_factory, tmp_path):
    from toy_clusters import write_toy_training_set

    from surveymass.errors import InputError
    from surveymass.models.evaluate import evaluate_bundle

    data, folder = trained_toy_bundle(tmp_path_factory)
    bundle = load_bundle(folder)
    (tmp_path / "not_a_set").mkdir()
    ideal = write_toy_training_set(tmp_path / "ideal", {"train": 5, "val": 5, "test": 5},
                                   setup="idealised")
    for bad, why in ((tmp_path / "not_a_set", "is not a training set"),
                     (ideal, r"does not match the bundle.*setup \(cylindrical vs idealised\)")):
        with pytest.raises(InputError, match=f"robustness set {bad}: .*{why}"):
            evaluate_bundle(bundle, data, tmp_path / "report", device="cpu", quiet=True,
                            robustness=[bad])
        assert not (tmp_path / "report").exists()
