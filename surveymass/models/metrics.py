"""Metrics of mass estimates and membership, pure functions of arrays (no bundle, no I/O).

* residuals binned in true mass: median (bias), standard deviation (scatter), and the
  bias's standard error from a bootstrap over halos (the lines of sight of one halo are not
  independent);
* coverage at credibility LEVELS: highest-posterior-density rank and TARP (Lemos et al.
  2023, ICML 202, 19256);
* the Wojtak et al. (2018, MNRAS 481, 324) fit sigma^2(N) = sigma_N^2 (N/100)^-1 + sigma_0^2;
* classification: accuracy, precision, recall, F1, ROC curve and AUC.

:mod:`surveymass.models.evaluate` applies them to a bundle's predictions;
:mod:`surveymass.models.report_plots` draws them.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.stats import rankdata

#: Credibility levels of the coverage curves.
LEVELS = np.round(np.linspace(0.05, 0.95, 19), 2)
#: Bootstrap resamples for the standard error of a bin's bias, and the fewest halos a bin
#: needs for one (with fewer the error is reported as None).
N_BOOTSTRAP = 200
MIN_BOOTSTRAP_HALOS = 5


def mass_bins(truth: np.ndarray, width: float, lo: float | None = None,
              hi: float | None = None) -> np.ndarray:
    """Bin edges of ``width`` dex covering ``truth`` (or [lo, hi])."""
    lo = np.floor(truth.min() / width) * width if lo is None else lo
    hi = np.ceil(truth.max() / width) * width if hi is None else hi
    return np.round(np.arange(lo, hi + width / 2, width), 6)


def binned_residuals(truth, estimate, edges, posterior_std=None, halo_id=None,
                     seed: int = 0) -> list[dict]:
    """Median (bias) and std (scatter) of estimate - truth in each bin of truth (bins with
    >= 2 fields); with ``halo_id`` also the halos per bin and the bias's standard error
    from a bootstrap over halos (:func:`median_error`)."""
    rng = np.random.default_rng(seed)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (truth >= lo) & (truth < hi)
        if sel.sum() < 2:
            continue
        r = estimate[sel] - truth[sel]
        row = {"lo": float(lo), "hi": float(hi), "n": int(sel.sum()),
               "median": float(np.median(r)), "scatter": float(np.std(r))}
        if posterior_std is not None:
            row["posterior_std"] = float(np.mean(posterior_std[sel]))
        if halo_id is not None:
            row["n_halos"] = len(np.unique(halo_id[sel]))
            row["median_err"] = (median_error(r, halo_id[sel], rng)
                                 if row["n_halos"] >= MIN_BOOTSTRAP_HALOS else None)
        rows.append(row)
    return rows


def median_error(values: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> float:
    """Standard error of the median of ``values`` by a bootstrap that resamples whole
    ``groups`` (halos) with replacement, ``N_BOOTSTRAP`` times."""
    _, inverse = np.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1
    medians = np.empty(N_BOOTSTRAP)
    for k in range(N_BOOTSTRAP):
        copies = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        medians[k] = np.median(np.repeat(values, copies[inverse]))
    return float(np.std(medians))


def hpd_coverage(logp_samples: np.ndarray, logp_truth: np.ndarray,
                 levels: np.ndarray = LEVELS) -> np.ndarray:
    """Fraction of fields whose truth lies in the HPD region at each credibility level.

    The truth's HPD level is the fraction of samples with higher density than the truth.
    """
    rank = np.mean(logp_samples > logp_truth[:, None], axis=1)
    return np.array([np.mean(rank <= a) for a in levels])


def tarp_coverage(samples: np.ndarray, truth: np.ndarray, seed: int,
                  levels: np.ndarray = LEVELS) -> np.ndarray:
    """TARP expected coverage (Lemos et al. 2023) at each level, 1-D: reference points
    uniform over the range of the truths."""
    rng = np.random.default_rng(seed)
    reference = rng.uniform(truth.min(), truth.max(), len(truth))
    inside = np.abs(samples - reference[:, None]) < np.abs(truth - reference)[:, None]
    fraction = inside.mean(axis=1)
    return np.array([np.mean(fraction < a) for a in levels])


def fit_wojtak(residual: np.ndarray, n: np.ndarray) -> dict:
    """Maximum-likelihood sigma_N, sigma_0 [dex] of sigma^2 = sigma_N^2 (N/100)^-1 +
    sigma_0^2 (Wojtak et al. 2018) and the mean bias, from residuals of fields with N."""
    good = np.isfinite(residual) & (n > 0)
    r, x = residual[good], 100.0 / n[good]

    def nll(params):
        bias, log_sn, log_s0 = params
        var = np.exp(2 * log_sn) * x + np.exp(2 * log_s0)
        return 0.5 * np.sum((r - bias) ** 2 / var + np.log(var))

    start = [np.mean(r), np.log(np.std(r) / 2 + 1e-4), np.log(np.std(r) / 2 + 1e-4)]
    best = optimize.minimize(nll, start, method="Nelder-Mead",
                             options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
    return {"sigma_N": float(np.exp(best.x[1])), "sigma_0": float(np.exp(best.x[2])),
            "bias": float(best.x[0])}


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / n_pos n_neg); NaN without both classes."""
    n_pos, n_neg = int(label.sum()), int((~label).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(score: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates as the threshold sweeps down through ``score``."""
    order = np.argsort(-score, kind="stable")
    tp = np.concatenate([[0], np.cumsum(label[order])])
    fp = np.concatenate([[0], np.cumsum(~label[order])])
    return fp / max(fp[-1], 1), tp / max(tp[-1], 1)


def classification_metrics(predicted: np.ndarray, label: np.ndarray,
                           score: np.ndarray | None = None) -> dict:
    """Accuracy, precision, recall, F1 (and ROC AUC when ``score`` is given)."""
    tp = np.sum(predicted & label)
    fp = np.sum(predicted & ~label)
    fn = np.sum(~predicted & label)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    out = {"n": len(label), "accuracy": float(np.mean(predicted == label)),
           "precision": float(precision), "recall": float(recall), "f1": float(f1)}
    if score is not None:
        out["roc_auc"] = roc_auc(score, label)
    return out
