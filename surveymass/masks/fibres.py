"""Fibre collisions: which targets of a mock sky catalogue get their own spectrum.

SDSS fibres cannot be placed closer than 55 arcsec on one plate (Blanton et al. 2003, AJ
125, 2276); where plates overlap, both members of a collided pair can be observed, which
happens for about 30% of collided pairs, and about 6% of the main-sample targets lack a
redshift of their own because of collisions (Strauss et al. 2002, AJ 124, 1810).

Model (:func:`apply_fibre_collisions`):

1. the collision graph links every two targets closer than ``radius_arcsec`` (a KD-tree
   on unit vectors, chord length 2 sin(theta / 2));
2. in each connected group the tiling observes a maximal set of non-colliding targets,
   preferring the targets with fewest collisions (the tiling maximises the number of
   targets with fibres, Blanton et al. 2003), ties broken at random: a greedy maximal
   independent set in the order (collision count, random);
3. each target left out is restored independently with probability ``recovery`` (a
   later, overlapping plate gives it a fibre).

What it reproduces: an isolated target is always kept; of isolated pairs, a fraction
``recovery`` keeps both members and (1 - recovery) / 2 of the paired targets are lost; a
group of k mutually collided targets keeps 1 + (k - 1) recovery of them on average. The
overall loss depends on the clustering of the targets (the 6% of Strauss et al. 2002 is
an SDSS outcome, not an input).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from surveymass.errors import InputError
from surveymass.masks.sky import chord, sky_positions, unit_vectors
from surveymass.survey import SurveyConfig


def collision_pairs(ra_deg, dec_deg, radius_arcsec: float) -> np.ndarray:
    """Index pairs (i < j), shape (n_pairs, 2), of positions [deg] closer than the radius."""
    ra, dec = sky_positions(ra_deg, dec_deg)
    if not (np.isfinite(radius_arcsec) and radius_arcsec >= 0):
        raise InputError(f"the fibre collision radius must be >= 0 arcsec, got {radius_arcsec}")
    if ra.ndim != 1:
        raise InputError(f"ra and dec must be 1-D arrays, got shape {ra.shape}")
    max_chord = chord(np.radians(radius_arcsec / 3600.0))
    pairs = cKDTree(unit_vectors(ra, dec)).query_pairs(max_chord, output_type="ndarray")
    return pairs.reshape(-1, 2)


def apply_fibre_collisions(ra_deg, dec_deg, radius_arcsec: float = 55.0,
                           recovery: float = 0.3, *,
                           seed: int | np.random.Generator) -> np.ndarray:
    """Boolean mask of the targets that get their own spectrum (module docstring).

    ra_deg, dec_deg: 1-D target positions [deg]; radius_arcsec: closest allowed fibre
    separation [arcsec]; recovery: probability that a collided-out target is observed
    anyway; seed: int or numpy Generator (same seed, same mask).
    """
    if not 0.0 <= recovery <= 1.0:
        raise InputError(f"recovery must be a probability in [0, 1], got {recovery}")
    pairs = collision_pairs(ra_deg, dec_deg, radius_arcsec)
    rng = np.random.default_rng(seed)
    n = len(np.atleast_1d(ra_deg))
    order = rng.permutation(n)  # random tie-break among equal collision counts
    degree = np.bincount(pairs.ravel(), minlength=n)
    priority = np.empty(n, dtype=np.int64)
    priority[np.lexsort((order, degree))] = np.arange(n)
    tiled = greedy_independent_set(n, pairs, priority)
    return tiled | (rng.random(n) < recovery)


def apply_survey_fibre_collisions(ra_deg, dec_deg, survey: SurveyConfig, *,
                                  seed: int | np.random.Generator) -> np.ndarray:
    """:func:`apply_fibre_collisions` with the radius and recovery of ``survey``."""
    return apply_fibre_collisions(ra_deg, dec_deg, survey.fibre_radius_arcsec,
                                  survey.collision_recovery, seed=seed)


def greedy_independent_set(n: int, pairs: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """The maximal independent set that greedy selection in increasing ``priority`` picks.

    n: number of vertices; pairs: (n_pairs, 2) edges; priority: distinct integers.
    Computed in rounds (a vertex joins when it outranks all its undecided neighbours),
    which gives exactly the sequential greedy result in O(rounds x edges) numpy work.
    """
    selected = np.zeros(n, dtype=bool)
    undecided = np.ones(n, dtype=bool)
    edges = pairs
    while True:
        best_neighbour = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(best_neighbour, edges[:, 0], priority[edges[:, 1]])
        np.minimum.at(best_neighbour, edges[:, 1], priority[edges[:, 0]])
        joins = undecided & (priority < best_neighbour)
        selected |= joins
        undecided &= ~joins
        blocked = np.zeros(n, dtype=bool)
        blocked[edges[joins[edges[:, 0]], 1]] = True
        blocked[edges[joins[edges[:, 1]], 0]] = True
        undecided &= ~blocked
        edges = edges[undecided[edges[:, 0]] & undecided[edges[:, 1]]]
        if not undecided.any():
            return selected
