"""The calibration report: calibration.json, calibration.md and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from surveymass.outputs import Folder, staged_outputs
from surveymass.provenance import provenance, save_figure


def report_folder(out_dir: str | Path) -> Folder:
    """A calibration report folder as an output (:mod:`surveymass.outputs`)."""
    return Folder(Path(out_dir), "calibration.json", "calibration report")


def write_report(result: dict, out_dir: str | Path, plots: bool = True,
                 overwrite: bool = False) -> list[Path]:
    """Write the numbers of :func:`surveymass.calibration.run.calibrate` and the plots into
    ``out_dir``, as a whole (an existing report is replaced only with ``overwrite``);
    returns the paths written."""
    out = Path(out_dir)
    numbers = {k: v for k, v in result.items() if not k.startswith("_")}
    numbers["provenance"] = provenance()
    names = ["calibration.json", "calibration.md"]
    with staged_outputs([report_folder(out)], overwrite) as (tmp,):
        (tmp / names[0]).write_text(json.dumps(_json_ready(numbers), indent=1,
                                               allow_nan=False))
        (tmp / names[1]).write_text(markdown(numbers))
        if plots:
            names += [p.name for p in _plots(result, tmp)]
    return [out / name for name in names]


def _json_ready(value):
    """``value`` with NaN floats as None and numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _f(x, fmt="{:.2f}") -> str:
    return "–" if x is None or not np.isfinite(x) else fmt.format(x)


#: The two richness checks: key in the numbers -> the sigma they bin by.
CHECKS = {"richness_vs_mg01_sigma": "MG01 sigma (mocks: true-member sigma with MG01's errors)",
          "richness_vs_cylinder_sigma": "cylinder member sigma"}


def _verdict_line(label: str, verdict: dict) -> str:
    return (f"Richness at fixed {label}: **{verdict['status']}** ({verdict['n_passed']} of "
            f"{verdict['n_judged']} sigma bins with >= {verdict['min_systems']} real "
            "systems have the real median and 16-84% band of log10 N inside the mocks' "
            "5-95% band).")


