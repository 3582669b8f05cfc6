"""The plots and the markdown page of an evaluation report (see :mod:`.evaluate`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from surveymass.models.data import FieldSet  # noqa: E402
from surveymass.models.metrics import roc_curve  # noqa: E402
from surveymass.models.predict import Prediction  # noqa: E402
from surveymass.provenance import save_figure  # noqa: E402

N_VIOLINS = 40


def _save(fig, path: Path) -> str:
    return save_figure(fig, path, dpi=120, bbox_inches="tight").name


def predicted_vs_true(truth, prediction: Prediction, path: Path) -> str:
    """Posterior violins of up to N_VIOLINS fields spread over mass, M–sigma points."""
    order = np.argsort(truth)
    pick = order[np.unique(np.linspace(0, len(truth) - 1, min(N_VIOLINS, len(truth))).astype(int))]
    pick = pick[np.argsort(truth[pick])]
    fig, ax = plt.subplots(figsize=(6.5, 6))
    width = 0.8 * np.ptp(truth) / max(len(pick), 1) if len(pick) > 1 else 0.05
    parts = ax.violinplot([prediction.samples[i] for i in pick], positions=truth[pick],
                          widths=width, showextrema=False)
    for body in parts["bodies"]:
        body.set_alpha(0.5)
    ax.scatter(truth[pick], prediction.log10_m_sigma[pick], s=12, c="tab:orange",
               label="M–σ", zorder=3)
    ax.scatter(truth[pick], prediction.median[pick], s=8, c="k", label="posterior median",
               zorder=4)
    lims = [truth.min() - 0.1, truth.max() + 0.1]
    ax.plot(lims, lims, "k-", lw=0.8)
    ax.set(xlabel=r"true $\log_{10} M_{200c}$ [$h^{-1} M_\odot$]",
           ylabel=r"predicted $\log_{10} M_{200c}$", xlim=lims, ylim=lims)
    ax.legend()
    return _save(fig, path)


def _errors(rows: list[dict]) -> list[float]:
    """Bias errors of binned residual rows; NaN (no bar) where unknown."""
    return [r["median_err"] if r.get("median_err") is not None else np.nan for r in rows]


def residuals_vs_mass(report: dict, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for key, label, colour in (("bins_npe", "NPE", "tab:blue"),
                               ("bins_msigma", "M–σ", "tab:orange")):
        rows = report[key]
        centre = [(r["lo"] + r["hi"]) / 2 for r in rows]
        ax.plot(centre, [r["scatter"] for r in rows], "-o", c=colour, ms=3,
                label=f"{label} scatter")
        ax.errorbar(centre, [r["median"] for r in rows], _errors(rows),
                    ls="--", c=colour, capsize=2, label=f"{label} bias (± halo bootstrap)")
    rows = report["bins_npe"]
    ax.plot([(r["lo"] + r["hi"]) / 2 for r in rows], [r["posterior_std"] for r in rows], ":",
            c="tab:green", label="NPE posterior std")
    ax.axhline(0, c="k", lw=0.6)
    ax.set(xlabel=r"true $\log_{10} M_{200c}$", ylabel="dex")
    ax.legend(fontsize=8)
    return _save(fig, path)


def coverage(report: dict, path: Path) -> str:
    cov = report["summary"]["coverage"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k-", lw=0.8)
    ax.fill_between([0, 1], [-0.05, 0.95], [0.05, 1.05], color="0.9")
    ax.plot(cov["levels"], cov["hpd"], "-o", ms=3, c="tab:red", label="HPD")
    ax.plot(cov["levels"], cov["tarp"], "-o", ms=3, c="tab:blue", label="TARP")
    if "mass_function" in cov:
        mf = cov["mass_function"]
        ax.plot(mf["levels"], mf["hpd"], "--", c="tab:red", label="HPD, mass-function prior")
        ax.plot(mf["levels"], mf["tarp"], "--", c="tab:blue", label="TARP, mass-function prior")
    ax.set(xlabel="credibility level", ylabel="empirical coverage", xlim=(0, 1), ylim=(0, 1))
    ax.legend()
    return _save(fig, path)


def richness(report: dict, prediction: Prediction, truth, path: Path) -> str:
    """Residual variance vs number of members, with the Wojtak et al. (2018) fits."""
    n = prediction.n_members
    edges = np.unique(np.quantile(n, np.linspace(0, 1, 9)))
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    grid = np.geomspace(max(n.min(), 1), n.max(), 100)
    for key, estimate, colour in (("wojtak_npe", prediction.median, "tab:blue"),
                                  ("wojtak_msigma", prediction.log10_m_sigma, "tab:orange")):
        r = estimate - truth
        centre, std = [], []
        for lo, hi in zip(edges[:-1], edges[1:]):
            sel = (n >= lo) & (n <= hi)
            if sel.sum() > 2:
                centre.append(np.median(n[sel]))
                std.append(np.std(r[sel]))
        fit = report["summary"][key]
        ax.plot(centre, std, "o", c=colour)
        ax.plot(grid, np.sqrt(fit["sigma_N"] ** 2 * 100 / grid + fit["sigma_0"] ** 2), "-",
                c=colour, label=f"{key.split('_')[1]}: σ_N={fit['sigma_N']:.3f}, "
                                f"σ_0={fit['sigma_0']:.3f}")
    ax.set(xscale="log", xlabel="N members", ylabel="scatter [dex]")
    ax.legend(fontsize=8)
    return _save(fig, path)


def membership(report: dict, fields: FieldSet, prediction: Prediction, path: Path) -> str:
    """ROC curves per mass bin and F1 of the classifier next to the shifting gapper."""

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    host = np.repeat(fields.log10_m200c, fields.n_galaxies)
    for row in report["membership"]:
        sel = (host >= row["lo"]) & (host < row["hi"])
        fpr, tpr = roc_curve(prediction.p_member[sel], fields.is_member[sel])
        left.plot(fpr, tpr, label=f"{row['lo']:.2f}–{row['hi']:.2f}")
    left.plot([0, 1], [0, 1], "k:", lw=0.8)
    left.set(xlabel="false-positive rate", ylabel="true-positive rate", title="classifier ROC")
    left.legend(fontsize=7, title="log M")
    centre = [(r["lo"] + r["hi"]) / 2 for r in report["membership"]]
    for key, colour in (("classifier", "tab:blue"), ("shifting_gapper", "tab:orange")):
        right.plot(centre, [r[key]["f1"] for r in report["membership"]], "-o", c=colour,
                   label=key.replace("_", " "))
    right.set(xlabel=r"$\log_{10} M_{200c}$", ylabel="F1", ylim=(0, 1))
    right.legend()
    return _save(fig, path)


def robustness(report: dict, path: Path) -> str:
    """Median bias per 0.1-dex bin of 14-15 on each robustness set (and the evaluated
    split, grey), with the target band."""
    targets = report["robustness_targets"]
    max_bias, (lo, hi) = targets["max_abs_bias_dex"], targets["log_mass_range"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.axhspan(-max_bias, max_bias, color="0.9", label=f"target ±{max_bias} dex")
    lines = [(f"{report['split']} split", report["summary"], "0.5")]
    lines += [(f"{r['label']}: {r['verdict']}", r["summary"], None)
              for r in report["robustness"]]
    for k, (label, summary, colour) in enumerate(lines):  # lines shifted apart a little
        rows, shift = summary["bins_in_range"], 0.006 * (k - (len(lines) - 1) / 2)
        ax.errorbar([(r["lo"] + r["hi"]) / 2 + shift for r in rows], [r["median"] for r in rows],
                    _errors(rows), fmt="-o", ms=3, capsize=2, c=colour, label=label)
    ax.axhline(0, c="k", lw=0.6)
    ax.set(xlabel=r"true $\log_{10} M_{200c}$", ylabel="median bias [dex]",
           xlim=(lo - 0.02, hi + 0.02),
           title="robustness: posterior-median bias per 0.1 dex")
    ax.legend(fontsize=7)
    return _save(fig, path)


def write_plots(report: dict, fields: FieldSet, prediction: Prediction, output: Path
                ) -> list[str]:
    """All report figures in ``output``; returns their file names."""
    truth = fields.log10_m200c
    names = [predicted_vs_true(truth, prediction, output / "predicted_vs_true.png"),
             residuals_vs_mass(report, output / "residuals_vs_mass.png"),
             coverage(report, output / "coverage.png"),
             richness(report, prediction, truth, output / "richness_scatter.png")]
    if "membership" in report:
        names.append(membership(report, fields, prediction, output / "membership.png"))
    if report.get("robustness"):
        names.append(robustness(report, output / "robustness.png"))
    return names


def _table(rows: list[list], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row)
              + " |" for row in rows]
    return "\n".join(lines)


def _or_dash(value):
    return "–" if value is None else value


def _worst_bias(summary: dict) -> str:
    """The largest |bias| of a 0.1-dex bin, with its bin and bootstrap error when known."""
    worst = summary.get("max_abs_bias_bin")
    if not worst or worst.get("median_err") is None:
        return f"{summary['max_abs_bias_per_0.1dex_bin']:.3f}"
    return (f"{abs(worst['median']):.3f} ± {worst['median_err']:.3f} "
            f"({worst['lo']:.1f}–{worst['hi']:.1f}, {worst['n_halos']} halos)")


def _prior_rows(cov: dict) -> list[list]:
    """Coverage rows of the posterior under the mass-function prior, when evaluated."""
    mf = cov.get("mass_function")
    if mf is None:
        return []
    return [["HPD / TARP max deviation, mass-function prior",
             f"{mf['hpd_max_deviation']:.3f} / {mf['tarp_max_deviation']:.3f}"],
            ["median effective sample size (mass-function prior)",
             f"{mf['median_ess_fraction']:.2f}"]]


def _sensitivity_rows(report: dict) -> list[list]:
    sens = report.get("richness_sensitivity")
    if not sens:
        return []
    return [[f"richness sensitivity (dMed - dM_σ) / dlog N, {sens['n_fields']} fields "
             f"thinned to {sens['keep_fraction']:.0%}", sens["median"]]]


def _bias_range(summary: dict) -> str:
    values = [b["median"] for b in summary["bins_in_range"]]
    return f"{min(values):+.3f} … {max(values):+.3f}" if values else "–"


def _verdict(entry: dict, shown: int = 3) -> str:
    """PASS, or FAIL with (the first ``shown`` of) its reasons."""
    failures = entry["failures"]
    if not failures:
        return entry["verdict"]
    more = f"; {len(failures) - shown} more" if len(failures) > shown else ""
    return f"{entry['verdict']}: " + "; ".join(failures[:shown]) + more


def _robustness_parts(report: dict) -> list[str]:
    """The robustness section: one summary row per set, then the bias per bin."""
    sets = report.get("robustness")
    if not sets:
        return []
    targets = report["robustness_targets"]
    rows = []
    for r in sets:
        s, sens = r["summary"], r["richness_sensitivity"]
        rows.append([r["label"], f"`{r['training_set']}`", s["n_fields_in_range"],
                     _bias_range(s), _worst_bias(s),
                     f"{s['scatter_npe_dex']:.3f} / {s['scatter_msigma_dex']:.3f}",
                     f"{s['coverage']['hpd_max_deviation']:.3f} / "
                     f"{s['coverage']['tarp_max_deviation']:.3f}",
                     "–" if sens is None else f"{sens['median']:.2f}",
                     _verdict(r)])
    bins = sorted({(b["lo"], b["hi"]) for r in sets for b in r["summary"]["bins_in_range"]})
    per_bin = [[f"{lo:.1f}–{hi:.1f}"]
               + [next((f"{b['median']:+.3f}" for b in r["summary"]["bins_in_range"]
                        if b["lo"] == lo), "–") for r in sets] for lo, hi in bins]
    return [
        "## Robustness",
        "Test split of each set, {} ≤ log M ≤ {} (coverage over the whole split). Target "
        "(issue 11): |median bias| ≤ {} dex in every {}-dex bin and HPD and TARP max "
        "deviation ≤ {}.".format(*targets["log_mass_range"], targets["max_abs_bias_dex"],
                                 targets["bias_bin_dex"], targets["max_coverage_deviation"]),
        _table(rows, ["set", "folder", "fields", "median bias per bin", "max abs bias",
                      "scatter NPE / M–σ", "HPD / TARP max deviation",
                      "richness sensitivity", "verdict"]),
        _table(per_bin, ["log M", *(r["label"] for r in sets)]),
    ]


def markdown(report: dict) -> str:
    """The report as a markdown page."""
    s = report["summary"]
    cov = s["coverage"]
    parts = [
        f"# Evaluation of bundle `{report['bundle']}` on `{report['split']}`",
        f"Training set: `{report['training_set']}`; {s['n_fields']} fields, "
        f"{report['n_samples']} posterior samples each, seed {report['seed']}.",
        "## Summary",
        _table([["scatter NPE [dex]", s["scatter_npe_dex"]],
                ["scatter M–σ [dex]", s["scatter_msigma_dex"]],
                ["ratio NPE / M–σ", s["scatter_ratio"]],
                ["max abs bias per 0.1-dex bin [dex]", _worst_bias(s)],
                ["mean posterior std [dex]", s["mean_posterior_std_dex"]],
                ["HPD coverage max deviation", cov["hpd_max_deviation"]],
                ["TARP coverage max deviation", cov["tarp_max_deviation"]],
                *_prior_rows(cov),
                *_sensitivity_rows(report),
                ["Wojtak σ_N, σ_0 NPE [dex]",
                 f"{s['wojtak_npe']['sigma_N']:.3f}, {s['wojtak_npe']['sigma_0']:.3f}"],
                ["Wojtak σ_N, σ_0 M–σ [dex]",
                 f"{s['wojtak_msigma']['sigma_N']:.3f}, {s['wojtak_msigma']['sigma_0']:.3f}"]],
               ["quantity", f"value ({s['mass_range'][0]:.2f} ≤ log M ≤ "
                            f"{s['mass_range'][1]:.2f}, {s['n_fields_in_range']} fields)"]),
        "## Residuals per mass bin",
        "Bias errors: standard error of the median from a bootstrap over halos (the lines "
        "of sight of one halo are resampled together).",
        _table([[f"{a['lo']:.1f}–{a['hi']:.1f}", a["n"], _or_dash(a.get("n_halos")), a["median"],
                 _or_dash(a.get("median_err")), a["scatter"], a["posterior_std"], b["median"],
                 b["scatter"]]
                for a, b in zip(report["bins_npe"], report["bins_msigma"])],
               ["log M", "fields", "halos", "NPE bias", "± bias", "NPE scatter",
                "NPE post. std", "M–σ bias", "M–σ scatter"]),
        "## Coverage",
        _table([[lvl, h, t] for lvl, h, t in zip(cov["levels"], cov["hpd"], cov["tarp"])],
               ["level", "HPD", "TARP"]),
    ]
    if "membership" in report:
        parts += ["## Membership (classifier vs shifting gapper)", _table(
            [[f"{r['lo']:.2f}–{r['hi']:.2f}", r["classifier"]["n"], r["classifier"]["accuracy"],
              r["classifier"]["precision"], r["classifier"]["recall"], r["classifier"]["f1"],
              r["classifier"]["roc_auc"], r["shifting_gapper"]["accuracy"],
              r["shifting_gapper"]["precision"], r["shifting_gapper"]["recall"],
              r["shifting_gapper"]["f1"]] for r in report["membership"]],
            ["log M", "galaxies", "acc", "prec", "recall", "F1", "AUC", "gapper acc",
             "gapper prec", "gapper recall", "gapper F1"])]
    parts += _robustness_parts(report)
    parts += ["## Plots"] + [f"![{name}]({name})" for name in report["plots"]]
    return "\n\n".join(parts) + "\n"
