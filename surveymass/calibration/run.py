"""``surveymass calibrate``: the real systems against mocks, numbers in one dict."""

from __future__ import annotations

import numpy as np

from surveymass.calibration.config import CalibrationConfig
from surveymass.calibration.measure import Binning, summarise_fields
from surveymass.calibration.mocks import MockSample, mock_sample
from surveymass.calibration.real import (
    CALIBRATION_CATALOG,
    coma_field,
    read_calibration_catalog,
    real_fields,
)
from surveymass.calibration.statistics import (
    SIGMA_EDGES,
    percentile_of,
    richness_at_fixed_sigma,
    richness_verdict,
    stacked,
    weighted_quantiles,
    with_measurement_errors,
)
from surveymass.survey import load_survey

VLIM_SURVEY = "sdss_dr7_vlim20"
FLUX_SURVEY = "sdss_legacy"
#: Coma's mocks: halos of this log10 M200c range, and the sigma window [dex] around Coma's.
COMA_LOG_MASS = (14.6, 15.4)
COMA_SIGMA_WINDOW = 0.05
#: The check whose verdict is the report's (and the command's exit status): real richness
#: at fixed MG01 sigma against mock richness at fixed true-member sigma, the latter with
#: the MG01 measurement errors added (:func:`with_measurement_errors`).
EXIT_CHECK = "richness_vs_mg01_sigma"


