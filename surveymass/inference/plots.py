"""Figures of ``surveymass infer``: one PNG per cluster with three panels.

1. projected phase space (R, v_los) coloured by membership probability, with the aperture;
2. the sky around the cluster (offsets in arcmin) in the same colours, with the aperture;
3. the posterior of log10 M200c with its median and 68% interval (under the run's prior),
   the kinematics-only posterior beside it when the bundle has a companion, the M–sigma
   estimate, the published masses of the shipped literature table when the cluster is in
   it (:func:`surveymass.inference.compare.reference_masses_at`), and the typicality
   percentiles of the misspecification check.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from surveymass.cosmology import transverse_comoving_distance
from surveymass.inference.compare import reference_masses_at
from surveymass.phasespace import tangent_plane
from surveymass.progress import progress_bar
from surveymass.provenance import save_figure

#: Colour map of membership probability (0 = interloper, 1 = member).
CMAP = "coolwarm"


def plot_paths(names: list[str], folder: str | Path) -> list[Path]:
    """``<folder>/<cluster name>.png`` for each cluster (with the row number appended when
    names repeat)."""
    stems = [_file_name(name) for name in names]
    unique = len(set(stems)) == len(stems)
    return [Path(folder) / f"{stem if unique else f'{stem}_{i}'}.png"
            for i, stem in enumerate(stems)]


def plot_clusters(result, bundle, paths: list[Path], quiet: bool = True) -> list[Path]:
    """Write the figure of every cluster of ``result`` to ``paths`` (one per row, e.g.
    from :func:`plot_paths`)."""
    import matplotlib

    matplotlib.use("Agg")
    for i in progress_bar(range(len(result.results)), desc="plots", quiet=quiet):
        galaxies = result.galaxies[result.galaxies["row"] == i]
        kinematic = (None if result.kinematic_samples is None
                     else result.kinematic_samples[i])
        plot_cluster(result.results[i], galaxies, result.samples[i], bundle, paths[i],
                     kinematic)
    return paths


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(name)).strip("_") or "cluster"


def plot_cluster(row, galaxies, samples: np.ndarray, bundle, path: Path,
                 kinematic_samples: np.ndarray | None = None) -> Path:
    """The three-panel figure of one cluster (see the module docstring)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.8), constrained_layout=True)
    scatter = _phase_space_panel(axes[0], galaxies, bundle.aperture)
    _sky_panel(axes[1], row, galaxies, bundle)
    _posterior_panel(axes[2], row, samples, kinematic_samples)
    colorbar = fig.colorbar(scatter, ax=axes[:2], shrink=0.85, pad=0.01)
    colorbar.set_label("membership probability")
    flags = f"  [flags: {row['flags']}]" if row["flags"] else ""
    fig.suptitle(f"{row['name']}  (z = {row['z']:.4f}, {row['n_galaxies']} galaxies in the "
                 f"aperture, bundle {bundle.name}){flags}")
    return save_figure(fig, path, provenance_extra={"bundle": bundle.name,
                                                    "cluster": str(row["name"])})


def _colours(galaxies):
    """Galaxies inside the aperture (coloured by p) and outside it (grey)."""
    inside = np.asarray(galaxies["in_aperture"], bool)
    p = np.asarray(galaxies["p_member"], float)
    return inside & np.isfinite(p), p


def _phase_space_panel(ax, galaxies, aperture):
    coloured, p = _colours(galaxies)
    r, v = np.asarray(galaxies["R"], float), galaxies["v_los"].value
    ax.scatter(r[~coloured], v[~coloured], s=6, c="0.75", label="not fed to the model")
    order = np.argsort(p[coloured])  # members on top
    scatter = ax.scatter(r[coloured][order], v[coloured][order], s=12, c=p[coloured][order],
                         cmap=CMAP, vmin=0, vmax=1, edgecolors="k", linewidths=0.2)
    ax.axvline(aperture.r_max, color="k", ls="--", lw=0.8)
    for sign in (-1, 1):
        ax.axhline(sign * aperture.v_max, color="k", ls="--", lw=0.8)
    ax.set_xlim(0, max(1.5 * aperture.r_max, float(np.nanmax(r, initial=0)) * 1.02))
    ax.set_ylim(-1.6 * aperture.v_max, 1.6 * aperture.v_max)
    ax.set_xlabel(r"$R_\mathrm{proj}$ [comoving $h^{-1}$ Mpc]")
    ax.set_ylabel(r"$v_\mathrm{los}$ [km/s]")
    ax.set_title("projected phase space (dashed: aperture)")
    ax.legend(loc="upper right", fontsize=8)
    return scatter


