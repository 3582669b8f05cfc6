"""Build the SDSS Legacy spectroscopic footprint map shipped in surveymass/data/catalogs/.

Inputs (shared/data/real, see its README):

* the integer 1-degree cells (RA, Dec of the cell's lower corner) of the SDSS DR7
  spectroscopic large-scale-structure footprint: every DR7 galaxy of the second input lies
  in a listed cell (checked), but cells on the survey edge are only partly covered;
* 120,606 DR7 main-sample galaxies (M_r < -20, z < 0.107), which trace the true edges.

Construction, on a fine HEALPix grid (``nside_fine``) then averaged down to ``nside``:

1. a fine pixel is a candidate when its centre lies in a listed cell;
2. candidates in *interior* cells (all 8 neighbouring cells listed) are inside: the
   galaxy density cannot tell a hole from a void there, and the cells already say "in";
3. candidates in *edge* cells are inside when the galaxy count within ``smoothing_deg`` of
   the pixel centre reaches half the count expected at the mean interior density: for a
   straight survey edge the half-density contour of a disc-smoothed step is the edge;
4. the completeness of an output pixel is the fraction of its fine pixels inside, i.e. the
   fraction of its area in the footprint (spectroscopic completeness within the footprint,
   ~0.9-1 per sector in DR7, is not known from these inputs and is taken as 1).

``nside = 256`` (13.7 arcmin pixels, 0.052 deg^2) resolves edges far finer than cluster
apertures (1.6 h^-1 Mpc is 20 arcmin even at z = 0.1) and the 1-degree cells; a finer map
would only resolve the smoothing of step 3. The map is 3 MB as float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from scipy.spatial import cKDTree

from surveymass.errors import InputError
from surveymass.masks import healpix
from surveymass.masks.sky import chord, unit_vectors
from surveymass.provenance import atomic_path, provenance

#: Published area of the SDSS DR7 Legacy spectroscopic survey (Abazajian et al. 2009,
#: ApJS 182, 543, Table 1), northern cap plus three southern stripes [deg^2].
DR7_LEGACY_SPECTRO_AREA_DEG2 = 8032.0


@dataclass(frozen=True)
class LegacyFootprintBuild:
    """The built map and the figures that document its accuracy."""

    values: np.ndarray          # RING, nside ``nside``, completeness 0-1 (float32)
    nside: int
    area_deg2: float            # sum of completeness x pixel area
    galaxy_fraction_inside: float   # DR7 galaxies in pixels with completeness > 0
    galaxy_mean_completeness: float  # mean map value at the DR7 galaxies
    cell_area_deg2: float       # area of the listed 1-degree cells
    settings: dict


def read_cells(path: str | Path) -> np.ndarray:
    """The listed 1-degree cells: an (n, 2) int array of RA, Dec lower corners [deg]."""
    try:
        cells = np.loadtxt(path, comments="#", ndmin=2)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the cell list {path}: {exc}") from exc
    if cells.shape[1] != 2 or np.any(cells != np.round(cells)):
        raise InputError(f"{path} must list integer 'ra dec' cell corners, two per line")
    return cells.astype(int)


def read_galaxy_positions(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec [deg] of the galaxies in a FITS table with ``ra`` and ``dec`` columns."""
    try:
        data = fits.getdata(path, 1)
        return np.asarray(data["ra"], float), np.asarray(data["dec"], float)
    except (OSError, KeyError, IndexError) as exc:
        raise InputError(f"cannot read ra/dec columns from {path}: {exc}") from exc


