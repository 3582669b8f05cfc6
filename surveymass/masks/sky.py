"""Sky positions shared by the mask modules: validation, unit vectors, chord lengths."""

from __future__ import annotations

import numpy as np

from surveymass.errors import InputError


def sky_positions(ra_deg, dec_deg) -> tuple[np.ndarray, np.ndarray]:
    """Validated float arrays of RA in [0, 360) and Dec [deg]; InputError on bad values.

    RA may be given in [-360, 720] (it is wrapped); Dec must lie in [-90, 90]; no NaN.
    """
    ra = np.asarray(ra_deg, dtype=float)
    dec = np.asarray(dec_deg, dtype=float)
    if ra.shape != dec.shape:
        raise InputError(f"ra and dec must have the same shape, got {ra.shape} and {dec.shape}")
    for name, values, lo, hi in (("ra", ra, -360.0, 720.0), ("dec", dec, -90.0, 90.0)):
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if np.any(bad):
            raise InputError(f"{name} must be finite degrees within [{lo}, {hi}]; "
                             f"{int(bad.sum())} value(s) are not (first: "
                             f"{values.ravel()[np.argmax(bad.ravel())]}). Fix or drop them.")
    return np.mod(ra, 360.0), dec


def unit_vectors(ra_deg, dec_deg) -> np.ndarray:
    """(n, 3) Cartesian unit vectors of positions [deg] (flattened), from the colatitude
    theta = pi/2 - Dec as healpy's ang2vec computes them (the same bits)."""
    theta = np.pi / 2.0 - np.radians(np.ravel(dec_deg))
    phi = np.radians(np.ravel(ra_deg))
    return np.column_stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                            np.cos(theta)])


def chord(angle_rad) -> np.ndarray:
    """Straight-line distance between two unit vectors ``angle_rad`` apart: 2 sin(angle/2)."""
    return 2.0 * np.sin(np.asarray(angle_rad) / 2.0)
