"""A classical membership method for comparison: the shifting gapper (Fadda et al. 1996).

Galaxies are binned in projected radius, each bin at least ``bin_width`` wide and holding
at least ``min_per_bin`` galaxies (Fadda et al. 1996, ApJ 473, 670: 0.4 h^-1 Mpc and 15
galaxies); in each bin the sorted velocities are split wherever two neighbours differ by
more than ``gap`` (1000 km/s), and only the group containing the cluster velocity (the
galaxy nearest v_los = 0) is kept. The procedure repeats on the kept galaxies until the
membership no longer changes. Hand-written: no maintained library implements it.
"""

from __future__ import annotations

import numpy as np

from surveymass.models.data import FieldSet
from surveymass.models.dispersion import velocity_dispersion
from surveymass.progress import progress_bar

FADDA_GAP_KMS = 1000.0
FADDA_BIN_WIDTH = 0.4
FADDA_MIN_PER_BIN = 15
#: Fewest members (galaxies the gapper keeps) whose dispersion :func:`gapper_dispersion` uses.
MIN_SIGMA_GALAXIES = 5
#: The estimator of :func:`gapper_dispersion` (robust with 5-30 members: Beers et al. 1990).
DISPERSION_ESTIMATOR = "biweight"


def radial_bins(r_sorted: np.ndarray, bin_width: float, min_per_bin: int) -> list[slice]:
    """Consecutive slices of radius-sorted galaxies, each >= ``bin_width`` wide with >=
    ``min_per_bin`` galaxies; a short remainder joins the last bin."""
    bins, start, n = [], 0, len(r_sorted)
    while start < n:
        stop = max(start + min_per_bin,
                   int(np.searchsorted(r_sorted, r_sorted[start] + bin_width, side="left")))
        stop = min(stop, n)
        if n - stop < min_per_bin:
            stop = n
        bins.append(slice(start, stop))
        start = stop
    return bins


def main_velocity_group(v: np.ndarray, gap: float) -> np.ndarray:
    """Mask of the velocities in the gap-separated group that holds the one nearest 0."""
    order = np.argsort(v)
    group = np.concatenate([[0], np.cumsum(np.diff(v[order]) > gap)])
    keep = np.zeros(len(v), bool)
    keep[order] = group == group[np.argmin(np.abs(v[order]))]
    return keep


def shifting_gapper(r: np.ndarray, v_los: np.ndarray, gap: float = FADDA_GAP_KMS,
                    bin_width: float = FADDA_BIN_WIDTH, min_per_bin: int = FADDA_MIN_PER_BIN,
                    max_iterations: int = 50) -> np.ndarray:
    """Member mask of one field: projected radii ``r`` [h^-1 Mpc], ``v_los`` [km/s]."""
    r, v_los = np.asarray(r, float), np.asarray(v_los, float)
    member = np.ones(len(r), bool)
    for _ in range(max_iterations):
        index = np.flatnonzero(member)
        index = index[np.argsort(r[index], kind="stable")]
        updated = np.zeros_like(member)
        for part in radial_bins(r[index], bin_width, min_per_bin):
            rows = index[part]
            updated[rows] = main_velocity_group(v_los[rows], gap)
        if np.array_equal(updated, member):
            break
        member = updated
    return member


def shifting_gapper_fields(fields: FieldSet, quiet: bool = True, **options) -> np.ndarray:
    """Member mask of every galaxy of ``fields`` (ragged, like ``fields.x``)."""
    member = np.zeros(fields.offsets[-1], bool)
    r = np.hypot(fields.x, fields.y)
    for i in progress_bar(range(fields.n_fields), desc="shifting gapper", quiet=quiet):
        part = slice(fields.offsets[i], fields.offsets[i + 1])
        member[part] = shifting_gapper(r[part], fields.v_los[part], **options)
    return member


def gapper_dispersion(radii: list[np.ndarray],
                      velocities: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per field, log10 of the biweight scale [km/s] of the v_los of the members the
    shifting gapper keeps (R [h^-1 Mpc], v_los [km/s]; NaN below
    :data:`MIN_SIGMA_GALAXIES` members), and the number of members: a dispersion that needs
    no classifier, for checks that must not lean on the networks' view of a field."""
    return member_dispersion([np.asarray(v, float)[shifting_gapper(r, v)]
                              for r, v in zip(radii, velocities)])


def member_dispersion(members: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per field, log10 of the biweight scale [km/s] of the given members' v_los [km/s]
    (NaN below :data:`MIN_SIGMA_GALAXIES` members), and their number."""
    n = np.array([len(v) for v in members], dtype=int)
    padded = np.full((len(n), max(int(n.max(initial=0)), 2)), np.nan)
    for i, v in enumerate(members):
        padded[i, :len(v)] = v
    sigma = velocity_dispersion(padded, DISPERSION_ESTIMATOR) if len(n) else np.empty(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sigma = np.where((n >= MIN_SIGMA_GALAXIES) & (sigma > 0), np.log10(sigma), np.nan)
    return log_sigma, n
