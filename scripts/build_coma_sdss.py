"""Build surveymass/data/catalogs/coma_sdss.fits, the shipped Coma field, from real SDSS rows.

Run from the repository root:  python scripts/build_coma_sdss.py [SDSS_FILE]

Input: shared/data/real/coma/sdss_coma_vicinity.dat (SkyServer output queried in 2019,
DR14/15; from jkadowaki/paper_plots redshift_paper/data/coma_vicinity.dat @ d52a4d8).
Steps: read it through the catalogue column map (RA, DEC, zGAL -> z, mag_r), clean it
(drop z <= 0, merge repeat spectra within 1 arcsec; surveymass.catalog.clean_catalog),
keep the cylinder `surveymass fetch coma` uses by default (4 h^-1 Mpc comoving, +-4000
km/s about the registry centre, Planck15) and write it in the format fetch writes.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from surveymass.catalog import CatalogWarning, clean_catalog, read_catalog, write_catalog
from surveymass.cosmology import default_cosmology
from surveymass.fetch import FieldQuery, footprint_header
from surveymass.paths import CATALOGS
from surveymass.registry import resolve_cluster

#: The repository root (this script lives in scripts/); SHARED_DATA defaults to ../shared/data.
REPO = Path(__file__).resolve().parents[1]

ORIGIN = ("SDSS SkyServer query of 2019 (DR14/15) via jkadowaki/paper_plots "
          "redshift_paper/data/coma_vicinity.dat @ d52a4d8")


def build(sdss_file: Path, output: Path) -> str:
    """Write the Coma catalogue to ``output``; returns a one-line summary."""
    cosmology = default_cosmology()
    table, _ = read_catalog(sdss_file, source="sdss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)  # the counts go into the header
        cleaned, report = clean_catalog(table)
    query = FieldQuery(resolve_cluster("coma", online=False), sources=("sdss",))
    field = cleaned[query.inside(cleaned, cosmology)]
    z_min, z_max = query.z_range()
    header = {"RADIUS": query.radius, "VWINDOW": query.vwindow,
              "ANGRAD": round(60 * query.angular_radius_deg(cosmology), 4),
              "ZMIN": z_min, "ZMAX": z_max, "DR": "DR14/15", "SOURCES": "sdss",
              "COSMO": cosmology.name, "QTIME": "2019", "N_SDSS": len(field), "N_NED": 0,
              "N_ROWS": report.n_in, "N_ZBAD": report.bad_redshift,
              "N_DUPROW": report.duplicate_rows, "N_REPEAT": report.repeat_spectra,
              "ORIGIN": ORIGIN, **footprint_header(query, cosmology)}
    field.meta["cleaning"] = report.summary()
    write_catalog(field, output, query.cluster, header, overwrite=True)
    return f"{report.summary()}; {len(field)} inside the fetch cylinder -> {output}"


def main() -> None:
    default = REPO.parent / "shared" / "data" / "real" / "coma" / "sdss_coma_vicinity.dat"
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(build(source, CATALOGS / "coma_sdss.fits"))


if __name__ == "__main__":
    main()
