"""HEALPix pixels and maps (Gorski et al. 2005, ApJ 622, 759): the package's one HEALPix layer.

Pixel indices of sky positions, pixel centres, areas and orderings come from
``astropy-healpix``; maps are read and written in the healpy FITS format (a binary table
with PIXTYPE, ORDERING, NSIDE, INDXSCHM and COORDSYS keys) with ``astropy.io.fits``.
Not healpy: it imports matplotlib when imported (0.4-0.8 s of every ``infer``). Pixel
indices equal healpy's (tests/test_healpix.py).
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy_healpix import core

#: healpy's value of a pixel without data.
UNSEEN = -1.6375e30
#: Values within this relative distance of UNSEEN are unseen (healpy's mask_bad; float32
#: maps hold UNSEEN rounded).
_UNSEEN_RTOL = 1e-5
#: Pixels per table row of a full-sky map (the healpy/IDL layout).
_ROW = 1024
#: FITS column formats of the map dtypes written.
_TFORM = {"float32": "E", "float64": "D"}


def nside_of(npix: int) -> int:
    """The nside of a map of ``npix`` pixels (12 nside^2, nside a power of two);
    ValueError otherwise."""
    nside = int(core.npix_to_nside(npix))
    if nside < 1 or nside & (nside - 1):
        raise ValueError(f"{npix} pixels is not 12 nside^2 with nside a power of two")
    return nside


def is_npix(npix: int) -> bool:
    """Whether ``npix`` is the pixel count of a HEALPix map (:func:`nside_of`)."""
    try:
        nside_of(npix)
    except ValueError:
        return False
    return True


def npix(nside: int) -> int:
    """Pixels of a map of resolution ``nside``: 12 nside^2."""
    return int(core.nside_to_npix(nside))


def pixel_area_deg2(nside: int) -> float:
    """Area of one pixel [deg^2]: 4 pi / (12 nside^2) sr."""
    return float(core.nside_to_pixel_area(nside).to_value(u.deg ** 2))


def max_pixel_radius(nside: int) -> float:
    """Largest angular distance [rad] between a pixel's centre and its corners: healpy's
    max_pixrad (the pixel at z = 2/3 next to the polar cap's first ring), same arithmetic."""
    t = (1.0 - 1.0 / nside) ** 2
    a, b = _z_phi_vector(2.0 / 3.0, np.pi / (4 * nside)), _z_phi_vector(1.0 - t / 3.0, 0.0)
    cross = np.cross(a, b)
    return float(np.arctan2(np.sqrt(cross[0] ** 2 + cross[1] ** 2 + cross[2] ** 2),
                            a[0] * b[0] + a[1] * b[1] + a[2] * b[2]))


def _z_phi_vector(z: float, phi: float) -> np.ndarray:
    sin_theta = np.sqrt((1.0 - z) * (1.0 + z))
    return np.array([sin_theta * np.cos(phi), sin_theta * np.sin(phi), z])


def _order(nest: bool) -> str:
    return "nested" if nest else "ring"


def lonlat_to_pixel(nside: int, ra_deg, dec_deg, nest: bool = False) -> np.ndarray:
    """Pixel index (int64) of each position [deg] (healpy's ang2pix with lonlat=True)."""
    return core.lonlat_to_healpix(np.asarray(ra_deg, float) * u.deg,
                                  np.asarray(dec_deg, float) * u.deg, nside, order=_order(nest))


def vector_to_pixel(nside: int, vec: np.ndarray, nest: bool = False) -> np.ndarray:
    """Pixel index (int64) of each (n, 3) Cartesian vector (healpy's vec2pix)."""
    vec = np.asarray(vec, float)
    return core.xyz_to_healpix(vec[:, 0], vec[:, 1], vec[:, 2], nside, order=_order(nest))


def pixel_centres(nside: int, pix, nest: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """RA in [0, 360) and Dec [deg] of the centres of pixels ``pix``."""
    lon, lat = core.healpix_to_lonlat(np.asarray(pix), nside, order=_order(nest))
    return lon.to_value(u.deg), lat.to_value(u.deg)


def pixel_vectors(nside: int, pix, nest: bool = False) -> np.ndarray:
    """(n, 3) unit vectors of the centres of pixels ``pix``."""
    return np.column_stack(core.healpix_to_xyz(np.asarray(pix), nside, order=_order(nest)))


def nested_to_ring(nside: int, pix) -> np.ndarray:
    """RING index of each NESTED pixel index."""
    return core.nested_to_ring(np.asarray(pix), nside)


def degrade(values: np.ndarray, nside_out: int) -> np.ndarray:
    """A RING map averaged down to ``nside_out`` (each output pixel the mean of the
    finer pixels it contains); RING out. Like healpy's ud_grade for maps without UNSEEN."""
    values = np.asarray(values)
    nside_in = nside_of(values.size)
    if nside_out > nside_in or nside_in % nside_out:
        raise ValueError(f"cannot degrade nside {nside_in} to {nside_out}")
    ring = np.arange(npix(nside_out))
    # the children of NESTED pixel k at nside_in are k * ratio ... (k + 1) * ratio - 1
    ratio = (nside_in // nside_out) ** 2
    children = nested_to_ring(nside_in, np.arange(values.size)).reshape(-1, ratio)
    nested_mean = values[children].sum(axis=1) / ratio
    return nested_mean[core.ring_to_nested(ring, nside_out)].astype(values.dtype)


def read_map(path: str | Path) -> tuple[np.ndarray, dict]:
    """The first map of a HEALPix FITS file (healpy format: full-sky or partial (EXPLICIT
    indexing), RING or NESTED) as a float64 RING array, missing and UNSEEN pixels equal to
    :data:`UNSEEN`, and the header of its table. OSError for a file that is not FITS,
    ValueError for a FITS file that holds no HEALPix map."""
    with fits.open(path, memmap=False) as hdus:
        if len(hdus) < 2 or not isinstance(hdus[1], fits.BinTableHDU):
            raise ValueError("no binary table in HDU 1")
        table = hdus[1]
        header = dict(table.header)
        partial = (str(header.get("INDXSCHM", "")).strip() == "EXPLICIT"
                   or str(header.get("OBJECT", "")).strip() == "PARTIAL")
        data = np.asarray(table.data.field(1 if partial else 0), float).ravel()
        nside = int(header["NSIDE"]) if "NSIDE" in header else nside_of(data.size)
        if partial:
            pixels = np.asarray(table.data.field(0)).astype(np.int64).ravel()
            values = np.full(npix(nside), UNSEEN)
            values[pixels] = data
        else:
            values = data
    if values.size != npix(nside):
        raise ValueError(f"{values.size} values for NSIDE = {nside}")
    ordering = str(header.get("ORDERING", "RING")).strip().upper()
    if ordering not in ("RING", "NESTED"):
        raise ValueError(f"ORDERING = {ordering!r}")
    if ordering == "NESTED":
        values = values[core.ring_to_nested(np.arange(values.size), nside)]
    values[np.abs(values - UNSEEN) <= _UNSEEN_RTOL * abs(UNSEEN)] = UNSEEN
    return values, header


def write_map(path: str | Path, values: np.ndarray, column: str, coordsys: str = "C",
              extra_header: list[tuple] = ()) -> None:
    """Write a full-sky RING map in the healpy format (one ``column``, dtype of ``values``,
    rows of 1024 pixels); ``extra_header``: (key, value, comment) cards."""
    values = np.asarray(values)
    nside = nside_of(values.size)
    if values.dtype.name not in _TFORM:
        raise ValueError(f"maps are written as float32 or float64, not {values.dtype}")
    # more than one row: rows of 1024 pixels, each a vector cell (TFORM '1024E')
    rows = values.reshape(-1, _ROW) if values.size > _ROW else values
    width = str(_ROW) if rows.ndim == 2 else ""
    table = fits.BinTableHDU.from_columns([fits.Column(
        name=column, format=width + _TFORM[values.dtype.name], array=rows)])
    cards = [("PIXTYPE", "HEALPIX", "HEALPIX pixelisation"),
             ("ORDERING", "RING", "Pixel ordering scheme, either RING or NESTED"),
             ("COORDSYS", coordsys, "Ecliptic, Galactic or Celestial (equatorial)"),
             ("EXTNAME", "xtension", "name of this binary table extension"),
             ("NSIDE", nside, "Resolution parameter of HEALPIX"),
             ("FIRSTPIX", 0, "First pixel # (0 based)"),
             ("LASTPIX", values.size - 1, "Last pixel # (0 based)"),
             ("INDXSCHM", "IMPLICIT", "Indexing: IMPLICIT or EXPLICIT"),
             ("OBJECT", "FULLSKY", "Sky coverage, either FULLSKY or PARTIAL"),
             *extra_header]
    for key, *value in cards:
        table.header[key] = tuple(value)
    table.writeto(path, overwrite=True)
