"""Evaluation of a bundle on a held-out split: numbers (JSON, markdown) and plots (PNG).

* accuracy: residuals of the posterior median and of M–sigma vs true log10 M200c, median
  (bias) and standard deviation (scatter) per 0.1-dex bin, next to the mean posterior std;
  the bias's standard error comes from a bootstrap over halos, since the lines of sight of
  one halo share its concentration, shape and surroundings and are not independent;
* calibration: coverage at 19 credibility levels by the highest-posterior-density rank
  (fraction of posterior samples denser than the truth) and by TARP (Lemos et al. 2023,
  ICML 202, 19256: the fraction of samples nearer a random reference point than the truth);
* richness dependence: sigma^2(N) = sigma_N^2 (N/100)^-1 + sigma_0^2 (Wojtak et al. 2018,
  MNRAS 481, 324), fitted by maximum likelihood over fields with N members;
* membership (cylindrical setup): accuracy, precision, recall, F1 and ROC AUC per mass bin,
  next to the shifting gapper (Fadda et al. 1996);
* robustness (issue 11): the same accuracy, coverage and richness-sensitivity numbers on
  the test splits of other training sets, typically made with the galaxy-halo connection
  fixed away from the prior's centre, each with a PASS/FAIL against ROBUST_MAX_BIAS and
  ROBUST_MAX_COVERAGE_DEVIATION.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from surveymass.cosmology import same_cosmology
from surveymass.errors import InputError
from surveymass.models import datasets
from surveymass.models.bundle import Bundle
from surveymass.models.classifier import MEMBER_THRESHOLD
from surveymass.models.data import FieldSet
from surveymass.models.device import resolve_device
from surveymass.models.membership import shifting_gapper_fields
from surveymass.models.metrics import (
    LEVELS,
    binned_residuals,
    classification_metrics,
    fit_wojtak,
    hpd_coverage,
    mass_bins,
    tarp_coverage,
)
from surveymass.models.population import (
    MassFunctionPrior,
    bundle_mass_function_prior,
    reweight_samples,
)
from surveymass.models.predict import Prediction, log_prob_delta, predict
from surveymass.outputs import Folder, check_outputs, staged_outputs
from surveymass.provenance import provenance
from surveymass.universe.synthetic.nuisance import GalaxyHaloPrior

#: The mass range of the targets (issue 5), log10 M200c [h^-1 Msun].
TARGET_RANGE = (14.0, 15.0)
BIAS_BIN = 0.1
CLASSIFIER_BINS = np.arange(12.5, 15.76, 0.25)
#: Fields of TARGET_RANGE thinned to measure the richness sensitivity in a report.
SENSITIVITY_FIELDS = 1000
#: Issue 11's targets on each robustness set: |median bias| [dex] in every BIAS_BIN bin of
#: TARGET_RANGE, and the HPD and TARP coverage's max deviation over LEVELS.
ROBUST_MAX_BIAS = 0.03
ROBUST_MAX_COVERAGE_DEVIATION = 0.05
#: The split of a robustness set that is evaluated: flat in mass like the targets' bins
#: (robustness sets are made with ``--n-natural 0``).
ROBUSTNESS_SPLIT = "test"
#: The targets as a robustness report states them (report.json ``robustness_targets``).
ROBUSTNESS_TARGETS = {"log_mass_range": list(TARGET_RANGE), "bias_bin_dex": BIAS_BIN,
                      "max_abs_bias_dex": ROBUST_MAX_BIAS,
                      "max_coverage_deviation": ROBUST_MAX_COVERAGE_DEVIATION}


def membership_report(fields: FieldSet, prediction: Prediction, with_gapper: bool = True,
                      quiet: bool = True) -> list[dict]:
    """Classifier (and shifting-gapper) metrics per mass bin of the host field."""
    gapper = shifting_gapper_fields(fields, quiet=quiet) if with_gapper else None
    host = np.repeat(fields.log10_m200c, fields.n_galaxies)
    rows = []
    for lo, hi in zip(CLASSIFIER_BINS[:-1], CLASSIFIER_BINS[1:]):
        sel = (host >= lo) & (host < hi)
        if not sel.any():
            continue
        label = fields.is_member[sel]
        row = {"lo": float(lo), "hi": float(hi),
               "classifier": classification_metrics(
                   prediction.p_member[sel] >= MEMBER_THRESHOLD, label, prediction.p_member[sel])}
        if gapper is not None:
            row["shifting_gapper"] = classification_metrics(gapper[sel], label)
        rows.append(row)
    return rows


def _truth_checked(fields: FieldSet) -> np.ndarray:
    if fields.log10_m200c is None:
        raise InputError("evaluation needs the true masses (log10_m200c) of the fields")
    return fields.log10_m200c


def _coverage(logp_truth: np.ndarray, logp_samples: np.ndarray, samples: np.ndarray,
              truth: np.ndarray, seed: int) -> dict:
    hpd = hpd_coverage(logp_samples, logp_truth)
    tarp = tarp_coverage(samples, truth, seed)
    return {"levels": LEVELS.tolist(), "hpd": hpd.tolist(), "tarp": tarp.tolist(),
            "hpd_max_deviation": float(np.max(np.abs(hpd - LEVELS))),
            "tarp_max_deviation": float(np.max(np.abs(tarp - LEVELS)))}


def calibration(bundle: Bundle, fields: FieldSet, prediction: Prediction, seed: int = 0,
                prior: MassFunctionPrior | None = None) -> dict:
    """HPD and TARP coverage at LEVELS of the posterior under the flat training prior; with
    ``prior`` also (key ``mass_function``) of the posterior re-weighted by the mass
    function (:mod:`surveymass.models.population`), whose density is the flow's times
    n(M, z)."""
    truth = _truth_checked(fields)
    device = next(bundle.posterior.parameters()).device
    values = np.column_stack([truth, prediction.samples])
    logp = log_prob_delta(bundle.posterior, prediction.features, prediction.p_member,
                          prediction.log10_m_sigma, values - prediction.log10_m_sigma[:, None],
                          device)
    out = _coverage(logp[:, 0], logp[:, 1:], prediction.samples, truth, seed)
    if prior is not None:
        logp = logp + prior.log_density(values, fields.z_cl)
        resampled = reweight_samples(prediction.samples, fields.z_cl, prior, seed)
        ok = np.isfinite(resampled.samples).all(axis=1)
        logp_samples = np.take_along_axis(logp[:, 1:], resampled.index, axis=1)
        out["mass_function"] = {
            **_coverage(logp[ok, 0], logp_samples[ok], resampled.samples[ok], truth[ok], seed),
            "n_fields": int(ok.sum()),
            "median_ess_fraction": float(np.median(resampled.ess_fraction[ok]))}
    return out


def summary_metrics(bundle: Bundle, fields: FieldSet, prediction: Prediction,
                    seed: int = 0) -> dict:
    """The headline numbers of a bundle on a held-out split (also stored in the card):
    scatter, bias (per BIAS_BIN bin: ``bins_in_range``, and the worst) and posterior width
    over TARGET_RANGE (the whole split when it holds fewer than 2 fields there), coverage
    of the whole split, Wojtak fits and membership metrics."""
    truth = _truth_checked(fields)
    target = (truth >= TARGET_RANGE[0]) & (truth <= TARGET_RANGE[1])
    sel = target if target.sum() >= 2 else np.ones_like(target)
    median = prediction.median
    npe = float(np.std(median[sel] - truth[sel]))
    msig = float(np.std(prediction.log10_m_sigma[sel] - truth[sel]))
    halo_id = None if fields.halo_id is None else fields.halo_id[sel]
    bins = binned_residuals(truth[sel], median[sel], mass_bins(truth[sel], BIAS_BIN),
                            halo_id=halo_id, seed=seed)
    worst = max(bins, key=lambda b: abs(b["median"]), default=None)
    out = {
        "n_fields": int(fields.n_fields),
        "mass_range": [float(truth[sel].min()), float(truth[sel].max())],
        "n_fields_in_range": int(sel.sum()),
        "scatter_npe_dex": npe, "scatter_msigma_dex": msig,
        "scatter_ratio": npe / msig if msig > 0 else float("nan"),
        "bins_in_range": bins,
        "max_abs_bias_per_0.1dex_bin": abs(worst["median"]) if worst else float("nan"),
        "max_abs_bias_bin": worst,
        "mean_posterior_std_dex": float(np.mean(prediction.std[sel])),
        "coverage": calibration(bundle, fields, prediction, seed, _prior_or_none(bundle)),
        "wojtak_npe": fit_wojtak(median - truth, prediction.n_members),
        "wojtak_msigma": fit_wojtak(prediction.log10_m_sigma - truth, prediction.n_members),
    }
    if bundle.classifier is not None:
        p = prediction.p_member
        out["classifier"] = classification_metrics(p >= MEMBER_THRESHOLD, fields.is_member, p)
        per_bin = membership_report(fields, prediction, with_gapper=False)
        out["classifier_f1_per_bin"] = {f"{r['lo']:.2f}-{r['hi']:.2f}": r["classifier"]["f1"]
                                        for r in per_bin}
        above = [r["classifier"]["f1"] for r in per_bin if r["lo"] >= TARGET_RANGE[0]]
        out["classifier_min_f1_above_1e14"] = min(above, default=float("nan"))
    return out


def richness_sensitivity(bundle: Bundle, fields: FieldSet, keep_fraction: float = 0.5,
                         n_samples: int = 500, seed: int = 0, device="cpu") -> dict:
    """How much the posterior median leans on richness: every field is thinned to a random
    ``keep_fraction`` of its galaxies (members and interlopers alike, so the kinematics
    stay the same in expectation) and weighed again. Returns per field the shift of the
    median beyond that of M–sigma per dex of galaxy number, (dMed - dM_sigma) / dlog10 N,
    and its median over the fields that keep at least the aperture's minimum of galaxies.
    0 means kinematics alone; ~1 means mass follows the galaxy count."""
    rng = np.random.default_rng([seed, 7])
    thin = fields.select_galaxies(rng.random(fields.offsets[-1]) < keep_fraction)
    usable = np.flatnonzero(thin.n_galaxies >= bundle.aperture.min_galaxies)
    if usable.size == 0:
        raise InputError("no field keeps enough galaxies when thinned: the richness "
                         "sensitivity needs richer fields")
    before, after = fields.subset(usable), thin.subset(usable)
    full = predict(bundle, before, n_samples=n_samples, seed=seed, device=device)
    thinned = predict(bundle, after, n_samples=n_samples, seed=seed, device=device)
    d_log_n = np.log10(after.n_galaxies) - np.log10(before.n_galaxies)
    per_field = ((thinned.median - full.median)
                 - (thinned.log10_m_sigma - full.log10_m_sigma)) / d_log_n
    return {"keep_fraction": keep_fraction, "n_fields": int(usable.size),
            "per_field": per_field, "median": float(np.median(per_field))}


def _target_sensitivity(bundle: Bundle, fields: FieldSet, seed: int, device) -> dict | None:
    """:func:`richness_sensitivity` over (at most SENSITIVITY_FIELDS of) the fields in
    TARGET_RANGE; None when there are none rich enough."""
    inside = np.flatnonzero((fields.log10_m200c >= TARGET_RANGE[0])
                            & (fields.log10_m200c <= TARGET_RANGE[1]))
    chosen = np.random.default_rng(seed).permutation(inside)[:SENSITIVITY_FIELDS]
    try:
        out = richness_sensitivity(bundle, fields.subset(np.sort(chosen)), seed=seed,
                                   device=device)
    except InputError:
        return None
    return {k: v for k, v in out.items() if k != "per_field"}


def _prior_or_none(bundle: Bundle) -> MassFunctionPrior | None:
    """The bundle's mass-function prior, or None when its card does not record one."""
    try:
        return bundle_mass_function_prior(bundle)
    except InputError:
        return None


