"""Compare surveymass masses with GalWeight, the shipped literature table, or any table.

Our 1-sigma error is half the central 68% interval, sigma_ours = (p84 - p16) / 2. A
reference's error may be asymmetric; the side towards our value is used (its upper error
when our mass is higher, its lower error otherwise). For each matched pair the
normalised difference is

    (log10 M_ours - log10 M_ref) / sqrt(sigma_ours^2 + sigma_ref^2),

and for the set its mean and sample standard deviation, as in Kodi Ramanah et al.
(2021, MNRAS 501, 4080, Fig. 10: mu = -0.02, sigma = 1.05 against GalWeight).
Consistent masses with honest errors give mu ~ 0 and sigma ~ 1.

Clusters are matched by projected separation (comoving h^-1 Mpc at our redshift, the
tangent-plane projection of :mod:`surveymass.phasespace`) and rest-frame velocity
difference; for each of our clusters the nearest reference row within the window is kept,
once per distinct reference (so Coma can be compared with two papers).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.table import QTable

from surveymass.catalog import ALIASES, find_columns
from surveymass.cosmology import default_cosmology, transverse_comoving_distance
from surveymass.errors import InputError
from surveymass.inference.literature import load_literature_table
from surveymass.inference.matching import MatchWindow
from surveymass.outputs import check_outputs, staged_outputs
from surveymass.phasespace import los_velocity, tangent_plane
from surveymass.provenance import atomic_path, provenance, save_figure

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: Columns of the results table (written by ``surveymass infer``) that compare needs.
RESULTS_COLUMNS = ("name", "ra", "dec", "z", "log10_m200c_median", "log10_m200c_p16",
                   "log10_m200c_p84")

#: Reference-table spellings of the cluster name and mass; ra, dec and z spellings come
#: from :data:`surveymass.catalog.ALIASES` (case and punctuation ignored).
_ALIASES = {
    "name": ("name", "Name", "NAME", "cluster", "Cluster", "ID", "id"),
    "mass": ("log10_m200c", "log10_m200c_median", "logM200c", "logM200", "log10_M200c",
             "log_m200c", "logM", "log10_mass", "lgM200"),
}
_ERROR_PATTERNS = ("{m}_err", "e_{m}", "{m}_error", "sigma_{m}")




def read_results(path: str | Path) -> QTable:
    """A results table (ECSV from ``surveymass infer``), checked for the needed columns."""
    table = _read_table(path, "results table")
    missing = [c for c in RESULTS_COLUMNS if c not in table.colnames]
    if missing:
        raise InputError(f"results table {path} lacks the column(s) {', '.join(missing)} "
                         f"(it has: {', '.join(table.colnames)}); compare needs "
                         f"{', '.join(RESULTS_COLUMNS)} as written by `surveymass infer`")
    return table


def _read_table(path: str | Path, what: str) -> QTable:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path} not found")
    try:
        table = QTable.read(path, format="ascii.ecsv") if path.suffix == ".ecsv" \
            else QTable.read(path)
    except Exception as exc:  # astropy raises many kinds for unreadable files
        raise InputError(f"cannot read {what} {path}: {exc}. Use ECSV, CSV or FITS.") from exc
    if len(table) == 0:
        raise InputError(f"{what} {path} has no rows")
    return table


def load_reference(against: str, refresh: bool = False) -> QTable:
    """The reference masses: 'galweight', 'literature', or the path of a table."""
    if against == "galweight":
        # the VizieR client and the fetch package load only for this reference (start-up
        # of infer, whose plots use compare; docs/architecture.md, "Imports")
        from surveymass.inference.galweight import galweight_reference

        return galweight_reference(refresh=refresh)
    if against == "literature":
        return load_literature_table()
    if not Path(against).is_file():
        raise InputError(f"--against must be 'galweight', 'literature' or an existing table "
                         f"file; {against!r} is neither")
    return read_reference_file(against)


def reference_masses_at(ra: float, dec: float, z: float, against: str = "literature",
                        window: MatchWindow = MatchWindow()) -> QTable:
    """The reference rows (one per reference) matching a cluster at ra, dec [deg], z.

    For plots of a single cluster's posterior with the published masses beside it.
    """
    reference = load_reference(against)
    here = QTable({"ra": [ra] * u.deg, "dec": [dec] * u.deg, "z": [z]})
    rows = [j for _, j, _, _ in match_clusters(here, reference, window)]
    return reference[rows]


def read_reference_file(path: str | Path) -> QTable:
    """Any table with name, ra, dec, z and log10 M200c [h^-1 Msun] with errors [dex].

    Common spellings are recognised (ra, dec, z: :data:`surveymass.catalog.ALIASES`; name
    and mass: ``_ALIASES``); errors come from a symmetric
    column (``<mass>_err``, ``e_<mass>``...), ``<mass>_err_lo``/``_err_hi``, or the
    p16/p84 columns of a surveymass results table.
    """
    table = _read_table(path, "reference table")
    own = {key: next((n for n in names if n in table.colnames), None)
           for key, names in _ALIASES.items()}
    sky = find_columns(table.colnames)
    found = {"name": own["name"], "ra": sky.get("ra"), "dec": sky.get("dec"),
             "z": sky.get("z") or sky.get("z_cl"), "mass": own["mass"]}
    spellings = {key: ", ".join(_ALIASES[key]) for key in ("name", "mass")}
    spellings.update({key: ", ".join(ALIASES[key]) + " (case and punctuation ignored)"
                      for key in ("ra", "dec")},
                     z=", ".join(ALIASES["z"] + ALIASES["z_cl"]) + " (case and punctuation "
                     "ignored)")
    lo, hi = _error_columns(table, found["mass"])
    missing = [f"{key} (one of: {spellings[key]})" for key, name in found.items()
               if name is None]
    if found["mass"] and lo is None:
        missing.append(f"an error on {found['mass']} (e.g. {found['mass']}_err, "
                       f"{found['mass']}_err_lo and _err_hi, or log10_m200c_p16/p84)")
    if missing:
        raise InputError(f"reference table {path} lacks {'; '.join(missing)}. Columns "
                         f"found: {', '.join(table.colnames)}. Masses must be log10 M200c "
                         "in h^-1 Msun, errors in dex.")
    out = QTable()
    for key in ("name", "ra", "dec", "z"):
        out[key] = _plain(table[found[key]])
    out["name"] = out["name"].astype(str)
    out["log10_m200c"] = _plain(table[found["mass"]])
    out["log10_m200c_err_lo"], out["log10_m200c_err_hi"] = lo, hi
    out["reference"] = (_plain(table["reference"]).astype(str)
                        if "reference" in table.colnames else Path(path).name)
    out["flags"] = _plain(table["flags"]).astype(str) if "flags" in table.colnames else ""
    return out


def _plain(column) -> np.ndarray:
    """Values of a (Quantity, masked or plain) column as a numpy array."""
    values = column.value if isinstance(column, u.Quantity) else column
    if hasattr(values, "filled"):
        values = values.filled(np.nan if values.dtype.kind == "f" else "")
    return np.asarray(values)


def _error_columns(table, mass: str | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Lower and upper errors [dex] of the mass column, or (None, None)."""
    if mass is None:
        return None, None
    names = table.colnames
    if f"{mass}_err_lo" in names and f"{mass}_err_hi" in names:
        return _plain(table[f"{mass}_err_lo"]), _plain(table[f"{mass}_err_hi"])
    for pattern in _ERROR_PATTERNS:
        if pattern.format(m=mass) in names:
            err = _plain(table[pattern.format(m=mass)])
            return err, err
    if "log10_m200c_p16" in names and "log10_m200c_p84" in names:
        median = _plain(table[mass])
        return (median - _plain(table["log10_m200c_p16"]),
                _plain(table["log10_m200c_p84"]) - median)
    return None, None


