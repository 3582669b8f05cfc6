"""Richness at fixed velocity dispersion, stacked profiles and the pass/fail rule.

:func:`richness_at_fixed_sigma` is the reusable piece: for any set of fields (real, or
weighted mocks) the distribution of log10 N in bins of log10 sigma. The calibration
criterion of issue 11 (:func:`richness_verdict`): in every sigma bin holding at least
:data:`MIN_SYSTEMS_PER_BIN` real systems, the real median and 16-84% band of log N lie
inside the mocks' 5-95% band.
"""

from __future__ import annotations

import numpy as np

from surveymass.calibration.measure import FieldSummaries
from surveymass.errors import InputError

#: log10 sigma [km/s] bin edges (158 to 1585 km/s).
SIGMA_EDGES = tuple(np.round(np.arange(2.2, 3.21, 0.1), 2))
MIN_SYSTEMS_PER_BIN = 5
QUANTILES = {"q05": 0.05, "q16": 0.16, "median": 0.5, "q84": 0.84, "q95": 0.95}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       quantiles) -> np.ndarray:
    """Quantiles of ``values`` under ``weights`` (midpoint interpolation of the weighted
    empirical CDF; with equal weights, numpy's 'linear'-like estimate)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    if values.size == 0:
        return np.full(len(quantiles), np.nan)
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(quantiles, cdf, v)


def richness_at_fixed_sigma(log_sigma, log_n, weights=None,
                            edges=SIGMA_EDGES) -> dict[str, np.ndarray]:
    """Per log10 sigma bin: the number of fields ``n``, their summed ``weight`` and the
    quantiles of log10 N (keys of :data:`QUANTILES`; NaN in empty bins).

    log_sigma: log10 sigma [km/s] per field (NaN: not binned); log_n: log10 N per field;
    weights: per-field weights (mass-function weights of mocks; None for real systems).
    """
    log_sigma, log_n = np.asarray(log_sigma, float), np.asarray(log_n, float)
    weights = np.ones_like(log_n) if weights is None else np.asarray(weights, float)
    if not log_sigma.shape == log_n.shape == weights.shape:
        raise InputError("log_sigma, log_n and weights need one value per field")
    edges = np.asarray(edges, float)
    which = np.digitize(log_sigma, edges) - 1
    out = {"sigma_lo": edges[:-1], "sigma_hi": edges[1:],
           "n": np.zeros(len(edges) - 1, int), "weight": np.zeros(len(edges) - 1)}
    out.update({k: np.full(len(edges) - 1, np.nan) for k in QUANTILES})
    for k in range(len(edges) - 1):
        inside = (which == k) & np.isfinite(log_sigma)
        out["n"][k], out["weight"][k] = inside.sum(), weights[inside].sum()
        if inside.any():
            qs = weighted_quantiles(log_n[inside], weights[inside], list(QUANTILES.values()))
            for key, q in zip(QUANTILES, qs):
                out[key][k] = q
    return out


def richness_verdict(real: dict, mock: dict,
                     min_systems: int = MIN_SYSTEMS_PER_BIN) -> dict:
    """Issue 11's criterion on two :func:`richness_at_fixed_sigma` tables over the same
    bins: per bin ``judged`` (>= ``min_systems`` real systems) and ``passed`` (real median,
    16% and 84% inside the mocks' [5%, 95%]); ``status`` PASS, FAIL, or NOT JUDGED when no
    bin holds enough real systems (or a judged bin has no mocks, which fails)."""
    if not np.array_equal(real["sigma_lo"], mock["sigma_lo"]):
        raise InputError("real and mock richness tables use different sigma bins")
    judged = real["n"] >= min_systems
    lo, hi = mock["q05"], mock["q95"]
    inside = np.ones(len(judged), bool)
    for key in ("q16", "median", "q84"):
        inside &= (real[key] >= lo) & (real[key] <= hi)  # False where mocks are missing
    passed = judged & inside
    status = ("NOT JUDGED" if not judged.any()
              else "PASS" if np.all(passed[judged]) else "FAIL")
    return {"status": status, "judged": judged, "passed": passed,
            "n_judged": int(judged.sum()), "n_passed": int(passed.sum()),
            "min_systems": min_systems}


def sigma_matched_weights(mock_log_sigma, mock_weights, real_log_sigma,
                          edges=SIGMA_EDGES) -> np.ndarray:
    """Mock weights re-weighted so that their log10 sigma histogram follows the real
    systems' (bins of ``edges``); mocks in bins without real systems get weight 0."""
    edges = np.asarray(edges, float)
    mock_bin = np.digitize(mock_log_sigma, edges) - 1
    real_bin = np.digitize(real_log_sigma[np.isfinite(real_log_sigma)], edges) - 1
    n_bins = len(edges) - 1
    real_counts = np.bincount(real_bin[(real_bin >= 0) & (real_bin < n_bins)],
                              minlength=n_bins)
    ok = np.isfinite(mock_log_sigma) & (mock_bin >= 0) & (mock_bin < n_bins)
    mock_totals = np.bincount(mock_bin[ok], weights=mock_weights[ok], minlength=n_bins)
    out = np.zeros(len(mock_weights))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(mock_totals > 0, real_counts / mock_totals, 0.0)
    out[ok] = mock_weights[ok] * factor[mock_bin[ok]]
    return out


def stacked(real: FieldSummaries, mock: FieldSummaries, mock_weights: np.ndarray,
            what: str, n_resamples: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """Stacked ``what`` ("profile" or "phase_space") per system of the real fields with a
    measured sigma against sigma-matched mocks: the real mean per system, the mocks' mean,
    and the 5-95% range of the mean of as many mock fields as real ones (drawn with
    probability of their matched weight, ``n_resamples`` times)."""
    real_ok = np.isfinite(real.log_sigma)
    weights = sigma_matched_weights(mock.log_sigma, mock_weights, real.log_sigma[real_ok])
    if weights.sum() <= 0 or not real_ok.any():
        raise InputError("no mock field matches the real systems' dispersions: make mocks "
                         "over a mass range that covers them")
    real_values, mock_values = getattr(real, what)[real_ok], getattr(mock, what)
    p = weights / weights.sum()
    rng = np.random.default_rng(seed)
    draws = rng.choice(len(p), size=(n_resamples, int(real_ok.sum())), p=p)
    means = mock_values[draws].mean(axis=1)
    return {"real": real_values.mean(axis=0),
            "mock": np.tensordot(p, mock_values, axes=1),
            "mock_q05": np.quantile(means, 0.05, axis=0),
            "mock_q95": np.quantile(means, 0.95, axis=0), "n_real": int(real_ok.sum())}


def with_measurement_errors(log_sigma, errors, seed: int = 0) -> np.ndarray:
    """``log_sigma`` [log10 km/s] with a Gaussian measurement error added to each value,
    its standard deviation [dex] drawn at random from ``errors`` (e.g. the real systems'
    quoted errors), so that mock dispersions scatter across sigma bins as measured ones
    do; NaN stays NaN."""
    log_sigma = np.asarray(log_sigma, float)
    errors = np.asarray(errors, float)
    errors = errors[np.isfinite(errors) & (errors >= 0)]
    if errors.size == 0:
        raise InputError("no finite, non-negative sigma errors to resample")
    rng = np.random.default_rng([seed, 11])
    return log_sigma + rng.choice(errors, size=log_sigma.shape) * rng.standard_normal(
        log_sigma.shape)


def percentile_of(value: float, values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted percentile [0-100] of ``value`` among ``values`` (ties count half)."""
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    below = weights[values < value].sum() + 0.5 * weights[values == value].sum()
    return float(100.0 * below / weights.sum())
