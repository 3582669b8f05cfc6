"""Lines of sight: Fibonacci-lattice directions, and how many each halo gets.

The training set is flat in log10 M200c over the training range (Deep Sets paper, sec. 2.1
and Fig. 4; Ho et al. 2019): abundant low-mass halos are seen along few lines of sight,
rare massive ones along many, n_los(M) proportional to 1 / (dN/dlog10 M), capped.

Here this is an *ordering* of candidate (halo, line of sight) pairs: halo i's j-th line of
sight gets the key (j + U) / w_i, with w_i an inverse-density weight of its mass, and pairs
are used in increasing key. Any prefix of the ordering therefore gives each halo a number
of lines of sight proportional to w_i (to within one), so a mass bin can be filled to a
target count of *accepted* fields whatever the fraction that fails the richness cut.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from surveymass.errors import InputError
from surveymass.mocks.config import MassBins

#: Neighbours on each side used for the local density of halos in log10 M.
_DENSITY_NEIGHBOURS = 8


def fibonacci_directions(n: int) -> np.ndarray:
    """``n`` unit vectors (n, 3) of the Fibonacci lattice on the sphere (equal-area bands
    cos(theta) = 1 - (2k + 1)/n, longitudes advancing by the golden angle)."""
    if n < 1:
        raise InputError(f"need at least one line of sight, got {n}")
    k = np.arange(n)
    cos_t = 1.0 - (2.0 * k + 1.0) / n
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    return np.column_stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])


def _farthest_point_order(points: np.ndarray) -> np.ndarray:
    """Indices of ``points`` (n, 3 unit vectors) in greedy farthest-point order, so that
    every prefix spreads over the sphere (n^2 work, done once per lattice size)."""
    n = len(points)
    order = np.zeros(n, dtype=int)
    nearest = points @ points[0]  # cosine to the nearest chosen point
    for k in range(1, n):
        order[k] = int(np.argmin(nearest))
        nearest = np.maximum(nearest, points @ points[order[k]])
    return order


def _ordered_lattice(n: int) -> np.ndarray:
    lattice = fibonacci_directions(n)
    return lattice[_farthest_point_order(lattice)]


class HaloDirections:
    """Lines of sight of every halo: a Fibonacci lattice of ``max_los`` points under a
    random rotation per halo (seeded by ``seed`` and the halo id), visited in an order whose
    prefixes spread over the sphere; line of sight j of a halo is the j-th visited point."""

    def __init__(self, max_los: int, seed: int):
        self.max_los, self.seed = int(max_los), int(seed)
        self._lattice = _ordered_lattice(self.max_los)

    def direction(self, halo_id: int, los_index: int) -> np.ndarray:
        """Unit vector (3,) of line of sight ``los_index`` of halo ``halo_id``."""
        if not 0 <= los_index < self.max_los:
            raise InputError(f"line of sight {los_index} outside 0..{self.max_los - 1}")
        rng = np.random.default_rng([self.seed, int(halo_id), 1])
        return Rotation.random(random_state=rng).apply(self._lattice[los_index])


def inverse_density_weights(log_mass: np.ndarray) -> np.ndarray:
    """Weight of each halo proportional to 1 / (dN/dlog10 M) at its mass, from the mass
    span of its 2k nearest neighbours in rank (a k-nearest-neighbour density estimate)."""
    n = len(log_mass)
    order = np.argsort(log_mass)
    sorted_mass = log_mass[order]
    k = min(_DENSITY_NEIGHBOURS, max(n - 1, 1))
    idx = np.arange(n)
    hi = sorted_mass[np.minimum(idx + k, n - 1)]
    lo = sorted_mass[np.maximum(idx - k, 0)]
    count = np.minimum(idx + k, n - 1) - np.maximum(idx - k, 0)
    span = np.where(count > 0, (hi - lo) / np.maximum(count, 1), 1.0)
    weights = np.empty(n)
    weights[order] = np.maximum(span, 1e-6)
    return weights


def candidate_order(log_mass: np.ndarray, los_start: int, los_stop: int,
                    seed: int | np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """(halo, line of sight) pairs with los_start <= los < los_stop, in order of use.

    Returns (halo_position, los_index), positions into ``log_mass``. Within any prefix,
    halo i has about key * w_i lines of sight (w_i from :func:`inverse_density_weights`).
    ``seed``: an int, or a SeedSequence spawned from the master seed (one per mass bin:
    independent streams that no other seed's share).
    """
    if isinstance(seed, np.random.SeedSequence):
        seq = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 2, los_start))
    else:
        seq = [seed, 2, los_start]
    rng = np.random.default_rng(seq)
    weights = inverse_density_weights(log_mass)
    n_los = los_stop - los_start
    los = np.tile(np.arange(los_start, los_stop), len(log_mass))
    halo = np.repeat(np.arange(len(log_mass)), n_los)
    keys = (los + rng.random(len(los))) / weights[halo]
    order = np.argsort(keys, kind="stable")
    return halo[order], los[order]


def check_fillable(log_mass: np.ndarray, bins: MassBins, per_bin: int, max_los: int) -> None:
    """Raise :class:`InputError` before any work when some mass bin holds too few halos for
    ``per_bin`` fields with at most ``max_los`` lines of sight each."""
    which = bins.index(log_mass)
    counts = np.bincount(which[which >= 0], minlength=bins.n_bins)
    short = np.flatnonzero(counts * max_los < per_bin)
    if short.size:
        edges = bins.edges
        worst = ", ".join(f"{edges[b]:.2f}-{edges[b + 1]:.2f}: {counts[b]} halos"
                          for b in short[:6])
        top = f"{np.max(log_mass):.2f}" if len(log_mass) else "none"
        raise InputError(
            f"the universe cannot fill the mass range {bins.log_min}-{bins.log_max} with "
            f"{per_bin} fields per {bins.width}-dex bin and at most {max_los} lines of sight "
            f"per halo ({worst}; most massive halo: log10 M200c = {top}). Lower the upper "
            "mass limit, ask for fewer fields, allow more lines of sight, or use a larger "
            "universe.")