def match_clusters(ours: QTable, theirs: QTable, window: MatchWindow = MatchWindow(),
                   cosmology: FLRW | None = None) -> list[tuple[int, int, float, float]]:
    """Pairs (i_ours, i_theirs, separation [h^-1 Mpc], dv [km/s]) within ``window``.

    For each of our clusters, the nearest reference row per distinct ``reference``.
    """
    if len(ours) == 0:  # e.g. no cluster of a results table has a mass
        return []
    cosmology = cosmology or default_cosmology()
    ra_t, dec_t = _plain(theirs["ra"]).astype(float), _plain(theirs["dec"]).astype(float)
    z_t, refs = _plain(theirs["z"]).astype(float), _plain(theirs["reference"]).astype(str)
    ra_o, dec_o = _plain(ours["ra"]).astype(float), _plain(ours["dec"]).astype(float)
    z_o = _plain(ours["z"]).astype(float)
    d_m = transverse_comoving_distance(cosmology, z_o)
    pairs = []
    for i in range(len(ours)):
        xi, eta = tangent_plane(ra_t, dec_t, ra_o[i], dec_o[i])
        sep = np.hypot(xi, eta) * d_m[i]
        dv = los_velocity(z_t, z_o[i])
        inside = np.flatnonzero((sep < window.max_separation) & (np.abs(dv) < window.max_dv))
        for ref in dict.fromkeys(refs[inside]):
            candidates = inside[refs[inside] == ref]
            j = candidates[np.argmin(sep[candidates])]
            pairs.append((i, int(j), float(sep[j]), float(dv[j])))
    return pairs


