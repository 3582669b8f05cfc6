"""The sky catalogue (docs/architecture.md): reading, writing, column recognition, cleaning.

This module is the one column map of surveymass: `fetch`, `infer` and users' own files all
go through :func:`standardize`, which recognises the common spellings of position,
redshift (or cz), redshift error, r magnitude and identifier columns.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from surveymass import __version__
from surveymass.cluster import Cluster
from surveymass.cosmology import C_KMS
from surveymass.errors import InputError
from surveymass.outputs import check_outputs
from surveymass.provenance import atomic_path, provenance

#: Extension that holds the galaxies in a catalogue FITS file.
EXTNAME = "GALAXIES"

#: Columns of the sky catalogue, in order, with units.
COLUMNS = {"ra": "deg", "dec": "deg", "z": "", "z_err": "", "mag_r": "mag", "source": "",
           "objid": ""}

#: Accepted spellings (normalised: lower case, only letters and digits), first match wins.
ALIASES = {
    "ra": ["ra", "raj2000", "radeg", "radeg2000", "raicrs", "alpha", "raj2000deg"],
    "dec": ["dec", "dej2000", "decj2000", "decdeg", "dedeg", "deicrs", "decicrs", "de",
            "delta"],
    "z": ["z", "redshift", "zgal", "zhelio", "zspec", "zobs", "zhel", "zbest"],
    "cz": ["cz", "velocity", "vhelio", "vel", "czhelio"],
    "z_err": ["zerr", "ez", "zerror", "sigmaz", "zsig", "redshifterr", "redshifterror"],
    "cz_err": ["czerr", "ecz", "velerr", "evel", "verr", "ev", "evelocity", "velocityerr"],
    "mag_r": ["magr", "rmag", "dereddenedr", "deredr", "petromagr", "modelmagr",
              "cmodelmagr", "rpetro", "petror"],
    "objid": ["objid", "specobjid", "id", "objectname", "objname", "galaxyid", "galid"],
    "source": ["source"],
    "cluster_id": ["clusterid", "cluster", "clustername", "clid"],
    # cluster tables only (compare's references, GalWeight): a cluster redshift column;
    # never taken as a galaxy redshift by standardize
    "z_cl": ["zcl", "zcluster"],
}

#: Angular separation [arcsec] below which two spectra are taken as the same galaxy.
REPEAT_ARCSEC = 1.0

#: Largest value taken as a redshift, and the largest |velocity| [km/s] below which a
#: velocity column is taken to hold redshifts instead (z <= 7e-5: inside the Local Group).
REDSHIFT_VELOCITY_SPLIT = 20.0

#: NED object types of single galaxies, and the spellings of NED's type and redshift-flag
#: columns: a table with them keeps spectroscopic galaxy redshifts only
#: (:func:`spectroscopic_galaxies`).
NED_GALAXY_TYPES = ("G",)
NED_TYPE_COLUMNS = ("Type",)
NED_ZFLAG_COLUMNS = ("Redshift Flag", "Redshift_Flag")

#: Plausible apparent magnitudes [mag], open interval; values outside (missing-value codes
#: such as -9999, 99, 999) become NaN in :func:`clean_catalog`.
MAG_RANGE = (5.0, 30.0)

#: Raw SDSS magnitude spellings (normalised) that are not extinction corrected, and the
#: spellings of the r-band extinction column [mag] subtracted from them when present.
_RAW_SDSS_MAGS = ("petromagr", "modelmagr", "cmodelmagr")
_EXTINCTION_R = ("extinctionr",)


class CatalogWarning(UserWarning):
    """Something in a catalogue was fixed or dropped; the message says what."""


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_columns(colnames: list[str]) -> dict[str, str]:
    """Map sky-catalogue roles (ra, dec, z, cz, ...) to the matching columns of a table."""
    by_norm: dict[str, str] = {}
    for name in colnames:
        by_norm.setdefault(_norm(name), name)
    found = {}
    for role, spellings in ALIASES.items():
        for spelling in spellings:
            if spelling in by_norm:
                found[role] = by_norm[spelling]
                break
    return found


def _numeric(table: Table, column: str, role: str) -> np.ndarray:
    """Column values as floats (masked -> NaN); InputError when not numeric."""
    col = table[column]
    try:
        values = np.ma.filled(np.ma.asarray(col, dtype=float), np.nan)
    except (TypeError, ValueError):
        raise InputError(f"column {column!r} (taken as {role}) is not numeric (first value "
                         f"{col[0]!r}); give decimal numbers or rename the column") from None
    return np.asarray(values, dtype=float)


def _velocity_kms(table: Table, column: str, role: str) -> np.ndarray:
    """A velocity column in km/s (its unit is used when it has one; else km/s assumed)."""
    values = _numeric(table, column, role)
    unit = table[column].unit
    if unit is not None and str(unit) not in ("", "km/s", "km / s", "km/sec"):
        import astropy.units as u

        try:
            values = (values * u.Unit(unit)).to_value(u.km / u.s)
        except (ValueError, u.UnitConversionError):
            raise InputError(f"column {column!r} has unit {unit!r}, not a velocity; "
                             "give cz in km/s") from None
    return values


def _redshift(table: Table, cols: dict[str, str]) -> np.ndarray:
    """Redshifts from the z column, else from the cz column [km/s]; InputError when the
    values are of the other kind (see :data:`REDSHIFT_VELOCITY_SPLIT`)."""
    if "z" in cols:
        z = _numeric(table, cols["z"], "redshift")
        finite = z[np.isfinite(z)]
        if finite.size and np.max(finite) > REDSHIFT_VELOCITY_SPLIT:
            raise InputError(f"column {cols['z']!r} holds values up to {np.max(finite):.4g}: "
                             "that is not a redshift (velocities? magnitudes?). Rename it to "
                             "'cz' if it is a velocity in km/s")
        return z
    cz = _velocity_kms(table, cols["cz"], "cz")
    finite = np.abs(cz[np.isfinite(cz)])
    if finite.size and np.max(finite) <= REDSHIFT_VELOCITY_SPLIT:
        raise InputError(f"column {cols['cz']!r} (taken as cz, a velocity in km/s) holds "
                         f"values up to {np.max(finite):.4g}: those look like redshifts. "
                         f"Rename it to 'z' if it holds redshifts, or give cz in km/s")
    return cz / C_KMS


def _magnitude(table: Table, column: str) -> np.ndarray:
    """r magnitudes [mag]; a raw SDSS column (petroMag_r, modelMag_r, cModelMag_r) gets
    ``extinction_r`` subtracted when the table has it, else a warning."""
    mag = _numeric(table, column, "mag_r")
    if _norm(column) not in _RAW_SDSS_MAGS:
        return mag
    extinction = next((c for c in table.colnames if _norm(c) in _EXTINCTION_R), None)
    if extinction is not None:
        return mag - _numeric(table, extinction, "extinction_r")
    warnings.warn(f"column {column!r} (taken as mag_r) is a raw SDSS magnitude, not corrected "
                  "for Galactic extinction, and the table has no extinction_r column: "
                  "magnitudes are too faint by A_r (give extinction_r or dereddened "
                  "magnitudes)", CatalogWarning, stacklevel=3)
    return mag


def standardize(table: Table, source: str = "") -> Table:
    """A sky-catalogue table (columns of :data:`COLUMNS`, plus ``cluster_id`` if present).

    Recognises common spellings (see :data:`ALIASES`); cz/velocity columns (km/s) become
    redshifts. A NED table (type and redshift-flag columns) keeps spectroscopic galaxy
    redshifts only (:func:`spectroscopic_galaxies`). Missing optional columns become NaN (z_err, mag_r), ``source`` (the
    ``source`` argument) or '' (objid). Raises InputError listing what is missing.
    """
    cols = find_columns(table.colnames)
    missing = [role for role in ("ra", "dec") if role not in cols]
    if "z" not in cols and "cz" not in cols:
        missing.append("z (or cz in km/s)")
    if missing:
        raise InputError(
            f"the galaxy table lacks column(s) for {', '.join(missing)}; its columns are "
            f"{table.colnames}. Accepted spellings: " + "; ".join(
                f"{role}: {', '.join(ALIASES[role][:5])}" for role in ("ra", "dec", "z", "cz"))
            + ". Rename the columns and try again")
    table = table[spectroscopic_galaxies(table)]
    n = len(table)
    out = Table()
    out["ra"] = _numeric(table, cols["ra"], "ra")
    out["dec"] = _numeric(table, cols["dec"], "dec")
    out["z"] = _redshift(table, cols)
    if "z_err" in cols:
        out["z_err"] = _numeric(table, cols["z_err"], "z_err")
    elif "cz_err" in cols:
        out["z_err"] = _velocity_kms(table, cols["cz_err"], "cz_err") / C_KMS
    else:
        out["z_err"] = np.full(n, np.nan)
    out["mag_r"] = _magnitude(table, cols["mag_r"]) if "mag_r" in cols else np.full(n, np.nan)
    out["source"] = (np.char.strip(np.asarray(table[cols["source"]], dtype=str))
                     if "source" in cols else np.full(n, source, dtype=f"U{max(len(source), 1)}"))
    out["objid"] = (np.char.strip(np.asarray(table[cols["objid"]], dtype=str))
                    if "objid" in cols else np.full(n, "", dtype="U1"))
    if "cluster_id" in cols:
        out["cluster_id"] = np.char.strip(np.asarray(table[cols["cluster_id"]], dtype=str))
    for name, unit in COLUMNS.items():
        out[name].unit = unit or None
    out.meta["column_map"] = {role: col for role, col in cols.items()}
    return out


def _text(table: Table, names: tuple[str, ...]) -> np.ndarray | None:
    """The first present column of ``names`` as stripped strings (bytes decoded)."""
    for name in names:
        if name in table.colnames:
            col = np.ma.filled(np.ma.asarray(table[name]), "")
            return np.char.strip(np.asarray([v.decode() if isinstance(v, bytes) else str(v)
                                             for v in col], dtype=str))
    return None


def spectroscopic_galaxies(table: Table) -> np.ndarray:
    """Rows that are single galaxies (NED type G) with a spectroscopic redshift (NED's
    redshift flag without PHOT), as far as the table's NED columns say; all rows of a table
    without them."""
    keep = np.ones(len(table), bool)
    types = _text(table, NED_TYPE_COLUMNS)
    if types is not None:
        keep &= np.isin(types, NED_GALAXY_TYPES)
    flags = _text(table, NED_ZFLAG_COLUMNS)
    if flags is not None:
        keep &= np.char.find(np.char.upper(flags), "PHOT") < 0
    return keep


@dataclass(frozen=True)
class CleaningReport:
    """What :func:`clean_catalog` removed (row counts)."""

    n_in: int
    bad_position: int
    bad_redshift: int
    duplicate_rows: int
    repeat_spectra: int
    n_out: int
    bad_magnitude: int = 0  #: kept rows whose mag_r was set to NaN (outside MAG_RANGE)

    def summary(self) -> str:
        return (f"{self.n_in} rows -> {self.n_out} galaxies: dropped {self.bad_position} "
                f"without a valid position, {self.bad_redshift} without a positive redshift, "
                f"{self.duplicate_rows} duplicated rows, merged {self.repeat_spectra} repeat "
                f"spectra (same position within {REPEAT_ARCSEC:g} arcsec), set "
                f"{self.bad_magnitude} implausible magnitudes to NaN")


def clean_catalog(table: Table, repeat_arcsec: float = REPEAT_ARCSEC,
                  ) -> tuple[Table, CleaningReport]:
    """Drop unusable rows and merge repeat spectra of one galaxy; warns about each fix.

    Drops rows whose position is NaN or out of range (RA outside [0, 360) or Dec outside
    [-90, 90] degrees) and rows whose redshift is NaN,
    zero or negative (SDSS writes 0 for a failed redshift). Magnitudes outside
    :data:`MAG_RANGE` (missing-value codes such as -9999 or 99) become NaN, i.e. unknown,
    with a warning: they neither pass the survey cut as bright galaxies nor drop the galaxy.
    Exact duplicated rows are removed with a warning (they usually mean a file was
    concatenated twice). Spectra
    closer than ``repeat_arcsec`` are one galaxy: the one with the smallest ``z_err`` is
    kept (the first in file order when errors are equal or unknown), so the redshift and
    magnitude of a kept row always come from one measurement. Works per ``cluster_id``
    when that column is present. ``table`` must be :func:`standardize`-d.
    """
    n_in = len(table)
    ra, dec = np.asarray(table["ra"], float), np.asarray(table["dec"], float)
    ok_pos = (ra >= 0) & (ra < 360) & (np.abs(dec) <= 90)  # False for NaN
    ok_z = np.isfinite(table["z"]) & (table["z"] > 0)
    good = table[ok_pos & ok_z]
    bad_pos, bad_z = int((~ok_pos).sum()), int((ok_pos & ~ok_z).sum())
    if bad_pos:
        warnings.warn(f"dropped {bad_pos} row(s) with a missing or invalid ra/dec (RA "
                      "outside [0, 360) or Dec outside [-90, 90] degrees)",
                      CatalogWarning, stacklevel=2)
    if bad_z:
        warnings.warn(f"dropped {bad_z} row(s) without a positive redshift (NaN, 0 or < 0)",
                      CatalogWarning, stacklevel=2)
    mag = np.asarray(good["mag_r"], dtype=float)
    bad_mag = ~np.isnan(mag) & ~((mag > MAG_RANGE[0]) & (mag < MAG_RANGE[1]))
    n_bad_mag = int(bad_mag.sum())
    if n_bad_mag:
        good["mag_r"][bad_mag] = np.nan
        warnings.warn(f"set {n_bad_mag} r magnitude(s) outside {MAG_RANGE[0]:g} < mag_r < "
                      f"{MAG_RANGE[1]:g} (missing-value codes such as -9999 or 99) to NaN "
                      "(unknown)", CatalogWarning, stacklevel=2)
    good, n_dup = _drop_duplicate_rows(good)
    if n_dup:
        warnings.warn(f"removed {n_dup} exactly duplicated row(s); check that the file was "
                      "not concatenated twice", CatalogWarning, stacklevel=2)
    good, n_repeat = _merge_repeats(good, repeat_arcsec)
    report = CleaningReport(n_in, bad_pos, bad_z, n_dup, n_repeat, len(good), n_bad_mag)
    good.meta["cleaning"] = report.summary()
    return good, report


def _drop_duplicate_rows(table: Table) -> tuple[Table, int]:
    keys = [c for c in table.colnames if c in COLUMNS or c == "cluster_id"]
    seen: set[tuple] = set()
    keep = np.ones(len(table), bool)
    for i, row in enumerate(zip(*(table[k].tolist() for k in keys))):
        key = tuple("nan" if isinstance(v, float) and np.isnan(v) else v for v in row)
        keep[i] = key not in seen
        seen.add(key)
    return table[keep], int((~keep).sum())


def _merge_repeats(table: Table, repeat_arcsec: float) -> tuple[Table, int]:
    """Keep one spectrum per position group (see :func:`clean_catalog`)."""
    if len(table) < 2:
        return table, 0
    import astropy.units as u
    from astropy.coordinates import SkyCoord, search_around_sky
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    coords = SkyCoord(np.asarray(table["ra"]) * u.deg, np.asarray(table["dec"]) * u.deg)
    i, j, _, _ = search_around_sky(coords, coords, repeat_arcsec * u.arcsec)
    if "cluster_id" in table.colnames:
        same = np.asarray(table["cluster_id"])[i] == np.asarray(table["cluster_id"])[j]
        i, j = i[same], j[same]
    n = len(table)
    _, group = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)))
    z_err = np.nan_to_num(np.asarray(table["z_err"], float), nan=np.inf)
    order = np.lexsort((np.arange(n), z_err, group))  # by group, then z_err, then file order
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
    keep = np.sort(first)
    return table[keep], n - len(keep)


def write_catalog(table: Table, path: str | Path, cluster: Cluster | None,
                  query_meta: dict | None = None, overwrite: bool = False) -> Path:
    """Write a sky catalogue FITS file (extension GALAXIES) atomically.

    ``query_meta`` holds header keywords (8 characters at most: RADIUS, VWINDOW, DR,
    SOURCES, QTIME, N_SDSS, N_NED, FOOTCOV, ...). CL_* keywords record ``cluster``;
    N_GAL, SMVERS and a PROVENAN JSON record are added. An existing file is replaced only
    with ``overwrite``; a failed write leaves it untouched.
    """
    from astropy.io import fits

    path = Path(path)
    check_outputs([path], overwrite)
    out = standardize(table) if set(COLUMNS) - set(table.colnames) else table
    out = Table(out, copy=True)
    out.meta.clear()
    header = {}
    if cluster is not None:
        header.update(CL_NAME=cluster.name, CL_RA=cluster.ra, CL_DEC=cluster.dec,
                      CL_Z=cluster.z)
    for key, value in (query_meta or {}).items():
        if len(key) > 8:
            raise ValueError(f"FITS keyword {key!r} is longer than 8 characters")
        header[key] = value
    header.update(N_GAL=len(out), SMVERS=__version__)
    record = provenance(cluster=None if cluster is None else cluster.__dict__,
                        query=query_meta or {}, cleaning=table.meta.get("cleaning", ""))
    hdu = fits.table_to_hdu(out)
    hdu.name = EXTNAME
    for key, value in header.items():
        hdu.header[key] = value
    hdu.header["PROVENAN"] = json.dumps(record, default=str)
    with atomic_path(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp)
    return path


def read_catalog(path: str | Path, source: str = "") -> tuple[Table, Cluster | None]:
    """A galaxy table from FITS, ECSV, CSV or whitespace text, standardised.

    ``source`` fills the source column when the file has none. Returns the table and the cluster recorded in its header (CL_NAME, CL_RA, CL_DEC,
    CL_Z), or None when the file records none. Header keys stay in ``table.meta``.
    """
    path = Path(path)
    raw = read_table(path, "catalogue")
    table = standardize(raw, source=source)
    table.meta.update({k: v for k, v in raw.meta.items() if k not in ("comments",)})
    return table, _header_cluster(raw.meta, path)


#: First cells of the header line of NED's tab-separated text response ("No.", "Object
#: Name", ...); the lines above it are NED's preamble.
NED_TEXT_HEADER = "No.\t"


def read_table(path: Path, what: str = "table") -> Table:
    """The rows of a FITS (extension GALAXIES or the first binary table), ECSV, CSV,
    Parquet, NED tab-separated or whitespace-separated text file; InputError with one line
    when the file is missing, empty or none of these (``what`` names it: "catalogue")."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    table = _parse_table(path)
    if len(table) == 0:
        raise InputError(f"{what} {path} holds no rows")
    return table