def build_legacy_footprint(cells_path: str | Path, galaxies_path: str | Path,
                           nside: int = 256, nside_fine: int = 1024,
                           smoothing_deg: float = 0.5) -> LegacyFootprintBuild:
    """Build the Legacy footprint map from the DR7 cells and galaxies (module docstring)."""
    cells = read_cells(cells_path)
    ra, dec = read_galaxy_positions(galaxies_path)
    listed = np.zeros((360, 181), dtype=bool)  # [ra cell, dec cell + 90]
    listed[cells[:, 0] % 360, cells[:, 1] + 90] = True
    interior = _interior_cells(listed)

    pix_ra, pix_dec = _healpy_pixel_centres(nside_fine)
    cell = (np.floor(pix_ra).astype(int) % 360, np.floor(pix_dec).astype(int) + 90)
    candidate = listed[cell]
    inside = candidate & interior[cell]

    tree = cKDTree(unit_vectors(ra, dec))
    disc_area = 2.0 * np.pi * (1.0 - np.cos(np.radians(smoothing_deg))) * np.degrees(1.0) ** 2
    mean_density = _mean_interior_density(ra, dec, interior)
    edge = candidate & ~interior[cell]
    counts = tree.query_ball_point(unit_vectors(pix_ra[edge], pix_dec[edge]),
                                   chord(np.radians(smoothing_deg)), return_length=True)
    inside[edge] = counts >= 0.5 * mean_density * disc_area

    values = healpix.degrade(inside.astype(np.float64), nside).astype(np.float32)
    at_galaxies = values[healpix.lonlat_to_pixel(nside, ra, dec)]
    return LegacyFootprintBuild(
        values=values, nside=nside,
        area_deg2=float(values.sum() * healpix.pixel_area_deg2(nside)),
        galaxy_fraction_inside=float(np.mean(at_galaxies > 0)),
        galaxy_mean_completeness=float(np.mean(at_galaxies)),
        cell_area_deg2=float(np.sum(_cell_area_deg2(cells[:, 1]))),
        settings={"nside": nside, "nside_fine": nside_fine, "smoothing_deg": smoothing_deg,
                  "mean_density_per_deg2": mean_density,
                  "cells": Path(cells_path).name, "galaxies": Path(galaxies_path).name})


def _healpy_pixel_centres(nside: int) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec [deg] of every RING pixel centre, as healpy computes them.

    The one use of healpy in the package, at build time only: the shipped map's fine
    pixels were put in 1-degree cells from healpy's centres, and the centres that lie on
    a cell edge (integer RA or Dec) fall to either side of it by the last bit, differently
    in astropy-healpix (that moves one fine pixel of the shipped map to another cell).
    """
    try:
        import healpy  # imports matplotlib (slow); needed by this build only
    except ImportError as exc:
        raise InputError("rebuilding the SDSS Legacy footprint map needs healpy (it "
                         "reproduces the shipped map bit for bit): pip install healpy") from exc
    return healpy.pix2ang(nside, np.arange(healpix.npix(nside)), lonlat=True)


def _interior_cells(listed: np.ndarray) -> np.ndarray:
    """Listed cells whose 8 neighbours are listed too (RA wraps, Dec does not)."""
    padded = np.pad(listed, ((0, 0), (1, 1)), constant_values=False)
    interior = listed.copy()
    for d_ra in (-1, 0, 1):
        for d_dec in (-1, 0, 1):
            interior &= np.roll(padded, (d_ra, d_dec), axis=(0, 1))[:, 1:-1]
    return interior


def _mean_interior_density(ra, dec, interior) -> float:
    """Galaxies per deg^2 in the interior cells."""
    cell = (np.floor(ra).astype(int) % 360, np.floor(dec).astype(int) + 90)
    area = np.sum(_cell_area_deg2(np.nonzero(interior)[1] - 90))
    return float(np.sum(interior[cell]) / area)


def _cell_area_deg2(dec_lo: np.ndarray) -> np.ndarray:
    """Area [deg^2] of the 1x1-degree cells with lower Dec edge ``dec_lo`` [deg]."""
    return np.degrees(np.sin(np.radians(dec_lo + 1.0)) - np.sin(np.radians(dec_lo)))


def write_footprint_map(build: LegacyFootprintBuild, path: str | Path) -> Path:
    """Write the map (healpy FITS format, atomically) with its provenance in the header."""
    import json

    header = [
        ("SURVEY", "SDSS Legacy", "SDSS-I/II DR7 main galaxy sample, spectroscopic"),
        ("QUANTITY", "COMPLETENESS", "fraction 0-1 of pixel area inside the footprint"),
        ("COMPNOTE", "geometric", "in-footprint spectro completeness taken as 1"),
        ("AREA", round(build.area_deg2, 1), "sum(completeness) x pixel area [deg^2]"),
        ("AREAPUB", DR7_LEGACY_SPECTRO_AREA_DEG2, "DR7 Legacy spectro area, Abazajian+09"),
        ("GALFRAC", round(build.galaxy_fraction_inside, 5), "DR7 galaxies in pixels > 0"),
        ("GALCOMP", round(build.galaxy_mean_completeness, 5), "mean map value at DR7 galaxies"),
        ("NSIDEFIN", build.settings["nside_fine"], "nside of the construction grid"),
        ("SMOOTH", build.settings["smoothing_deg"], "edge galaxy-count disc radius [deg]"),
        ("PROVENAN", json.dumps(provenance(**build.settings), sort_keys=True),
         "what produced this map"),
    ]
    with atomic_path(path) as tmp:
        healpix.write_map(tmp, build.values.astype(np.float32), "COMPLETENESS", coordsys="C",
                          extra_header=header)
    return Path(path)
