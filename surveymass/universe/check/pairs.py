"""Periodic-box pair finding for the universe checks (scipy cKDTree with ``boxsize``).

Hand-written around :class:`scipy.spatial.cKDTree` because Corrfunc, the usual pair counter,
does not build here (it needs a C toolchain with OpenMP); cKDTree handles periodicity and
the pair search, these helpers only turn the pairs into separations and histograms.
Positions are comoving h^-1 Mpc in [0, box_size).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def wrap(positions: np.ndarray, box_size: float | np.ndarray) -> np.ndarray:
    """Positions folded into [0, box_size) (float64), as cKDTree's periodic mode requires."""
    wrapped = np.mod(np.asarray(positions, dtype=float), box_size)
    return np.where(wrapped >= box_size, 0.0, wrapped)


def minimum_image(delta: np.ndarray, box_size: float) -> np.ndarray:
    """Separations mapped to the nearest periodic image, in [-box_size/2, box_size/2)."""
    return (delta + 0.5 * box_size) % box_size - 0.5 * box_size


def neighbour_pairs(centres: np.ndarray, points: np.ndarray, box_size: float | np.ndarray,
                    radius: float, p: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i_centre, j_point) of all pairs closer than ``radius`` in the periodic box.

    ``p`` is the Minkowski norm (2: sphere or circle, inf: cube); positions of any
    dimension, with ``box_size`` a scalar or one length per dimension.
    """
    box = np.broadcast_to(np.asarray(box_size, dtype=float), centres.shape[1:]).copy()
    tree_c = cKDTree(wrap(centres, box), boxsize=box)
    tree_p = cKDTree(wrap(points, box), boxsize=box)
    pairs = tree_c.sparse_distance_matrix(tree_p, radius, p=p, output_type="ndarray")
    return pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)


def projected_pair_counts(positions: np.ndarray, box_size: float, rp_edges: np.ndarray,
                          pi_max: float, chunk_size: int = 50_000) -> np.ndarray:
    """Distinct pairs per bin of projected separation r_p with |pi| < ``pi_max``.

    The line of sight is the third axis. Pairs are found in a cube (Chebyshev norm) after
    scaling the line-of-sight axis by r_p,max / pi_max, then binned in r_p; memory is bounded
    by processing ``chunk_size`` points against the whole set at a time.
    """
    rp_max = float(rp_edges[-1])
    scale = np.array([1.0, 1.0, rp_max / pi_max])
    box = box_size * scale
    scaled = wrap(positions * scale, box)
    tree = cKDTree(scaled, boxsize=box)
    counts = np.zeros(len(rp_edges) - 1, dtype=np.int64)
    for start in range(0, len(scaled), chunk_size):
        chunk = scaled[start:start + chunk_size]
        pairs = cKDTree(chunk, boxsize=box).sparse_distance_matrix(
            tree, rp_max, p=np.inf, output_type="ndarray")
        i, j = pairs["i"].astype(np.int64) + start, pairs["j"].astype(np.int64)
        keep = i < j  # each distinct pair once, no self pairs
        delta = minimum_image(positions[j[keep], :2] - positions[i[keep], :2], box_size)
        counts += np.histogram(np.hypot(delta[:, 0], delta[:, 1]), bins=rp_edges)[0]
    return counts


def projected_correlation(positions: np.ndarray, box_size: float, rp_edges: np.ndarray,
                          pi_max: float) -> tuple[np.ndarray, np.ndarray]:
    """w_p(r_p) [h^-1 Mpc] and its Poisson error in a periodic box, line of sight = third axis.

    Random pairs are analytic for a periodic box: RR = N (N - 1) / 2 * V_bin / L^3 with
    V_bin = pi (r2^2 - r1^2) 2 pi_max; w_p = 2 pi_max (DD / RR - 1) (Davis & Peebles 1983
    estimator integrated over |pi| < pi_max in one bin).
    """
    n = len(positions)
    dd = projected_pair_counts(positions, box_size, rp_edges, pi_max)
    shell = np.pi * np.diff(np.asarray(rp_edges, dtype=float) ** 2) * 2.0 * pi_max
    rr = 0.5 * n * (n - 1) * shell / box_size ** 3
    wp = 2.0 * pi_max * (dd / rr - 1.0)
    wp_err = 2.0 * pi_max * np.sqrt(np.maximum(dd, 1)) / rr
    return wp, wp_err
