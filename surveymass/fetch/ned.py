"""NED galaxies with spectroscopic redshifts around a position (astroquery.ipac.ned)."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from surveymass.catalog import standardize

#: NED "Type" of single galaxies.
GALAXY_TYPES = {"G"}


def query_ned(ra: float, dec: float, radius_arcmin: float) -> Table:
    """NED objects within ``radius_arcmin`` of (ra, dec) [deg], as a sky catalogue
    (one try; see fetch.network for retries)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astroquery.ipac.ned import Ned

    raw = Ned.query_region(SkyCoord(ra * u.deg, dec * u.deg), radius=radius_arcmin * u.arcmin)
    return ned_to_catalog(raw)


def _text(table: Table, *names: str) -> np.ndarray | None:
    """The first present column of ``names`` as stripped strings (bytes decoded)."""
    for name in names:
        if name in table.colnames:
            col = np.ma.filled(np.ma.asarray(table[name]), "")
            return np.char.strip(np.asarray([v.decode() if isinstance(v, bytes) else str(v)
                                             for v in col], dtype=str))
    return None


def ned_to_catalog(raw: Table | None) -> Table:
    """NED rows as a sky catalogue (source 'ned'): single galaxies (Type G) with a
    spectroscopic redshift only.

    Rows whose "Redshift Flag" contains PHOT (photometric redshift) or that have no
    redshift are dropped. NED's main table has no redshift error (z_err NaN) and its
    magnitudes mix bands and systems without extinction correction (mag_r NaN).
    Column names differ between NED versions ('RA' or 'RA(deg)'); both are recognised.
    """
    if raw is None or len(raw) == 0:
        return standardize(Table({"ra": [], "dec": [], "z": []}), source="ned")
    keep = np.ones(len(raw), bool)
    types = _text(raw, "Type")
    if types is not None:
        keep &= np.isin(types, list(GALAXY_TYPES))
    flags = _text(raw, "Redshift Flag", "Redshift_Flag")
    if flags is not None:
        keep &= np.char.find(np.char.upper(flags), "PHOT") < 0
    if "Redshift" in raw.colnames:
        z = np.ma.filled(np.ma.asarray(raw["Redshift"], dtype=float), np.nan)
        keep &= np.isfinite(z)
    selected = raw[keep]
    columns = {"ra": _first(selected, "RA", "RA(deg)"),
               "dec": _first(selected, "DEC", "DEC(deg)"),
               "z": "Redshift", "objid": "Object Name"}
    table = Table({role: selected[name] for role, name in columns.items()
                   if name in selected.colnames})
    return standardize(table, source="ned")


def _first(table: Table, *names: str) -> str:
    return next((n for n in names if n in table.colnames), names[0])