def check_training_set(bundle: Bundle, training_set: str | Path) -> None:
    """Raise InputError unless ``training_set`` was made for ``bundle``: same setup, survey
    (all entries but the description), aperture and cosmology."""
    info = datasets.training_set_info(training_set)
    problems = []
    if bundle.setup != info.setup:
        problems.append(f"setup ({bundle.setup} vs {info.setup})")
    mine, theirs = bundle.survey.to_dict(), info.survey.to_dict()
    differ = sorted(k for k in mine if k != "description" and mine[k] != theirs.get(k))
    if differ:
        problems.append("survey (" + ", ".join(f"{k}: {mine[k]!r} vs {theirs.get(k)!r}"
                                               for k in differ) + ")")
    if bundle.aperture != info.aperture:
        problems.append(f"aperture ({bundle.aperture} vs {info.aperture})")
    if not same_cosmology(bundle.cosmology, info.cosmology):
        problems.append(f"cosmology ({bundle.cosmology.name or bundle.cosmology} vs "
                        f"{info.cosmology.name or info.cosmology})")
    if problems:
        raise InputError(f"the training set {training_set} does not match the bundle "
                         f"{bundle.name!r} (bundle vs training set): " + "; ".join(problems)
                         + "; evaluate on a training set built with the bundle's setup, "
                         "survey, aperture and cosmology")


