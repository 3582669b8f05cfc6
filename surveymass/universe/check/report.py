"""The validation report: ``report.json`` (every number), ``report.md`` (tables, verdicts,
shortfalls) and one PNG plot per check, all written atomically."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from surveymass.outputs import Folder, staged_outputs
from surveymass.provenance import provenance, save_figure
from surveymass.universe.check.checks import FALL_SHORT, CheckResult
from surveymass.universe.check.references import (
    DEEPSETS_INTERLOPER_AROUND_13_5,
    deepsets_interloper_fractions,
)

REPORT_FORMAT = "surveymass-universe-check"


def _jsonable(value):
    """Numbers and arrays as plain JSON (NaN and infinities as null)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    return value


def shortfalls(results: list[CheckResult]) -> list[str]:
    """Where the universe falls short: failed checks' details, then known limitations."""
    failed = [f"{r.title}: {s}" for r in results for s in r.shortfalls]
    failed += [f"{r.title}: check failed ({r.summary})" for r in results
               if r.status == FALL_SHORT and not r.shortfalls]
    return failed + [f"{r.title} (limitation): {s}" for r in results for s in r.limitations]


def summary_table(results: list[CheckResult]) -> str:
    """One line per check: title, verdict, key number (what the CLI prints)."""
    width = max(len(r.title) for r in results)
    lines = [f"{'check':<{width}}  {'verdict':<11}  result", "-" * (width + 60)]
    lines += [f"{r.title:<{width}}  {r.status:<11}  {r.summary}" for r in results]
    return "\n".join(lines)


def report_folder(out_dir: str | Path) -> Folder:
    """A report folder as an output (:mod:`surveymass.outputs`): marked by report.json."""
    return Folder(Path(out_dir), "report.json", "universe check report")


def write_report(results: list[CheckResult], out_dir: str | Path, universe: dict,
                 settings: dict, overwrite: bool = False) -> dict[str, Path]:
    """Write report.json, report.md and the plots into ``out_dir``; return their paths.

    The files are written into a temporary folder that then replaces ``out_dir`` as a
    whole (an existing report only with ``overwrite``).
    ``universe``: description of the checked universe (path, box, redshift, counts, config);
    ``settings``: the parameters of the checks (seeds, subsample sizes).
    """
    out_dir = Path(out_dir)
    plots = {r.name: out_dir / f"{r.name}.png" for r in results if r.table}
    record = dict(format=REPORT_FORMAT, universe=universe, settings=settings,
                  checks=[r.to_dict() for r in results], shortfalls=shortfalls(results),
                  plots={k: p.name for k, p in plots.items()},
                  provenance=provenance(inputs=[universe.get("path")], settings=settings))
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md"}
    with staged_outputs([report_folder(out_dir)], overwrite) as (tmp,):
        for r in results:
            if r.name in plots:
                _plot(r, tmp / plots[r.name].name)
        (tmp / paths["json"].name).write_text(json.dumps(_jsonable(record), indent=1))
        (tmp / paths["md"].name).write_text(_markdown(results, universe, plots))
    return {**paths, **plots}


