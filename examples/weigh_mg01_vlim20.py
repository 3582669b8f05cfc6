"""Weigh every Mahdavi & Geller (2001) system inside the SDSS DR7 volume-limited sample with
the volume-limited bundle, in catalogue mode, offline.

    python examples/weigh_mg01_vlim20.py [--model sdss_dr7_vlim20] [--out out/mg01_vlim20]

1. the galaxies: the DR7 volume-limited sample (M_r - 5 log h < -20, z <= 0.107; 120,606
   galaxies; shared/data/real/sdss_dr7_bright, or the repository's copy in tests/data/shared),
   already cut to the survey ``sdss_dr7_vlim20`` (so ``--selected``);
2. the clusters: the 280 systems of Mahdavi & Geller (2001, VizieR J/ApJ/554/L129) with their
   velocity dispersions, those in the survey's cluster range 0.02 <= z <= 0.098 and at least
   90% inside the Legacy footprint (`surveymass.calibration.real.select_systems`: 74);
3. ``infer GALAXIES --clusters CLUSTERS``: one results row per system, MG01's columns carried
   through;
4. the comparison: the pipeline's sigma_v against MG01's, and the posterior masses (full and
   kinematics-only) against the Evrard et al. (2008) mass of MG01's sigma (the literature
   mass these systems have) and against the shipped literature table (``surveymass compare
   --against literature``).

Writes OUT/mg01_masses.ecsv (+ details), OUT/mg01_vs_mg01_sigma.png, OUT/summary.json and
prints the statistics (docs/models.md quotes them).
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from astropy.table import Table  # noqa: E402

from surveymass.calibration.real import read_mahdavi, select_systems  # noqa: E402
from surveymass.cosmology import default_cosmology  # noqa: E402
from surveymass.halo import evrard2008  # noqa: E402
from surveymass.inference.compare import run_compare  # noqa: E402
from surveymass.inference.infer import run_infer  # noqa: E402
from surveymass.survey import load_survey  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DR7 = "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"
MG01 = "real/literature/Mahdavi2001_systems_J_ApJ_554_L129.fits"
SHARED = (ROOT.parent / "shared/data", ROOT / "tests/data/shared")


def shared_file(relative: str, scratch: Path) -> Path:
    """A file of shared/data, or the repository's copy (unpacked when it is xz)."""
    for base in SHARED:
        if (base / relative).is_file():
            return base / relative
        packed = base / f"{relative}.xz"
        if packed.is_file():
            out = scratch / Path(relative).name
            with lzma.open(packed) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return out
    raise SystemExit(f"{relative} not found under {', '.join(map(str, SHARED))}")


def mg01_clusters(path: Path, out: Path) -> Path:
    """The MG01 systems the volume-limited survey covers, as a clusters table."""
    survey = load_survey("sdss_dr7_vlim20")
    systems = select_systems(read_mahdavi(path), survey, default_cosmology())
    systems.rename_column("coverage", "footprint_coverage_mg01")
    systems.write(out, overwrite=True)
    return out


