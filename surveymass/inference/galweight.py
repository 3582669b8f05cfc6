"""The GalWeight cluster catalogue (GalWCat19; Abdullah et al. 2020, ApJS 246, 2) from VizieR.

GalWCat19 lists ~1800 SDSS-DR13 clusters at 0.01 < z < 0.2 with dynamical masses from the
virial theorem with a surface-pressure correction, at several overdensities including
M200 (200 x critical). The table (VizieR ``galwcls``) gives masses in h^-1 Msun as plain
numbers (~1e14; radii in h^-1 Mpc); VizieR units cannot carry h, so the h^-1 convention is
applied here (:data:`GALWEIGHT_MASS_H`) and recorded in the output metadata. Masses whose
median, once converted, is not a cluster mass (:data:`PLAUSIBLE_LOG10_M200`) are refused:
the unit was misread.

The raw cluster table comes from :mod:`surveymass.fetch.galwcat` (VizieR, cached).
"""

from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from surveymass.errors import ServiceError
from surveymass.fetch.galwcat import cluster_columns, fetch_galweight_table

REFERENCE = "Abdullah et al. 2020, ApJS 246, 2 (GalWCat19)"
#: h convention of GalWCat19 masses: 1.0 means h^-1 Msun (see the module doc).
GALWEIGHT_MASS_H = 1.0
#: Unit assumed when a VizieR mass column carries none (GalWCat19 tabulates h^-1 Msun, ~1e14).
DEFAULT_MASS_UNIT = 1.0 * u.Msun
#: Range [log10 h^-1 Msun] the median GalWCat19 M200 must fall in once its unit is applied.
PLAUSIBLE_LOG10_M200 = (13.0, 15.5)


def _mass_unit_scale(column) -> float:
    """Factor from the column's values to Msun (in GalWCat19's h convention)."""
    unit = column.unit
    if unit is None or unit == u.dimensionless_unscaled:
        warnings.warn(f"GalWCat19 mass column {column.name} has no unit; assuming "
                      f"{DEFAULT_MASS_UNIT} h^-1 (Abdullah et al. 2020)", stacklevel=3)
        return DEFAULT_MASS_UNIT.to_value(u.Msun)
    try:
        return (1 * unit).to_value(u.Msun)
    except u.UnitsError as exc:
        raise ServiceError(f"GalWCat19 mass column {column.name} has unit {unit!s}, not a "
                           "mass; the VizieR format changed, please report it") from exc


def galweight_reference(raw: Table | None = None, **fetch_kwargs) -> QTable:
    """GalWCat19 as a reference table for :mod:`surveymass.inference.compare`.

    Columns: name ("GalWCat19 0014", NED's form of the identifier), ra, dec [deg], z,
    log10_m200c [h^-1 Msun] and its errors (dex, from the linear M200 errors), reference,
    flags. ``raw`` defaults to :func:`fetch_galweight_table` (``fetch_kwargs`` go there).
    """
    raw = fetch_galweight_table(**fetch_kwargs) if raw is None else raw
    cols = cluster_columns(raw)
    ra, dec = _positions_deg(raw[cols["ra"]], raw[cols["dec"]])
    log_m, err_lo, err_hi = _log_masses(raw, cols)
    names = (_names(raw[cols["id"]]) if cols["id"]
             else np.char.add("GalWCat19 row ", np.arange(len(raw)).astype(str)))
    out = QTable()
    out["name"] = names
    out["ra"], out["dec"] = ra * u.deg, dec * u.deg
    out["z"] = np.asarray(raw[cols["z"]], float)
    out["log10_m200c"], out["log10_m200c_err_lo"], out["log10_m200c_err_hi"] = (
        log_m, err_lo, err_hi)
    out["reference"] = REFERENCE
    out["flags"] = np.where(np.isfinite(err_lo), "", "no_mass_error")
    out.meta["galweight_mass_unit"] = f"{raw[cols['mass']].unit}; h convention: h^-1 Msun"
    out.meta["vizier_table"] = raw.meta.get("vizier_table", "")
    out.meta["queried_utc"] = raw.meta.get("queried_utc", "")
    return out[np.isfinite(log_m)]


def _names(ids) -> np.ndarray:
    """'GalWCat19 NNNN': integer identifiers zero-padded to four digits, as NED writes them."""
    values = np.asarray(ids)
    text = (np.char.zfill(values.astype(str), 4) if values.dtype.kind in "iu"
            else values.astype(str))
    return np.char.add("GalWCat19 ", text)


def _positions_deg(ra_col, dec_col) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec [deg] from numeric degree columns or sexagesimal strings."""
    if ra_col.dtype.kind in "US":
        coords = SkyCoord(np.asarray(ra_col), np.asarray(dec_col), unit=(u.hourangle, u.deg))
        return coords.ra.deg, coords.dec.deg
    return np.asarray(ra_col, float), np.asarray(dec_col, float)


def _log_masses(raw: Table, cols: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log10 M200c [h^-1 Msun] and its lower and upper errors [dex]."""
    column = raw[cols["mass"]]
    value = np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
    lo = _error(raw, cols["err_lo"])
    hi = _error(raw, cols["err_hi"])
    if column.name.lower().startswith("log") or isinstance(column.unit, u.LogUnit):
        log_m, lower, upper = value, lo, hi
    else:
        scale = _mass_unit_scale(column) * GALWEIGHT_MASS_H
        with np.errstate(divide="ignore", invalid="ignore"):
            log_m = np.log10(value * scale)
            lower = np.where(value - lo > 0, np.log10(value / (value - lo)), np.nan)
            upper = np.log10((value + hi) / value)
    _check_plausible(log_m, column)
    return log_m, lower, upper


def _check_plausible(log_m: np.ndarray, column) -> None:
    """ServiceError when the median mass is not a cluster mass (a misread unit)."""
    finite = log_m[np.isfinite(log_m)]
    if finite.size == 0:
        return
    median = float(np.median(finite))
    low, high = PLAUSIBLE_LOG10_M200
    if not low <= median <= high:
        raise ServiceError(f"GalWCat19 mass column {column.name} with unit {column.unit} gives "
                           f"a median log10 M200 of {median:.2f}, not a cluster mass ({low} to "
                           f"{high}); the VizieR units changed, please report it")


def _error(raw: Table, name: str | None) -> np.ndarray:
    if name is None:
        return np.full(len(raw), np.nan)
    return np.abs(np.ma.filled(np.ma.asarray(raw[name], dtype=float), np.nan))
