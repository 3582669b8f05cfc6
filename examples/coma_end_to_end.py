"""Coma end to end, offline: catalogue -> mass posterior -> comparison with the literature.

    python examples/coma_end_to_end.py [--model BUNDLE] [--out out/coma] [--samples 1000]

1. fetch: the shipped catalogue ``coma_sdss`` (``surveymass/data/catalogs/coma_sdss.fits``) is
   the Coma field in the format ``surveymass fetch coma`` writes (SDSS spectroscopic galaxies within 4 h^-1 Mpc and 4000 km/s of the
   centre, cluster in the header), shipped so that this example needs no network;
2. infer: membership probabilities, velocity dispersion, M–sigma mass and the posterior of
   log10 M200c with the bundle (default: the shipped one), plus the figure;
3. compare: against the shipped literature table (Lokas & Mamon 2003; Ho et al. 2022).

The same with the command line::

    surveymass infer coma_sdss --plots out/coma -o out/coma/coma_results.ecsv
    surveymass compare out/coma/coma_results.ecsv --against literature
"""

from __future__ import annotations

import argparse
from pathlib import Path

from astropy.io import fits

from surveymass.inference.compare import format_summary, run_compare
from surveymass.inference.infer import details_path, run_infer
from surveymass.paths import CATALOGS

COMA_CATALOG = CATALOGS / "coma_sdss.fits"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None,
                        help="bundle folder or shipped name (default: the shipped bundle)")
    parser.add_argument("--out", type=Path, default=Path("out/coma"), help="output folder")
    parser.add_argument("--samples", type=int, default=1000, help="posterior draws")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    header = fits.getheader(COMA_CATALOG, "GALAXIES")
    print(f"1. catalogue {COMA_CATALOG.name}: {header['N_GAL']} galaxies around "
          f"{header['CL_NAME']} (ra {header['CL_RA']}, dec {header['CL_DEC']}, "
          f"z {header['CL_Z']}), {header['ORIGIN']}")

    results = args.out / "coma_results.ecsv"
    result = run_infer([COMA_CATALOG], model=args.model, output=results,
                       n_samples=args.samples, seed=args.seed, device="cpu", plots=args.out,
                       overwrite=True)  # the example's own outputs of an earlier run
    row = result.results[0]
    print(f"2. {row['name']}: {row['n_galaxies']} galaxies in the aperture, "
          f"{row['n_members']} members, sigma_v = {row['sigma_v'].value:.0f} km/s, "
          f"log10 M200c = {row['log10_m200c_median']:.2f} "
          f"(68%: {row['log10_m200c_p16']:.2f} to {row['log10_m200c_p84']:.2f}; "
          f"M-sigma {row['log10_m200c_msigma']:.2f}) [h^-1 Msun]"
          + (f" flags: {row['flags']}" if row["flags"] else ""))
    print(f"   -> {results}, {details_path(results)}, {args.out}/Coma.png")

    comparison, stats = run_compare(results, "literature",
                                    output=args.out / "coma_vs_literature.ecsv",
                                    plot=args.out / "coma_vs_literature.png", overwrite=True)
    for ref in comparison:
        print(f"3. vs {ref['reference']}: {ref['log10_m200c_ref']:.2f} "
              f"-{ref['ref_err_lo']:.2f}/+{ref['ref_err_hi']:.2f}, normalised difference "
              f"{ref['normalised_difference']:+.2f}")
    print("   " + format_summary(stats, "literature"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