def compare_sigma_and_mass(results: Table) -> dict:
    """sigma_v and log10 M200c of the pipeline against MG01's sigma and its Evrard mass."""
    weighed = np.isfinite(results["log10_m200c_median"])
    r = results[weighed]
    log_sigma = np.log10(np.asarray(r["sigma_v"], float))
    d_sigma = log_sigma - np.asarray(r["log_sigma_mg01"], float)
    m_mg01 = evrard2008().log10_mass(10 ** np.asarray(r["log_sigma_mg01"], float),
                                     np.asarray(r["z"], float), default_cosmology())
    d_mass = np.asarray(r["log10_m200c_median"], float) - m_mg01
    width = (np.asarray(r["log10_m200c_p84"], float) - np.asarray(r["log10_m200c_p16"], float)) / 2
    # MG01's sigma error propagated through M ~ sigma^(1/slope)
    error_mg01 = np.asarray(r["e_log_sigma_mg01"], float) / evrard2008().slope
    pull = d_mass / np.hypot(width, error_mg01)
    kinematic = np.asarray(r["log10_m200c_kinematic_median"], float) - m_mg01
    kinematic_width = (np.asarray(r["log10_m200c_kinematic_p84"], float)
                       - np.asarray(r["log10_m200c_kinematic_p16"], float)) / 2
    kinematic_pull = kinematic / np.hypot(kinematic_width, error_mg01)
    flagged = np.array([bool(f) for f in r["flags"]])
    return {"n_systems": len(results), "n_weighed": int(weighed.sum()),
            "n_flagged_among_weighed": int(flagged.sum()),
            "flag_counts": {f: int(sum(f in s.split(",") for s in results["flags"]))
                            for f in sorted({f for s in results["flags"] for f in s.split(",")
                                             if f})},
            "log_sigma_median_difference": float(np.median(d_sigma)),
            "log_sigma_rms_difference": float(np.sqrt(np.mean(d_sigma ** 2))),
            "log_mass_median_difference_vs_evrard_mg01": float(np.median(d_mass)),
            "log_mass_rms_difference_vs_evrard_mg01": float(np.sqrt(np.mean(d_mass ** 2))),
            "pull_mean": float(np.mean(pull)), "pull_std": float(np.std(pull)),
            "median_posterior_half_width": float(np.median(width)),
            "kinematic_log_mass_median_difference_vs_evrard_mg01": float(np.median(kinematic)),
            "kinematic_log_mass_rms_difference_vs_evrard_mg01":
                float(np.sqrt(np.mean(kinematic ** 2))),
            "kinematic_pull_mean": float(np.mean(kinematic_pull)),
            "kinematic_pull_std": float(np.std(kinematic_pull)),
            "kinematic_median_posterior_half_width": float(np.median(kinematic_width)),
            "_arrays": {"log_sigma": log_sigma, "log_sigma_mg01": r["log_sigma_mg01"],
                        "e_log_sigma_mg01": r["e_log_sigma_mg01"], "m_mg01": m_mg01,
                        "m": r["log10_m200c_median"], "width": width}}


def plot(stats: dict, path: Path) -> None:
    a = stats["_arrays"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    left.errorbar(a["log_sigma_mg01"], a["log_sigma"], xerr=a["e_log_sigma_mg01"], fmt="o",
                  ms=4, alpha=0.7)
    lo, hi = 1.9, 3.1
    left.plot([lo, hi], [lo, hi], "k--", lw=1)
    left.set(xlabel=r"log$_{10}$ $\sigma$ MG01 [km/s]", ylabel=r"log$_{10}$ $\sigma_v$ surveymass",
             xlim=(lo, hi), ylim=(lo, hi),
             title=f"median difference {stats['log_sigma_median_difference']:+.3f} dex")
    right.errorbar(a["m_mg01"], a["m"], yerr=a["width"], fmt="o", ms=4, alpha=0.7)
    lo, hi = 12.0, 15.5
    right.plot([lo, hi], [lo, hi], "k--", lw=1)
    right.set(xlabel=r"log$_{10}$ M$_{200c}$ Evrard (2008) of MG01 $\sigma$ [h$^{-1}$ M$_\odot$]",
              ylabel=r"posterior median [h$^{-1}$ M$_\odot$]", xlim=(lo, hi), ylim=(lo, hi),
              title=f"pull mean {stats['pull_mean']:+.2f}, std {stats['pull_std']:.2f}")
    fig.suptitle(f"{stats['n_weighed']} of {stats['n_systems']} MG01 systems weighed "
                 "(SDSS DR7, M_r - 5 log h < -20)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sdss_dr7_vlim20")
    parser.add_argument("--out", type=Path, default=Path("out/mg01_vlim20"))
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        galaxies = shared_file(DR7, Path(tmp))
        clusters = mg01_clusters(shared_file(MG01, Path(tmp)), args.out / "mg01_systems.ecsv")
        output = args.out / "mg01_masses.ecsv"
        result = run_infer([galaxies], clusters=clusters, selected=True, model=args.model,
                           output=output, n_samples=args.samples, overwrite=True,
                           quiet=False)
    stats = compare_sigma_and_mass(Table(result.results))
    plot(stats, args.out / "mg01_vs_mg01_sigma.png")
    _, literature = run_compare(output, "literature", output=args.out / "vs_literature.ecsv",
                                overwrite=True)
    stats["literature"] = {k: v for k, v in literature.items() if not k.startswith("_")}
    summary = {k: v for k, v in stats.items() if k != "_arrays"}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(json.dumps(summary, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
