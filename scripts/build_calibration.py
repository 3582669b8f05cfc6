"""Build surveymass/data/catalogs/calibration_mg01_vlim20.fits, the real input of ``surveymass calibrate``.

Run from the repository root:  python scripts/build_calibration.py [SHARED_DATA]

Inputs (SHARED_DATA defaults to ../shared/data beside the checkout):
real/literature/Mahdavi2001_systems_J_ApJ_554_L129.fits (VizieR J/ApJ/554/L129, Mahdavi &
Geller 2001: RA, Dec, z, log sigma_v of 280 systems) and
real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits (SDSS DR7, M_r - 5 log h < -20,
z <= 0.107; DESI-UR/VAST vollim_dr7_cbp_102709.fits @ 0339f1a).

Systems: z_min <= z <= z_max of the sdss_dr7_vlim20 survey (0.02-0.098, so that the whole
cylinder lies below the sample's z = 0.107) and footprint coverage of the standard cylinder
(R < 1.6 h^-1 Mpc) >= 0.9 in the Legacy footprint map. Galaxies: every DR7 galaxy inside
a system's cylinder (R < 1.6 h^-1 Mpc, |v_los| < 2200 km/s; Planck15, the package's
default cosmology). Deterministic (no random step).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from surveymass.calibration.real import (
    CALIBRATION_CATALOG,
    MIN_COVERAGE,
    cylinder_galaxies,
    read_mahdavi,
    select_systems,
)
from surveymass.cosmology import default_cosmology
from surveymass.phasespace import Aperture
from surveymass.provenance import atomic_path, provenance
from surveymass.survey import SELECTED_KEYWORD, load_survey

#: The repository root (this script lives in scripts/); SHARED_DATA defaults to ../shared/data.
REPO = Path(__file__).resolve().parents[1]
SYSTEMS = "real/literature/Mahdavi2001_systems_J_ApJ_554_L129.fits"
GALAXIES = "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"
SURVEY = "sdss_dr7_vlim20"


def main(shared_data: Path) -> None:
    survey, cosmology, aperture = load_survey(SURVEY), default_cosmology(), Aperture()
    mg01 = read_mahdavi(shared_data / SYSTEMS)
    systems = select_systems(mg01, survey, cosmology, aperture)
    dr7 = Table.read(shared_data / GALAXIES)
    pairs = cylinder_galaxies(systems, dr7["ra"], dr7["dec"], dr7["z"], cosmology, aperture)
    galaxies = Table({"system": pairs[:, 0].astype(np.int32),
                      **{k: np.asarray(dr7[k], float)[pairs[:, 1]]
                         for k in ("ra", "dec", "z", "weight")}})
    systems["n_galaxies"] = np.bincount(pairs[:, 0], minlength=len(systems))
    meta = {SELECTED_KEYWORD: SURVEY, "COSMO": "Planck15", "RMAX": aperture.r_max,
            "VMAX": aperture.v_max, "MINCOV": MIN_COVERAGE,
            "PROVENAN": json.dumps(provenance(inputs=[SYSTEMS, GALAXIES]))}
    hdus = [fits.PrimaryHDU(), fits.table_to_hdu(systems), fits.table_to_hdu(galaxies)]
    hdus[1].name, hdus[2].name = "SYSTEMS", "GALAXIES"
    for hdu in hdus[1:]:
        hdu.header.update({k: v for k, v in meta.items() if k != "PROVENAN"})
    hdus[2].header["PROVENAN"] = meta["PROVENAN"]
    with atomic_path(CALIBRATION_CATALOG) as tmp:
        fits.HDUList(hdus).writeto(tmp)
    in_z = int(np.sum((mg01["z"] >= survey.z_min) & (mg01["z"] <= survey.z_max)))
    print(f"wrote {CALIBRATION_CATALOG}: {len(systems)} of {len(mg01)} MG01 systems "
          f"({in_z} in {survey.z_min} <= z <= {survey.z_max}, {len(systems)} with coverage "
          f">= {MIN_COVERAGE}), {len(galaxies)} galaxies in their cylinders")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data")