def robustness_label(manifest: dict, folder: str | Path,
                     reference: GalaxyHaloPrior | None = None) -> str:
    """A robustness set's name: the galaxy-halo values fixed in its ``manifest``
    (``setup.galaxy_halo``, every range low == high) that differ from the centre of
    ``reference`` (default: the default prior), as ``name=value (pNN)`` joined by ", ";
    "prior centre" when all sit at the centre; the folder name for a set whose
    galaxy-halo connection is not fixed."""
    reference = reference or GalaxyHaloPrior()
    ranges = (manifest.get("setup") or {}).get("galaxy_halo") or {}
    if not ranges or any(lo != hi for lo, hi in ranges.values()):
        return Path(folder).name
    parts = []
    for name, (value, _) in ranges.items():
        lo, hi = reference.ranges.get(name, (value, value))
        if np.isclose(value, 0.5 * (lo + hi), rtol=0, atol=1e-9):
            continue
        where = f" (p{100 * (value - lo) / (hi - lo):.0f})" if hi > lo else ""
        parts.append(f"{name}={value:.4g}{where}")
    return ", ".join(parts) or "prior centre"


def robustness_failures(summary: dict) -> list[str]:
    """Why a robustness set misses issue 11's targets (empty: it passes), from its
    :func:`summary_metrics`: an HPD or TARP deviation above ROBUST_MAX_COVERAGE_DEVIATION,
    a BIAS_BIN bin of TARGET_RANGE without a bias (under 2 fields) or with |bias| >
    ROBUST_MAX_BIAS."""
    failures = []
    for key in ("hpd", "tarp"):
        deviation = summary["coverage"][f"{key}_max_deviation"]
        if deviation > ROBUST_MAX_COVERAGE_DEVIATION:
            failures.append(f"{key.upper()} coverage deviation {deviation:.3f}")
    edges = mass_bins(np.array(TARGET_RANGE), BIAS_BIN)
    found = {round(b["lo"], 6): b for b in summary["bins_in_range"]}
    for lo, hi in zip(edges[:-1], edges[1:]):
        row = found.get(round(lo, 6))
        if row is None:
            failures.append(f"no bias in {lo:.1f}-{hi:.1f} (fewer than 2 fields)")
        elif abs(row["median"]) > ROBUST_MAX_BIAS:
            failures.append(f"bias {row['median']:+.3f} dex in {lo:.1f}-{hi:.1f}")
    return failures


