"""NED (astroquery.ipac.ned): galaxies with spectroscopic redshifts around a position, and
cluster-name resolution (the registry's fallback)."""

from __future__ import annotations

import math

import numpy as np
from astropy.table import Table

from surveymass.catalog import spectroscopic_galaxies, standardize
from surveymass.cluster import Cluster
from surveymass.errors import InputError
from surveymass.fetch.network import describe, with_retries


def query_ned(ra: float, dec: float, radius_arcmin: float) -> Table:
    """NED objects within ``radius_arcmin`` of (ra, dec) [deg], as a sky catalogue
    (one try; see fetch.network for retries)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astroquery.ipac.ned import Ned

    raw = Ned.query_region(SkyCoord(ra * u.deg, dec * u.deg), radius=radius_arcmin * u.arcmin)
    return ned_to_catalog(raw)


def ned_to_catalog(raw: Table | None) -> Table:
    """NED rows as a sky catalogue (source 'ned'): single galaxies (Type G) with a
    spectroscopic redshift only.

    Other types, rows whose "Redshift Flag" contains PHOT (photometric redshift)
    (:func:`surveymass.catalog.spectroscopic_galaxies`, the rule ``infer`` applies to NED
    tables too) and rows without a redshift are dropped. NED's main table has no redshift
    error (z_err NaN) and its magnitudes mix bands and systems without extinction correction (mag_r NaN).
    Column names differ between NED versions ('RA' or 'RA(deg)'); both are recognised.
    """
    if raw is None or len(raw) == 0:
        return standardize(Table({"ra": [], "dec": [], "z": []}), source="ned")
    keep = spectroscopic_galaxies(raw)
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


def resolve_name(name: str) -> Cluster:
    """Resolve ``name`` with NED's object query (retried, see
    :func:`surveymass.fetch.network.with_retries`); InputError when NED does not know the
    name, ServiceError when NED cannot be reached or answers with another error."""
    from astroquery.exceptions import RemoteServiceError
    from astroquery.ipac.ned import Ned

    def query():
        try:
            return Ned.query_object(name)
        except RemoteServiceError as exc:  # NED's answer to a name it cannot resolve
            return exc

    result = with_retries(query, "NED", hint="")
    if isinstance(result, RemoteServiceError):
        raise InputError(f"could not resolve it ({' '.join(describe(result).split())})")
    if result is None or len(result) == 0:
        raise InputError("no object of that name")
    row = result[0]
    ra_col = "RA" if "RA" in result.colnames else "RA(deg)"
    dec_col = "DEC" if "DEC" in result.colnames else "DEC(deg)"
    z = row["Redshift"]
    if z is None or getattr(z, "mask", False) or not math.isfinite(float(z)) or float(z) <= 0:
        raise InputError("NED knows the object but gives no positive redshift")
    return Cluster(str(row["Object Name"]).strip() or name, float(row[ra_col]),
                   float(row[dec_col]), float(z), source="NED object query")