def _parse_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return _read_parquet(path)
        if suffix in (".fits", ".fit", ".fts") or path.name.lower().endswith(".fits.gz"):
            from astropy.io import fits

            with fits.open(path) as hdul:
                names = [h.name for h in hdul]
                hdu = EXTNAME if EXTNAME in names else next(
                    (i for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise InputError(f"{path} holds no FITS binary table")
            return Table.read(path, hdu=hdu)
        if suffix == ".ecsv":
            return Table.read(path, format="ascii.ecsv")
        if suffix == ".csv":
            return Table.read(path, format="ascii.csv", comment="#")
        lines = path.read_text(errors="replace").splitlines()
        ned = next((i for i, line in enumerate(lines) if line.startswith(NED_TEXT_HEADER)),
                   None)
        if ned is not None:  # NED's text response: its table starts at the header line
            return Table.read(lines[ned:], format="ascii.tab")
        return Table.read(lines, format="ascii", comment="#")
    except InputError:
        raise
    except Exception as exc:  # any parser failure: say which file and what formats work
        reason = (str(exc).strip().splitlines() or [""])[0][:200]  # astropy's guesser: 80 lines
        raise InputError(f"could not read {path} as a table ({type(exc).__name__}: {reason}); "
                         "give a FITS table, an ECSV, CSV or Parquet file, or whitespace-"
                         "separated text with a header line of column names") from None


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow  # noqa: F401  (astropy's Parquet reader needs it)
    except ImportError:
        raise InputError(f"{path} is a Parquet file: reading it needs pyarrow (pip install "
                         "'surveymass[parquet]' or pip install pyarrow), or give FITS/ECSV/"
                         "CSV") from None
    return Table.read(path, format="parquet")


def _header_cluster(meta: dict, path: Path) -> Cluster | None:
    keys = ("CL_RA", "CL_DEC", "CL_Z")
    if not all(k in meta for k in keys):
        return None
    try:
        return Cluster(str(meta.get("CL_NAME", path.stem)), float(meta["CL_RA"]),
                       float(meta["CL_DEC"]), float(meta["CL_Z"]), source=str(path))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: header cluster keywords are not numbers ({exc})") from exc
