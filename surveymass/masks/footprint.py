"""Survey footprints: one interface over HEALPix completeness maps and mangle polygons.

A :class:`Footprint` answers one question, ``completeness(ra_deg, dec_deg)``: the
fraction (0-1) of targets that got a spectrum at each position, 0 outside the survey.
:func:`load_footprint` opens a HEALPix FITS map, a mangle ``.ply`` window (with optional
hole files) or the map of a shipped survey; :func:`aperture_coverage` gives the
completeness-weighted fraction of a cluster's aperture inside a footprint.
"""

from __future__ import annotations

import abc
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from astropy.coordinates import offset_by

from surveymass.errors import InputError
from surveymass.masks import healpix
from surveymass.masks.mangle import ManglePolygons, read_mangle
from surveymass.masks.sky import SkyIndex, sky_positions
from surveymass.paths import CATALOGS, shipped
from surveymass.phasespace import angular_radius
from surveymass.survey import DEFAULT_SURVEY, load_survey

if TYPE_CHECKING:
    from astropy.cosmology import FLRW


#: Points of the sampling pattern over an aperture disc (see :func:`disc_samples`).
DEFAULT_DISC_SAMPLES = 1000

_HEALPIX_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz")
_MANGLE_SUFFIXES = (".ply", ".pol")
#: COORDSYS codes (healpy's) meaning equatorial (ICRS-like) coordinates
_EQUATORIAL = ("C", "Q", "CELESTIAL", "EQUATORIAL")