def compare_tables(ours: QTable, theirs: QTable, window: MatchWindow = MatchWindow(),
                   cosmology: FLRW | None = None) -> QTable:
    """The per-cluster comparison of matched pairs (see the module doc for the formulae)."""
    pairs = match_clusters(ours, theirs, window, cosmology)
    i, j = (np.array([p[k] for p in pairs], dtype=int) for k in (0, 1))
    median = _plain(ours["log10_m200c_median"]).astype(float)[i]
    sigma_ours = (_plain(ours["log10_m200c_p84"]).astype(float)[i]
                  - _plain(ours["log10_m200c_p16"]).astype(float)[i]) / 2.0
    ref = _plain(theirs["log10_m200c"]).astype(float)[j]
    ref_lo = _plain(theirs["log10_m200c_err_lo"]).astype(float)[j]
    ref_hi = _plain(theirs["log10_m200c_err_hi"]).astype(float)[j]
    difference = median - ref
    sigma_ref = np.where(difference > 0, ref_hi, ref_lo)
    sigma_combined = np.hypot(sigma_ours, sigma_ref)
    out = QTable()
    out["name"] = _plain(ours["name"]).astype(str)[i]
    out["ra"] = _plain(ours["ra"]).astype(float)[i] * u.deg
    out["dec"] = _plain(ours["dec"]).astype(float)[i] * u.deg
    out["z"] = _plain(ours["z"]).astype(float)[i]
    out["ref_name"] = _plain(theirs["name"]).astype(str)[j]
    out["ref_z"] = _plain(theirs["z"]).astype(float)[j]
    # comoving h^-1 Mpc: a plain number, since astropy's Mpc would drop the h^-1 and its
    # littleh does not survive an ECSV round trip
    out["separation"] = np.array([p[2] for p in pairs], dtype=float)
    out["separation"].info.description = "projected separation, comoving h^-1 Mpc"
    out["dv"] = np.array([p[3] for p in pairs]) * u.km / u.s
    out["log10_m200c_ours"] = median
    out["sigma_ours"] = sigma_ours
    out["log10_m200c_ref"] = ref
    out["ref_err_lo"], out["ref_err_hi"] = ref_lo, ref_hi
    out["sigma_ref"] = sigma_ref
    out["difference"] = difference
    out["normalised_difference"] = difference / sigma_combined
    out["reference"] = _plain(theirs["reference"]).astype(str)[j]
    out["ref_flags"] = _plain(theirs["flags"]).astype(str)[j]
    for name in out.colnames[out.colnames.index("log10_m200c_ours"):-2]:
        out[name].info.format = ".3f"
    return out


def summary_statistics(comparison: QTable) -> dict[str, float | int]:
    """Count, mean and sample standard deviation (ddof=1) of the normalised differences.

    Pairs without a finite normalised difference (a reference with no error) are left
    out and counted in ``n_without_error``.
    """
    values = np.asarray(comparison["normalised_difference"], float)
    finite = values[np.isfinite(values)]
    return {"n_pairs": len(values), "n_used": len(finite),
            "n_without_error": int(len(values) - len(finite)),
            "mean": float(np.mean(finite)) if len(finite) else float("nan"),
            "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan")}


def write_comparison(comparison: QTable, path: str | Path, stats: dict, **record) -> None:
    """Write the comparison (ECSV) with the summary and provenance in its metadata."""
    comparison.meta["summary"] = stats
    comparison.meta["provenance"] = provenance(**record)
    comparison.meta["columns"] = (
        "separation: comoving h^-1 Mpc; dv: km/s; masses log10 M200c [h^-1 Msun]; errors "
        "dex; sigma_ours = (p84 - p16)/2; sigma_ref: the reference error towards our value")
    with atomic_path(path) as tmp:
        comparison.write(tmp, format="ascii.ecsv")


