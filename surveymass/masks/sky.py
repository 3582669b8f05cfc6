"""Sky positions shared by the mask modules: validation, unit vectors, chord lengths, and
a spatial index of a table's positions."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

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


def angle(chord_length) -> np.ndarray:
    """Angle [rad] between two unit vectors a straight line ``chord_length`` apart (the
    inverse of :func:`chord`)."""
    return 2.0 * np.arcsin(np.clip(np.asarray(chord_length) / 2.0, 0.0, 1.0))


class SkyIndex:
    """A KD-tree over the unit vectors of sky positions [deg] (scipy's cKDTree): the
    positions in many cones, or each point's nearest position, without scanning them all."""

    def __init__(self, ra_deg, dec_deg) -> None:
        ra, dec = sky_positions(ra_deg, dec_deg)
        self.n_positions = int(ra.size)
        self._tree = cKDTree(unit_vectors(ra, dec))

    def cones(self, ra_deg, dec_deg, radius_rad) -> list[np.ndarray]:
        """Per centre (ra_deg, dec_deg [deg], arrays), the ascending indices of the
        positions within ``radius_rad`` [rad] of it (one radius, or one per centre)."""
        ra, dec = sky_positions(np.atleast_1d(ra_deg), np.atleast_1d(dec_deg))
        radius = np.broadcast_to(chord(radius_rad), ra.shape)
        hits = self._tree.query_ball_point(unit_vectors(ra, dec), radius, return_sorted=True)
        return [np.asarray(h, dtype=np.intp) for h in hits]

    def nearest_angle(self, ra_deg, dec_deg, k: int = 1,
                      max_angle: float = np.pi) -> np.ndarray:
        """Angle [rad] from each position [deg] to its ``k``-th nearest indexed position
        (k = 2 for the indexed positions themselves: k = 1 is the position itself); inf
        beyond ``max_angle`` [rad] (a bound makes positions far from every indexed one,
        e.g. outside a survey, cheap)."""
        ra, dec = sky_positions(ra_deg, dec_deg)
        bound = np.nextafter(chord(max_angle), np.inf) if max_angle < np.pi else np.inf
        distance, _ = self._tree.query(unit_vectors(ra, dec), k=[k],
                                       distance_upper_bound=bound)
        return np.where(np.isfinite(distance[:, 0]), angle(distance[:, 0]),
                        np.inf).reshape(ra.shape)