class Footprint(abc.ABC):
    """A survey footprint: spectroscopic completeness (0-1) as a function of position."""

    name: str

    def completeness(self, ra_deg, dec_deg) -> np.ndarray:
        """Completeness (0-1) at each position [deg]; 0 outside the footprint."""
        ra, dec = sky_positions(ra_deg, dec_deg)
        return self._completeness(ra, dec)

    @abc.abstractmethod
    def _completeness(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Completeness at validated positions."""

    @abc.abstractmethod
    def area_deg2(self, weighted: bool = False) -> float:
        """Area [deg^2] with non-zero completeness (x completeness if ``weighted``)."""


@dataclass(frozen=True, eq=False)
class HealpixFootprint(Footprint):
    """A HEALPix completeness map (RING ordering, equatorial coordinates)."""

    values: np.ndarray
    name: str = "healpix map"

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 1 or not healpix.is_npix(values.size):
            raise InputError(f"{self.name}: {values.size} values is not a HEALPix map "
                             "(12 nside^2 pixels, nside a power of two)")
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
            raise InputError(f"{self.name} holds values outside [0, 1] (min {np.nanmin(values)}, "
                             f"max {np.nanmax(values)}): a footprint map must hold completeness")
        object.__setattr__(self, "values", values)

    @property
    def nside(self) -> int:
        return healpix.nside_of(len(self.values))

    def _completeness(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        return self.values[healpix.lonlat_to_pixel(self.nside, ra, dec)].astype(float)

    def area_deg2(self, weighted: bool = False) -> float:
        cells = self.values if weighted else (self.values > 0)
        return float(np.sum(cells) * healpix.pixel_area_deg2(self.nside))


@dataclass(frozen=True, eq=False)
class MangleFootprint(Footprint):
    """A mangle window (polygon weights = completeness) minus optional hole polygons."""

    window: ManglePolygons
    holes: tuple[ManglePolygons, ...] = ()
    name: str = "mangle mask"

    def _completeness(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        weight = self.window.weight(ra, dec)
        for hole in self.holes:
            weight = np.where(hole.polygon_index(ra, dec) >= 0, 0.0, weight)
        return weight

    def area_deg2(self, weighted: bool = False) -> float:
        """Area of the window [deg^2] from the polygon areas in the file (holes not removed)."""
        return self.window.area_deg2(weighted)


#: Quantile of the galaxies' nearest-neighbour separations, and the multiple of it, that
#: make the covering radius of a :class:`TableFootprint`: for galaxies scattered at random
#: (Poisson) a point inside the table's area lies farther than it from every galaxy with
#: probability exp(-ln(10) 2^2) = 1e-4 (real galaxies cluster: see docs/user_guide.md).
COVER_QUANTILE, COVER_FACTOR = 90.0, 2.0
#: Galaxies (at most) whose nearest-neighbour separations set the covering radius.
COVER_SAMPLE = 20000
#: Points of the disc pattern for an aperture's coverage by a TableFootprint: its covering
#: radius limits the resolution to ~0.1 of an aperture anyway, and 250 points resolve a
#: straight edge to ~0.01 (4x fewer queries than DEFAULT_DISC_SAMPLES).
TABLE_DISC_SAMPLES = 250
#: HEALPix resolution of the pixel centres over which a TableFootprint's area is summed.
TABLE_AREA_NSIDE = 256


@dataclass(eq=False)
class TableFootprint(Footprint):
    """The sky a galaxy table covers itself (a stripe, a box query, a cone): completeness 1
    within the covering radius of one of its galaxies, 0 elsewhere.

    The covering radius is ``COVER_FACTOR`` times the ``COVER_QUANTILE``th percentile of
    the galaxies' nearest-neighbour separations, so it follows the table's density. It is
    also the resolution: an aperture cut by the table's straight edge comes out covered
    by up to ~2 rho / (pi theta) too much (rho the covering radius, theta the aperture's
    angular radius).
    """

    ra: np.ndarray
    dec: np.ndarray
    name: str = "galaxy table"

    def __post_init__(self) -> None:
        self.ra, self.dec = sky_positions(self.ra, self.dec)
        if self.ra.size < 2:
            raise InputError(f"{self.name}: the sky a table covers needs at least 2 "
                             f"galaxies, got {self.ra.size}")
        self.index = SkyIndex(self.ra, self.dec)
        pick = np.random.default_rng(0).permutation(self.ra.size)[:COVER_SAMPLE]
        separations = self.index.nearest_angle(self.ra[pick], self.dec[pick], k=2)
        self.cover_radius = float(COVER_FACTOR * np.percentile(separations, COVER_QUANTILE))

    def _completeness(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        nearest = self.index.nearest_angle(ra, dec, max_angle=self.cover_radius)
        return (nearest <= self.cover_radius).astype(float)

    def area_deg2(self, weighted: bool = False) -> float:
        ra, dec = healpix.pixel_centres(TABLE_AREA_NSIDE,
                                        np.arange(healpix.npix(TABLE_AREA_NSIDE)))
        covered = self._completeness(ra, dec).sum()
        return float(covered * healpix.pixel_area_deg2(TABLE_AREA_NSIDE))


def read_healpix_map(path: str | Path) -> HealpixFootprint:
    """Read a HEALPix completeness map (FITS, any ordering; UNSEEN pixels count as 0)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"footprint map {path} does not exist")
    try:
        with warnings.catch_warnings():  # astropy's notes on non-standard FITS files
            warnings.simplefilter("ignore")
            values, header = healpix.read_map(path)
    except Exception as exc:  # astropy.io.fits raises many types for malformed files
        raise InputError(f"{path} is not a readable HEALPix map ({type(exc).__name__}: "
                         f"{exc}); give a FITS file with NSIDE/ORDERING keys (healpy format) "
                         "or a mangle .ply file") from exc
    coordsys = str(header.get("COORDSYS", "C")).strip().upper()
    if coordsys not in _EQUATORIAL:
        raise InputError(f"{path} has COORDSYS={coordsys!r}; footprints must be in equatorial "
                         "coordinates (COORDSYS='C'): rotate it with healpy.Rotator first")
    values = np.where(values == healpix.UNSEEN, 0.0, values)
    return HealpixFootprint(values=values, name=str(path))


def read_mangle_footprint(window: str | Path, holes=()) -> MangleFootprint:
    """A footprint from a mangle window file and hole files (all ``.ply``)."""
    return MangleFootprint(window=read_mangle(window),
                           holes=tuple(read_mangle(h) for h in holes), name=str(window))


def load_footprint(path_or_name: str | Path | Footprint | None = None,
                   holes=()) -> Footprint:
    """Open a footprint: a HEALPix FITS map, a mangle .ply window, or a shipped survey.

    ``None`` is the default survey's map (SDSS Legacy); a name without suffix is a
    survey config name (``sdss_legacy``); a bare file name is looked up in the
    shipped catalogues (surveymass/data/catalogs/).
    ``holes``: mangle hole files subtracted from a mangle window. Maps are cached.
    """
    if isinstance(path_or_name, Footprint):
        return path_or_name
    path = _resolve(path_or_name)
    name = path.name.lower()
    if name.endswith(_MANGLE_SUFFIXES):
        return _cached_mangle(str(path), tuple(str(h) for h in holes), path.stat().st_mtime)
    if holes:
        raise InputError("hole files apply to mangle windows only; "
                         f"{path} is not a .ply file")
    if name.endswith(_HEALPIX_SUFFIXES):
        return _cached_healpix(str(path), path.stat().st_mtime)
    raise InputError(f"cannot tell the format of footprint {path}: use a HEALPix map "
                     f"({', '.join(_HEALPIX_SUFFIXES)}) or a mangle file "
                     f"({', '.join(_MANGLE_SUFFIXES)})")