def _table(d: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def calibrate(universe, config: CalibrationConfig = CalibrationConfig(),
              catalog=CALIBRATION_CATALOG, quiet: bool = False) -> dict:
    """Every check of docs/calibration.md; returns the numbers (JSON-ready) and, under
    ``"_arrays"``, what the plots need."""
    cosmology, aperture = universe.cosmology, config.aperture
    binning = Binning.for_aperture(aperture)
    vlim = load_survey(VLIM_SURVEY)
    systems, galaxies = read_calibration_catalog(catalog)
    real = summarise_fields(*real_fields(systems, galaxies, vlim, cosmology, aperture),
                            binning)
    mocks = mock_sample(universe, vlim, systems["z"], config.log_mass_range, config.n_halos,
                        config.n_los, aperture, config.mock_config, binning, config.seed,
                        quiet, desc="mock fields (volume-limited)", true_members=True)
    real_by_sigma = richness_at_fixed_sigma(real.log_sigma, real.log_n)
    real_by_mg01 = richness_at_fixed_sigma(np.asarray(systems["log_sigma_mg01"], float),
                                           real.log_n)
    mock_by_sigma = richness_at_fixed_sigma(mocks.summaries.log_sigma, mocks.summaries.log_n,
                                            mocks.weights)
    mock_log_sigma_measured = with_measurement_errors(
        mocks.log_sigma_true_members, systems["e_log_sigma_mg01"], config.seed)
    mock_by_true = richness_at_fixed_sigma(mock_log_sigma_measured, mocks.summaries.log_n,
                                           mocks.weights)
    mock_by_true_noiseless = richness_at_fixed_sigma(mocks.log_sigma_true_members,
                                                     mocks.summaries.log_n, mocks.weights)
    verdict_mg01 = richness_verdict(real_by_mg01, mock_by_true)
    profile = stacked(real, mocks.summaries, mocks.weights, "profile", seed=config.seed)
    phase = stacked(real, mocks.summaries, mocks.weights, "phase_space", seed=config.seed)
    coma = _coma(universe, config, binning)
    out = {
        "survey": vlim.to_dict(), "config": config.to_dict(),
        "systems": {"n": len(systems), "n_with_sigma": int(np.isfinite(real.log_sigma).sum()),
                    "median_coverage": float(np.median(systems["coverage"])),
                    "z_range": [float(np.min(systems["z"])), float(np.max(systems["z"]))]},
        "mocks": {"n_fields": len(mocks.weights),
                  "n_with_sigma": int(np.isfinite(mocks.summaries.log_sigma).sum()),
                  "n_with_true_member_sigma":
                      int(np.isfinite(mocks.log_sigma_true_members).sum())},
        "verdict": {"check": EXIT_CHECK, "status": verdict_mg01["status"]},
        "richness_vs_mg01_sigma": {
            "real": _table(real_by_mg01), "mock": _table(mock_by_true),
            "verdict": _table(verdict_mg01),
            "mock_without_sigma_errors": _table(mock_by_true_noiseless),
            "verdict_without_sigma_errors": _table(
                richness_verdict(real_by_mg01, mock_by_true_noiseless))},
        "richness_vs_cylinder_sigma": {
            "real": _table(real_by_sigma), "mock": _table(mock_by_sigma),
            "verdict": _table(richness_verdict(real_by_sigma, mock_by_sigma))},
        "sigma_vs_mg01": sigma_agreement(real.log_sigma, systems["log_sigma_mg01"]),
        "profile": {"r_edges": list(binning.r_edges), **_table(profile)},
        "phase_space": {"r_edges": list(binning.ps_r_edges), "v_edges": list(binning.v_edges),
                        **{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                           for k, v in phase.items()}},
        "coma": {k: v for k, v in coma.items() if not k.startswith("_")},
        "per_system": [{"name": str(s["name"]), "z": float(s["z"]),
                        "log_sigma_mg01": float(s["log_sigma_mg01"]),
                        "log_sigma": _finite(real.log_sigma[i]),
                        "n_galaxies": int(real.n_galaxies[i]),
                        "n_members": int(real.n_members[i])}
                       for i, s in enumerate(systems)],
        "sigma_edges": list(SIGMA_EDGES),
    }
    out["_arrays"] = {"real": real, "mocks": mocks, "systems": systems,
                      "mock_log_sigma_measured": mock_log_sigma_measured,
                      "coma_mocks": coma["_mocks"], "coma_real": coma["_real"]}
    return out


def sigma_agreement(log_sigma, log_sigma_mg01) -> dict:
    """Median and 16-84% half-width [dex] of log10(sigma / sigma_MG01) over the systems
    with a member dispersion, and their number."""
    diff = np.asarray(log_sigma, float) - np.asarray(log_sigma_mg01, float)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return {"n": 0, "median_dex": None, "half_width_16_84_dex": None}
    q16, q50, q84 = np.quantile(diff, [0.16, 0.5, 0.84])
    return {"n": int(diff.size), "median_dex": float(q50),
            "half_width_16_84_dex": float(0.5 * (q84 - q16))}


def _finite(x) -> float | None:
    return float(x) if np.isfinite(x) else None


def _coma(universe, config: CalibrationConfig, binning: Binning) -> dict:
    """Coma at full depth (flux-limited survey) against mocks at its z and sigma."""
    survey = load_survey(FLUX_SURVEY)
    cluster, r, v = coma_field(survey, universe.cosmology, config.aperture)
    real = summarise_fields([r], [v], binning)
    mocks: MockSample = mock_sample(universe, survey, [cluster[2]], COMA_LOG_MASS,
                                    config.coma_halos, config.n_los, config.aperture,
                                    config.mock_config, binning, config.seed + 1,
                                    quiet=True)
    s = mocks.summaries
    near = np.abs(s.log_sigma - real.log_sigma[0]) < COMA_SIGMA_WINDOW
    w = mocks.weights[near]
    return {"z": cluster[2], "n_galaxies": int(real.n_galaxies[0]),
            "log_sigma": _finite(real.log_sigma[0]), "n_mocks_at_sigma": int(near.sum()),
            "richness_percentile": percentile_of(real.n_galaxies[0], s.n_galaxies[near], w),
            "mock_log_n_q05_q50_q95": (
                weighted_quantiles(s.log_n[near], w, [0.05, 0.5, 0.95]).tolist()
                if near.any() else None),
            "profile": real.profile[0].tolist(),
            "mock_profile": (np.average(s.profile[near], axis=0, weights=w).tolist()
                             if near.any() else None),
            "_mocks": mocks, "_real": real}