def _robustness_sets(bundle: Bundle, folders: Sequence[str | Path]
                     ) -> list[tuple[str, Path, FieldSet]]:
    """(label, folder, test fields) of each robustness training set, checked against
    ``bundle`` (:func:`check_training_set`) and read before any work; labels made unique
    by the folder name."""
    training = bundle.info.get("training", {}).get("galaxy_halo_prior")
    reference = GalaxyHaloPrior.from_dict(training) if training else None
    sets = []
    for folder in map(Path, folders):
        try:
            check_training_set(bundle, folder)
            fields = datasets.load_split(folder, ROBUSTNESS_SPLIT)
        except InputError as exc:
            raise InputError(f"robustness set {folder}: {exc}") from exc
        label = robustness_label(datasets.training_set_info(folder).manifest, folder,
                                 reference)
        sets.append((label, folder, fields))
    labels = [label for label, _, _ in sets]
    return [(f"{label} ({folder.name})" if labels.count(label) > 1 else label, folder, fields)
            for label, folder, fields in sets]


def robustness_entry(bundle: Bundle, label: str, folder: str | Path, fields: FieldSet,
                     n_samples: int, seed: int, device, quiet: bool = True) -> dict:
    """The robustness numbers of ``bundle`` on ``fields`` (a robustness set's test split):
    :func:`summary_metrics`, the richness sensitivity and the verdict
    (:func:`robustness_failures`)."""
    prediction = predict(bundle, fields, n_samples=n_samples, seed=seed, device=device,
                         quiet=quiet)
    summary = summary_metrics(bundle, fields, prediction, seed)
    failures = robustness_failures(summary)
    return {"label": label, "training_set": str(folder), "split": ROBUSTNESS_SPLIT,
            "verdict": "FAIL" if failures else "PASS", "failures": failures,
            "summary": summary,
            "richness_sensitivity": _target_sensitivity(bundle, fields, seed, device)}