def _markdown(results: list[CheckResult], universe: dict, plots: dict[str, Path]) -> str:
    header = (f"Universe: `{universe.get('path')}` — box {universe.get('box_size')} h^-1 Mpc, "
              f"z = {universe.get('redshift')}, {universe.get('n_halos')} halos, "
              f"{universe.get('n_galaxies')} galaxies.")
    lines = ["# Universe validation report", "", header, "",
             "| check | verdict | result | tolerance |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.title} | **{r.status}** | {_escape(r.summary)} | {_escape(r.tolerance)} |"
              for r in results]
    lines += ["", "## Shortfalls", ""]
    lines += [f"- {s}" for s in shortfalls(results)] or ["- none"]
    for r in results:
        lines += ["", f"## {r.title}", "", f"Verdict: **{r.status}** — {r.summary}", "",
                  f"Reference: {r.reference}", "", f"Tolerance: {r.tolerance}", ""]
        if r.name in plots:
            lines += [f"![{r.title}]({plots[r.name].name})", ""]
        if r.table:
            lines += _markdown_table(r.table)
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Text safe inside a Markdown table cell (| would end the cell)."""
    return text.replace("|", "\\|")


def _markdown_table(table: dict) -> list[str]:
    names = list(table)
    rows = zip(*(np.asarray(table[n]).tolist() for n in names))

    def cell(v):
        if isinstance(v, bool):
            return "yes" if v else ""
        if isinstance(v, float):
            return "—" if not np.isfinite(v) else f"{v:.4g}"
        return str(v)

    return (["| " + " | ".join(names) + " |", "|" + " --- |" * len(names)]
            + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def _plot(result: CheckResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    _PLOTTERS[result.name](ax, result.table)
    ax.set_title(f"{result.title} — {result.status}", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_ratio(ax, x, t, xlabel: str, tolerance_label: str) -> None:
    judged = np.asarray(t["judged"], bool)
    ax.errorbar(x, t["ratio"], yerr=t["poisson_sigma"], fmt="o", ms=3, color="0.6",
                label="all bins")
    ax.errorbar(np.asarray(x)[judged], np.asarray(t["ratio"])[judged],
                yerr=np.asarray(t["poisson_sigma"])[judged], fmt="o", ms=4, color="C0",
                label="judged bins")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(tolerance_label)
    ax.set_ylim(0.5, 1.5)
    ax.legend(fontsize=8)


def _plot_hmf(ax, t) -> None:
    _plot_ratio(ax, t["log10_m200c"], t, r"log$_{10}$ M$_{200c}$ [h$^{-1}$ M$_\odot$]",
                "N / N(Tinker 2008)")
    ax.axhspan(0.95, 1.05, color="C2", alpha=0.15)


def _plot_lf(ax, t) -> None:
    ax.semilogy(t["mag_r"], t["phi_blanton"], "k-", label="Blanton et al. 2003")
    ax.semilogy(t["mag_r"], t["phi_sim"], "o", ms=3, label="universe")
    ax.set_xlabel(r"M$_r$ - 5 log h")
    ax.set_ylabel(r"$\phi$ [h$^3$ Mpc$^{-3}$ mag$^{-1}$]")
    ax.axvspan(-22, -17, color="C2", alpha=0.1)
    ax.invert_xaxis()
    ax.legend(fontsize=8)


def _plot_wp(ax, t) -> None:
    samples = [k.removeprefix("wp_") for k in t if re.fullmatch(r"wp_-?[0-9.]+", k)]
    for n, key in enumerate(samples):
        ax.errorbar(t["r_p"], t[f"wp_{key}"], yerr=t[f"wp_err_{key}"], fmt="o", ms=3,
                    color=f"C{n}", label=f"universe M$_r$<{key}")
        ax.plot(t["r_p"], t[f"wp_zehavi_{key}"], "-", color=f"C{n}",
                label=f"Zehavi et al. 2011 M$_r$<{key}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvspan(0.3, 20, color="C2", alpha=0.08)
    ax.set_xlabel(r"r$_p$ [h$^{-1}$ Mpc]")
    ax.set_ylabel(r"w$_p$ [h$^{-1}$ Mpc]")
    ax.legend(fontsize=7)


def _plot_sigma(ax, t) -> None:
    ax.loglog(t["mean_m200c"], t["sigma_1d"], "o", label="satellites (pooled per bin)")
    ax.loglog(t["mean_m200c"], t["sigma_evrard"], "k-", label="Evrard et al. 2008")
    ax.set_xlabel(r"M$_{200c}$ [h$^{-1}$ M$_\odot$]")
    ax.set_ylabel(r"$\sigma_{1D}$ [km/s]")
    ax.legend(fontsize=8)


def _plot_radial(ax, t) -> None:
    ax.errorbar(t["r_over_r200c"], t["v_r_total"], yerr=t["v_r_error"], fmt="o", ms=3,
                label="galaxies (with Hubble flow)")
    ax.plot(t["r_over_r200c"], t["falco_total"], "k-", label="Falco et al. 2014")
    ax.axhline(0.0, color="0.5", lw=0.7)
    ax.set_xlabel(r"r / R$_{200c}$")
    ax.set_ylabel(r"$\langle v_r \rangle$ / V$_{200c}$")
    ax.legend(fontsize=8)


def _plot_interlopers(ax, t) -> None:
    mid = 0.5 * (np.asarray(t["log10_m200c_lo"]) + np.asarray(t["log10_m200c_hi"]))
    ax.plot(mid, t["interloper_fraction"], "o-", label="universe (pooled)")
    ax.plot(mid, t["median_cluster_fraction"], "s--", ms=3, label="universe (median cluster)")
    ax.plot([13.5], [DEEPSETS_INTERLOPER_AROUND_13_5], "k*", ms=10,
            label="Deep Sets paper, ~84% at 10$^{13.5}$")
    for frac, _ in deepsets_interloper_fractions():
        ax.axhline(frac, color="0.6", lw=0.6, ls=":")
    ax.set_xlabel(r"log$_{10}$ M$_{200c}$ [h$^{-1}$ M$_\odot$]")
    ax.set_ylabel("interloper fraction")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, title="dotted: Table 1 (bins unknown)", title_fontsize=7)


_PLOTTERS = {"mass_function": _plot_hmf, "luminosity_function": _plot_lf,
             "projected_correlation": _plot_wp, "velocity_dispersion": _plot_sigma,
             "radial_velocity": _plot_radial, "interloper_fraction": _plot_interlopers}