def plot_comparison(comparison: QTable, stats: dict, path: str | Path) -> None:
    """Ours vs reference with error bars, and the histogram of normalised differences."""
    from matplotlib.figure import Figure
    from scipy.stats import norm

    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax_mass, ax_hist = fig.subplots(1, 2)
    ref, ours = comparison["log10_m200c_ref"], comparison["log10_m200c_ours"]
    ax_mass.errorbar(ref, ours, xerr=[comparison["ref_err_lo"], comparison["ref_err_hi"]],
                     yerr=comparison["sigma_ours"], fmt="o", ms=4, alpha=0.8)
    lims = [float(np.nanmin([ref.min(), ours.min()])) - 0.2,
            float(np.nanmax([ref.max(), ours.max()])) + 0.2]
    ax_mass.plot(lims, lims, "k--", lw=1)
    if len(comparison) <= 20:
        for row in comparison:
            ax_mass.annotate(row["name"], (row["log10_m200c_ref"], row["log10_m200c_ours"]),
                             fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax_mass.set(xlim=lims, ylim=lims, xlabel=r"reference $\log_{10} M_{200c}$ [$h^{-1} M_\odot$]",
                ylabel=r"surveymass $\log_{10} M_{200c}$ [$h^{-1} M_\odot$]")
    values = np.asarray(comparison["normalised_difference"], float)
    values = values[np.isfinite(values)]
    edge = max(4.0, float(np.ceil(np.max(np.abs(values), initial=0.0))))
    ax_hist.hist(values, bins=np.arange(-edge, edge + 0.25, 0.5), density=True, alpha=0.6,
                 label=f"$\\mu$ = {stats['mean']:.2f}, $\\sigma$ = {stats['std']:.2f} "
                       f"(N = {stats['n_used']})")
    grid = np.linspace(-edge, edge, 200)
    ax_hist.plot(grid, norm.pdf(grid), "k-", lw=1, label="unit Gaussian")
    ax_hist.set(xlabel=r"$(\log M_{\rm ours} - \log M_{\rm ref}) / \sigma_{\rm comb}$",
                ylabel="density")
    ax_hist.legend(fontsize=8)
    save_figure(fig, path, dpi=100)


def run_compare(results: str | Path, against: str, output: str | Path | None = None,
                plot: str | Path | None = None, window: MatchWindow = MatchWindow(),
                refresh: bool = False, overwrite: bool = False) -> tuple[QTable, dict]:
    """Read, match, compare and write: the work behind ``surveymass compare``.

    ``output`` and ``plot`` are checked before the work and replaced only with
    ``overwrite``; the plot is written only when there are matched pairs."""
    requested = [p for p in (output, plot) if p is not None]
    check_outputs(requested, overwrite)
    ours = read_results(results)
    usable = np.isfinite(_plain(ours["log10_m200c_median"]).astype(float))
    reference = load_reference(against, refresh=refresh)
    comparison = compare_tables(ours[usable], reference, window)
    stats = summary_statistics(comparison)
    stats["n_results"], stats["n_results_without_mass"] = len(ours), int((~usable).sum())
    targets = [p for p in (output, plot if len(comparison) else None) if p is not None]
    with staged_outputs(targets, overwrite) as staging:
        if output is not None:
            write_comparison(comparison, staging[0], stats, results=str(results),
                             against=against, match_window=asdict(window),
                             reference_meta={k: str(v) for k, v in reference.meta.items()
                                             if k != "provenance"})
        if plot is not None and len(comparison):
            plot_comparison(comparison, stats, staging[-1])
    return comparison, stats


def format_summary(stats: dict, against: str) -> str:
    """The one-paragraph summary that ``surveymass compare`` prints."""
    return (f"{stats['n_pairs']} matched pair(s) against {against} from "
            f"{stats['n_results']} cluster(s) ({stats['n_results_without_mass']} without a "
            f"mass); normalised difference over {stats['n_used']} pair(s): "
            f"mean {stats['mean']:+.2f}, std {stats['std']:.2f} (1:1 with honest errors "
            "gives 0 and 1)")