def _sky_panel(ax, row, galaxies, bundle):
    from matplotlib.patches import Circle

    coloured, p = _colours(galaxies)
    ra0, dec0 = row["ra"].value, row["dec"].value
    xi, eta = tangent_plane(np.asarray(galaxies["ra"], float), np.asarray(galaxies["dec"], float),
                            ra0, dec0)
    x, y = np.degrees(xi) * 60, np.degrees(eta) * 60  # arcmin, east towards +x
    ax.scatter(x[~coloured], y[~coloured], s=5, c="0.75")
    order = np.argsort(p[coloured])
    ax.scatter(x[coloured][order], y[coloured][order], s=12, c=p[coloured][order], cmap=CMAP,
               vmin=0, vmax=1, edgecolors="k", linewidths=0.2)
    radius = np.degrees(bundle.aperture.r_max
                        / transverse_comoving_distance(bundle.cosmology, row["z"])) * 60
    ax.add_patch(Circle((0, 0), radius, fill=False, ls="--", color="k", lw=0.8))
    ax.plot(0, 0, "k+", ms=12)
    ax.set_aspect("equal")
    ax.invert_xaxis()  # east to the left, as on the sky
    ax.set_xlabel(r"$\Delta$RA cos(Dec) [arcmin] (east left)")
    ax.set_ylabel(r"$\Delta$Dec [arcmin]")
    coverage = row["footprint_coverage"]
    cov = "" if not np.isfinite(coverage) else f", footprint coverage {coverage:.0%}"
    ax.set_title(f"sky around ({ra0:.3f}, {dec0:+.3f}){cov}", fontsize=10)


def _posterior_panel(ax, row, samples, kinematic_samples=None):
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        ax.text(0.5, 0.5, f"no mass:\n{row['flags']}", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    heights, _, _ = ax.hist(samples, bins=50, density=True, color="tab:blue", alpha=0.55,
                            label=f"posterior, {row['prior']} prior ({samples.size} draws)")
    _kinematic(ax, row, kinematic_samples)
    shown = np.concatenate([samples] + ([] if kinematic_samples is None else
                                        [kinematic_samples[np.isfinite(kinematic_samples)]]))
    lo, hi = np.percentile(shown, [0.5, 99.5])
    ax.set_xlim(lo - 0.15 * (hi - lo) - 0.05, hi + 0.15 * (hi - lo) + 0.05)  # not the far tails
    ax.set_ylim(0, 1.45 * heights.max())  # headroom for the published masses
    lo, median, hi = row["log10_m200c_p16"], row["log10_m200c_median"], row["log10_m200c_p84"]
    ax.axvspan(lo, hi, color="tab:blue", alpha=0.15)
    ax.axvline(median, color="tab:blue", lw=2,
               label=f"median {median:.2f} (+{hi - median:.2f}/-{median - lo:.2f})")
    m_sigma = row["log10_m200c_msigma"]
    if np.isfinite(m_sigma):
        ax.axvline(m_sigma, color="tab:orange", ls="--", lw=1.5,
                   label=f"M-sigma {m_sigma:.2f} ($\\sigma_v$ = {row['sigma_v'].value:.0f} km/s)")
    _literature(ax, row)
    _typicality_note(ax, row)
    ax.set_xlabel(r"$\log_{10} M_\mathrm{200c}$ [$h^{-1} M_\odot$]")
    ax.set_ylabel("posterior density")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax.set_title("mass")


def _kinematic(ax, row, samples) -> None:
    """The kinematics-only posterior as an outline, when there is one."""
    if samples is None or not np.isfinite(samples).any():
        return
    samples = samples[np.isfinite(samples)]
    median = row["log10_m200c_kinematic_median"]
    ax.hist(samples, bins=50, density=True, histtype="step", color="tab:green", lw=1.5,
            label=f"kinematics only: {median:.2f} "
                  f"(+{row['log10_m200c_kinematic_p84'] - median:.2f}"
                  f"/-{median - row['log10_m200c_kinematic_p16']:.2f})")


def _typicality_note(ax, row) -> None:
    """The typicality percentiles in a corner (red when the field is misspecified)."""
    names = [c for c in row.colnames if c.startswith("typicality_")]
    values = [row[c] for c in names]
    if not np.isfinite(values).any():
        return
    text = "typicality among mocks [%]\n" + "\n".join(
        f"{c[len('typicality_'):]}: {v:.0f}" for c, v in zip(names, values))
    odd = "misspecified" in str(row["flags"]).split(",")
    ax.text(0.02, 0.80, text, transform=ax.transAxes, va="top", ha="left", fontsize=7,
            color="tab:red" if odd else "0.3")


def _literature(ax, row) -> None:
    """Published masses of this cluster as error bars near the top of the panel."""
    refs = reference_masses_at(row["ra"].value, row["dec"].value, row["z"])
    top = ax.get_ylim()[1]
    for k, ref in enumerate(refs):
        y = top * (0.94 - 0.07 * k)
        ax.errorbar(ref["log10_m200c"], y, xerr=[[ref["log10_m200c_err_lo"]],
                                                  [ref["log10_m200c_err_hi"]]],
                    fmt="s", color=f"C{k + 2}", capsize=3,
                    label=f"{ref['log10_m200c']:.2f} {ref['reference']}")
