"""Merging the SDSS and NED galaxy lists into one sky catalogue."""

from __future__ import annotations

import numpy as np
from astropy.table import Table, vstack

#: Galaxies of two surveys closer than this [arcsec] are the same galaxy.
MATCH_ARCSEC = 3.0


def merge_sources(preferred: Table, other: Table, match_arcsec: float = MATCH_ARCSEC,
                  ) -> tuple[Table, int]:
    """``preferred`` (SDSS) plus the galaxies of ``other`` (NED) that have no counterpart in
    ``preferred`` within ``match_arcsec``; also returns how many of ``other`` matched.

    Both tables are sky catalogues; their ``source`` columns say where each row came from.
    """
    if len(preferred) == 0 or len(other) == 0:
        return vstack([preferred, other], metadata_conflicts="silent"), 0
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    c_pref = SkyCoord(np.asarray(preferred["ra"]) * u.deg, np.asarray(preferred["dec"]) * u.deg)
    c_other = SkyCoord(np.asarray(other["ra"]) * u.deg, np.asarray(other["dec"]) * u.deg)
    _, sep, _ = c_other.match_to_catalog_sky(c_pref)
    matched = sep < match_arcsec * u.arcsec
    merged = vstack([preferred, other[~matched]], metadata_conflicts="silent")
    return merged, int(matched.sum())