def evaluate_bundle(bundle: Bundle, training_set: str | Path, output: str | Path,
                    split: str = "test", n_samples: int = 1000, seed: int = 0,
                    device: str = "auto", quiet: bool = False, overwrite: bool = False,
                    robustness: Sequence[str | Path] = ()) -> dict:
    """Evaluate ``bundle`` on a split of ``training_set``, and on the test split of each
    ``robustness`` training set (:func:`robustness_entry`; key ``robustness``); writes
    report.json, report.md and PNG plots to folder ``output`` (checked first; an existing
    report is replaced only with ``overwrite``, as a whole) and returns the report; every
    training set must match the bundle (:func:`check_training_set`)."""
    folder = Folder(Path(output), "report.json", "evaluation report")
    check_outputs([folder], overwrite)
    check_training_set(bundle, training_set)
    robust_sets = _robustness_sets(bundle, robustness)
    fields = datasets.load_split(training_set, split)
    torch_device = resolve_device(device)
    prediction = predict(bundle, fields, n_samples=n_samples, seed=seed, device=torch_device,
                         quiet=quiet)
    truth = fields.log10_m200c
    edges = mass_bins(truth, BIAS_BIN)
    report = {
        "bundle": bundle.name, "training_set": str(training_set), "split": split,
        "n_samples": n_samples, "seed": seed,
        "summary": summary_metrics(bundle, fields, prediction, seed),
        "bins_npe": binned_residuals(truth, prediction.median, edges, prediction.std,
                                     fields.halo_id, seed),
        "bins_msigma": binned_residuals(truth, prediction.log10_m_sigma, edges,
                                        halo_id=fields.halo_id, seed=seed),
    }
    if bundle.classifier is not None:
        report["membership"] = membership_report(fields, prediction, quiet=quiet)
    report["richness_sensitivity"] = _target_sensitivity(bundle, fields, seed, torch_device)
    if robust_sets:
        report["robustness_targets"] = ROBUSTNESS_TARGETS
        report["robustness"] = [
            robustness_entry(bundle, label, path, robust_fields, n_samples, seed,
                             torch_device, quiet)
            for label, path, robust_fields in robust_sets]
    report["provenance"] = provenance(bundle=bundle.name, training_set=str(training_set),
                                      split=split, robustness=[str(r) for r in robustness])
    from surveymass.models import report_plots  # matplotlib only when writing a report

    with staged_outputs([folder], overwrite) as (tmp,):
        report["plots"] = report_plots.write_plots(report, fields, prediction, tmp)
        (tmp / "report.json").write_text(json.dumps(report, indent=1))
        (tmp / "report.md").write_text(report_plots.markdown(report))
    return report
