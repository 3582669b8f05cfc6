"""Build surveymass/data/catalogs/sdss_legacy_footprint.fits, the SDSS Legacy spectroscopic
footprint map.

Run from the repository root:  python scripts/build_footprint.py [SHARED_DATA]

Inputs (SHARED_DATA defaults to ../shared/data beside the checkout):
real/footprints/sdss_dr7_lss_1deg_cells.dat (DESI-UR/VAST cbpdr7mask.dat @ fa3db70) and
real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits (DESI-UR/VAST
vollim_dr7_cbp_102709.fits @ 0339f1a). The construction is described in
surveymass/masks/legacy.py; it is deterministic (no random step) and needs healpy (the
`test` extra) for the pixel centres the shipped map was built from.
"""

from __future__ import annotations

import sys
from pathlib import Path

from surveymass.masks.legacy import (
    DR7_LEGACY_SPECTRO_AREA_DEG2,
    build_legacy_footprint,
    write_footprint_map,
)
from surveymass.paths import CATALOGS

#: The repository root (this script lives in scripts/); SHARED_DATA defaults to ../shared/data.
REPO = Path(__file__).resolve().parents[1]

CELLS = "real/footprints/sdss_dr7_lss_1deg_cells.dat"
GALAXIES = "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"


def main(shared_data: Path) -> None:
    build = build_legacy_footprint(shared_data / CELLS, shared_data / GALAXIES)
    path = write_footprint_map(build, CATALOGS / "sdss_legacy_footprint.fits")
    print(f"wrote {path}: nside {build.nside}, area {build.area_deg2:.0f} deg^2 "
          f"(listed 1-degree cells {build.cell_area_deg2:.0f} deg^2; published DR7 Legacy "
          f"spectroscopic area {DR7_LEGACY_SPECTRO_AREA_DEG2:.0f} deg^2 incl. southern "
          f"stripes), DR7 galaxies inside {100 * build.galaxy_fraction_inside:.2f}%, "
          f"mean completeness at the galaxies {build.galaxy_mean_completeness:.4f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data")