def _resolve(path_or_name: str | Path | None) -> Path:
    if path_or_name is None:
        path_or_name = DEFAULT_SURVEY
    path = Path(path_or_name)
    if path.is_file():
        return path
    found = shipped("map", path)
    if found is not None and found.is_file():
        return found
    if not path.suffix:
        survey = load_survey(str(path_or_name))
        if survey.footprint_path is None:
            raise InputError(f"survey {survey.name!r} has no footprint map")
        if not survey.footprint_path.is_file():
            raise InputError(f"the footprint map of survey {survey.name!r}, "
                             f"{survey.footprint_path}, is missing: rebuild it with "
                             "`python scripts/build_footprint.py`")
        return survey.footprint_path
    raise InputError(f"footprint {path_or_name} not found (neither a file nor a map in "
                     f"{CATALOGS})")


@lru_cache(maxsize=4)
def _cached_healpix(path: str, mtime: float) -> HealpixFootprint:
    return read_healpix_map(path)


@lru_cache(maxsize=4)
def _cached_mangle(path: str, holes: tuple[str, ...], mtime: float) -> MangleFootprint:
    return read_mangle_footprint(path, holes)


def disc_samples(n: int = DEFAULT_DISC_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """An equal-area sampling pattern of the unit disc: radius fractions and angles [rad].

    Vogel's sunflower spiral (point k at radius sqrt((k + 1/2)/n), angle k times the
    golden angle): deterministic, so coverage needs no seed; with n = 1000 the covered
    fraction of a disc cut by a straight edge is exact to < 0.005 (tests/test_footprint.py).
    """
    k = np.arange(n)
    return np.sqrt((k + 0.5) / n), k * np.pi * (3.0 - np.sqrt(5.0))


def aperture_coverage(ra_deg, dec_deg, z, r_max: float, cosmology: FLRW,
                      footprint: Footprint | str | Path | None = None,
                      n_samples: int = DEFAULT_DISC_SAMPLES):
    """Completeness-weighted fraction of a cluster aperture inside a footprint.

    The aperture is the disc of projected comoving radius ``r_max`` [h^-1 Mpc] about
    (ra_deg, dec_deg) [deg] at redshift ``z``: angular radius arctan(r_max / D_M(z)), as in
    the tangent-plane projection of :mod:`surveymass.phasespace`. The mean completeness
    is taken over ``n_samples`` equal-area points on the sphere (:func:`disc_samples`).
    Scalars give a float; arrays (one cluster each) give an array. ``footprint``: a
    :class:`Footprint`, anything :func:`load_footprint` opens, or None for SDSS Legacy.
    """
    ra, dec = sky_positions(ra_deg, dec_deg)
    z = np.asarray(z, dtype=float)
    if np.any(~np.isfinite(z) | (z <= 0) | (z > 20)):
        raise InputError(f"cluster redshift must be in (0, 20], got {z}")
    if not (np.isfinite(r_max) and r_max > 0):
        raise InputError(f"r_max must be a positive radius in h^-1 Mpc, got {r_max}")
    if n_samples < 1:
        raise InputError(f"n_samples must be at least 1, got {n_samples}")
    footprint_map = load_footprint(footprint)
    ra, dec, z = np.broadcast_arrays(ra, dec, z)
    radius = angular_radius(r_max, z, cosmology)
    frac, angle = disc_samples(n_samples)
    # equal area on the sphere: 1 - cos(rho) grows linearly with the enclosed area
    rho = np.arccos(1.0 - frac**2 * (1.0 - np.cos(radius[..., None])))
    sample_ra, sample_dec = offset_by(np.radians(ra[..., None]), np.radians(dec[..., None]),
                                      angle, rho)
    coverage = footprint_map.completeness(np.mod(sample_ra.deg, 360.0),
                                          sample_dec.deg).mean(axis=-1)
    return float(coverage) if coverage.ndim == 0 else coverage