def _richness_table(check: dict) -> list[str]:
    real, mock, verdict = check["real"], check["mock"], check["verdict"]
    lines = ["| log10 sigma | real n | real median | real 16-84% | mock median | mock 5-95% | "
             "judged | pass |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for k in range(len(real["n"])):
        lines.append(
            f"| {real['sigma_lo'][k]:.1f}-{real['sigma_hi'][k]:.1f} | {real['n'][k]} | "
            f"{_f(real['median'][k])} | {_f(real['q16'][k])}-{_f(real['q84'][k])} | "
            f"{_f(mock['median'][k])} | {_f(mock['q05'][k])}-{_f(mock['q95'][k])} | "
            f"{'yes' if verdict['judged'][k] else 'no'} | "
            f"{('yes' if verdict['passed'][k] else 'NO') if verdict['judged'][k] else ''} |")
    return lines


def markdown(n: dict) -> str:
    """The report in markdown."""
    lines = ["# Calibration against real clusters", "",
             f"Verdict (exit status): **{n['verdict']['status']}**, from the check "
             f"at fixed {CHECKS[n['verdict']['check']]}.", ""]
    lines += [_verdict_line(label, n[key]["verdict"]) + "\n" for key, label in CHECKS.items()]
    lines += [
        f"Real: {n['systems']['n']} Mahdavi & Geller (2001) systems in the SDSS DR7 "
        f"volume-limited sample (M_r - 5 log h < -20), {n['systems']['n_with_sigma']} with a "
        f"measured sigma; z {n['systems']['z_range'][0]:.3f}-{n['systems']['z_range'][1]:.3f}, "
        f"median footprint coverage {n['systems']['median_coverage']:.3f}. "
        f"Mocks: {n['mocks']['n_fields']} fields ({n['mocks']['n_with_sigma']} with a cylinder "
        f"member sigma, {n['mocks']['n_with_true_member_sigma']} with a true-member sigma).",
        "",
        "## Richness N(M_r - 5 log h < -20) in the cylinder against the MG01 sigma", "",
        "Real: sigma of Mahdavi & Geller (2001), from their own (deeper) membership. Mocks: "
        "biweight of the v_los of the target halo's true members in the cylinder, all the "
        "universe holds (not only M_r - 5 log h < -20), the sigma deep spectroscopic "
        "membership recovers, with a Gaussian error of a standard deviation drawn from the "
        "MG01 systems' quoted errors (e_log_sigma) added to each, so that both sides scatter "
        "across the sigma bins alike.", ""]
    lines += _richness_table(n["richness_vs_mg01_sigma"])
    noiseless = n["richness_vs_mg01_sigma"]["verdict_without_sigma_errors"]
    lines += ["", f"Without the MG01 errors on the mock sigma: {noiseless['status']} "
              f"({noiseless['n_passed']} of {noiseless['n_judged']} bins)."]
    lines += [
        "", "## Richness against the cylinder member sigma (both sides measured alike)", "",
        "sigma: biweight of the cylinder galaxies the shifting gapper keeps (>= 5 members). "
        f"Real log10(sigma / sigma_MG01): median {_f(n['sigma_vs_mg01']['median_dex'], '{:+.3f}')}"
        f", 16-84% half-width {_f(n['sigma_vs_mg01']['half_width_16_84_dex'], '{:.3f}')} dex "
        f"over {n['sigma_vs_mg01']['n']} systems. In poor mock halos, interlopers the gapper "
        "cannot remove can inflate this sigma; this check then tests that contamination.",
        ""]
    lines += _richness_table(n["richness_vs_cylinder_sigma"])
    p = n["profile"]
    lines += ["", f"## Stacked radial profile ({p['n_real']} systems, galaxies per system "
              "per R bin; mocks matched in sigma)", "",
              "| R [h^-1 Mpc] | real | mock | mock 5-95% of a same-size stack |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {p['r_edges'][k]:.1f}-{p['r_edges'][k + 1]:.1f} | {p['real'][k]:.2f} | "
              f"{p['mock'][k]:.2f} | {p['mock_q05'][k]:.2f}-{p['mock_q95'][k]:.2f} |"
              for k in range(len(p["real"]))]
    c = n["coma"]
    lines += ["", "## Coma at full depth (flux-limited sdss_legacy)", "",
              f"N = {c['n_galaxies']} galaxies in the cylinder, log10 sigma = "
              f"{_f(c['log_sigma'], '{:.3f}')}; among {c['n_mocks_at_sigma']} mocks within "
              f"0.05 dex of that sigma at z = {c['z']}, its richness is at percentile "
              f"{_f(c['richness_percentile'], '{:.0f}')} (mock log10 N 5/50/95%: "
              f"{c['mock_log_n_q05_q50_q95']}).", "",
              "Plots: richness_sigma.png, profile.png, phase_space.png, coma.png.", ""]
    return "\n".join(lines)


def _plots(result: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays, paths = result["_arrays"], []
    real = arrays["real"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, key, xs, label in (
            (axes[0], "richness_vs_cylinder_sigma", real.log_sigma,
             "cylinder member biweight, both sides"),
            (axes[1], "richness_vs_mg01_sigma",
             np.asarray(arrays["systems"]["log_sigma_mg01"], float),
             "real: MG01; mocks: true members + MG01 errors")):
        mock = result[key]["mock"]
        centres = 0.5 * (np.array(mock["sigma_lo"]) + np.array(mock["sigma_hi"]))
        ax.fill_between(centres, mock["q05"], mock["q95"], color="C0", alpha=0.25,
                        label="mocks 5-95%")
        ax.plot(centres, mock["median"], color="C0", label="mocks median")
        table = result[key]["real"]
        ax.errorbar(centres, table["median"], yerr=[np.subtract(table["median"], table["q16"]),
                                                    np.subtract(table["q84"], table["median"])],
                    fmt="o", color="C3", label="real median, 16-84%")
        ax.scatter(xs, real.log_n, s=8, color="k", alpha=0.4, label="real systems")
        ax.set_xlabel(f"log10 sigma [km/s] ({label})")
        ax.set_title(f"verdict: {result[key]['verdict']['status']}", fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("log10 N(M_r - 5 log h < -20), cylinder")
    paths.append(save_figure(fig, out / "richness_sigma.png"))

    p = result["profile"]
    r_mid = 0.5 * (np.array(p["r_edges"][1:]) + np.array(p["r_edges"][:-1]))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.fill_between(r_mid, p["mock_q05"], p["mock_q95"], alpha=0.3, label="mocks 5-95%")
    ax.plot(r_mid, p["mock"], label="mocks (sigma-matched)")
    ax.plot(r_mid, p["real"], "o", color="C3", label=f"real ({p['n_real']} systems)")
    ax.set(xlabel="R [h^-1 Mpc]", ylabel="galaxies per system per bin")
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, out / "profile.png"))

    ps = result["phase_space"]
    real_ps, mock_ps = np.array(ps["real"]), np.array(ps["mock"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    extent = (ps["v_edges"][0], ps["v_edges"][-1], ps["r_edges"][0], ps["r_edges"][-1])
    for ax, image, title in ((axes[0], real_ps, "real"), (axes[1], mock_ps, "mocks"),
                             (axes[2], real_ps / np.where(mock_ps > 0, mock_ps, np.nan),
                              "real / mocks")):
        shown = ax.imshow(image, origin="lower", aspect="auto", extent=extent)
        fig.colorbar(shown, ax=ax)
        ax.set(title=title, xlabel="|v_los| [km/s]", ylabel="R [h^-1 Mpc]")
    paths.append(save_figure(fig, out / "phase_space.png"))

    coma_mocks, coma = arrays["coma_mocks"].summaries, result["coma"]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter(coma_mocks.log_sigma, coma_mocks.log_n, s=6, alpha=0.5, label="mocks")
    if coma["log_sigma"] is not None:
        ax.plot(coma["log_sigma"], np.log10(coma["n_galaxies"]), "*", ms=14, color="C3",
                label=f"Coma (percentile {_f(coma['richness_percentile'], '{:.0f}')})")
    ax.set(xlabel="log10 sigma [km/s] (member biweight)",
           ylabel="log10 N (r < 17.77), cylinder")
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, out / "coma.png"))
    return paths
