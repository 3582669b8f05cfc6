"""SDSS spectroscopic galaxies around a position, through SkyServer SQL (astroquery.sdss)."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from surveymass.catalog import standardize

#: SkyServer data releases that have SpecObj.sciencePrimary and the spatial functions used.
RELEASES = range(8, 20)


def sdss_sql(ra: float, dec: float, radius_arcmin: float, z_min: float, z_max: float) -> str:
    """SkyServer SQL for good galaxy spectra within ``radius_arcmin`` of (ra, dec) [deg].

    Cone search with ``dbo.fGetNearbyObjEq`` on the photometric objects, joined with their
    best spectrum: class GALAXY, zWarning = 0 (no known problem), sciencePrimary = 1 (the
    one science spectrum of an object, so repeats are dropped), z_min <= z <= z_max.
    """
    return (
        "SELECT p.objID AS objid, s.specObjID AS specobjid, p.ra, p.dec, s.z, s.zErr, "
        "s.zWarning, s.class, p.petroMag_r, p.modelMag_r, p.extinction_r "
        f"FROM dbo.fGetNearbyObjEq({ra:.6f}, {dec:.6f}, {radius_arcmin:.4f}) AS n "
        "JOIN PhotoObj AS p ON p.objID = n.objID "
        "JOIN SpecObj AS s ON s.bestObjID = p.objID "
        "WHERE s.class = 'GALAXY' AND s.zWarning = 0 AND s.sciencePrimary = 1 "
        f"AND s.z BETWEEN {z_min:.6f} AND {z_max:.6f}"
    )


def query_sdss(ra: float, dec: float, radius_arcmin: float, z_min: float, z_max: float,
               data_release: int = 17, timeout_s: float = 300.0) -> Table:
    """Run :func:`sdss_sql` on SkyServer (one try; see fetch.network for retries)."""
    from astroquery.sdss import SDSS

    raw = SDSS.query_sql(sdss_sql(ra, dec, radius_arcmin, z_min, z_max),
                         data_release=data_release, timeout=timeout_s, cache=False)
    return sdss_to_catalog(raw)


def sdss_to_catalog(raw: Table | None) -> Table:
    """SkyServer rows as a sky catalogue (source 'sdss').

    mag_r = petroMag_r - extinction_r (Petrosian r corrected for Galactic extinction, as
    the SDSS main-sample selection uses; Strauss et al. 2002). Rows flagged by zWarning or
    not of class GALAXY are dropped if the service returned them.
    """
    if raw is None or len(raw) == 0:
        return standardize(Table({"ra": [], "dec": [], "z": []}), source="sdss")
    raw = Table(raw, copy=True)
    keep = np.ones(len(raw), bool)
    if "zWarning" in raw.colnames:
        keep &= np.asarray(raw["zWarning"]) == 0
    if "class" in raw.colnames:
        keep &= np.char.upper(np.char.strip(np.asarray(raw["class"], dtype=str))) == "GALAXY"
    raw = raw[keep]
    if "petroMag_r" in raw.colnames and "extinction_r" in raw.colnames:
        raw["mag_r"] = np.asarray(raw["petroMag_r"], float) - np.asarray(raw["extinction_r"],
                                                                         float)
    if "objid" in raw.colnames:
        raw["objid"] = np.asarray(raw["objid"]).astype(str)
    return standardize(raw, source="sdss")
